"""Money an operator records by hand: gifts that did not pass through a processor, and expenses.

An offline gift (a check, cash, a wire) is a gift like any other once recorded: a confirmed donation
whose gift goes to the pool stage and is split by `ledger.gift_transfer`, with no processor fee. It is
keyed by its reference (the check number, the wire's reference): recording it again is a no-op.

An expense (printing, postage, a lawyer) is paid from the pool in two phases like a purchase: held
when it is added, approved by N of the campaign's M approvers by the same rule as plans
(`purchase.approval_outcome`), then posted once to `expenses`, or voided once back to the pool when
rejected or left unapproved past the campaign's plan time. Its public log entry names the payee, the
purpose, the amount and the SHA-256 of the receipt file (the file itself stays with the operator).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from functions.domain.campaigns import CAMPAIGN_ID_SHAPE, Campaign
from functions.domain.ledger import EXPENSES, Transfer, hold_transfer, post_transfer, void_transfer
from functions.domain.money import format_cents, is_cents
from functions.domain.purchase import approval_outcome

OFFLINE = "offline"  # the provider of recorded gifts: no processor, no fee, no webhook
METHODS = ("check", "cash", "wire", "other")
REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._/:#-]{0,79}")
MAX_CENTS = 100_000_000_00  # a million dollars: above it, a typo is likelier than a gift or a bill


class RecordError(ValueError):
    """A recorded gift or expense refused: names the option at fault and why; nothing was written."""


def _cents(amount: Any) -> int:
    if not (is_cents(amount) and 0 < amount <= MAX_CENTS):
        raise RecordError(f"--amount-cents: must be a whole number of cents from 1 to {MAX_CENTS}")
    return int(amount)


def _text(option: str, value: str, longest: int) -> str:
    value = (value or "").strip()
    if not value or len(value) > longest or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise RecordError(f"{option}: must be 1 to {longest} printable characters")
    return value


OPTIONS = {"amount_cents": "--amount-cents", "method": "--method", "received_on": "--date", "payee": "--payee",
           "purpose": "--purpose"}


def repeat_refused(stored: Mapping[str, Any], given: Mapping[str, Any], what: str) -> str | None:
    """Why a record repeated under its key (`what`) is refused: the first fact in which it differs from the
    one stored, named by its option; None when it is the same record (recording it again is a no-op)."""
    field = next((name for name, value in given.items() if stored.get(name) != value), None)
    if field is None:
        return None
    return (f"{OPTIONS[field]}: {what} was recorded with {field.replace('_', ' ')} {stored.get(field)!r}, "
            f"not {given[field]!r}")


# --- offline gifts ------------------------------------------------------------------------------

@dataclass(frozen=True)
class OfflineGift:
    campaign_id: str
    amount_cents: int
    method: str
    reference: str
    received_on: str  # YYYY-MM-DD: the receipt's date

    @property
    def donation_id(self) -> str:
        """From the reference alone, so the same reference is the same gift (and a URL-safe id)."""
        return f"offline-{hashlib.sha256(self.reference.encode()).hexdigest()[:24]}"

    def facts(self) -> dict[str, Any]:
        """What a repeated recording must agree with, by the option that gave it."""
        return {"amount_cents": self.amount_cents, "method": self.method, "received_on": self.received_on}


def offline_gift(campaign_id: str, amount_cents: int, method: str, reference: str, received_on: str | None,
                 today: dt.date) -> OfflineGift:
    if method not in METHODS:
        raise RecordError(f"--method: must be one of {', '.join(METHODS)}")
    reference = (reference or "").strip()
    if not REFERENCE.fullmatch(reference):
        raise RecordError("--reference: 1 to 80 letters, digits, spaces or . _ / : # -, starting with a letter "
                          "or digit")
    try:
        day = dt.date.fromisoformat(received_on) if received_on else today
    except ValueError:
        raise RecordError(f"--date: {received_on!r} is not a date like 2026-01-31") from None
    if day > today:
        raise RecordError(f"--date: {day} is in the future")
    return OfflineGift(campaign_id, _cents(amount_cents), method, reference, day.isoformat())


def gift_conflict(stored: Mapping[str, Any], gift: OfflineGift) -> str | None:
    refused = repeat_refused(stored, gift.facts(), f"reference {gift.reference!r}")
    return refused and f"{refused}; a different gift needs its own reference"


# --- expenses -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Expense:
    expense_id: str
    campaign_id: str
    amount_cents: int
    payee: str
    purpose: str
    receipt_sha256: str
    expires_at: str = ""  # ISO time after which an unapproved expense is voided

    def facts(self) -> dict[str, Any]:
        return {"amount_cents": self.amount_cents, "payee": self.payee, "purpose": self.purpose}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, item: Mapping[str, Any]) -> Expense:
        return cls(**{name: item[name] for name in cls.__dataclass_fields__ if name in item})

    # Two phases, one id each per expense, so each happens at most once.
    def hold(self) -> Transfer:
        return hold_transfer(self.campaign_id, self.expense_id, self.amount_cents)

    def post(self) -> Transfer:
        return post_transfer(self.campaign_id, self.expense_id, self.amount_cents, EXPENSES)

    def void(self) -> Transfer:
        return void_transfer(self.campaign_id, self.expense_id, self.amount_cents)


EXPENSE_ID_SHAPE = rf"{CAMPAIGN_ID_SHAPE}\.exp-[0-9a-f]{{16}}"  # names the campaign, as a plan id does


def expense(campaign_id: str, amount_cents: int, payee: str, purpose: str, receipt: bytes, now: dt.datetime,
            ttl_hours: int) -> Expense:
    """An expense to hold. Keyed by its receipt file: the same receipt added again is the same expense."""
    if not receipt:
        raise RecordError("--receipt: the file is empty")
    digest = hashlib.sha256(receipt).hexdigest()
    return Expense(f"{campaign_id}.exp-{digest[:16]}", campaign_id, _cents(amount_cents), _text("--payee", payee, 200),
                   _text("--purpose", purpose, 500), digest, (now + dt.timedelta(hours=ttl_hours)).isoformat())


def expense_conflict(stored: Mapping[str, Any], given: Expense) -> str | None:
    return repeat_refused(stored, given.facts(), f"this receipt (expense {given.expense_id})")


def above_pool(amount_cents: int, pool_cents: int, currency: str = "USD") -> str | None:
    """Why an expense cannot be held: the pool never goes below zero (None: it fits)."""
    if amount_cents <= pool_cents:
        return None
    return (f"--amount-cents: the pool has {format_cents(pool_cents, currency)} available; an expense of "
            f"{format_cents(amount_cents, currency)} is above it (nothing was held)")


def overdue(item: Mapping[str, Any], campaign: Campaign, now: dt.datetime) -> Literal["pay", "void"] | None:
    """What the hourly sweep finishes of an expense whose funds are held: one approved (or with its N
    approvals counted) but not paid, as a crash may leave it, is paid; one still unapproved past its
    window is voided, its hold back in the pool."""
    if item.get("status") == "approved" or (item.get("status") == "proposed"
                                            and approval_outcome(campaign, set(item.get("approvers") or ()))):
        return "pay"
    if item.get("status") == "proposed" and item.get("expires_at") and item["expires_at"] <= now.isoformat():
        return "void"
    return None
