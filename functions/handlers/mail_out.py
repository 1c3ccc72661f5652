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
    cid, kind = message["campaign_id"], message["kind"]
    campaign = ledger.load_campaign(cid)
    if campaign is None:
        raise UnknownCampaign(cid)
    about = {"campaign_id": cid, "kind": kind} | (
        {"year": message["year"]} if kind == "statement" else {"donation_id": message["donation_id"]})
    if kind == "statement":
        gifts = outbox_mail.donations(cid, message["donation_ids"])
        ref, key = message["donor_ref"], f"statement#{message['year']}#{message['donor_ref']}"
    else:
        gifts = [d for d in [ledger.load_donation(cid, message["donation_id"])] if d]
        ref, key = (gifts[0].get("donor_ref") if gifts else None), f"receipt#{message['donation_id']}"
    why_not = _why_not(campaign, ref, gifts)
    donor = None if why_not else donors.opened(max(gifts, key=lambda d: str(d.get("confirmed_at", ""))))
    if why_not or not donor or not donor.get("email"):
        logger.info("email not sent", extra=about | {"reason": why_not or "the donor was erased"})
        return
    assert ref is not None  # _why_not says "no email given" otherwise
    try:
        raw = email.message(campaign, donor["email"], _content(campaign, message, gifts, donor.get("name")),
                            email.unsubscribe_link(settings().site_url, derived_key("unsubscribe"), cid, ref),
                            clock.now())
    except email.Undeliverable:  # the reason, never the address
        logger.info("email not sent", extra=about | {"reason": "the address is not plain ASCII"})
        return
    sent = outbox_mail.send_once(cid, key, kind, campaign.email_from, donor["email"], raw)
    logger.info("email sent" if sent else "email sent before", extra=about)


def _why_not(campaign: Campaign, ref: str | None, gifts: list[dict[str, Any]]) -> str | None:
    if not campaign.email_receipts:
        return "the campaign sends no email"
    if not gifts:
        return "no such gift"
    if not ref or not outbox_mail.reachable(ref):
        return "no email given"
    if outbox_mail.unsubscribed(campaign.campaign_id, ref):
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
