"""Which open offers to buy with the money in the pool: exactly the best whole-offer set.

A 0/1 knapsack: the budget is the pool, each offer's weight its price, its value what the
campaign's objective counts (eligible face value, or eligible people). Solved exactly by a
dynamic program over the Pareto frontier of (price, value) with branch-and-bound pruning:
a partial plan is dropped when even a fractional fill of the remaining offers could not beat
the best plan found so far. Pure integers, deterministic, and fast for hundreds of offers.

Knapsack is NP-hard: on pathological inputs (many offers at exactly the same price per dollar,
a subset-sum in disguise) the frontier can explode. Past MAX_FRONTIER states the search stops
and says so: the plan is then marked inexact, with a proven bound on what it may leave on the
table, and is never worse than greedy (the search starts from greedy's plan).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

Objective = Literal["face_value", "people"]
MAX_FRONTIER = 60_000


@dataclass(frozen=True)
class Offer:
    offer_id: str
    campaign_id: str
    seller: str
    price_cents: int
    face_value_cents: int
    accounts: int
    object_key: str  # where the offer file sits in the offers bucket
    attempt: int = 0  # bumped each time a plan for it is voided, so the next plan has a new id
    eligible_face_value_cents: int | None = None  # None: not profiled, count everything
    eligible_accounts: int | None = None

    def value(self, objective: Objective = "face_value") -> int:
        if objective == "people":
            return self.accounts if self.eligible_accounts is None else self.eligible_accounts
        return self.face_value_cents if self.eligible_face_value_cents is None else self.eligible_face_value_cents


def cents_per_dollar(price_cents: int, face_cents: int) -> str:
    """Price per dollar of face value, to a hundredth of a cent, for people to read."""
    if face_cents <= 0:
        return "-"
    hundredths = price_cents * 10_000 // face_cents
    return f"{hundredths // 100}.{hundredths % 100:02d}¢"


@dataclass(frozen=True)
class Choice:
    offer_id: str
    price_cents: int
    value: int
    cents_per_dollar: str
    chosen: bool
    why: str


@dataclass(frozen=True)
class PlanResult:
    chosen: tuple[Offer, ...]
    value: int
    spent_cents: int
    explanation: tuple[Choice, ...]
    exact: bool = True
    upper_bound: int = 0  # no plan is worth more than this (equals value when exact)


def _ranked(offers: Iterable[Offer], objective: Objective) -> list[Offer]:
    return sorted(offers, key=lambda o: (-Fraction(o.value(objective), o.price_cents), o.offer_id))


def greedy_plan(budget_cents: int, offers: Iterable[Offer], objective: Objective = "face_value") -> list[Offer]:
    """Most value per dollar first, while the budget lasts. Not optimal: kept as the yardstick."""
    chosen, left = [], budget_cents
    for offer in _ranked((o for o in offers if o.value(objective) > 0), objective):
        if offer.price_cents <= left:
            chosen.append(offer)
            left -= offer.price_cents
    return chosen


@dataclass(frozen=True)
class _Search:
    value: int
    price: int
    chosen: tuple[int, ...]
    exact: bool
    upper_bound: int


def _best(budget: int, items: Sequence[Offer], objective: Objective) -> _Search:
    """An optimal set (indices into items, ranked by value per dollar), or the best within MAX_FRONTIER."""
    values = [o.value(objective) for o in items]
    prices = [o.price_cents for o in items]
    prefix_price, prefix_value = [0], [0]
    for p, v in zip(prices, values, strict=True):
        prefix_price.append(prefix_price[-1] + p)
        prefix_value.append(prefix_value[-1] + v)

    def bound(start: int, capacity: int) -> int:
        """Fractional fill of items[start:]: no whole-offer plan from here can exceed it."""
        end = bisect_right(prefix_price, prefix_price[start] + capacity, lo=start) - 1
        total = prefix_value[end] - prefix_value[start]
        if end < len(items):
            room = capacity - (prefix_price[end] - prefix_price[start])
            total += -(-room * values[end] // prices[end])  # ceiling: the bound must never be too low
        return total

    greedy, left = [], budget
    for i, price in enumerate(prices):
        if price <= left:
            greedy.append(i)
            left -= price
    best = (sum(values[i] for i in greedy), budget - left, tuple(greedy))
    frontier: list[tuple[int, int, tuple[int, ...]]] = [(0, 0, ())]  # (price, value, chosen), Pareto-optimal
    for i in range(len(items)):
        if len(frontier) > MAX_FRONTIER:
            ceiling = max(v + bound(i, budget - p) for p, v, _ in frontier)
            return _Search(best[0], best[1], best[2], exact=False, upper_bound=max(ceiling, best[0]))
        grown = [(p + prices[i], v + values[i], chosen + (i,)) for p, v, chosen in frontier
                 if p + prices[i] <= budget]
        for price, value, chosen in grown:
            if (value, -price) > (best[0], -best[1]):
                best = (value, price, chosen)
        merged = sorted(frontier + grown, key=lambda s: (s[0], -s[1]))
        frontier, top = [], -1
        for price, value, chosen in merged:
            # Dominated (costs more, worth no more) or unable to beat the best: dropped.
            if value > top and value + bound(i + 1, budget - price) > best[0]:
                frontier.append((price, value, chosen))
                top = value
    return _Search(best[0], best[1], best[2], exact=True, upper_bound=best[0])


def optimal_plan(budget_cents: int, offers: Iterable[Offer], objective: Objective = "face_value") -> PlanResult:
    offers = list(offers)
    candidates = _ranked((o for o in offers if o.value(objective) > 0 and o.price_cents <= budget_cents), objective)
    search = _best(budget_cents, candidates, objective)
    value, chosen = search.value, tuple(candidates[i] for i in search.chosen)
    chosen_ids = {o.offer_id for o in chosen}
    explanation = []
    for offer in sorted(offers, key=lambda o: o.offer_id):
        worth = offer.value(objective)
        if offer.offer_id in chosen_ids:
            why = "chosen"
        elif worth <= 0:
            why = "nothing in it is eligible under the campaign's policy and not bought already"
        elif offer.price_cents > budget_cents:
            why = f"costs {offer.price_cents} cents, more than the {budget_cents} available"
        elif search.exact:
            others = [o for o in candidates if o.offer_id != offer.offer_id]
            with_it = worth + _best(budget_cents - offer.price_cents, others, objective).value
            why = f"the best plan that includes it is worth {with_it}, less than the {value} chosen"
        else:
            why = f"not in the plan found (search limit reached; no plan is worth more than {search.upper_bound})"
        explanation.append(Choice(offer.offer_id, offer.price_cents, worth,
                                  cents_per_dollar(offer.price_cents, offer.value("face_value")),
                                  offer.offer_id in chosen_ids, why))
    return PlanResult(chosen, value, search.price, tuple(explanation), search.exact, search.upper_bound)


def purchase_record(plan: dict, profile: dict) -> dict:
    """What the public may read of a purchase, as the Rolling Jubilee published its redacted agreements."""
    offer = plan["offer"]
    return {"plan_id": plan["plan_id"], "seller": offer["seller"], "price_cents": plan["price_cents"],
            "face_value_cents": offer["face_value_cents"], "accounts": offer["accounts"],
            "cents_per_dollar": cents_per_dollar(plan["price_cents"], offer["face_value_cents"]),
            "settled_at": plan.get("finished_at"), "by_state": profile.get("by_state", {}),
            "by_debt_type": profile.get("by_debt_type", {})}
