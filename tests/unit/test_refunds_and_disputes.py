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


def test_a_failed_refund_is_reversed_by_a_new_transfer_and_a_later_refund_gets_a_key_of_its_own():
    refunded = refund_adjustment(PaymentEvent(GIFT, refunded_total_cents=4_000), refunded_before=0)
    assert refunded.transfer_id == "refund#sandbox#pay_1@4000"
    # Only an event reporting a failed refund may lower the total; any other lower total is a late copy.
    assert refund_adjustment(PaymentEvent(GIFT, refunded_total_cents=0), refunded_before=4_000) is None
    failed = refund_adjustment(PaymentEvent(GIFT, refunded_total_cents=0, refund_failed=True), refunded_before=4_000)
    assert (failed.kind, failed.transfer_id, failed.amount_cents) == (
        "refund_failed", "refund_failed#sandbox#pay_1@4000", 4_000)
    assert failed.transfer(balances(refunded=4_000, shortfall=-1_000)).deltas() == {REFUNDED: -4_000, SHORTFALL: 1_000,
                                                                                   POOL: 3_000}
    # The same amount refunded again: everything ever refunded is now 8000, so it is not mistaken for the first.
    again = refund_adjustment(PaymentEvent(GIFT, refunded_total_cents=4_000), refunded_before=0, failed_before=4_000)
    assert (again.kind, again.transfer_id, again.amount_cents) == ("refund", "refund#sandbox#pay_1@8000", 4_000)


def test_reconciliation_counts_every_gift_of_the_campaign_whatever_its_provider():
    from functions.domain.reconciliation import Side, differences, ledger_side

    stripe_side = Side()
    stripe_side.charge("ch_1", 10_000)
    ledger = ledger_side([
        {"sk": "gift#stripe#ch_1", "kind": "gift", "legs": {"donors": -10_000, "pool": 10_000}},
        {"sk": "gift#sandbox#pay_don_2", "kind": "gift", "legs": {"donors": -2_500, "pool": 2_500}},
        {"sk": "refund#stripe#ch_1@4000", "kind": "refund", "legs": {"refunded": 4_000, "pool": -4_000}},
        {"sk": "refund_failed#stripe#ch_1@4000", "kind": "refund_failed", "legs": {"refunded": -4_000, "pool": 4_000}},
    ])
    assert [str(d) for d in differences(stripe_side, ledger)] == [
        "missing at processor: charge of pay_don_2 (processor 0, ledger 2500)"]


def test_stripe_reconciliation_leaves_out_gifts_recorded_by_hand():
    from functions.domain.reconciliation import Side, differences, ledger_side

    ledger = ledger_side([{"sk": "gift#offline#offline-abc", "kind": "gift", "legs": {"donors": -5_000,
                                                                                      "pool": 5_000}}])
    assert differences(Side(), ledger) == []  # a check never passed through Stripe: not "missing at processor"
