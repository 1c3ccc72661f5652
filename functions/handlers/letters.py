"""Letters stage: tell each debtor of a forgiven chunk, with a code to check the letter by.

The only function that may open the sealed debtor data: it asks KMS for the portfolio's
private key (once per warm container), renders one PDF per account and hands the chunk's
letters to the printer, sealed again to the portfolio's public key.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger

from functions.adapters import crypto, ledger
from functions.adapters import forgiveness as store
from functions.adapters.aws import settings
from functions.adapters.letters_pdf import render_pdf
from functions.adapters.storage import S3LetterPrinter
from functions.domain.campaigns import Campaign, UnknownCampaign
from functions.domain.forgiveness import Debt, format_code, letter_lines, read_private
from functions.handlers.queue import each_message

logger = Logger()


def send(message: dict[str, Any]) -> None:
    cid, plan_id, chunk = message["campaign_id"], message["plan_id"], message["chunk"]
    campaign = ledger.load_campaign(cid)
    if campaign is None:
        raise UnknownCampaign(cid)
    events = store.events_of_chunk(cid, plan_id, chunk)
    # Printed once, ever: a redelivered chunk (after the printer, the proofs, or the count) finds the
    # record and sends nothing; a crash between the printer's accept and the record is caught by
    # the printer itself, which takes the batch id as its idempotency key.
    if not store.mailed(cid, plan_id, chunk):
        batch_id = f"{cid}/{plan_id}/{chunk:06d}"
        store.record_mailing(cid, plan_id, chunk, print_batch(campaign, plan_id, batch_id, events))
    proofs = [store.verification_item(event["code_hash"], event) for event in events]
    store.write_items(proofs)  # what /verify answers from: the code's hash, never the code
    sent = len(proofs)
    counted = store.finish_letters(cid, plan_id, chunk, sent, campaign.debtor_data_days)
    logger.info("letters sent", extra={"campaign_id": cid, "plan_id": plan_id, "chunk": chunk, "letters": sent,
                                       "counted_now": counted})


def print_batch(campaign: Campaign, plan_id: str, batch_id: str, events: list[dict[str, Any]]) -> str:
    """Render the chunk's letters from its sealed debtor data and hand them to the printer as one batch."""
    cid = campaign.campaign_id
    key_pair = store.debtor_key(cid, plan_id)
    if key_pair is None or "private_key" not in key_pair:
        raise LookupError(f"plan {plan_id} has no debtor key, or it was shredded")
    opener = crypto.portfolio_opener(bytes(key_pair["private_key"]), cid, plan_id)
    sealer = crypto.Sealer(opener.public)  # its own ephemeral key, so random nonces never meet the events' ones
    printer = S3LetterPrinter(lambda pdf, aad: sealer.seal(os.urandom(crypto.NONCE_BYTES), pdf, aad))
    batch = {}
    for event in events:
        private = opener.open(bytes(event["sealed"]), crypto.aad(cid, plan_id, event["account_hash"]))
        code_bytes, (name, address, city, state, zip_code) = read_private(private)
        code = format_code(code_bytes)
        debt = Debt("", name, address, city, state, zip_code, event["original_creditor"], event["debt_type"],
                    event["face_value_cents"])
        # The link points at the campaign's site (CloudFront in a deployment), which serves /verify.
        lines = letter_lines(campaign.name, debt, campaign.currency, code, campaign.contact or campaign.name,
                             f"{settings().site_url.rstrip('/')}/verify/{code}")
        batch[event["account_hash"]] = render_pdf(lines, f"Letter from {campaign.name}")
    return printer.send_batch(batch_id, batch)


handler = logger.inject_lambda_context(each_message(send))
