"""Payments: a verified provider event applied to its donation once, and the pool stage's booking of what
the events announced (gifts a batch at a time, refunds and dispute steps one by one)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from functions.domain import gifts
from functions.domain.campaigns import Campaign, UnknownCampaign
from functions.domain.gifts import (
    PaymentAdjusted,
    PaymentConfirmed,
    PaymentEvent,
    dispute_adjustments,
    refund_adjustment,
)
from functions.domain.ledger import POOL, SHORTFALL, Transfer, gift_transfer, net_deltas
from functions.services.ports import Donation, DonationStore, GiftBatch, LedgerStore

# What applying a provider's event did; the webhook answers with it.
Refusal = Literal["unknown", "wrong_provider"]
Confirmation = Literal["confirmed", "duplicate", "mismatch", "pledge_ended"] | Refusal
Recorded = Literal["duplicate", "refunded", "refund_failed", "dispute_open", "dispute_won", "dispute_lost"]
PaymentOutcome = Confirmation | Literal["failed"] | Recorded
DISPUTE_OUTCOMES: dict[gifts.DisputeStatus, Recorded] = {"open": "dispute_open", "won": "dispute_won",
                                                         "lost": "dispute_lost"}
ATTEMPTS = 5  # a concurrent event for the same donation moved it on: read again and redo, this often


def _refused(gift: PaymentConfirmed, donation: Donation | None) -> Refusal | None:
    """Why an event about `gift` may not touch `donation`: "unknown" (no such pledge here) or
    "wrong_provider" (it is paid through another provider: only a verified event of its own counts)."""
    if donation is None:
        return "unknown"
    return "wrong_provider" if donation.get("provider") != gift.provider else None


def confirm(store: DonationStore, gift: PaymentConfirmed) -> Confirmation:
    """Mark a donation paid and announce its gift to the pool stage, once per payment.

    "confirmed", "duplicate" (already confirmed), "unknown" (no such pledge), "wrong_provider"
    (the pledge is another provider's) or "mismatch" (amount or currency differ from the pledge).
    """
    if gift.pledge_id and gift.pledge_id != gift.donation_id:  # a monthly installment: a donation of its own
        pledge = store.load_donation(gift.campaign_id, gift.pledge_id)
        if refusal := _refused(gift, pledge):
            return refusal
        assert pledge is not None  # _refused answered "unknown" otherwise
        if gifts.paid_after_end(gift, pledge):
            return "pledge_ended"
        return "confirmed" if store.add_installment(gift, pledge) else "duplicate"
    if store.confirm_pledge(gift):
        return "confirmed"
    donation = store.load_donation(gift.campaign_id, gift.donation_id)
    if refusal := _refused(gift, donation):
        return refusal
    assert donation is not None  # _refused answered "unknown" otherwise
    return "duplicate" if donation["status"] != "pending" else "mismatch"


def fail(store: DonationStore, gift: PaymentConfirmed) -> Literal["failed", "duplicate"] | Refusal:
    """A payment that never arrived: the pledge is closed, nothing is booked."""
    if store.fail_pledge(gift):
        return "failed"
    return _refused(gift, store.load_donation(gift.campaign_id, gift.donation_id)) or "duplicate"


def end_pledge(store: DonationStore, gift: PaymentConfirmed,
               ended_at: int) -> Literal["pledge_ended", "duplicate"] | Refusal:
    """A monthly pledge ended: no installment paid after `ended_at` is booked (gifts.paid_after_end)."""
    if store.end_pledge(gift, ended_at):
        return "pledge_ended"
    return _refused(gift, store.load_donation(gift.campaign_id, gift.donation_id)) or "duplicate"


def _record_refund(store: DonationStore, event: PaymentEvent, donation: Donation) -> Recorded | None:
    """None: the donation moved on since it was read."""
    refunded, failed = int(donation.get("refunded_cents", 0)), int(donation.get("refunds_failed_cents", 0))
    adjustment = refund_adjustment(event, refunded, failed)
    if adjustment is None:
        return "duplicate"
    assert event.refunded_total_cents is not None  # refund_adjustment found the total moved
    after = failed + (adjustment.amount_cents if adjustment.kind == "refund_failed" else 0)
    if not store.record_refunds(donation, event.refunded_total_cents, after, adjustment):
        return None
    return "refunded" if adjustment.kind == "refund" else "refund_failed"


def _record_dispute(store: DonationStore, event: PaymentEvent, dispute: gifts.DisputeUpdate,
                    donation: Donation) -> Recorded | None:
    """None: the donation moved on since it was read."""
    adjustments = dispute_adjustments(event, (donation.get("disputes") or {}).get(dispute.dispute_id))
    if not adjustments:
        return "duplicate"
    if not store.record_dispute(donation, dispute.dispute_id, dispute.status, adjustments):
        return None
    return DISPUTE_OUTCOMES[dispute.status]


def apply_payment_event(store: DonationStore, event: PaymentEvent) -> PaymentOutcome:
    """Apply a verified provider event once, whatever order and however often it comes.

    The gift it names is confirmed first if no earlier event did, so a refund or a dispute
    that overtakes its payment's confirmation still finds the gift booked.
    """
    if event.failed:
        return fail(store, event.gift)
    if event.ended_at is not None:
        return end_pledge(store, event.gift, event.ended_at)
    outcome = confirm(store, event.gift)
    if outcome in ("unknown", "wrong_provider", "mismatch") or (event.refunded_total_cents is None
                                                                and event.dispute is None):
        return outcome
    dispute = event.dispute
    for _ in range(ATTEMPTS):
        donation = store.load_donation(event.gift.campaign_id, event.gift.donation_id)
        if donation is None:  # confirmed just now, so only a shredded or deleted item gets here
            return "unknown"
        if event.refunded_total_cents is not None or dispute is None:
            result = _record_refund(store, event, donation)
        else:
            result = _record_dispute(store, event, dispute, donation)
        if result is not None:
            return result
    raise RuntimeError("the donation kept changing under this event; the provider will redeliver it")


# --- the pool stage ----------------------------------------------------------------------

@dataclass(frozen=True)
class GiftsBooked:
    booked: int  # gifts booked by this call
    already_booked: int  # the rest: booked by an earlier delivery


def purchase_check_id(campaign_id: str, transfers: list[Transfer]) -> str:
    """The same batch delivered again announces the same check (so once)."""
    batch_id = hashlib.sha256("|".join(t.transfer_id for t in transfers).encode()).hexdigest()[:24]
    return f"purchase-check#{campaign_id}#{batch_id}"


def book_gifts(store: LedgerStore, campaign_id: str, confirmed: list[PaymentConfirmed]) -> GiftsBooked:
    """Book a batch of confirmed gifts in one write; when the pool reaches the campaign's threshold a
    purchase check goes out with them, and each gift's receipt email if the campaign emails donors."""
    meta, balances = store.snapshot(campaign_id)
    if meta is None:
        raise UnknownCampaign(campaign_id)
    campaign = Campaign.from_dict(meta)
    # A message delivered twice in one batch is one gift: one transaction can't write an item twice.
    unique = list({g.transfer_id: g for g in confirmed}.values())

    def plan(pending: list[PaymentConfirmed]) -> GiftBatch:
        transfers = [gift_transfer(g.transfer_id, campaign_id, g.amount_cents, g.fee_cents, campaign.reserve_bps,
                                   g.covered_cents) for g in pending]
        pool_after = balances[POOL] + net_deltas(transfers).get(POOL, 0)
        return GiftBatch(transfers, purchase_check_id(campaign_id, transfers)
                         if pool_after >= campaign.threshold_cents else None, receipts=campaign.email_receipts)

    booked = store.post_gifts(campaign_id, unique, plan)
    return GiftsBooked(len(booked), len(unique) - len(booked))


def book_adjustment(store: LedgerStore, adjustment: PaymentAdjusted) -> Transfer | None:
    """Book a refund or dispute step against fresh balances; the transfer, or None if it was booked before.
    NotYetBookable if its gift (or dispute opening) is not booked yet."""
    _, balances = store.snapshot(adjustment.campaign_id)
    transfer = adjustment.transfer(balances)
    return transfer if store.post_adjustment(adjustment, transfer) else None


def shortfall_cents(transfer: Transfer) -> int:
    """What an adjustment paid out beyond the reserve and pool."""
    return -transfer.deltas().get(SHORTFALL, 0)
