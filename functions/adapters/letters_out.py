"""The letters service's store and post (functions/services/ports.py): chunks' events and records in
DynamoDB (functions/adapters/forgiveness.py), and the ways letters leave: the sandbox printer (a bucket),
or a mail service (functions/adapters/mail.py).

The only code that may open the sealed debtor data: it asks KMS for the portfolio's private key (once
per warm container), renders one PDF per account and hands the chunk's letters to the printer, sealed
again to the portfolio's public key.
"""

from __future__ import annotations

import os
from typing import Any

from functions.adapters import crypto, ledger, mail
from functions.adapters import forgiveness as store
from functions.adapters.letter_facts import opener_of, rendered
from functions.adapters.letters_pdf import letter_pages, render_pages
from functions.adapters.storage import S3LetterPrinter
from functions.domain.campaigns import Campaign


class DynamoLettersStore:
    # Each looks its function up when called (tests replace them on the modules).
    def load_campaign(self, campaign_id: str) -> Campaign | None:
        return ledger.load_campaign(campaign_id)

    def events_of_chunk(self, campaign_id: str, plan_id: str, chunk: int) -> list[dict[str, Any]]:
        return store.events_of_chunk(campaign_id, plan_id, chunk)

    def write_verifications(self, events: list[dict[str, Any]]) -> None:
        store.write_items([store.verification_item(event["code_hash"], event) for event in events])

    def mailed(self, campaign_id: str, plan_id: str, chunk: int) -> bool:
        return store.mailed(campaign_id, plan_id, chunk)

    def record_mailing(self, campaign_id: str, plan_id: str, chunk: int, way_out: str) -> None:
        store.record_mailing(campaign_id, plan_id, chunk, way_out)

    def continue_letters(self, message: dict[str, Any], handed_over: int) -> None:
        store.continue_letters(message, handed_over)

    def finish_letters(self, campaign_id: str, plan_id: str, chunk: int, sent: int, keep_days: int,
                       expire: bool) -> bool:
        return store.finish_letters(campaign_id, plan_id, chunk, sent, keep_days, expire=expire)


class Post:
    """How letters leave."""

    def print_batch(self, campaign: Campaign, plan_id: str, batch_id: str, events: list[dict[str, Any]]) -> str:
        return print_batch(campaign, plan_id, batch_id, events)

    def hand_over(self, campaign: Campaign, plan_id: str, chunk: int, batch_id: str,
                  events: list[dict[str, Any]]) -> str:
        return mail.hand_over(campaign, plan_id, chunk, batch_id, events)

    def resend(self, campaign_id: str, plan_id: str, account: str, attempt: int) -> None:
        mail.resend(campaign_id, plan_id, account, attempt)


def print_batch(campaign: Campaign, plan_id: str, batch_id: str, events: list[dict[str, Any]]) -> str:
    """Render the chunk's letters from its sealed debtor data and hand them to the printer as one batch."""
    opener = opener_of(campaign.campaign_id, plan_id)
    sealer = crypto.Sealer(opener.public)  # its own ephemeral key, so random nonces never meet the events' ones
    printer = S3LetterPrinter(lambda pdf, aad: sealer.seal(os.urandom(crypto.NONCE_BYTES), pdf, aad))
    batch = {account: render_pages(letter_pages(letter.sender, letter.recipient, letter.pages),
                                   f"Letter from {campaign.name}")
             for account, _, letter in rendered(campaign, plan_id, events, opener)}
    return printer.send_batch(batch_id, batch)
