"""What payment providers tell us, as facts the pool stage books: gifts and adjustments to them.

Each fact carries a key that is the same however often, and in whatever order, the
provider reports it, so its ledger transfer is written once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from functions.domain.ledger import (
    Transfer,
    dispute_lost_transfer,
    dispute_opened_transfer,
    dispute_won_transfer,
    refund_failed_transfer,
    refund_transfer,
)


def gift_transfer_id(provider: str, payment_id: str) -> str:
    return f"gift#{provider}#{payment_id}"


def covered_fees(amount_cents: int, fee_bps: int, fee_fixed_cents: int) -> int:
    """What a donor who covers the fees adds to a gift: the gift grossed up so that a fee of `fee_bps` of
    the total plus `fee_fixed_cents` leaves at least the gift, rounded up to the cent:
    total = ceil((gift + fixed) / (1 - bps / 10000))."""
    total = -(-(amount_cents + fee_fixed_cents) * 10_000 // (10_000 - fee_bps))
    return total - amount_cents


def paid_after_end(gift: PaymentConfirmed, pledge: Mapping[str, Any]) -> bool:
    """An installment paid once its pledge had ended (or with no payment time to tell): not booked.
    One paid before the end, whose event came late, is."""
    ended = pledge.get("ended_at")
    return ended is not None and (gift.paid_at is None or gift.paid_at >= int(ended))


@dataclass(frozen=True)
class PaymentConfirmed:
    """A gift was paid. One payment (a charge) is one gift, whichever event reported it."""

    event_id: str
    provider: str
    payment_id: str  # the provider's charge id: the gift's key
    campaign_id: str
    donation_id: str
    amount_cents: int
    currency: str
    fee_cents: int
    pledge_id: str | None = None  # for a monthly installment: the donation that pledged it
    covered_cents: int = 0  # of amount_cents, what the donor added to cover the processor's fee
    paid_at: int | None = None  # an installment's payment time (epoch seconds), when the provider says

    @property
    def transfer_id(self) -> str:
        return gift_transfer_id(self.provider, self.payment_id)

    def to_message(self) -> dict[str, Any]:
        return {"gift": asdict(self)}


DisputeStatus = Literal["open", "won", "lost"]
AdjustmentKind = Literal["refund", "refund_failed", "dispute_opened", "dispute_won", "dispute_lost"]


@dataclass(frozen=True)
class PaymentAdjusted:
    """Money going back out of, or returning to, a booked gift."""

    kind: AdjustmentKind
    event_id: str
    provider: str
    payment_id: str
    campaign_id: str
    donation_id: str
    key: str  # refund: "<payment>@<ever refunded>"; refund_failed: "<payment>@<failed so far>"; dispute: its id
    amount_cents: int
    fee_cents: int = 0

    @property
    def transfer_id(self) -> str:
        return f"{self.kind}#{self.provider}#{self.key}"

    @property
    def requires(self) -> str:
        """The transfer that must be booked first: the gift, or the dispute's opening."""
        if self.kind in ("dispute_won", "dispute_lost"):
            return f"dispute_opened#{self.provider}#{self.key}"
        return f"gift#{self.provider}#{self.payment_id}"

    def transfer(self, balances: Mapping[str, int]) -> Transfer:
        if self.kind == "refund":
            return refund_transfer(self.transfer_id, self.campaign_id, self.amount_cents, balances)
        if self.kind == "refund_failed":
            return refund_failed_transfer(self.transfer_id, self.campaign_id, self.amount_cents, balances)
        if self.kind == "dispute_opened":
            return dispute_opened_transfer(self.transfer_id, self.campaign_id, self.amount_cents, balances)
        if self.kind == "dispute_won":
            return dispute_won_transfer(self.transfer_id, self.campaign_id, self.amount_cents, balances)
        return dispute_lost_transfer(self.transfer_id, self.campaign_id, self.amount_cents, self.fee_cents, balances)

    def to_message(self) -> dict[str, Any]:
        return {"adjustment": asdict(self)}


def from_message(message: Mapping[str, Any]) -> PaymentConfirmed | PaymentAdjusted:
    if "gift" in message:
        return PaymentConfirmed(**message["gift"])
    return PaymentAdjusted(**message["adjustment"])


@dataclass(frozen=True)
class DisputeUpdate:
    dispute_id: str
    amount_cents: int
    status: DisputeStatus
    fee_cents: int = 0


@dataclass(frozen=True)
class PaymentEvent:
    """One verified provider event, reduced to what the books need.

    Every event names its payment in full, so the gift can be booked from whichever
    event arrives first: a refund reported before its checkout completion still counts.
    """

    gift: PaymentConfirmed
    refunded_total_cents: int | None = None  # refunds so far on this payment (providers report the running total)
    dispute: DisputeUpdate | None = None
    failed: bool = False  # the payment did not go through (a bank debit that bounced): nothing to book
    # A refund failed: the running total, read from the provider now, may have come down. Only such an
    # event may lower it; from any other, a lower total is an older report delivered late.
    refund_failed: bool = False
    ended_at: int | None = None  # the monthly pledge ended then (epoch seconds): later installments are not its


def refund_adjustment(event: PaymentEvent, refunded_before: int, failed_before: int = 0) -> PaymentAdjusted | None:
    """The refund, or failed refund, still to book: how the running total moved since what was booked.

    Both keys only grow: a refund's is all ever refunded, failed ones included, and a failure's
    all that failed so far; so a refund after a failed one of the same amount is a new transfer,
    not a replay of the first.
    """
    total, gift = event.refunded_total_cents or 0, event.gift
    kind: AdjustmentKind
    if total > refunded_before:
        kind, key, amount = "refund", total + failed_before, total - refunded_before
    elif total < refunded_before and event.refund_failed:
        kind, key, amount = "refund_failed", failed_before + refunded_before - total, refunded_before - total
    else:
        return None  # a replay, or an older total delivered late
    return PaymentAdjusted(kind, gift.event_id, gift.provider, gift.payment_id, gift.campaign_id,
                           gift.donation_id, f"{gift.payment_id}@{key}", amount)


def dispute_adjustments(event: PaymentEvent, known_status: str | None) -> list[PaymentAdjusted]:
    """What a dispute update adds to the books, given what we knew of that dispute.

    A closing that arrives before its opening books both, opening first.
    """
    dispute, gift = event.dispute, event.gift
    assert dispute is not None

    def adjustment(kind: AdjustmentKind, fee: int = 0) -> PaymentAdjusted:
        return PaymentAdjusted(kind, gift.event_id, gift.provider, gift.payment_id, gift.campaign_id,
                               gift.donation_id, dispute.dispute_id, dispute.amount_cents, fee)

    if known_status in ("won", "lost") or (dispute.status == "open" and known_status == "open"):
        return []
    opening = [] if known_status == "open" else [adjustment("dispute_opened")]
    if dispute.status == "open":
        return opening
    closing = adjustment("dispute_won") if dispute.status == "won" else adjustment("dispute_lost", dispute.fee_cents)
    return opening + [closing]
