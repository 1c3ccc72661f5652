"""The planner against brute force and greedy, and the purchase workflow against an in-memory store."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.run import highs_value, planner_offers
from functions.domain import planner
from functions.domain.campaigns import Campaign
from functions.domain.ledger import (
    HELD,
    POOL,
    SPENT,
    Leg,
    Transfer,
    balances_from,
    hold_transfer,
    post_transfer,
    void_transfer,
)
from functions.domain.planner import Offer, greedy_plan, optimal_plan
from functions.domain.purchase import Plan, SellerError, approval_outcome, plan_id_for
from functions.services.purchases import run_purchase_check

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


def offer(offer_id: str, price: int, face: int, seller: str = "sandbox", eligible: int | None = None,
          people: int = 3) -> Offer:
    return Offer(offer_id, "c", seller, price, face, people, f"offers/c/{offer_id}.csv",
                 eligible_face_value_cents=eligible, eligible_accounts=people)


def brute_force(budget: int, offers: list[Offer]) -> int:
    return max(sum(o.value() for o in combo) for r in range(len(offers) + 1)
               for combo in itertools.combinations(offers, r) if sum(o.price_cents for o in combo) <= budget)


specs = st.lists(st.tuples(st.integers(1, 5_000), st.integers(0, 10**6)), max_size=9)


@given(st.integers(0, 20_000), specs)
def test_the_plan_is_optimal_on_every_small_case(budget, specs):
    offers = [offer(f"o{n}", price, face) for n, (price, face) in enumerate(specs)]
    plan = optimal_plan(budget, offers)
    assert plan.exact and plan.value == brute_force(budget, offers)
    assert plan.spent_cents == sum(o.price_cents for o in plan.chosen) <= budget


@given(st.integers(0, 10**7), st.lists(st.tuples(st.integers(1, 10**6), st.integers(0, 10**9)), max_size=40))
def test_the_plan_is_never_worse_than_greedy(budget, specs):
    offers = [offer(f"o{n}", price, face) for n, (price, face) in enumerate(specs)]
    assert optimal_plan(budget, offers).value >= sum(o.value() for o in greedy_plan(budget, offers))


@given(st.integers(0, 12_000), specs)
def test_every_reason_given_for_leaving_an_offer_out_is_true(budget, specs):
    offers = [offer(f"o{n}", price, face) for n, (price, face) in enumerate(specs)]
    plan = optimal_plan(budget, offers)
    for choice in plan.explanation:
        if choice.chosen or choice.value <= 0 or choice.price_cents > budget:
            continue
        forced = next(o for o in offers if o.offer_id == choice.offer_id)
        best_with_it = forced.value() + brute_force(budget - forced.price_cents, [o for o in offers if o is not forced])
        numbers = [int(n) for n in re.findall(r"\d+", choice.why)]
        if "no plan is worth more than" in choice.why:  # a bound: true, and below the plan when it is the reason
            assert best_with_it <= numbers[0] and (numbers[0] < plan.value or "close call" in choice.why)
        else:
            assert "the best plan that includes it is worth" in choice.why and best_with_it == numbers[0]


@pytest.mark.parametrize("shape", ["random", "correlated", "near-equal"])
def test_at_100_offers_of_each_shape_the_plan_is_as_good_as_highs_proves_and_within_budget(shape):
    budget, offers = planner_offers(shape, 100, 0)
    plan = optimal_plan(budget, offers)
    reference, proved = highs_value(budget, offers, 30.0)
    assert proved and plan.exact and plan.value == plan.upper_bound == reference
    assert plan.spent_cents == sum(o.price_cents for o in plan.chosen) <= budget


@pytest.mark.parametrize("shape", ["correlated", "equal"])
def test_at_1000_offers_the_hard_shapes_are_proven_optimal_in_one_plan(shape):
    # Strongly correlated (proven by counting offers) and a subset-sum in disguise (proven by a plan
    # that spends the budget to the cent): HiGHS proves neither within 10 s (bench/RESULTS.md).
    budget, offers = planner_offers(shape, 1_000, 0)
    plan = optimal_plan(budget, offers)
    assert plan.exact and plan.value == plan.upper_bound
    assert plan.spent_cents == sum(o.price_cents for o in plan.chosen) <= budget


near_equal = st.lists(st.tuples(st.integers(100, 5_000), st.integers(-100, 100)), min_size=1, max_size=12)


@given(st.floats(0.05, 0.95), near_equal)
def test_near_equal_offers_are_proven_optimal_by_pairing_not_by_the_search(share, specs):
    # Face value 100x price within 0.1%: no plan meets the LP bound and the partial plans barely prune, so
    # with the search given no room at all, only the pairing of the free offers' toggle sets can prove it.
    offers = [offer(f"o{n:02d}", price, price * 100 + price * tenth // 1_000) for n, (price, tenth) in enumerate(specs)]
    budget = int(sum(o.price_cents for o in offers) * share)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(planner, "MAX_STATES", 1)
        plan = optimal_plan(budget, offers)
    assert plan.exact and plan.value == plan.upper_bound == brute_force(budget, offers)
    assert plan.spent_cents == sum(o.price_cents for o in plan.chosen) <= budget


@given(st.floats(0.05, 0.95), st.sampled_from([0, 5_000, -5_000]), st.sampled_from([1, 40, 300_000]),
       st.lists(st.tuples(st.integers(100, 5_000), st.integers(-2_000, 2_000)), min_size=1, max_size=12))
def test_with_the_search_given_no_room_every_bound_is_still_true(share, constant, sets, specs):
    # Face value 100x price plus a constant (strongly or inversely correlated, where the cardinality
    # bound's m is not 0) and some noise; the pairing step cut short at any point.
    offers = [offer(f"o{n:02d}", price, max(1, price * 100 + constant * 100 + noise * 100))
              for n, (price, noise) in enumerate(specs)]
    budget = int(sum(o.price_cents for o in offers) * share)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(planner, "MAX_STATES", 1)
        patch.setattr(planner, "MAX_SETS", sets)
        plan = optimal_plan(budget, offers)
    best = brute_force(budget, offers)
    assert plan.value <= best <= plan.upper_bound and (plan.value == best or not plan.exact)
    assert plan.spent_cents == sum(o.price_cents for o in plan.chosen) <= budget


def test_near_equal_offers_past_the_search_limit_are_proven_optimal_and_match_highs(monkeypatch):
    # The bench's near-equal shape (within 0.1%), scaled down with the search's limit so that the exact
    # pass alone stops short, as it did at 1,000 offers (bench/RESULTS.md); HiGHS proves this size.
    monkeypatch.setattr(planner, "MAX_STATES", 30_000)
    budget, offers = planner_offers("near-equal", 300, 0)
    plan = optimal_plan(budget, offers)
    reference, proved = highs_value(budget, offers, 30.0)
    assert proved and plan.exact and plan.value == plan.upper_bound == reference
    assert plan.spent_cents == sum(o.price_cents for o in plan.chosen) <= budget


def test_the_explanation_comes_from_one_solve_not_one_per_offer(monkeypatch):
    solves, real = [], planner._best

    def counted(*args, **kwargs):
        solves.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(planner, "_best", counted)
    budget, offers = planner_offers("random", 200, 0)
    plan = optimal_plan(budget, offers)
    assert sum(not c.chosen for c in plan.explanation) > 50 and all(c.why for c in plan.explanation)
    assert len(solves) <= 1 + planner.MAX_RESOLVES


def test_with_10000_dollars_where_greedy_goes_wrong_the_plan_is_optimal_and_says_why():
    offers = [offer("a", 600_000, 70_000_000), offer("b", 500_000, 55_000_000), offer("c", 500_000, 54_000_000),
              offer("d", 2_000_000, 90_000_000), offer("e", 100_000, 0)]
    assert [o.offer_id for o in greedy_plan(1_000_000, offers)] == ["a"]  # the best ratio first, then stuck
    plan = optimal_plan(1_000_000, offers)
    assert sorted(o.offer_id for o in plan.chosen) == ["b", "c"] and plan.value == 109_000_000
    why = {c.offer_id: c.why for c in plan.explanation}
    assert why["b"] == why["c"] == "chosen"
    assert why["a"] == "the best plan that includes it is worth 70000000, less than the 109000000 chosen"
    assert why["d"] == "costs 2000000 cents, more than the 1000000 available"
    assert why["e"] == "nothing in it is eligible under the campaign's policy and not bought already"
    assert {c.offer_id: c.cents_per_dollar for c in plan.explanation}["a"] == "0.85¢"


def test_the_objective_can_be_people_and_ties_break_by_offer_id():
    offers = [offer("a", 100, 10_000, people=1), offer("b", 100, 1_000, people=5), offer("z", 100, 1_000, people=5)]
    assert [o.offer_id for o in optimal_plan(100, offers, "people").chosen] == ["b"]
    assert [o.offer_id for o in optimal_plan(100, offers).chosen] == ["a"]


def test_a_pathological_plan_says_it_is_inexact_and_bounds_the_gap(monkeypatch):
    monkeypatch.setattr(planner, "MAX_STATES", 100_000)  # the limit is reached either way; sooner keeps the test quick
    # Every offer at exactly 1 cent per dollar, prices in arithmetic progression: a subset-sum in disguise
    # whose best sum misses the budget, so no plan meets the LP bound and nothing can be pruned.
    offers = [offer(f"o{n:03d}", price, price * 100) for n, price in
              enumerate(100_003 + (n * 7_919) % 3_999_989 for n in range(120))]
    budget = sum(o.price_cents for o in offers) // 2
    plan = optimal_plan(budget, offers)
    assert plan.value >= sum(o.value() for o in greedy_plan(budget, offers))
    assert plan.value <= plan.upper_bound <= budget * 100
    assert plan.upper_bound - plan.value <= 100_000  # within $10 of face value on $34 million: it said how close
    assert not plan.exact  # the search's limit was reached: it must say so, not pretend
    assert "search limit reached" in next(c.why for c in plan.explanation if not c.chosen)


@dataclass
class MemoryStore:
    """The PurchaseStore port in memory, with the conditions the DynamoDB store enforces."""

    offers: dict[str, Offer]
    transfers: list[Transfer] = field(default_factory=list)
    status: dict[str, str] = field(default_factory=dict)  # offer id -> open | held | sold | declined
    plan_status: dict[str, tuple[Plan, str]] = field(default_factory=dict)
    forgiven: list[str] = field(default_factory=list)

    def balance(self, account: str) -> int:
        return balances_from(self.transfers)[account]

    def pool_available(self, campaign_id):
        return self.balance(POOL)

    def open_offers(self, campaign_id):
        return [o for o in self.offers.values() if self.status.get(o.offer_id, "open") == "open"]

    def retire_lapsed(self, campaign_id, today):
        return []  # (the fakes' offers have no seller's date; lapsing is tested on moto)

    def plans(self, campaign_id, status):
        return [p for p, s in self.plan_status.values() if s == status]

    def propose(self, plan, approved):
        if plan.plan_id in self.plan_status or self.status.get(plan.offer.offer_id, "open") != "open" \
                or self.balance(POOL) < plan.price_cents:
            return False
        self.plan_status[plan.plan_id] = (plan, "approved" if approved else "proposed")
        self.status[plan.offer.offer_id] = "held"
        self.transfers.append(hold_transfer("c", plan.plan_id, plan.price_cents))
        return True

    def approve(self, plan_id):
        plan, _ = self.plan_status[plan_id]
        self.plan_status[plan_id] = (plan, "approved")

    def settle(self, plan, portfolio_key, reference=""):
        if self.plan_status[plan.plan_id][1] != "approved":
            return False
        self.plan_status[plan.plan_id] = (plan, "settled")
        self.status[plan.offer.offer_id] = "sold"
        self.transfers.append(post_transfer("c", plan.plan_id, plan.price_cents))
        self.forgiven.append(portfolio_key)
        return True

    def void(self, plan, reason, reopen):
        if self.plan_status[plan.plan_id][1] not in ("proposed", "approved"):
            return False
        self.plan_status[plan.plan_id] = (plan, "voided")
        self.status[plan.offer.offer_id] = "open" if reopen else "declined"
        self.offers[plan.offer.offer_id] = Offer(**{**plan.offer.__dict__, "attempt": plan.offer.attempt + 1})
        self.transfers.append(void_transfer("c", plan.plan_id, plan.price_cents))
        return True


class Seller:
    def __init__(self, declines=(), crash_times=0, manual=False):
        self.declines, self.crash_times, self.manual, self.bought = set(declines), crash_times, manual, []

    def buy(self, plan):
        if self.crash_times:
            self.crash_times -= 1
            raise RuntimeError("the process died mid-purchase")
        if plan.offer.offer_id in self.declines:
            raise SellerError("declined")
        self.bought.append(plan.plan_id)
        return None if self.manual else f"portfolios/{plan.plan_id}.csv"


def funded_store(pool: int, *offers: Offer) -> MemoryStore:
    store = MemoryStore({o.offer_id: o for o in offers})
    store.transfers.append(Transfer("g", "c", "gift", (Leg("donors", -pool), Leg(POOL, pool))))
    return store


CAMPAIGN = Campaign("c", "C")
TWO_OF_THREE = Campaign("c", "C", approvers=("alice", "bob", "carol"), approvals_required=2, plan_ttl_hours=24)


def check(store, seller, campaign=CAMPAIGN, now=NOW):
    return run_purchase_check(campaign, store, lambda name: seller, now)


def test_without_approvals_a_funded_offer_is_held_bought_and_posted_once():
    store = funded_store(1_000, offer("a", 700, 70_000))
    report = check(store, Seller())
    assert report.settled == ["c.a.0"] == [plan_id_for(offer("a", 700, 70_000))]
    assert (store.balance(POOL), store.balance(HELD), store.balance(SPENT)) == (300, 0, 700)
    assert check(store, Seller()).settled == [] and store.balance(SPENT) == 700  # a redelivered check


def test_a_plan_needing_approval_holds_its_funds_and_waits():
    store = funded_store(1_000, offer("a", 700, 70_000))
    report = check(store, Seller(), TWO_OF_THREE)
    assert report.proposed == ["c.a.0"] and report.settled == []
    assert (store.balance(POOL), store.balance(HELD)) == (300, 700)
    assert check(store, Seller(), TWO_OF_THREE).proposed == []  # the held money is not planned twice
    store.approve("c.a.0")
    assert check(store, Seller(), TWO_OF_THREE).settled == ["c.a.0"]
    assert (store.balance(HELD), store.balance(SPENT)) == (0, 700)


def test_an_unapproved_plan_expires_and_its_funds_and_offer_return():
    store = funded_store(1_000, offer("a", 700, 70_000))
    check(store, Seller(), TWO_OF_THREE)
    later = check(store, Seller(), TWO_OF_THREE, now=NOW + dt.timedelta(hours=25))
    assert later.voided == ["c.a.0"]
    assert later.proposed == ["c.a.1"]  # the reopened offer is planned again, under a new id
    assert store.balance(HELD) == 700 and len([t for t in store.transfers if t.kind == "void"]) == 1


def test_small_plans_under_the_auto_approve_ceiling_need_no_approval():
    campaign = Campaign("c", "C", approvers=("alice",), approvals_required=1, auto_approve_cents=800)
    store = funded_store(1_000, offer("a", 700, 70_000))
    assert check(store, Seller(), campaign).settled == ["c.a.0"]


def test_approvals_count_distinct_campaign_approvers_only():
    assert not approval_outcome(TWO_OF_THREE, {"alice"})
    assert not approval_outcome(TWO_OF_THREE, {"alice", "mallory"})
    assert approval_outcome(TWO_OF_THREE, {"alice", "carol"})


def test_a_declining_seller_voids_the_hold_and_retires_the_offer():
    store = funded_store(1_000, offer("a", 700, 70_000))
    report = check(store, Seller(declines={"a"}))
    assert report.voided == ["c.a.0"] and report.settled == []
    assert (store.balance(POOL), store.balance(HELD)) == (1_000, 0) and store.status["a"] == "declined"


def test_a_crash_after_the_hold_is_finished_by_the_next_check_not_bought_twice():
    store = funded_store(1_000, offer("a", 700, 70_000))
    seller = Seller(crash_times=1)
    try:
        check(store, seller)
    except RuntimeError:
        pass
    assert store.balance(HELD) == 700
    assert check(store, seller).settled == ["c.a.0"] and seller.bought == ["c.a.0"]
    assert (store.balance(POOL), store.balance(HELD), store.balance(SPENT)) == (300, 0, 700)


def test_a_manual_seller_leaves_the_plan_approved_and_held_until_the_wire_is_confirmed():
    store = funded_store(1_000, offer("a", 700, 70_000, seller="acme"))
    report = check(store, Seller(manual=True))
    assert report.awaiting == ["c.a.0"] and store.balance(HELD) == 700
    plan = store.plans("c", "approved")[0]
    assert store.settle(plan, plan.offer.object_key, "WIRE-1") and store.balance(SPENT) == 700
    assert not store.settle(plan, plan.offer.object_key, "WIRE-1")  # posted exactly once
