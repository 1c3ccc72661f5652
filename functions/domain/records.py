"""The main kinds of stored item as the stores read them back (functions/adapters/keys.py builds their keys):
typed, so services and handlers say which attributes they rely on, and mypy checks them."""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

DonationStatus = Literal["pending", "confirmed", "failed"]
PlanStatus = Literal["proposed", "approved", "settled", "voided"]


class DonationRecord(TypedDict):
    """A pledge, or a confirmed gift (a monthly installment is a donation of its own, with its pledge's id)."""

    pk: NotRequired[str]  # where the store keeps it (functions/adapters/donation_items.py)
    sk: NotRequired[str]
    campaign_id: str
    donation_id: str
    amount_cents: int
    currency: str
    provider: str  # only a verified event of this provider may touch it
    status: DonationStatus
    anonymous: bool
    refunded_cents: int  # the provider's running total, as last applied
    disputes: dict[str, str]  # dispute id -> open | won | lost
    refunds_failed_cents: NotRequired[int]  # refunds that failed so far (absent until one does)
    created_at: NotRequired[str]
    frequency: NotRequired[str]
    request: NotRequired[str]  # a keyed hash of the pledge's body: a retry with its key must match it
    pledge_id: NotRequired[str]
    confirmed_at: NotRequired[str]
    posted_at: NotRequired[str]
    fee_cents: NotRequired[int]
    payment_id: NotRequired[str]
    donor_ref: NotRequired[str]  # the donor's sealed attributes (adapters/donors.py), never a name or email
    donor_sealed: NotRequired[bytes]
    donor_key: NotRequired[bytes]  # the gift's key, wrapped (adapters/donors.py)
    donor_key_wrapped_by: NotRequired[bytes]


class PlanRecord(TypedDict):
    """A purchase plan: its offer, its price held from the pool, and where it stands."""

    plan_id: str
    status: PlanStatus
    offer: dict[str, Any]  # the offer as planned (planner.Offer's fields)
    price_cents: int
    held_at: str
    expires_at: NotRequired[str]
    approvers: NotRequired[set[str]]
    approved_by: NotRequired[list[str]]
    finished_at: NotRequired[str]
    portfolio_key: NotRequired[str]
    wire_reference: NotRequired[str]
    void_reason: NotRequired[str]
    chunks: NotRequired[int]  # once split for forgiveness
    chunks_done: NotRequired[int]
