"""Letters stage: tell each debtor of a forgiven chunk, with a code to check the letter by.

The only function that may open the sealed debtor data: it asks KMS for the portfolio's
private key (once per warm container), renders one PDF per account and hands the chunk's
letters to the printer, sealed again to the portfolio's public key.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from typing import Any

from aws_lambda_powertools import Logger

from functions.adapters import crypto, ledger, mail
from functions.adapters import forgiveness as store
from functions.adapters.aws import settings
from functions.adapters.letters_pdf import letter_pages, render_pages
from functions.adapters.storage import S3LetterPrinter
from functions.domain.campaigns import Campaign
from functions.domain.forgiveness import format_code, read_private
from functions.domain.letter_text import Facts, compose
from functions.domain.letter_text import Letter as LetterText
from functions.handlers.queue import each_message

logger = Logger()


def send(message: dict[str, Any]) -> None:
    cid, plan_id, chunk = message["campaign_id"], message["plan_id"], message["chunk"]
    campaign = ledger.load_campaign(cid)
    if campaign is None:
        raise LookupError(f"no campaign {cid!r}")
    events = store.events_of_chunk(cid, plan_id, chunk)
    # Printed once, ever: a redelivered chunk (after the printer, the proofs, or the count) finds the
    # record and sends nothing; a crash between the printer's accept and the record is caught by
    # the printer itself, which takes the batch id as its idempotency key.
    by_service = campaign.mailer != "sandbox"  # counted and settled as the service reports each one mailed
    if not store.mailed(cid, plan_id, chunk):
        batch_id = f"{cid}/{plan_id}/{chunk:06d}"
        store.record_mailing(cid, plan_id, chunk, mail.mail_chunk(campaign, plan_id, chunk, batch_id, rendered(
            campaign, plan_id, events)) if by_service else print_batch(campaign, plan_id, batch_id, events))
    proofs = [store.verification_item(event["code_hash"], event) for event in events]
    store.write_items(proofs)  # what /verify answers from: the code's hash, never the code
    sent = 0 if by_service else len(proofs)
    counted = store.finish_letters(cid, plan_id, chunk, sent, campaign.debtor_data_days, expire=not by_service)
    logger.info("letters sent", extra={"campaign_id": cid, "plan_id": plan_id, "chunk": chunk, "letters": sent,
                                       "counted_now": counted})


def opener_of(campaign_id: str, plan_id: str) -> crypto.Opener:
    key_pair = store.debtor_key(campaign_id, plan_id)
    if key_pair is None or "private_key" not in key_pair:
        raise LookupError(f"plan {plan_id} has no debtor key, or it was shredded")
    return crypto.portfolio_opener(bytes(key_pair["private_key"]), campaign_id, plan_id)


def rendered(campaign: Campaign, plan_id: str, events: list[dict[str, Any]],
             opener: crypto.Opener | None = None) -> Iterator[mail.Letter]:
    """Each account's letter, opened from its sealed debtor data: (account hash, address, letter)."""
    cid = campaign.campaign_id
    opener = opener or opener_of(cid, plan_id)
    today = dt.datetime.now(dt.UTC).date()
    for event in events:
        private = opener.open(bytes(event["sealed"]), crypto.aad(cid, plan_id, event["account_hash"]))
        code_bytes, fields = read_private(private)
        code = format_code(code_bytes)
        # The link points at the campaign's site (CloudFront in a deployment), which serves /verify.
        name, line, city, state, zip_code, last4, charged_off = fields[:7]
        facts = Facts(name, line, city, state, zip_code, event["original_creditor"], event["debt_type"],
                      int(event["face_value_cents"]), last4, charged_off, code,
                      f"{settings().site_url.rstrip('/')}/verify/{code}")
        yield event["account_hash"], fields[:5], compose_for(campaign, facts, today)


def compose_for(campaign: Campaign, facts: Facts, today: dt.date) -> LetterText:
    sender = campaign.legal_name or campaign.name
    street = ([campaign.postal_address[0], "{}, {} {}".format(*campaign.postal_address[1:])]
              if campaign.postal_address else [])
    return compose(facts, sender=[sender, *street], signer=sender, contact=campaign.contact or campaign.name,
                   currency=campaign.currency, languages=campaign.letter_languages, entity_type=campaign.entity_type,
                   tax_note=campaign.letter_tax_note, generic_creditor=campaign.generic_creditor, today=today)


def print_batch(campaign: Campaign, plan_id: str, batch_id: str, events: list[dict[str, Any]]) -> str:
    """Render the chunk's letters from its sealed debtor data and hand them to the printer as one batch."""
    opener = opener_of(campaign.campaign_id, plan_id)
    sealer = crypto.Sealer(opener.public)  # its own ephemeral key, so random nonces never meet the events' ones
    printer = S3LetterPrinter(lambda pdf, aad: sealer.seal(os.urandom(crypto.NONCE_BYTES), pdf, aad))
    batch = {account: render_pages(letter_pages(letter.sender, letter.recipient, letter.pages),
                                   f"Letter from {campaign.name}")
             for account, _, letter in rendered(campaign, plan_id, events, opener)}
    return printer.send_batch(batch_id, batch)


handler = logger.inject_lambda_context(each_message(send))
