"""Donors' signed links: a gift's receipt, their statement of a year, managing a monthly gift.

Each is signed with the deployment's receipt key for its own purpose, so a receipt link passed to a
tax preparer reads the receipt and nothing more (it cannot stop the gift).
"""

from __future__ import annotations

from functions.adapters.aws import settings
from functions.adapters.secrets import derived_key
from functions.domain.receipts import link_matches, link_signature

KEY = "receipt"


def _signed(path: str, purpose: str, *parts: str) -> str:
    return f"{settings().public_base_url}{path}?sig={link_signature(derived_key(KEY), purpose, *parts)}"


def receipt_url(campaign_id: str, donation_id: str) -> str:
    return _signed(f"/receipts/{campaign_id}/{donation_id}", "receipt", campaign_id, donation_id)


def statement_url(campaign_id: str, donor_ref: str, year: int) -> str:
    return _signed(f"/statements/{campaign_id}/{donor_ref}/{year}", "statement", campaign_id, donor_ref, str(year))


def manage_url(campaign_id: str, donation_id: str) -> str:
    return _signed(f"/receipts/{campaign_id}/{donation_id}/manage", "manage", campaign_id, donation_id)


def valid(given: str, purpose: str, *parts: str) -> bool:
    return link_matches(derived_key(KEY), given, purpose, *parts)
