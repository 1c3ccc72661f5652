"""One set of payment scenarios, run by the shipped services (functions/services/payments.py) on both
stores of their ports: in memory (tests/memory_store.py, what the books' state machine uses) and DynamoDB
on moto (functions/adapters/ledger.py). The same assertions hold on both: the in-memory store keeps the
adapter's conditions, so what the state machine proves is what the deployment does."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from typing import Any

import pytest

from functions.adapters import dynamo, ledger
from functions.domain.campaigns import Campaign
from functions.domain.gifts import DisputeUpdate, PaymentAdjusted, PaymentConfirmed, PaymentEvent, from_message
from functions.domain.ledger import FEES, FROZEN, POOL, REFUNDED, RESERVE, Transfer, hold_transfer
from functions.services import payments
from functions.services.ports import BalanceRefused, NotYetBookable, PaymentsStore
from local.emulator import LocalCloud
from tests.memory_store import MemoryStore

FEE = 330
NET = 10_000 - FEE
RESERVE_SHARE = NET // 10
_campaigns = itertools.count()


class MemoryBooks:
    def __init__(self) -> None:
        self.store: PaymentsStore = (store := MemoryStore())
        self._memory = store

    def add_campaign(self, campaign: Campaign) -> None:
        self._memory.add_campaign(campaign)

    def add_pledge(self, campaign_id: str, donation_id: str, amount: int, provider: str) -> None:
        self._memory.add_pledge(campaign_id, donation_id, amount, provider)

    def announced(self, stage: str, campaign_id: str) -> list[dict[str, Any]]:
        return [body for s, body in self._memory.outbox.values() if s == stage and _campaign_of(body) == campaign_id]

    def post(self, transfer: Transfer) -> None:
        self._memory.post(transfer)

    def confirmed_count(self, campaign_id: str) -> int:
        return self._memory.campaigns[campaign_id]["donations_confirmed"]


class DynamoBooks:
    store: PaymentsStore = ledger.STORE

    def add_campaign(self, campaign: Campaign) -> None:
        assert ledger.create_campaign(campaign)

    def add_pledge(self, campaign_id: str, donation_id: str, amount: int, provider: str) -> None:
        # As the API stores a pledge (the donor's attributes, sealed, don't matter here).
        assert dynamo.put_new(ledger._donation_item(campaign_id, donation_id, amount, "USD", provider, "pending", {},
                                                    False))

    def announced(self, stage: str, campaign_id: str) -> list[dict[str, Any]]:
        bodies = [json.loads(i["body"]) for i in dynamo.scan("outbox") if i["stage"] == stage]
        return [body for body in bodies if _campaign_of(body) == campaign_id]

    def post(self, transfer: Transfer) -> None:
        dynamo.transact([ledger.transfer_put(transfer), *ledger.balance_updates(transfer.campaign_id, [transfer])])

    def confirmed_count(self, campaign_id: str) -> int:
        meta, _ = ledger.snapshot(campaign_id)
        assert meta is not None
        return meta["donations_confirmed"]


def _campaign_of(body: dict[str, Any]) -> str:
    return body.get("campaign_id") or next(iter(body.values()))["campaign_id"]


@pytest.fixture(scope="module")
def moto_table():
    """One emulated deployment for the module; each test has a campaign (and payment ids) of its own."""
    with LocalCloud(public_base_url="http://jubilee.test", app_secret="contract") as local:
        yield local


@pytest.fixture(params=["memory", "dynamodb"])
def books(request):
    return MemoryBooks() if request.param == "memory" else (request.getfixturevalue("moto_table"), DynamoBooks())[1]


@pytest.fixture
def campaign(books) -> str:
    campaign_id = f"contract-{next(_campaigns)}"
    books.add_campaign(Campaign(campaign_id, "Contract", threshold_cents=15_000))
    return campaign_id


def gift(campaign_id: str, donation_id: str = "d1", amount: int = 10_000, pledge_id: str | None = None,
         provider: str = "sandbox") -> PaymentConfirmed:
    return PaymentConfirmed(f"evt_{donation_id}", provider, f"pay_{campaign_id}_{donation_id}", campaign_id,
                            donation_id, amount, "USD", FEE, pledge_id)


def drain(books: Any, campaign_id: str) -> list[str]:
    """The pool stage books everything announced (again: a redelivery books nothing twice); what waits, waits."""
    facts = [from_message(body) for body in books.announced("donations", campaign_id)]
    payments.book_gifts(books.store, campaign_id, [f for f in facts if isinstance(f, PaymentConfirmed)])
    waiting, adjustments = [], sorted((f for f in facts if isinstance(f, PaymentAdjusted)), key=_order)
    for adjustment in adjustments:
        try:
            payments.book_adjustment(books.store, adjustment)
        except NotYetBookable:
            waiting.append(adjustment.transfer_id)
    return waiting


def _order(adjustment: PaymentAdjusted) -> tuple[bool, str]:
    return adjustment.kind in ("dispute_won", "dispute_lost"), adjustment.transfer_id


def balances(books: Any, campaign_id: str) -> dict[str, int]:
    return books.store.snapshot(campaign_id)[1]


def test_a_confirmed_gift_is_announced_once_and_booked_once(books, campaign):
    books.add_pledge(campaign, "d1", 10_000, "sandbox")
    paid = PaymentEvent(gift(campaign))
    assert [payments.apply_payment_event(books.store, paid) for _ in range(3)] == ["confirmed", "duplicate",
                                                                                   "duplicate"]
    assert len(books.announced("donations", campaign)) == 1
    drain(books, campaign)
    drain(books, campaign)  # delivered again
    b = balances(books, campaign)
    assert (b[FEES], b[RESERVE], b[POOL]) == (FEE, RESERVE_SHARE, NET - RESERVE_SHARE)
    assert books.confirmed_count(campaign) == 1
    assert books.store.load_donation(campaign, "d1")["status"] == "confirmed"


def test_a_gift_batch_delivered_twice_counts_each_gift_once(books, campaign):
    for n in (1, 2):
        books.add_pledge(campaign, f"d{n}", 10_000, "sandbox")
    first, second = gift(campaign, "d1"), gift(campaign, "d2")
    assert payments.book_gifts(books.store, campaign, [first, first]) == payments.GiftsBooked(1, 0)
    assert payments.book_gifts(books.store, campaign, [first, second]) == payments.GiftsBooked(1, 1)
    assert books.confirmed_count(campaign) == 2 and balances(books, campaign)[FEES] == 2 * FEE


def test_refusals_change_nothing(books, campaign):
    books.add_pledge(campaign, "d1", 10_000, "stripe")
    books.add_pledge(campaign, "d2", 10_000, "sandbox")
    assert payments.apply_payment_event(books.store, PaymentEvent(gift(campaign, "d1"))) == "wrong_provider"
    assert payments.apply_payment_event(books.store, PaymentEvent(gift(campaign, "nobody"))) == "unknown"
    assert payments.apply_payment_event(books.store, PaymentEvent(gift(campaign, "d2", 9_999))) == "mismatch"
    assert payments.apply_payment_event(books.store, PaymentEvent(gift(campaign, "d1"), failed=True)) \
        == "wrong_provider"
    installment = gift(campaign, "d1-m1", pledge_id="d1")
    assert payments.apply_payment_event(books.store, PaymentEvent(installment)) == "wrong_provider"
    assert books.announced("donations", campaign) == []
    assert [books.store.load_donation(campaign, d)["status"] for d in ("d1", "d2")] == ["pending", "pending"]


def test_a_failed_payment_closes_its_pledge_once(books, campaign):
    books.add_pledge(campaign, "d1", 10_000, "sandbox")
    failed = PaymentEvent(gift(campaign), failed=True)
    assert [payments.apply_payment_event(books.store, failed) for _ in range(2)] == ["failed", "duplicate"]
    assert books.store.load_donation(campaign, "d1")["status"] == "failed"
    assert books.announced("donations", campaign) == []


def test_a_monthly_installment_is_a_donation_of_its_own_confirmed_once(books, campaign):
    books.add_pledge(campaign, "d1", 10_000, "sandbox")
    installment = PaymentEvent(gift(campaign, "d1-m1", pledge_id="d1"))
    assert [payments.apply_payment_event(books.store, installment) for _ in range(2)] == ["confirmed", "duplicate"]
    assert books.store.load_donation(campaign, "d1-m1")["status"] == "confirmed"
    drain(books, campaign)
    assert books.confirmed_count(campaign) == 1


def test_an_ended_pledge_ends_once_and_books_no_installment_paid_after_it(books, campaign):
    books.add_pledge(campaign, "d1", 10_000, "sandbox")
    ended = PaymentEvent(PaymentConfirmed("evt_end", "sandbox", "", campaign, "d1", 0, "", 0), ended_at=1_000)
    assert [payments.apply_payment_event(books.store, ended) for _ in range(2)] == ["pledge_ended", "duplicate"]
    stripe = PaymentEvent(PaymentConfirmed("evt_end", "stripe", "", campaign, "d1", 0, "", 0), ended_at=1_000)
    assert payments.apply_payment_event(books.store, stripe) == "wrong_provider"
    late, early = (PaymentEvent(replace(gift(campaign, f"d1-m{n}", pledge_id="d1"), paid_at=at))
                   for n, at in ((2, 1_000), (3, 999)))
    assert payments.apply_payment_event(books.store, late) == "pledge_ended"  # paid once it had ended
    assert payments.apply_payment_event(books.store, early) == "confirmed"  # paid before, reported after
    drain(books, campaign)
    assert books.confirmed_count(campaign) == 1 and books.store.load_donation(campaign, "d1-m2") is None


def test_a_gift_that_covers_its_fee_books_the_extra_to_the_pool(books, campaign):
    books.add_pledge(campaign, "d1", 10_330, "sandbox")
    assert payments.apply_payment_event(books.store, PaymentEvent(
        replace(gift(campaign, amount=10_330), covered_cents=330))) == "confirmed"
    drain(books, campaign)
    # The fee (330) is all the extra; the reserve is a tenth of the 10,000 given; the rest is the pool's.
    assert {k: balances(books, campaign)[k] for k in (FEES, RESERVE, POOL)} == {FEES: 330, RESERVE: 1_000,
                                                                               POOL: 9_000}


def test_partial_then_full_refund_and_a_late_older_total(books, campaign):
    books.add_pledge(campaign, "d1", 10_000, "sandbox")
    paid = gift(campaign)
    assert payments.apply_payment_event(books.store, PaymentEvent(paid, refunded_total_cents=500)) == "refunded"
    drain(books, campaign)  # the refund that overtook its payment: both booked
    b = balances(books, campaign)
    assert (b[REFUNDED], b[RESERVE]) == (500, RESERVE_SHARE - 500)
    assert payments.apply_payment_event(books.store, PaymentEvent(paid)) == "duplicate"
    assert payments.apply_payment_event(books.store, PaymentEvent(paid, refunded_total_cents=10_000)) == "refunded"
    assert payments.apply_payment_event(books.store, PaymentEvent(paid, refunded_total_cents=800)) == "duplicate"
    drain(books, campaign)
    b = balances(books, campaign)
    assert (b[REFUNDED], b[RESERVE], b[POOL]) == (10_000, 0, 0)
    assert books.store.load_donation(campaign, "d1")["refunded_cents"] == 10_000


def test_a_failed_refund_comes_back(books, campaign):
    books.add_pledge(campaign, "d1", 10_000, "sandbox")
    paid = gift(campaign)
    payments.apply_payment_event(books.store, PaymentEvent(paid, refunded_total_cents=1_000))
    drain(books, campaign)
    back = PaymentEvent(paid, refunded_total_cents=0, refund_failed=True)
    assert [payments.apply_payment_event(books.store, back) for _ in range(2)] == ["refund_failed", "duplicate"]
    drain(books, campaign)
    b = balances(books, campaign)
    assert b[REFUNDED] == 0 and b[RESERVE] + b[POOL] == NET


@pytest.mark.parametrize("outcome", ["won", "lost"])
def test_a_dispute_freezes_the_gift_then_closes(books, campaign, outcome):
    books.add_pledge(campaign, "d1", 10_000, "sandbox")
    paid = gift(campaign)
    payments.apply_payment_event(books.store, PaymentEvent(paid))
    dispute = f"dp_{campaign}"  # a provider's dispute ids are unique (as payment ids), across campaigns too
    closing = PaymentEvent(paid, dispute=DisputeUpdate(dispute, 10_000, outcome, 1_500 if outcome == "lost" else 0))
    opening = PaymentEvent(paid, dispute=DisputeUpdate(dispute, 10_000, "open"))
    assert payments.apply_payment_event(books.store, opening) == "dispute_open"
    assert drain(books, campaign) == []
    assert balances(books, campaign)[FROZEN] == 10_000
    assert payments.apply_payment_event(books.store, closing) == f"dispute_{outcome}"
    assert payments.apply_payment_event(books.store, opening) == "duplicate"  # late: the dispute is closed
    assert drain(books, campaign) == []
    b = balances(books, campaign)
    assert b[FROZEN] == 0
    assert (b[RESERVE] + b[POOL] == NET) is (outcome == "won")
    assert books.store.load_donation(campaign, "d1")["disputes"] == {dispute: outcome}


def test_an_adjustment_waits_for_its_gift_and_a_balance_never_goes_below_zero(books, campaign):
    books.add_pledge(campaign, "d1", 10_000, "sandbox")
    paid = gift(campaign)
    payments.apply_payment_event(books.store, PaymentEvent(paid, refunded_total_cents=10_000))
    refund = next(f for f in map(from_message, books.announced("donations", campaign))
                  if isinstance(f, PaymentAdjusted))
    with pytest.raises(NotYetBookable):
        payments.book_adjustment(books.store, refund)
    drain(books, campaign)
    assert payments.book_adjustment(books.store, refund) is None  # booked before
    with pytest.raises(BalanceRefused):  # the pool holds nothing now: a hold is refused, nothing written
        books.store.post_adjustment(refund, hold_transfer(campaign, "p1", 1))


def test_reaching_the_threshold_announces_one_purchase_check_per_batch(books, campaign):
    for n in (1, 2):
        books.add_pledge(campaign, f"d{n}", 10_000, "sandbox")
    payments.book_gifts(books.store, campaign, [gift(campaign, "d1")])
    assert books.announced("purchases", campaign) == []  # below the threshold
    books.post(hold_transfer(campaign, "plan-1", 100))  # a purchase moves the pool meanwhile
    batch = [gift(campaign, "d2")]
    payments.book_gifts(books.store, campaign, batch)
    payments.book_gifts(books.store, campaign, batch)
    assert books.announced("purchases", campaign) == [{"campaign_id": campaign, "reason": "threshold"}]
