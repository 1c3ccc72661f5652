"""The services' store ports (functions/services/ports.py) in memory, with the DynamoDB adapter's
conditions: a transfer id or an announcement id is written once, no internal balance goes below zero,
a donation changes only from the state it was read in, and a write whose condition fails writes nothing.
For the books' state machine and the store contract suite (tests/integration/test_store_contract.py)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from functions.domain.campaigns import Campaign
from functions.domain.email import receipts_message, receipts_message_id
from functions.domain.gifts import PaymentAdjusted, PaymentConfirmed, from_message
from functions.domain.ledger import ACCOUNTS, Transfer, negative_accounts, net_deltas
from functions.services.ports import BalanceRefused, GiftBatch, NotYetBookable


class MemoryStore:
    def __init__(self) -> None:
        self.campaigns: dict[str, dict[str, Any]] = {}
        self.donations: dict[tuple[str, str], dict[str, Any]] = {}
        self.ledger: dict[str, dict[str, Transfer]] = {}  # campaign -> transfer id -> transfer
        self.balances: dict[str, dict[str, int]] = {}
        self.outbox: dict[str, tuple[str, dict[str, Any]]] = {}  # message id -> (stage, body), in order

    # --- set-up and reading, for tests --------------------------------------------------------

    def add_campaign(self, campaign: Campaign) -> None:
        self.campaigns[campaign.campaign_id] = {**campaign.to_dict(), "donations_confirmed": 0}
        self.ledger[campaign.campaign_id] = {}
        self.balances[campaign.campaign_id] = dict.fromkeys(ACCOUNTS, 0)

    def add_pledge(self, campaign_id: str, donation_id: str, amount_cents: int, provider: str = "sandbox",
                   currency: str = "USD") -> None:
        self.donations[(campaign_id, donation_id)] = {
            "campaign_id": campaign_id, "donation_id": donation_id, "amount_cents": amount_cents,
            "currency": currency, "provider": provider, "status": "pending", "anonymous": False,
            "refunded_cents": 0, "disputes": {}}

    def post(self, transfer: Transfer) -> None:
        """A transfer booked outside the payment ports (a purchase's hold or post), under the same rules."""
        self._write_transfers(transfer.campaign_id, [transfer])

    def messages(self, stage: str) -> list[PaymentConfirmed | PaymentAdjusted]:
        return [from_message(body) for s, body in self.outbox.values() if s == stage]

    # --- DonationStore ------------------------------------------------------------------------

    def load_donation(self, campaign_id: str, donation_id: str) -> dict[str, Any] | None:
        found = self.donations.get((campaign_id, donation_id))
        return copy.deepcopy(found) if found else None

    def confirm_pledge(self, gift: PaymentConfirmed) -> bool:
        donation = self.donations.get((gift.campaign_id, gift.donation_id))
        if donation is None or donation["status"] != "pending" or not self._fresh([gift.transfer_id]) or any(
                donation[k] != getattr(gift, k) for k in ("amount_cents", "currency", "provider")):
            return False
        donation.update(status="confirmed", fee_cents=gift.fee_cents, payment_id=gift.payment_id)
        self._announce("donations", gift.transfer_id, gift.to_message())
        return True

    def add_installment(self, gift: PaymentConfirmed, pledge: dict[str, Any]) -> bool:
        key = (gift.campaign_id, gift.donation_id)
        if key in self.donations or not self._fresh([gift.transfer_id]):
            return False
        self.donations[key] = {
            "campaign_id": gift.campaign_id, "donation_id": gift.donation_id, "amount_cents": gift.amount_cents,
            "currency": gift.currency, "provider": gift.provider, "status": "confirmed",
            "anonymous": pledge["anonymous"], "pledge_id": gift.pledge_id, "fee_cents": gift.fee_cents,
            "payment_id": gift.payment_id, "refunded_cents": 0, "disputes": {}, "covered_cents": gift.covered_cents}
        self._announce("donations", gift.transfer_id, gift.to_message())
        return True

    def fail_pledge(self, gift: PaymentConfirmed) -> bool:
        donation = self.donations.get((gift.campaign_id, gift.donation_id))
        if donation is None or donation["status"] != "pending" or donation["provider"] != gift.provider:
            return False
        donation["status"] = "failed"
        return True

    def end_pledge(self, gift: PaymentConfirmed, ended_at: int) -> bool:
        donation = self.donations.get((gift.campaign_id, gift.donation_id))
        if donation is None or donation["provider"] != gift.provider or "ended_at" in donation:
            return False
        donation["ended_at"] = ended_at
        return True

    def record_refunds(self, donation: dict[str, Any], refunded_cents: int, refunds_failed_cents: int,
                       adjustment: PaymentAdjusted) -> bool:
        stored = self._stored(donation)
        if stored is None or any(stored.get(k) != donation.get(k) for k in ("refunded_cents", "refunds_failed_cents")) \
                or not self._fresh([f"adjust#{adjustment.transfer_id}"]):
            return False
        stored.update(refunded_cents=refunded_cents, refunds_failed_cents=refunds_failed_cents)
        self._announce("donations", f"adjust#{adjustment.transfer_id}", adjustment.to_message())
        return True

    def record_dispute(self, donation: dict[str, Any], dispute_id: str, status: str,
                       adjustments: list[PaymentAdjusted]) -> bool:
        stored, ids = self._stored(donation), [f"adjust#{a.transfer_id}" for a in adjustments]
        known = (donation.get("disputes") or {}).get(dispute_id)
        if stored is None or stored["disputes"].get(dispute_id) != known or not self._fresh(ids):
            return False
        stored["disputes"][dispute_id] = status
        for message_id, adjustment in zip(ids, adjustments, strict=True):
            self._announce("donations", message_id, adjustment.to_message())
        return True

    # --- LedgerStore --------------------------------------------------------------------------

    def snapshot(self, campaign_id: str) -> tuple[dict[str, Any] | None, dict[str, int]]:
        meta = self.campaigns.get(campaign_id)
        return (dict(meta) if meta else None), dict(self.balances.get(campaign_id) or dict.fromkeys(ACCOUNTS, 0))

    def post_gifts(self, campaign_id: str, gifts: list[PaymentConfirmed],
                   plan: Callable[[list[PaymentConfirmed]], GiftBatch]) -> list[PaymentConfirmed]:
        pending = [g for g in gifts if g.transfer_id not in self.ledger[campaign_id]]
        if not pending:
            return []
        batch = plan(pending)
        self._write_transfers(campaign_id, batch.transfers)
        self.campaigns[campaign_id]["donations_confirmed"] += len(pending)
        if batch.purchase_check and self._fresh([batch.purchase_check]):
            self._announce("purchases", batch.purchase_check, {"campaign_id": campaign_id, "reason": "threshold"})
        receipts = receipts_message_id(campaign_id, [g.transfer_id for g in pending])
        if batch.receipts and self._fresh([receipts]):
            self._announce("email", receipts, receipts_message(campaign_id, pending))
        return pending

    def post_adjustment(self, adjustment: PaymentAdjusted, transfer: Transfer) -> bool:
        booked = self.ledger[adjustment.campaign_id]
        if transfer.transfer_id in booked:
            return False
        if adjustment.requires not in booked:
            raise NotYetBookable(f"{adjustment.transfer_id} waits for {adjustment.requires}")
        self._write_transfers(adjustment.campaign_id, [transfer])
        return True

    # --- the conditions -----------------------------------------------------------------------

    def _stored(self, donation: dict[str, Any]) -> dict[str, Any] | None:
        return self.donations.get((donation["campaign_id"], donation["donation_id"]))

    def _fresh(self, message_ids: list[str]) -> bool:
        return not any(m in self.outbox for m in message_ids)

    def _announce(self, stage: str, message_id: str, body: dict[str, Any]) -> None:
        self.outbox[message_id] = (stage, body)

    def _write_transfers(self, campaign_id: str, transfers: list[Transfer]) -> None:
        """All or nothing: a transfer id booked before, or a balance driven below zero, writes none of them."""
        booked, balances = self.ledger[campaign_id], self.balances[campaign_id]
        if any(t.transfer_id in booked for t in transfers):
            raise ValueError("a transfer id is booked already")
        after = {a: balances[a] + net_deltas(transfers).get(a, 0) for a in ACCOUNTS}
        if below := negative_accounts(after):
            raise BalanceRefused(f"{[t.transfer_id for t in transfers]} would drive {below} below zero")
        booked.update((t.transfer_id, t) for t in transfers)
        balances.update(after)
