"""Purchase rules against an in-memory store that keeps the same at-most-once promises."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.domain.ledger import HELD, POOL, SPENT, Leg, Transfer, balances_from, hold_transfer, post_transfer, void_transfer
from functions.domain.planner import Offer, greedy_plan
from functions.domain.purchase import Plan, SellerError, run_purchase_check


def offer(offer_id: str, price: int, face: int, seller: str = "s") -> Offer:
    return Offer(offer_id, "c", seller, price, face, 3, f"offers/c/{offer_id}.csv")


def test_greedy_takes_the_most_face_value_per_dollar_first_and_only_whole_offers():
    offers = [offer("a", 600, 30_000), offer("b", 500, 60_000), offer("c", 450, 20_000)]
    assert [o.offer_id for o in greedy_plan(1_000, offers)] == ["b", "c"]


def test_ties_are_broken_by_offer_id_so_plans_are_deterministic():
    offers = [offer("z", 100, 1_000), offer("a", 100, 1_000)]
    assert [o.offer_id for o in greedy_plan(100, offers)] == ["a"]


@given(st.integers(0, 10**6), st.lists(st.tuples(st.integers(1, 10**5), st.integers(1, 10**7)), max_size=12))
def test_a_plan_never_exceeds_the_budget_and_leaves_nothing_affordable_behind(budget, specs):
    offers = [offer(f"o{n}", price, face) for n, (price, face) in enumerate(specs)]
    chosen = greedy_plan(budget, offers)
    spent = sum(o.price_cents for o in chosen)
    assert spent <= budget
    assert all(o.price_cents > budget - spent for o in offers if o not in chosen)


@dataclass
class MemoryStore:
    """The PurchaseStore port in memory, with the conditions the DynamoDB store enforces."""

    offers: dict[str, Offer]
    transfers: list[Transfer] = field(default_factory=list)
    status: dict[str, str] = field(default_factory=dict)  # offer id -> open | held | sold | declined
    plans: dict[str, tuple[Plan, str]] = field(default_factory=dict)
    forgiveness: list[str] = field(default_factory=list)

    def balance(self, account: str) -> int:
        return balances_from(self.transfers)[account]

    def pool_available(self, campaign_id):
        return self.balance(POOL)

    def open_offers(self, campaign_id):
        return [o for o in self.offers.values() if self.status.get(o.offer_id, "open") == "open"]

    def held_plans(self, campaign_id):
        return [p for p, s in self.plans.values() if s == "held"]

    def hold(self, plan):
        if plan.plan_id in self.plans or self.status.get(plan.offer.offer_id, "open") != "open" \
                or self.balance(POOL) < plan.price_cents:
            return False
        self.plans[plan.plan_id] = (plan, "held")
        self.status[plan.offer.offer_id] = "held"
        self.transfers.append(hold_transfer("c", plan.plan_id, plan.price_cents))
        return True

    def _finish(self, plan, status, transfer, offer_status):
        if self.plans[plan.plan_id][1] != "held":
            return False
        self.plans[plan.plan_id] = (plan, status)
        self.status[plan.offer.offer_id] = offer_status
        self.transfers.append(transfer)
        return True

    def settle(self, plan, portfolio_key):
        done = self._finish(plan, "settled", post_transfer("c", plan.plan_id, plan.price_cents), "sold")
        if done:
            self.forgiveness.append(portfolio_key)
        return done

    def void(self, plan, reason):
        return self._finish(plan, "voided", void_transfer("c", plan.plan_id, plan.price_cents), "declined")


class Seller:
    def __init__(self, declines=(), crash_times=0):
        self.declines, self.crash_times, self.bought = set(declines), crash_times, []

    def buy(self, plan):
        if self.crash_times:
            self.crash_times -= 1
            raise RuntimeError("the process died mid-purchase")
        if plan.offer.offer_id in self.declines:
            raise SellerError("declined")
        self.bought.append(plan.plan_id)
        return f"portfolios/{plan.plan_id}.csv"


def funded_store(pool: int, *offers: Offer) -> MemoryStore:
    store = MemoryStore({o.offer_id: o for o in offers})
    store.transfers.append(Transfer("g", "c", "gift", (Leg("donors", -pool), Leg(POOL, pool))))
    return store


def test_a_funded_offer_is_held_bought_and_posted_once():
    store = funded_store(1_000, offer("a", 700, 70_000))
    report = run_purchase_check("c", store, Seller())
    assert report.settled == ["plan-a-0"]
    assert (store.balance(POOL), store.balance(HELD), store.balance(SPENT)) == (300, 0, 700)
    assert store.forgiveness == ["portfolios/plan-a-0.csv"]
    # A second check (a redelivered message) buys nothing more.
    assert run_purchase_check("c", store, Seller()).settled == []
    assert store.balance(SPENT) == 700


def test_a_declining_seller_voids_the_hold_and_the_funds_return_to_the_pool():
    store = funded_store(1_000, offer("a", 700, 70_000))
    report = run_purchase_check("c", store, Seller(declines={"a"}))
    assert report.voided == ["plan-a-0"] and report.settled == []
    assert (store.balance(POOL), store.balance(HELD), store.balance(SPENT)) == (1_000, 0, 0)
    assert store.status["a"] == "declined"


def test_a_crash_after_the_hold_is_finished_by_the_next_check_not_bought_twice():
    store = funded_store(1_000, offer("a", 700, 70_000))
    seller = Seller(crash_times=1)
    with pytest.raises(RuntimeError):
        run_purchase_check("c", store, seller)
    assert store.balance(HELD) == 700  # held, neither posted nor voided yet
    report = run_purchase_check("c", store, seller)
    assert report.settled == ["plan-a-0"] and seller.bought == ["plan-a-0"]
    assert (store.balance(POOL), store.balance(HELD), store.balance(SPENT)) == (300, 0, 700)


def test_an_offer_the_pool_cannot_afford_is_left_alone():
    store = funded_store(500, offer("a", 700, 70_000))
    assert run_purchase_check("c", store, Seller()).settled == []
    assert store.balance(POOL) == 500 and store.plans == {}


def test_the_next_plan_for_a_reopened_offer_gets_a_new_id():
    assert replace(offer("a", 1, 1), attempt=2).next_plan_id == "plan-a-2"
