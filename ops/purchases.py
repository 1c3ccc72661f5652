"""Operator commands for what follows a purchase (rules: functions/domain/after_purchase.py):

- `jubilee purchases scrub PLAN FILE`: accounts the seller or a scrub vendor found bankrupt, deceased or
  disputed are withheld from letters (each recorded once; a letter already on its way is reported);
- `jubilee purchases putback PLAN --accounts FILE --refund-cents N --reference REF`: the seller takes
  accounts back and refunds part of the price, booked once per reference;
- `jubilee purchases checklist PLAN [--tick ITEM]`: what the campaign still owes a plan's debtors;
- `jubilee purchases prove PLAN --account-file ROW.csv`: that an account was in a purchase, from the
  kept keyed hashes and the digest the public log recorded at settlement.

Seller files are read on the operator's machine; account references are turned into keyed hashes at
once and never stored, printed or logged (a problem names its line, not the reference).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from functions.adapters import after_purchase as store
from functions.adapters import forgiveness, ledger, mail, public_log, purchases
from functions.adapters.secrets import derived_key
from functions.domain import after_purchase as rules
from functions.domain import letters
from functions.domain.campaigns import Campaign
from functions.domain.duplicates import account_key
from functions.domain.forgiveness import account_keys, fully_ingested
from functions.domain.ledger import SPENT, returned
from functions.domain.offers import KNOWN, header_key
from functions.domain.purchase import campaign_of
from ops.operations import OperationError


def _settled(plan_id: str, campaign_id: str | None) -> tuple[dict[str, Any], Campaign]:
    """A settled plan (of `campaign_id`, when given) and its campaign."""
    if campaign_id and campaign_of(plan_id) != campaign_id:
        raise OperationError(f"PLAN: {plan_id} is not a plan of campaign {campaign_id!r}")
    plan = purchases.load_plan(plan_id)
    if plan is None:
        raise OperationError(f"PLAN: no plan {plan_id!r}")
    if plan["status"] != "settled":
        raise OperationError(f"PLAN: {plan_id} is {plan['status']}; only a settled (bought) plan has accounts")
    campaign = ledger.load_campaign(campaign_of(plan_id))
    if campaign is None:
        raise OperationError(f"PLAN: the campaign of {plan_id} is gone")
    return dict(plan), campaign  # read as a whole item: scrub and put-back fields are its own


def _in_plan(plan: dict[str, Any], campaign: Campaign, listed: list[rules.Listed], argument: str
             ) -> tuple[dict[str, rules.Listed], dict[str, dict[str, int]]]:
    """The listed accounts by public hash, all of them forgiven under the plan (else refused, naming lines)."""
    if not fully_ingested(plan):
        raise OperationError(f"PLAN: {plan['plan_id']} is still being forgiven; try again once it is done")
    key, cid = derived_key("account-hash"), campaign.campaign_id
    by_hash = {account_keys(key, cid, row.account_ref)[0]: row for row in listed}
    accounts = store.plan_accounts(cid, plan["plan_id"])
    missing = sorted(row.line for h, row in by_hash.items() if h not in accounts)
    if missing:
        raise OperationError(f"{argument}: line(s) {', '.join(map(str, missing[:20]))} name no account forgiven "
                             f"under {plan['plan_id']}; nothing was recorded")
    return by_hash, accounts


def _hold_letter(campaign: Campaign, plan_id: str, account_hash: str, chunk: int) -> str:
    """Keep an account's letter from the post if it is not there yet: "withheld" (never sent, or taken out of
    the next print bundle), or "already sent" (mailed, with the mail service, or in the sandbox's bucket).
    The account's mark is written first, so a letters chunk that starts later skips it; one already running
    may still send it (campaigns that scrub hold their letters with `letters_after_days` for this)."""
    cid = campaign.campaign_id
    found = mail.letter(cid, plan_id, account_hash)
    if found is None:
        sent = campaign.mailer == "sandbox" and forgiveness.mailed(cid, plan_id, chunk)
        return "already sent" if sent else "withheld"
    status = found["status"]
    with_service = status == letters.PRINTED and not str(found.get("service_id", "")).startswith("bundle:")
    if status == letters.WITHHELD:
        return "withheld"
    if with_service or letters.withhold(status) is None:
        return "already sent"
    if not mail.advance(cid, plan_id, account_hash, found["service_id"], letters.WITHHELD):
        raise OperationError("the letter changed meanwhile; run the command again (it records nothing twice)")
    return "withheld"


def _hold_letters(campaign: Campaign, plan_id: str, by_hash: dict[str, rules.Listed],
                  accounts: dict[str, dict[str, int]]) -> dict[str, Any]:
    states = {h: _hold_letter(campaign, plan_id, h, accounts[h]["chunk"]) for h in by_hash}
    mail.settle_key(campaign.campaign_id, plan_id, campaign.debtor_data_days)  # if no letter is left to mail
    sent = sorted(by_hash[h].line for h, state in states.items() if state == "already sent")
    return {"letters_withheld": len(states) - len(sent), "letters_already_sent_lines": sent}


def scrub(plan_id: str, lines: Iterable[str], campaign_id: str | None = None) -> dict[str, Any]:
    """Withhold the listed accounts' letters, each recorded once with its reason (a second run records
    nothing new); reports the accounts whose letter had left already, by line."""
    plan, campaign = _settled(plan_id, campaign_id)
    try:
        listed = rules.read_accounts_file(lines, "FILE", reason_required=True)
    except rules.AfterPurchaseError as error:
        raise OperationError(str(error)) from None
    by_hash, accounts = _in_plan(plan, campaign, listed, "FILE")
    new = sum(store.withhold(campaign.campaign_id, plan_id, h, row.reason) for h, row in by_hash.items())
    reasons: dict[str, int] = {}
    for row in listed:
        reasons[row.reason] = reasons.get(row.reason, 0) + 1
    return {"plan_id": plan_id, "accounts": len(by_hash), "recorded_now": new, "by_reason": reasons,
            **_hold_letters(campaign, plan_id, by_hash, accounts)}


def putback(plan_id: str, lines: Iterable[str], refund_cents: int, reference: str,
            campaign_id: str | None = None) -> dict[str, Any]:
    """Book the seller's refund for accounts it took back, once per reference: the refund returns to the pool,
    the accounts are withdrawn (no longer counted forgiven) and withheld from letters, and the public log
    says so. The same reference again books nothing (it completes the accounts' marks, should a crash have
    left them unwritten); refused whole, writing nothing, if the refund passes the plan's price or an account
    is not the plan's or was put back before."""
    try:
        reference = rules.check_reference(reference)
        listed = rules.read_accounts_file(lines, "--accounts", reason_required=False)
    except rules.AfterPurchaseError as error:
        raise OperationError(str(error)) from None
    plan, campaign = _settled(plan_id, campaign_id)
    by_hash, accounts = _in_plan(plan, campaign, listed, "--accounts")
    cid, transfer_id = campaign.campaign_id, rules.putback_id(plan_id, reference)
    booked = store.booked_transfer(cid, transfer_id)
    if booked is not None:
        if sorted(booked.get("accounts", ())) != sorted(by_hash) or int(booked["legs"][SPENT]) != -refund_cents:
            raise OperationError(f"--reference: {reference!r} was booked before for other accounts or another "
                                 "refund; give this put-back a reference of its own")
    else:
        withheld = store.withheld(cid, plan_id)
        again = sorted(row.line for h, row in by_hash.items() if withheld.get(h, {}).get("withdrawn_by"))
        if again:
            raise OperationError(f"--accounts: line(s) {', '.join(map(str, again[:20]))} were put back before; "
                                 "nothing was booked")
        try:
            rules.check_refund(refund_cents, int(plan["price_cents"]), int(plan.get("refunded_cents", 0)))
        except rules.AfterPurchaseError as error:
            raise OperationError(str(error)) from None
        _, balances = ledger.snapshot(cid)
        transfer = returned(transfer_id, cid, "putback", SPENT, refund_cents, balances)
        face = sum(accounts[h]["face_value_cents"] for h in by_hash)
        if not store.book_putback(cid, plan_id, transfer, sorted(by_hash), face, refund_cents, reference,
                                  int(plan["price_cents"])):
            raise OperationError(f"PLAN: {plan_id} changed meanwhile (another put-back?); nothing was booked, "
                                 "look again")
    store.mark_withdrawn(cid, plan_id, by_hash, transfer_id)
    return {"plan_id": plan_id, "reference": reference, "transfer_id": transfer_id, "accounts": len(by_hash),
            "refund_cents": refund_cents, "booked_now": booked is None,
            **_hold_letters(campaign, plan_id, by_hash, accounts)}


def checklist(plan_id: str, tick: str | None = None) -> dict[str, Any]:
    """The plan's checklist; with `tick`, that item ticked first (once: a second tick changes nothing)."""
    plan, campaign = _settled(plan_id, None)
    ticked_now = False
    if tick:
        try:
            item = rules.checklist_item(tick)
        except rules.AfterPurchaseError as error:
            raise OperationError(str(error)) from None
        ticked_now = store.tick(campaign.campaign_id, plan_id, item)
        plan = dict(purchases.load_plan(plan_id) or plan)
    items = [{"item": item, "text": text, "ticked_at": plan.get(rules.ticked_attribute(item))}
             for item, text in rules.CHECKLIST.items()]
    return {"plan_id": plan_id, "items": items, "open": len(rules.open_items(plan)), "ticked_now": ticked_now}


def prove(plan_id: str, lines: Iterable[str]) -> dict[str, Any]:
    """Whether each account of a file (its creditor and reference: a row of the seller's file will do) was in
    the plan's purchase, from the kept hash list, checked against the digest its purchase entry published."""
    plan, campaign = _settled(plan_id, None)
    cid, offer_id = campaign.campaign_id, plan["offer"]["offer_id"]
    entry = next((e for e in public_log.entries(cid) if e["type"] == "purchase" and e["plan_id"] == plan_id), None)
    if entry is None or not entry.get("accounts_digest"):
        raise OperationError(f"PLAN: the public log has no digest for {plan_id} (bought before digests were kept)")
    listing = store.kept_hashes(cid, offer_id)
    if listing is None or rules.accounts_digest(listing) != entry["accounts_digest"]:
        raise OperationError(f"PLAN: the kept hash list of {plan_id} is missing or does not match the digest the "
                             f"public log published (entry {entry['seq']}); nothing can be shown from it")
    hashes = listing.decode().split()
    rows = list(_creditor_and_reference(lines))
    key = derived_key("account-claim")
    found = [{"line": line, "in_purchase": (at := rules.position_in(hashes, account_key(key, cid, creditor, ref)))
              is not None, "position": at} for line, creditor, ref in rows]
    return {"plan_id": plan_id, "log_entry": entry["seq"], "accounts_digest": entry["accounts_digest"],
            "accounts_in_list": len(hashes), "accounts": found}


def _creditor_and_reference(lines: Iterable[str]) -> Iterable[tuple[int, str, str]]:
    import csv

    rows = csv.reader(lines)
    header = [KNOWN.get(header_key(h)) for h in next(rows, [])]
    if "account_ref" not in header or "original_creditor" not in header:
        raise OperationError("--account-file: needs the original creditor and the account reference columns "
                             "(e.g. a row of the seller's file, with its header)")
    creditor, ref = header.index("original_creditor"), header.index("account_ref")
    for line, row in enumerate(rows, start=2):
        if any(cell.strip() for cell in row):
            if len(row) <= max(creditor, ref):
                raise OperationError(f"--account-file: line {line} is short of fields")
            yield line, row[creditor], row[ref]
