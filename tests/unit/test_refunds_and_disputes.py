"""Money going back out: refunds and disputes, funded reserve first, never silently negative."""

from functions.domain.gifts import DisputeUpdate, PaymentConfirmed, PaymentEvent, dispute_adjustments, refund_adjustment
from functions.domain.ledger import (
    ACCOUNTS,
    DISPUTES_LOST,
    FEES,
    FROZEN,
    POOL,
    REFUNDED,
    RESERVE,
    SHORTFALL,
    Totals,
    dispute_lost_transfer,
    dispute_won_transfer,
    funded,
    negative_accounts,
)

GIFT = PaymentConfirmed("evt_1", "sandbox", "pay_1", "c", "don_1", 10_000, "USD", 320)


def balances(**values):
    return dict.fromkeys(ACCOUNTS, 0) | values


def test_a_refund_comes_from_the_reserve_first_then_the_pool():
    transfer = funded("r", "c", "refund", REFUNDED, 1_500, balances(reserve=1_000, pool=5_000))
    assert transfer.deltas() == {RESERVE: -1_000, POOL: -500, REFUNDED: 1_500}


def test_what_reserve_and_pool_cannot_cover_is_booked_as_shortfall_not_a_negative_balance():
    before = balances(donors=-500, reserve=200, pool=300)
    transfer = funded("r", "c", "refund", REFUNDED, 1_500, before)
    assert transfer.deltas() == {RESERVE: -200, POOL: -300, SHORTFALL: -1_000, REFUNDED: 1_500}
    after = {account: before[account] + transfer.deltas().get(account, 0) for account in ACCOUNTS}
    assert negative_accounts(after) == []
    totals = Totals.from_balances(after)
    assert totals.shortfall_cents == 1_000 and totals.balanced


def test_a_won_dispute_unfreezes_and_a_lost_one_books_the_loss_and_its_fee():
    assert dispute_won_transfer("w", "c", 700, balances()).deltas() == {FROZEN: -700, POOL: 700}
    # Reinstated funds first make good a shortfall the dispute caused.
    assert dispute_won_transfer("w", "c", 700, balances(shortfall=-200)).deltas() == {FROZEN: -700, SHORTFALL: 200,
                                                                                     POOL: 500}
    lost = dispute_lost_transfer("l", "c", 700, 1_500, balances(reserve=1_000, pool=2_000))
    assert lost.deltas() == {FROZEN: -700, DISPUTES_LOST: 700, RESERVE: -1_000, POOL: -500, FEES: 1_500}


def test_a_refund_books_only_the_growth_of_the_running_total():
    first = refund_adjustment(PaymentEvent(GIFT, refunded_total_cents=3_000), refunded_before=0)
    assert (first.amount_cents, first.transfer_id) == (3_000, "refund#sandbox#pay_1@3000")
    second = refund_adjustment(PaymentEvent(GIFT, refunded_total_cents=10_000), refunded_before=3_000)
    assert second.amount_cents == 7_000
    # The first report arriving late, after the second was booked: nothing more.
    assert refund_adjustment(PaymentEvent(GIFT, refunded_total_cents=3_000), refunded_before=10_000) is None


def test_a_dispute_closing_before_its_opening_books_both_in_order():
    closing = PaymentEvent(GIFT, dispute=DisputeUpdate("dp_1", 10_000, "lost", 1_500))
    assert [a.kind for a in dispute_adjustments(closing, known_status=None)] == ["dispute_opened", "dispute_lost"]
    assert [a.kind for a in dispute_adjustments(closing, known_status="open")] == ["dispute_lost"]
    assert dispute_adjustments(closing, known_status="lost") == []
    opening = PaymentEvent(GIFT, dispute=DisputeUpdate("dp_1", 10_000, "open"))
    assert dispute_adjustments(opening, known_status="open") == []
    lost = dispute_adjustments(closing, known_status="open")[0]
    assert lost.requires == "dispute_opened#sandbox#dp_1" and lost.fee_cents == 1_500
