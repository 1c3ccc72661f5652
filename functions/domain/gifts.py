"""A confirmed gift: what the payment stage hands the pool stage (kept free of pydantic, for cold starts)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PaymentConfirmed:
    """A provider's word that a gift was paid: the unit the pool stage books."""

    event_id: str  # the provider's event id; also the ledger transfer id, so replays are no-ops
    provider: str
    campaign_id: str
    donation_id: str
    amount_cents: int
    currency: str
    fee_cents: int

    @property
    def transfer_id(self) -> str:
        return f"gift#{self.provider}#{self.event_id}"
