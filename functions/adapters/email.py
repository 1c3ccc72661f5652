"""Email to donors through Amazon SES (sesv2): asked for through the outbox, sent once per email.

A booked batch's receipts are asked for, in one message, in the transaction that books it
(services/payments.book_gifts); a donor's year-end statement by the hourly sweep in January, once per
campaign and year. The mail function sends each email once: it claims the email's record before SES is
called (a batch's claims in one transaction) and marks it sent after, so a redelivered message finds it
sent and sends nothing; a claim older than any run of the function was a crash (perhaps after SES took
the message: then the donor gets it twice, the only way they can). Nothing here logs or stores an
address or a body.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from functions.adapters import clock, donation_items, dynamo
from functions.adapters.aws import ConfigurationError, client, settings
from functions.adapters.keys import campaign_pk, email_sk, statements_sk, unsubscribed_sk
from functions.domain.campaigns import Campaign
from functions.domain.email import receipts_message, receipts_message_id, statement_donors
from functions.domain.gifts import PaymentConfirmed

# botocore's DEBUG line for each request quotes its parameters: here a donor's address and the whole message.
# Held at INFO, whatever level a function, a test or Lambda's log-level control gives the root logger.
logging.getLogger("botocore.endpoint").setLevel(logging.INFO)

STAGE = "email"
LEASE_S = 120  # past the mail function's timeout (30 s): a claim this old belongs to a run that died


class Busy(Exception):
    """Another delivery of the same message is sending it now: this one is retried later."""


class EmailRefused(Exception):
    """SES did not take the message; only its error code is kept (SES's messages can quote addresses)."""


def reachable(donor_ref: str) -> bool:
    """A donor who gave an email has a reference from it (donors.donor_ref); one who gave none, their gift's."""
    return donor_ref.startswith("donor-")


# --- asking (in other stages' transactions) ----------------------------------------------------------

def receipts_outbox(campaign_id: str, gifts: list[PaymentConfirmed]) -> dict[str, Any]:
    """The outbox item asking for a booked batch's receipts (an installment's too), written as the gifts are."""
    return dynamo.outbox(STAGE, receipts_message_id(campaign_id, [g.transfer_id for g in gifts]),
                         receipts_message(campaign_id, gifts))


def ask_for_statements(campaign: Campaign, year: int) -> int:
    """Ask for each donor's statement of `year`, once per campaign and year; returns the donors asked for
    (0: done before, or no email). A run that dies part way is finished by the next: each donor's item is
    written once (its id), and the year is marked done only after the last."""
    cid = campaign.campaign_id
    if not campaign.email_receipts or dynamo.get(campaign_pk(cid), statements_sk(str(year))):
        return 0
    donors = statement_donors(donation_items.listed(cid), year, reachable)
    items = [dynamo.outbox(STAGE, f"email#statement#{cid}#{year}#{ref}",
                           {"kind": "statement", "campaign_id": cid, "year": year, "donor_ref": ref,
                            "donation_ids": ids}) for ref, ids in donors.items()]
    for start in range(0, len(items), dynamo.MAX_TRANSACTION_ITEMS):
        dynamo.transact_new(items[start:start + dynamo.MAX_TRANSACTION_ITEMS], lambda pending: pending)
    dynamo.put_new({"pk": campaign_pk(cid), "sk": statements_sk(str(year)), "kind": "email-statements",
                    "campaign_id": cid, "year": year, "donors": len(donors), "asked_at": _now()})
    return len(donors)


# --- the donors' choice ------------------------------------------------------------------------------

def unsubscribe(campaign_id: str, donor_ref: str) -> bool:
    """Record that the donor wants no more email from the campaign; False if they said so before."""
    return dynamo.put_new({"pk": campaign_pk(campaign_id), "sk": unsubscribed_sk(donor_ref),
                           "kind": "email-unsubscribe", "campaign_id": campaign_id, "donor_ref": donor_ref,
                           "at": clock.now().isoformat(timespec="seconds")})


def unsubscribed(campaign_id: str, donor_refs: Iterable[str]) -> set[str]:
    """Which of these donors asked for no more email (one batch read)."""
    found = dynamo.batch_get((campaign_pk(campaign_id), unsubscribed_sk(ref)) for ref in donor_refs)
    return {item["donor_ref"] for item in found.values()}


# --- sending ------------------------------------------------------------------------------------------

def donations(campaign_id: str, donation_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The donations found, by id (one batch read)."""
    return donation_items.get_many(campaign_id, donation_ids)


def _now() -> int:
    return int(clock.now().timestamp())


def _claim_item(campaign_id: str, message_key: str, kind: str) -> dict[str, Any]:
    return {"pk": campaign_pk(campaign_id), "sk": email_sk(message_key), "kind": "email-sent",
            "campaign_id": campaign_id, "message": kind, "status": "sending", "claimed_at": _now()}


def claim_all(campaign_id: str, messages: list[tuple[str, str]]) -> dict[str, bool | Busy]:
    """Take each (message key, kind) for this run, a transaction of up to 100 at once: True if taken, False if
    it was sent before, Busy if another run holds it. (One claim a message, however many a batch holds.)"""
    outcome: dict[str, bool | Busy] = {}
    pending = list(dict.fromkeys(messages))
    while pending:
        batch, pending = pending[:dynamo.MAX_TRANSACTION_ITEMS], pending[dynamo.MAX_TRANSACTION_ITEMS:]
        ops = [dynamo.put(_claim_item(campaign_id, key, kind)) for key, kind in batch]
        for op in ops:
            op["Put"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        try:
            dynamo.transact(ops)
        except dynamo.TransactionCancelled as cancelled:
            if not cancelled.failed():
                raise
            for n in cancelled.failed():  # claimed before: sent, held, or left by a run that died
                key, kind = batch[n]
                outcome[key] = _claimed_before(campaign_id, key, kind, cancelled.old[n] or {})
            pending = [m for n, m in enumerate(batch) if n not in cancelled.failed()] + pending
            continue
        outcome |= dict.fromkeys((key for key, _ in batch), True)
    return outcome


def _claimed_before(campaign_id: str, message_key: str, kind: str, found: dict[str, Any]) -> bool | Busy:
    if found.get("status") == "sent":
        return False
    claimed = int(found.get("claimed_at", 0))
    if claimed > _now() - LEASE_S:
        return Busy(f"{kind} message is being sent by another run")
    taken = dynamo.transact_once([dynamo.update(campaign_pk(campaign_id), email_sk(message_key),
                                                "SET claimed_at = :now", {":now": _now(), ":was": claimed,
                                                                          ":sending": "sending"},
                                                condition="claimed_at = :was AND #status = :sending",
                                                names={"#status": "status"})])
    return True if taken else Busy(f"{kind} message was taken over by another run")


def _sender_allowed(sender: str) -> None:
    identity = settings().email_identity
    if not identity:
        raise ConfigurationError("EMAIL_IDENTITY is not set: this deployment was made without an SES identity "
                                 "(cdk deploy -c email_identity=DOMAIN), so it sends no email")
    if sender.lower() != identity.lower() and not sender.lower().endswith("@" + identity.lower()):
        raise EmailRefused("the campaign's sender is not an address of the deployment's SES identity")


def send_claimed(campaign_id: str, message_key: str, sender: str, to: str, raw: bytes) -> None:
    """Send a message this run claimed (claim_all) through SES, and mark it sent. EmailRefused if SES would not
    take it: the claim is let go, so the next delivery may send at once."""
    _sender_allowed(sender)
    extra = {"ConfigurationSetName": settings().email_configuration_set} if settings().email_configuration_set else {}
    key = dynamo.key(campaign_pk(campaign_id), email_sk(message_key))
    try:
        sent = client("sesv2").send_email(FromEmailAddress=sender, Destination={"ToAddresses": [to]},
                                          Content={"Raw": {"Data": raw}}, **extra)
    except ClientError as error:
        dynamo.transact_once([dynamo.update(campaign_pk(campaign_id), email_sk(message_key), "SET claimed_at = :zero",
                                            {":zero": 0, ":sending": "sending"}, condition="#status = :sending",
                                            names={"#status": "status"})])
        raise EmailRefused(f"SES refused the message: {error.response.get('Error', {}).get('Code')}") from None
    dynamo.retrying(lambda: client("dynamodb").update_item(  # one plain write: nothing else to keep in step
        TableName=settings().table, Key=key,
        UpdateExpression="SET #status = :sent, ses_message_id = :id, sent_at = :at",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues=dynamo.to_item({":sent": "sent", ":id": sent["MessageId"], ":at": _now()})))
