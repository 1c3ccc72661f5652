"""Letters stage: tell each debtor of a forgiven chunk, with a code to check the letter by.

The only function that may open the sealed debtor data: it asks KMS for the portfolio's
private key (once per warm container), renders one PDF per account and hands the chunk's
letters to the printer, sealed again to the portfolio's public key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger

from functions.adapters import after_purchase, crypto, ledger, mail
from functions.adapters import forgiveness as store
from functions.adapters.letter_facts import opener_of, rendered
from functions.adapters.letters_pdf import letter_pages, render_pages
from functions.adapters.storage import S3LetterPrinter
from functions.domain.campaigns import Campaign, UnknownCampaign
from functions.handlers.queue import each_message

logger = Logger()


def send(message: dict[str, Any]) -> None:
    if message.get("kind") == "resend":  # one returned letter, to the address an operator corrected
        mail.resend(message["campaign_id"], message["plan_id"], message["account"], int(message["attempt"]))
        return
    cid, plan_id, chunk = message["campaign_id"], message["plan_id"], message["chunk"]
    campaign = ledger.load_campaign(cid)
    if campaign is None:
        raise UnknownCampaign(cid)
    # Accounts scrubbed (bankrupt, deceased, disputed) or put back to the seller get no letter.
    withheld = after_purchase.withheld(cid, plan_id)
    events = [e for e in store.events_of_chunk(cid, plan_id, chunk) if e["account_hash"] not in withheld]
    # Printed once, ever: a redelivered chunk (after the printer, the proofs, or the count) finds the
    # record and sends nothing; a crash between the printer's accept and the record is caught by
    # the printer itself, which takes the batch id as its idempotency key.
    by_service = campaign.mailer != "sandbox"  # counted and settled as each one is reported mailed
    proofs = [store.verification_item(event["code_hash"], event) for event in events]
    if "after" not in message:  # a continuation's chunk wrote them before its first letter left
        store.write_items(proofs)  # what /verify answers from (the code's hash, never the code)
    if not store.mailed(cid, plan_id, chunk):
        batch_id = f"{cid}/{plan_id}/{chunk:06d}"
        try:
            way_out = (print_batch(campaign, plan_id, batch_id, events) if not by_service
                       else mail.hand_over(campaign, plan_id, chunk, batch_id, events))
        except mail.ChunkUnfinished as unfinished:  # the rest in a message of its own: no receive is spent
            store.continue_letters(message, unfinished.done)
            logger.info("letters continue", extra={"campaign_id": cid, "plan_id": plan_id, "chunk": chunk,
                                                   "handed_over": unfinished.done})
            return
        store.record_mailing(cid, plan_id, chunk, way_out)
    printed = 0 if by_service else len(proofs)  # the sandbox printer's: in the bucket, never in the post
    counted = store.finish_letters(cid, plan_id, chunk, printed, campaign.debtor_data_days, expire=not by_service)
    logger.info("letters done", extra={"campaign_id": cid, "plan_id": plan_id, "chunk": chunk, "printed": printed,
                                       "counted_now": counted})


def print_batch(campaign: Campaign, plan_id: str, batch_id: str, events: list[dict[str, Any]]) -> str:
    """Render the chunk's letters from its sealed debtor data and hand them to the printer as one batch."""
    opener = opener_of(campaign.campaign_id, plan_id)
    sealer = crypto.Sealer(opener.public)  # its own ephemeral key, so random nonces never meet the events' ones
    printer = S3LetterPrinter(lambda pdf, aad: sealer.seal(os.urandom(crypto.NONCE_BYTES), pdf, aad))
    batch = {account: render_pages(letter_pages(letter.sender, letter.recipient, letter.pages),
                                   f"Letter from {campaign.name}")
             for account, _, letter in rendered(campaign, plan_id, events, opener)}
    return printer.send_batch(batch_id, batch)


_each = each_message(send)


@logger.inject_lambda_context
def handler(event: dict, context: Any) -> Mapping[str, object]:
    mail.start_budget(context.get_remaining_time_in_millis() / 1000)  # shared by every message of the batch
    return _each(event, context)
