"""Email stage: a receipt for each booked gift and installment, and donors' year-end statements, through SES.

The only function that opens a donor's email address (it may decrypt donors' keys, never make one),
and the only one that sends email. It logs what kind of message went out for which gift or year,
never an address, a name or a body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger

from functions.adapters import clock, donors, ledger
from functions.adapters import email as outbox_mail
from functions.adapters.aws import settings
from functions.adapters.secrets import derived_key
from functions.domain import email
from functions.domain.campaigns import Campaign, UnknownCampaign
from functions.domain.receipts import year_end_statement
from functions.handlers.queue import each_message

logger = Logger()


def send(message: dict[str, Any]) -> None:
    """A batch's receipts ("receipts"; "receipt": one gift's, as asked before batches) or a donor's statement."""
    cid, kind = message["campaign_id"], message["kind"]
    campaign = ledger.load_campaign(cid)
    if campaign is None:
        raise UnknownCampaign(cid)
    if kind == "statement":
        gifts = list(outbox_mail.donations(cid, message["donation_ids"]).values())
        ref = message["donor_ref"]
        about = {"campaign_id": cid, "kind": kind, "year": message["year"]}
        ready = _composed(campaign, message, gifts, ref, about)
        outgoing = [(f"statement#{message['year']}#{ref}", about, ready)] if ready else []
    else:
        ids = message.get("donation_ids") or [message["donation_id"]]
        found = outbox_mail.donations(cid, ids) if campaign.email_receipts else {}
        asked = {d["donor_ref"] for d in found.values() if outbox_mail.reachable(d.get("donor_ref") or "")}
        unsubscribed = outbox_mail.unsubscribed(cid, asked)
        outgoing = []
        for donation_id in ids:
            gift, about = found.get(donation_id), {"campaign_id": cid, "kind": "receipt", "donation_id": donation_id}
            ready = _composed(campaign, {"kind": "receipt"}, [gift] if gift else [],
                              gift.get("donor_ref") if gift else None, about, unsubscribed)
            if ready:
                outgoing.append((f"receipt#{donation_id}", about, ready))
    _send_all(campaign, outgoing)


def _send_all(campaign: Campaign, outgoing: list[tuple[str, dict[str, Any], tuple[str, bytes]]]) -> None:
    """Claim every message at once, then send each claimed one; a message SES refused or another run holds
    fails the delivery after the rest are sent, and SQS delivers it again (what was sent is not sent twice)."""
    cid = campaign.campaign_id
    claims = outbox_mail.claim_all(cid, [(key, about["kind"]) for key, about, _ in outgoing])
    refused: list[Exception] = []
    for key, about, (to, raw) in outgoing:
        claim = claims[key]
        if isinstance(claim, outbox_mail.Busy):
            refused.append(claim)
            continue
        if claim:
            try:
                outbox_mail.send_claimed(cid, key, campaign.email_from, to, raw)
            except outbox_mail.EmailRefused as error:
                refused.append(error)
                continue
        logger.info("email sent" if claim else "email sent before", extra=about)
    if refused:
        raise refused[0]


def _composed(campaign: Campaign, message: Mapping[str, Any], gifts: list[dict[str, Any]], ref: str | None,
              about: dict[str, Any], unsubscribed: set[str] | None = None) -> tuple[str, bytes] | None:
    """The address and the message to send it, or None (and why not, logged)."""
    why_not = _why_not(campaign, ref, gifts, unsubscribed)
    donor = None if why_not else donors.opened(max(gifts, key=lambda d: str(d.get("confirmed_at", ""))))
    if why_not or not donor or not donor.get("email"):
        logger.info("email not sent", extra=about | {"reason": why_not or "the donor was erased"})
        return None
    assert ref is not None  # _why_not says "no email given" otherwise
    try:
        raw = email.message(campaign, donor["email"], _content(campaign, message, gifts, donor.get("name")),
                            email.unsubscribe_link(settings().site_url, derived_key("unsubscribe"),
                                                   campaign.campaign_id, ref), clock.now())
    except email.Undeliverable:  # the reason, never the address
        logger.info("email not sent", extra=about | {"reason": "the address is not plain ASCII"})
        return None
    return donor["email"], raw


def _why_not(campaign: Campaign, ref: str | None, gifts: list[dict[str, Any]],
             unsubscribed: set[str] | None = None) -> str | None:
    """Why no email goes out; `unsubscribed`: the donors among the batch's who asked for none (read at once)."""
    if not campaign.email_receipts:
        return "the campaign sends no email"
    if not gifts:
        return "no such gift"
    if not ref or not outbox_mail.reachable(ref):
        return "no email given"
    if ref in (outbox_mail.unsubscribed(campaign.campaign_id, [ref]) if unsubscribed is None else unsubscribed):
        return "unsubscribed"
    return None


def _content(campaign: Campaign, message: Mapping[str, Any], gifts: list[dict[str, Any]],
             name: str | None) -> email.Content:
    site, key, cid = settings().site_url, derived_key("receipt"), campaign.campaign_id
    if message["kind"] != "statement":
        return email.receipt_content(campaign, gifts[0], name, email.receipt_link(site, key, cid,
                                                                                 gifts[0]["donation_id"]))
    statement = year_end_statement(gifts, "", int(message["year"]))
    links = {line.donation_id: email.receipt_link(site, key, cid, line.donation_id) for line in statement.lines}
    return email.statement_content(campaign, statement, name, links)


handler = logger.inject_lambda_context(each_message(send))
