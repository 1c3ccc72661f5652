"""After a purchase settles: what real purchase agreements add. Pure rules, no I/O.

- **Scrub.** The seller or a scrub vendor lists accounts found bankrupt, deceased or disputed after the
  sale (a CSV keyed by the seller's account reference, with a reason). Each is withheld from letters:
  a bankrupt debtor's trustee, a deceased debtor's family or a disputing consumer must not get one.
  A campaign may hold letters `letters_after_days` after settlement, so the scrub arrives first.
- **Put-back.** The seller takes accounts back (never theirs to sell, or scrubbed) and refunds part of
  the price: the refund returns to the pool as a ledger transfer named by plan and reference (so the
  same reference books once), never more than the plan's price in all; the accounts are withdrawn,
  no longer counted as forgiven (a counter move and a public log entry, not an edit).
- **Checklist.** What the campaign still owes the debtors of each settled plan, ticked by the operator.
- **Proof of purchase.** The bought accounts' digest: SHA-256 over their sorted keyed account hashes
  (domain/duplicates.py's account key), one per line. The sorted hashes are kept (not personal data:
  MACs under the deployment's secret), so an account can later be shown to be in a purchase, and the
  list to be the one the public log committed to, without the seller's file.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

REASONS = ("bankrupt", "deceased", "disputed", "not_owned", "paid", "other")
MAX_PROBLEMS = 20  # a refused file lists at most this many rows
MAX_REFERENCE = 100
# The checklist: what a campaign must still do for a settled plan's debtors (id -> what the operator ticks).
CHECKLIST: dict[str, str] = {
    "credit-report-deletions": "credit-report deletions requested",
    "collectors-recalled": "collectors recalled",
    "judgments-satisfied": "judgments satisfied",
}


class AfterPurchaseError(ValueError):
    """A clear reason nothing happened, naming the argument (and row) at fault."""


@dataclass(frozen=True)
class Listed:
    """An account of a scrub or put-back file: its line, the seller's reference and the reason."""

    line: int
    account_ref: str
    reason: str


def read_accounts_file(lines: Iterable[str], argument: str, reason_required: bool) -> list[Listed]:
    """The accounts a seller's file lists (header matched as offer files are: `Account Number`, `Acct #`…),
    each once. Refused whole, with at most MAX_PROBLEMS lines named, if any row is bad."""
    # Here, not at the top: the offer-row model loads pydantic, and every ledger user imports this module.
    from functions.domain.offers import KNOWN, header_key

    rows = csv.reader(lines)
    header = next(rows, None)
    columns = {KNOWN.get(header_key(h)) or header_key(h): n for n, h in enumerate(header or ())}
    if "account_ref" not in columns:
        raise AfterPurchaseError(f"{argument}: no account reference column (e.g. 'account_ref' or 'Account "
                                 f"Number'); found {', '.join(header or ()) or 'nothing'}")
    if reason_required and "reason" not in columns:
        raise AfterPurchaseError(f"{argument}: no 'reason' column ({', '.join(REASONS)})")
    found: dict[str, Listed] = {}
    problems: list[str] = []
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        ref = row[columns["account_ref"]].strip() if len(row) > columns["account_ref"] else ""
        reason = (row[columns["reason"]].strip().casefold().replace(" ", "_").replace("-", "_")
                  if "reason" in columns and len(row) > columns["reason"] else "other")
        if not ref:
            problems.append(f"line {line}: account_ref is empty")
        elif reason not in REASONS:
            problems.append(f"line {line}: reason {reason!r} is not one of {', '.join(REASONS)}")
        else:
            found.setdefault(ref, Listed(line, ref, reason))
    if problems:
        more = f" (and {len(problems) - MAX_PROBLEMS} more)" if len(problems) > MAX_PROBLEMS else ""
        raise AfterPurchaseError(f"{argument}: " + "; ".join(problems[:MAX_PROBLEMS]) + more)
    if not found:
        raise AfterPurchaseError(f"{argument}: lists no account")
    return list(found.values())


# --- letters held for the scrub ----------------------------------------------------------------

def letters_due_at(settled_at: str, days: int) -> str:
    """When a plan's letters may leave: `days` after its settlement (the same time on every redelivery)."""
    return (dt.datetime.fromisoformat(settled_at) + dt.timedelta(days=days)).isoformat(timespec="seconds")


def is_due(due_at: str, now: dt.datetime) -> bool:
    return dt.datetime.fromisoformat(due_at) <= now


# --- put-back ---------------------------------------------------------------------------------

def putback_id(plan_id: str, reference: str) -> str:
    """The refund's transfer id: one per plan and seller's reference, so a repeated command books once."""
    return f"{plan_id}#putback#{hashlib.sha256(reference.encode()).hexdigest()[:24]}"


def check_reference(reference: str) -> str:
    reference = reference.strip()
    if not reference or len(reference) > MAX_REFERENCE or not reference.isprintable() or not reference.isascii():
        raise AfterPurchaseError(f"--reference: give the seller's refund reference (1-{MAX_REFERENCE} printable "
                                 "ASCII characters; it is published in the public log)")
    return reference


def check_refund(refund_cents: int, price_cents: int, refunded_before: int) -> None:
    """A seller's refunds for one plan never add up to more than what the plan paid."""
    if refund_cents <= 0:
        raise AfterPurchaseError("--refund-cents: must be a positive whole number of cents")
    room = price_cents - refunded_before
    if refund_cents > room:
        raise AfterPurchaseError(f"--refund-cents: {refund_cents} is more than the plan's price left to refund "
                                 f"({room} of {price_cents} cents; {refunded_before} refunded before)")


# --- the checklist ----------------------------------------------------------------------------

def checklist_item(text: str) -> str:
    """An item's id, from its id or its words ("collectors recalled", "Collectors-Recalled")."""
    from functions.domain.offers import header_key  # as in read_accounts_file: the operator's alone

    wanted = header_key(text)
    for item, words in CHECKLIST.items():
        if wanted in (header_key(item), header_key(words)):
            return item
    raise AfterPurchaseError(f"--tick: {text!r} is not an item; the items are {', '.join(CHECKLIST)}")


def ticked_attribute(item: str) -> str:
    """The plan's attribute holding when `item` was ticked."""
    return "ticked_" + item.replace("-", "_")


def open_items(plan: Mapping[str, Any]) -> list[str]:
    """A settled plan's checklist items not ticked yet (none for a plan not settled)."""
    if plan.get("status") != "settled":
        return []
    return [item for item in CHECKLIST if not plan.get(ticked_attribute(item))]


def open_checklist(plans: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Open items per settled plan that has any: what the campaign's public figures show (no PII)."""
    return {plan["plan_id"]: n for plan in plans if (n := len(open_items(plan)))}


# --- proof of purchase ------------------------------------------------------------------------

def hash_list(account_keys: Iterable[str]) -> bytes:
    """The bought accounts' keyed hashes, sorted and deduplicated, one per line: what is kept and digested."""
    return "".join(f"{key}\n" for key in sorted(set(account_keys))).encode()


def accounts_digest(listing: bytes) -> str:
    return hashlib.sha256(listing).hexdigest()


def position_in(listing: Sequence[str], key: str) -> int | None:
    """Where `key` is in a sorted hash list, or None if the purchase did not hold it."""
    at = bisect_left(listing, key)
    return at if at < len(listing) and listing[at] == key else None
