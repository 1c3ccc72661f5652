import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.domain.ledger import (
    ACCOUNTS,
    DONORS,
    FEES,
    HELD,
    POOL,
    RESERVE,
    SPENT,
    LedgerError,
    Leg,
    Totals,
    Transfer,
    balances_from,
    gift_transfer,
    hold_transfer,
    move,
    negative_accounts,
    net_deltas,
    post_transfer,
    split_gift,
    void_transfer,
)
from functions.domain.money import format_cents, share_bps


def test_a_transfer_must_sum_to_zero():
    with pytest.raises(LedgerError, match="do not sum to zero"):
        Transfer("t1", "c", "gift", (Leg(DONORS, -100), Leg(POOL, 99)))


@pytest.mark.parametrize("amount", [1.5, True, "100"])
def test_amounts_are_integer_cents_only(amount):
    with pytest.raises(LedgerError, match="integer cents"):
        Transfer("t1", "c", "gift", (Leg(DONORS, -1), Leg(POOL, amount)))


def test_unknown_accounts_and_repeated_accounts_are_refused():
    with pytest.raises(LedgerError, match="unknown account"):
        move("t", "c", "x", POOL, "mattress", 5)
    with pytest.raises(LedgerError, match="twice"):
        Transfer("t", "c", "x", (Leg(POOL, -5), Leg(POOL, 5)))


def test_the_rolling_jubilee_reserve_holds_back_ten_percent_of_the_net_gift():
    split = split_gift(10_000, 320, 1_000)
    assert (split.fee_cents, split.reserve_cents, split.pool_cents) == (320, 968, 8_712)


@given(gross=st.integers(1, 10**9), fee_share=st.integers(0, 10_000), bps=st.integers(0, 9_999))
def test_a_gift_splits_to_the_cent(gross, fee_share, bps):
    fee = gross * fee_share // 10_000
    transfer = gift_transfer("t", "c", gross, fee, bps)
    deltas = transfer.deltas()
    assert deltas[DONORS] == -gross
    assert sum(deltas.values()) == 0
    assert all(v >= 0 for a, v in deltas.items() if a != DONORS)
    assert deltas.get(RESERVE, 0) == (gross - fee) * bps // 10_000


def test_a_fee_above_the_gift_is_refused():
    with pytest.raises(LedgerError, match="fee"):
        split_gift(100, 101, 1_000)


def test_two_phase_purchase_moves_pool_to_held_then_to_spent_or_back():
    hold, post, void = hold_transfer("c", "p1", 500), post_transfer("c", "p1", 500), void_transfer("c", "p1", 500)
    assert {hold.transfer_id, post.transfer_id, void.transfer_id} == {"p1#hold", "p1#post", "p1#void"}
    assert balances_from([hold])[HELD] == 500
    assert balances_from([hold, post])[SPENT] == 500
    assert balances_from([hold, void])[POOL] == 0 and balances_from([hold, void])[HELD] == 0


def test_a_batch_is_netted_to_one_delta_per_account():
    gifts = [gift_transfer(f"g{n}", "c", 1_000, 59, 1_000) for n in range(3)]
    deltas = net_deltas(gifts)
    assert deltas[DONORS] == -3_000 and deltas[FEES] == 177
    assert sum(deltas.values()) == 0


@given(st.lists(st.tuples(st.integers(1, 10**7), st.integers(0, 100)), max_size=30), st.integers(0, 9_999))
def test_raised_equals_the_sum_of_every_internal_account(gifts, bps):
    transfers = [gift_transfer(f"g{n}", "c", gross, min(fee, gross), bps) for n, (gross, fee) in enumerate(gifts)]
    totals = Totals.from_balances(balances_from(transfers))
    parts = (totals.fees_cents, totals.refunded_cents, totals.reserve_cents, totals.pool_available_cents,
             totals.held_cents, totals.spent_cents)
    assert totals.raised_cents == sum(parts) == sum(g for g, _ in gifts)
    assert totals.balanced


def test_a_negative_internal_balance_is_not_balanced():
    balances = dict.fromkeys(ACCOUNTS, 0) | {POOL: -5, HELD: 5}
    assert negative_accounts(balances) == [POOL]
    assert not Totals.from_balances(balances).balanced


def test_money_helpers():
    assert share_bps(999, 1_000) == 99  # floor: the remainder stays with the caller
    assert format_cents(123_456) == "$1,234.56"
    assert format_cents(-5, "EUR") == "-€0.05"
    with pytest.raises(TypeError):
        share_bps(True, 10)
