"""Each letter's facts, opened from a portfolio's sealed debtor data, and composed into its text.

Used by the letters function (to print or mail) and by the operator's print bundle (on the
operator's machine, with the operator-only permission to decrypt the portfolio's key).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from functions.adapters import clock, crypto
from functions.adapters import forgiveness as store
from functions.adapters.aws import settings
from functions.domain.campaigns import Campaign
from functions.domain.forgiveness import SEPARATOR, format_code, read_private
from functions.domain.letter_text import Facts, Letter, compose

Rendered = tuple[str, list[str], Letter]  # (account hash, [name, line, city, state, zip], what it says)


def opener_of(campaign_id: str, plan_id: str) -> crypto.Opener:
    key_pair = store.debtor_key(campaign_id, plan_id)
    if key_pair is None or "private_key" not in key_pair:
        raise LookupError(f"plan {plan_id} has no debtor key, or it was shredded")
    return crypto.portfolio_opener(bytes(key_pair["private_key"]), campaign_id, plan_id)


def rendered(campaign: Campaign, plan_id: str, events: list[dict[str, Any]], opener: crypto.Opener | None = None,
             addresses: dict[str, bytes] | None = None) -> Iterator[Rendered]:
    """Each account's letter: (account hash, address, letter). `addresses`: corrected addresses (sealed
    like the events' data, by account hash) for letters sent again."""
    cid = campaign.campaign_id
    opener = opener or opener_of(cid, plan_id)
    today = clock.now().date()
    for event in events:
        account = event["account_hash"]
        private = opener.open(bytes(event["sealed"]), crypto.aad(cid, plan_id, account))
        code_bytes, fields = read_private(private)
        if addresses and account in addresses:
            fields[1:5] = opener.open(addresses[account], crypto.aad(cid, plan_id, account)).decode().split(SEPARATOR)
        name, line, city, state, zip_code, last4, charged_off, *extra = fields
        code = format_code(code_bytes)
        # The link points at the campaign's site (CloudFront in a deployment), which serves /verify.
        facts = Facts(name, line, city, state, zip_code, event["original_creditor"], event["debt_type"],
                      int(event["face_value_cents"]), last4, charged_off, code,
                      f"{settings().site_url.rstrip('/')}/verify/{code}", *extra)
        yield account, fields[:5], compose_for(campaign, facts, today)


def compose_for(campaign: Campaign, facts: Facts, today: dt.date) -> Letter:
    sender = campaign.legal_name or campaign.name
    street = ([campaign.postal_address[0], "{}, {} {}".format(*campaign.postal_address[1:])]
              if campaign.postal_address else [])
    return compose(facts, sender=[sender, *street], signer=sender, contact=campaign.contact or campaign.name,
                   currency=campaign.currency, languages=campaign.letter_languages, entity_type=campaign.entity_type,
                   tax_note=campaign.letter_tax_note, generic_creditor=campaign.generic_creditor, today=today)
