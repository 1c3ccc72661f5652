"""Which open offers to buy with the money in the pool: exactly the best whole-offer set.

A 0/1 knapsack: the budget is the pool, each offer's weight its price, its value what the
campaign's objective counts (eligible face value, or eligible people). Solved exactly, in pure
integers, by an expanding-core dynamic program (Pisinger's minknap, 1997): offers ranked by value
per dollar, the LP relaxation's plan (every offer before the break offer) as the starting point,
then offers considered outward from the break one at a time, nearest first: one before it may be
dropped, one after it added. Partial plans are kept on a Pareto frontier of (price, value) and
dropped when even the LP relaxation of what is left to decide could not beat the best plan found.
Offers far from the break rarely matter, so the search usually ends long before reaching them.

Where it does not, the techniques of Martello, Pisinger and Toth's combo (1999) take over. Quick
passes find a plan at or near the bound (a beam of the most promising partial plans, then swaps
near the break that fill the budget to the cent). A second bound counts offers: no plan holds more
than the cheapest that fit together, and none beats the plan found with fewer than the fewest
whose values could add up past it; that is what proves the strongly correlated shape. Then a
pairing step (`_fixed_and_paired`): measured against that bound, each offer a plan takes or leaves
unlike the LP's plan costs a fixed amount, so a plan better than the one found can only change
the few offers that cost less than the gap (the rest are fixed) and only a few of those at once;
those sets of changes are listed in two halves and paired, the best of one half that fits with
each of the other. That proves the near-equal shape (values within 0.1% of proportional to
prices), where no plan meets the LP bound and partial plans barely prune one another.

Knapsack is NP-hard all the same: past MAX_SETS listed sets and MAX_STATES partial plans the
search stops and says so (a subset-sum with no plan at its bound, or the inversely correlated
shape, can get there): the plan is then marked inexact, with a proven bound on what it may leave
on the table, and is never worse than greedy (the search starts from greedy's plan). Whatever the
search did, the chosen set's price is checked against the budget in integers. Deterministic;
`make bench` shows, against HiGHS, which shapes it proves at a thousand offers and how quickly.

Each unchosen offer is explained from the same LP: forcing it in, no plan is worth more than the
LP bound with it fixed in. Where that bound is below the plan's value it is the proof; the few
close calls left (at most MAX_RESOLVES) are solved again with the offer forced in.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import accumulate
from typing import Literal

from functions.domain.purchase import cents_per_dollar

Objective = Literal["face_value", "people"]
MAX_STATES = 600_000  # partial plans considered in one solve before it gives up (seconds, not minutes)
MAX_SETS = 300_000  # toggle sets the pairing step lists in one solve before it gives up
PAIR_CORE = 13  # past MAX_SETS, each half of the pairing's last pass takes this many of the cheapest items
BEAM = 200  # partial plans the quick first pass keeps
SWAP_CORE, SWAP_ROUNDS = 60, 8  # the local search: offers either side of the break, passes
MAX_RESOLVES = 3  # close calls solved again with the offer forced in, to explain them exactly


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
    accounts_digest: str = ""  # SHA-256 over its accounts' sorted keyed hashes (domain/after_purchase.py)

    def value(self, objective: Objective = "face_value") -> int:
        if objective == "people":
            return self.accounts if self.eligible_accounts is None else self.eligible_accounts
        return self.face_value_cents if self.eligible_face_value_cents is None else self.eligible_face_value_cents


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


class _Relaxation:
    """The LP relaxation over items ranked by value per dollar: prefix sums answer it in O(log n)."""

    def __init__(self, prices: Sequence[int], values: Sequence[int]) -> None:
        self.prices, self.values = prices, values
        self.prefix_price, self.prefix_value = [0], [0]
        for p, v in zip(prices, values, strict=True):
            self.prefix_price.append(self.prefix_price[-1] + p)
            self.prefix_value.append(self.prefix_value[-1] + v)

    def fill(self, capacity: int, skip: int = -1) -> int:
        """The LP's value (rounded down: plans are worth whole units) filling capacity, item skip left out."""
        pp, pv, n = self.prefix_price, self.prefix_value, len(self.prices)
        end = bisect_right(pp, capacity) - 1  # items[:end] fit whole
        total, room = pv[end], capacity - pp[end]
        if 0 <= skip <= end:  # the skipped item was counted: take it out and fill on past it
            end = bisect_right(pp, capacity + self.prices[skip]) - 1
            total, room = pv[end] - self.values[skip], capacity + self.prices[skip] - pp[end]
        if end < n:
            total += room * self.values[end] // self.prices[end]
        return total

    def with_item(self, item: int, capacity: int) -> int:
        """No plan that includes item is worth more than this."""
        return self.values[item] + self.fill(capacity - self.prices[item], skip=item)


_Trail = tuple[int, "_Trail"] | None  # items toggled from the break plan, newest first


def _best(budget: int, items: Sequence[Offer], objective: Objective, share: int = 1) -> _Search:
    """An optimal set (indices into items, ranked by value per dollar), or the best within a share of MAX_STATES."""
    max_states = MAX_STATES // share
    values = [o.value(objective) for o in items]
    prices = [o.price_cents for o in items]
    n, relaxation = len(items), _Relaxation(prices, values)
    brk = bisect_right(relaxation.prefix_price, budget) - 1  # the break item: the first that does not fit whole
    if brk == n:
        return _Search(sum(values), sum(prices), tuple(range(n)), exact=True, upper_bound=sum(values))
    # Greedy, to start from: the LP's plan, then whatever else still fits.
    trail: _Trail = None
    z, left = relaxation.prefix_value[brk], budget - relaxation.prefix_price[brk]
    for i in range(brk, n):
        if prices[i] <= left:
            z, left, trail = z + values[i], left - prices[i], (i, trail)
    core, ceiling = _Core(budget, prices, values, brk, (z, budget - left, trail)), relaxation.fill(budget)
    # Most shapes are settled by a short exact pass. Otherwise quick passes, keeping only the most
    # promising partial plans, then swaps near the break (from the best plan so far and from the LP's),
    # find a plan at or near the bound. A plan at the bound is proven optimal at once; otherwise the
    # bound that counts offers, then the pairing step, which lists fewer sets the closer that plan is
    # to the bound. Only past the pairing's limit does the exact pass run to its own.
    if core.best[0] < ceiling:
        core.expand(max_states // 20)
        ceiling = min(ceiling, core.ceiling())
    if core.best[0] < ceiling:
        core.expand(max_states, beam=BEAM)
    if core.best[0] < ceiling:
        core.adopt(_improve(budget, prices, values, brk, core.chosen()))
        core.adopt(_improve(budget, prices, values, brk, set(range(brk))))
    m = k = 0
    if core.best[0] < ceiling:
        bound, m, k = _cardinality_bound(budget, prices, values, core.best[0])
        ceiling = min(ceiling, bound)
    if core.best[0] < ceiling:
        found, bound = _fixed_and_paired(budget, prices, values, core.chosen(), m, k, MAX_SETS // share)
        core.adopt(found)
        ceiling = min(ceiling, bound)
    if core.best[0] < ceiling:
        core.expand(max_states)
        ceiling = min(ceiling, core.ceiling())
    return _Search(core.best[0], core.best[1], tuple(sorted(core.chosen())), exact=core.best[0] >= ceiling,
                   upper_bound=ceiling)


def _cardinality_bound(budget: int, prices: Sequence[int], values: Sequence[int],
                       incumbent: int) -> tuple[int, int, int]:
    """A bound on any plan better than the incumbent, and the m and count it was found at.

    No plan holds more offers than the most of the cheapest that fit together, k; so for any m >= 0 no
    plan is worth more than m * k plus the LP bound with every value less m. Likewise no plan beats the
    incumbent with fewer offers than the fewest whose values could sum past it, k_min; so for m < 0 no
    better plan is worth more than m * k_min plus that LP bound. Offers whose value is a fixed multiple
    of their price plus a constant (strongly correlated, where the plain LP bound stays out of reach)
    meet this bound at m = that constant; less a constant (inversely correlated), at m = minus it. m is
    searched for: the bound is convex in it."""
    k = bisect_right(list(accumulate(sorted(prices))), budget)
    k_min = bisect_right(list(accumulate(sorted(values, reverse=True))), incumbent) + 1

    def bound(m: int, exactly: bool = False) -> int:
        """The bound at m; ranking by float ratio is only good enough to search for m with."""
        rank = (lambda item: Fraction(-item[0], item[1])) if exactly else (lambda item: -item[0] / item[1])
        total, room = 0, budget
        for v, p in sorted(((v - m, p) for v, p in zip(values, prices, strict=True) if v > m), key=rank):
            if p > room:
                total += v * room // p
                break
            total, room = total + v, room - p
        return m * (k if m >= 0 else k_min) + total

    low, high = -max(values), max(values)
    while high - low > 2:  # ternary search over whole m: each step keeps the side with the least bound
        left, right = low + (high - low) // 3, high - (high - low) // 3
        if bound(left) <= bound(right):
            high = right
        else:
            low = left
    least, m = min((bound(m, exactly=True), m) for m in range(low, high + 1))
    return max(least, incumbent), m, k if m >= 0 else k_min


def _fixed_and_paired(budget: int, prices: Sequence[int], values: Sequence[int], chosen: set[int], m: int,
                      k: int, max_sets: int) -> tuple[set[int], int]:
    """The best set found and a proven bound on any plan's value; they are equal unless max_sets ran out.

    Take every value less m, as the cardinality bound found best (often 0), and rank the items by that
    per dollar: relative to its LP's plan (the items before the break item b) at the break ratio r, every
    plan that could beat the incumbent is worth the cardinality bound less |v - m - r p| for each item it
    toggles (drops from the LP's plan or adds to it), less r per cent left unspent and |m| per offer it
    is away from k. So a plan within a gap of the bound toggles only items whose |v - m - r p| is below
    the gap (the rest are fixed: Dembo and Hammer's reduction), and few of them. Those free items are
    split in two halves; each half's toggle sets that cost less than the gap are listed, and each set of
    one half is paired with the most valuable of the other half's that still fits (Horowitz and Sahni).
    The gap starts small and grows until it reaches the incumbent's: each gap tried and passed proves
    the plans within it, and the sets listed grow steeply with the gap, so the last gap tried costs most
    of the work. Near-equal offers, whose best plan misses the LP bound, are proven this way: a few
    dozen items stay free and a few tens of thousands of sets are listed. In integers: reduced values
    are scaled by the break item's price (by 1 where nothing is left to fill the room at a profit)."""
    reduced = [v - m for v in values]
    order = sorted(range(len(prices)), key=lambda i: (-Fraction(reduced[i], prices[i]), i))
    brk, room = 0, budget  # room: what the LP's plan (order[:brk]) leaves unspent
    while brk < len(order) and prices[order[brk]] <= room and reduced[order[brk]] > 0:
        room, brk = room - prices[order[brk]], brk + 1
    v_b, p_b = (reduced[order[brk]], prices[order[brk]]) if brk < len(order) and reduced[order[brk]] > 0 else (0, 1)
    inside = set(order[:brk])
    base = sum(values[i] for i in inside)  # the LP's plan, in real values
    lp = (sum(reduced[i] for i in inside) + m * k) * p_b + room * v_b  # the bound, x p_b
    # Reduced costs, cheapest first; on ties (as where every ratio is equal) nearest the break first.
    costs = sorted((abs(reduced[i] * p_b - v_b * prices[i]), abs(2 * (at - brk) + 1), i) for at, i in enumerate(order))
    value = sum(values[i] for i in chosen)
    needed = lp - (value + 1) * p_b  # a better plan toggles items whose reduced values sum to at most this

    def paired(free: Sequence[tuple[int, int, int]], spare: int, most: int) -> tuple[int, int, set[int]] | None:
        """(sets listed, value, items) of the best plan toggling free items, each half's toggles costing
        at most spare; None past most sets."""
        halves = []
        for half in (free[0::2], free[1::2]):  # alternate, cheapest first, so the halves list alike
            sets = _toggle_sets([(c, -prices[i] if i in inside else prices[i],
                                  -values[i] if i in inside else values[i], i) for c, _, i in half], spare, most)
            if sets is None:
                return None
            most -= len(sets)
            halves.append(sets)
        gain, *trails = _pair(halves[0], halves[1], room)
        toggled = set(inside)
        for trail in trails:
            while trail is not None:
                item, trail = trail
                toggled ^= {item}
        return len(halves[0]) + len(halves[1]), base + gain, toggled

    bound, spare = lp // p_b, needed // 16
    while needed >= 0:
        spare = min(needed, spare)
        found = paired(costs[:bisect_left(costs, (spare + 1,))], spare, max_sets)
        if found is None:
            # Past the limit: the last gap passed still bounds every plan. Pairs of the cheapest few may
            # still fill the budget to the cent (a subset-sum pass: it finds plans, proves nothing).
            found = paired(costs[:bisect_left(costs, (needed + 1,))][:2 * PAIR_CORE], needed, max_sets)
            if found is not None and found[1] > value:
                _, value, chosen = found
            return chosen, max(bound, value)
        listed, better, toggled = found
        max_sets -= listed
        if better > value:
            chosen, value, needed = toggled, better, lp - (better + 1) * p_b
        if spare >= needed:
            return chosen, value  # every plan better than this one would have been listed
        bound = max(value, (lp - spare - 1) // p_b)  # plans not listed lose more than spare to the bound
        spare = spare * 5 // 4 + 1
    return chosen, value  # the incumbent meets the bound


_Set = tuple[int, int, int, _Trail]  # a toggle set: reduced cost, added price, added value, its items


def _pair(ones: list[_Set], others: list[_Set], room: int) -> tuple[int, _Trail, _Trail]:
    """The most valuable union of a set from each list within room: its added value and its two sets' items."""
    others.sort(key=lambda s: s[1])
    weights = [s[1] for s in others]
    best_upto: list[int] = []  # best_upto[k]: the most valuable among others[:k + 1]
    for k, s in enumerate(others):
        best_upto.append(k if not best_upto or s[2] > others[best_upto[-1]][2] else best_upto[-1])
    gain, one, other = 0, None, None  # both empty: the LP's plan, which fits
    for _, w, v, items in ones:
        fits = bisect_right(weights, room - w) - 1
        if fits >= 0 and v + others[best_upto[fits]][2] > gain:
            gain, one, other = v + others[best_upto[fits]][2], items, others[best_upto[fits]][3]
    return gain, one, other


def _toggle_sets(items: Sequence[tuple[int, int, int, int]], spare: int, most: int) -> list[_Set] | None:
    """Every set of items (reduced cost, added price, added value, index; cheapest first) whose costs sum
    to at most spare; None past most of them. Depth first, each set made once, from the set without its
    last item, so the work is the number of sets."""
    sets: list[_Set] = [(0, 0, 0, None)]
    stack = [(0, sets[0])]  # (the first item a set may still take, the set)
    while stack:
        start, (cost, w, v, trail) = stack.pop()
        for k in range(start, len(items)):
            c, dw, dv, i = items[k]
            if cost + c > spare:
                break  # cheapest first: no later item fits either
            grown = (cost + c, w + dw, v + dv, (i, trail))
            sets.append(grown)
            stack.append((k + 1, grown))
        if len(sets) > most:
            return None
    return sets


def _improve(budget: int, prices: Sequence[int], values: Sequence[int], brk: int, chosen: set[int]) -> set[int]:
    """Local search near the break: the best swap of one offer out for one in (or one added), or of two
    such swaps at once, while any helps. It fills the budget to the cent where subset sums allow, which
    is what the near-equal shapes need to meet their LP bound (a heuristic: it proves nothing)."""
    core = range(max(0, brk - SWAP_CORE), min(len(prices), brk + SWAP_CORE))
    for _ in range(SWAP_ROUNDS):
        room = budget - sum(prices[i] for i in chosen)
        ins, outs = [i for i in core if i in chosen], [i for i in core if i not in chosen]
        # (added price, added value, offer in, offer out); -1: none
        moves = sorted([(prices[a] - prices[d], values[a] - values[d], a, d) for a in outs for d in ins]
                       + [(prices[a], values[a], a, -1) for a in outs])
        costs = [m[0] for m in moves]
        best_upto: list[int] = []  # best_upto[k]: the move of most value among moves[:k + 1]
        for k, move in enumerate(moves):
            best_upto.append(k if not best_upto or move[1] > moves[best_upto[-1]][1] else best_upto[-1])
        gain, plan = 0, chosen
        for first in moves:
            if first[0] <= room and first[1] > gain:
                gain, plan = first[1], (chosen | {first[2]}) - {first[3]}
            end = bisect_right(costs, room - first[0]) - 1
            if end < 0:
                if first[0] > room:
                    break  # moves are sorted by cost: no later one fits, alone or with another
                continue
            second = moves[best_upto[end]]
            if first[1] + second[1] > gain and first[2] != second[2] and (first[3] != second[3] or first[3] < 0):
                gain, plan = first[1] + second[1], (chosen | {first[2], second[2]}) - {first[3], second[3]}
        if gain <= 0:
            break
        chosen = plan
    return chosen


class _Core:
    """Pisinger's expanding core: partial plans over the items nearest the break, outward."""

    def __init__(self, budget: int, prices: Sequence[int], values: Sequence[int], brk: int,
                 best: tuple[int, int, _Trail]) -> None:
        self.budget, self.prices, self.values, self.brk = budget, prices, values, brk
        self.best = best  # (value, price, trail) of the best plan found
        self.exact = False
        self.states: list[tuple[int, int, _Trail]] = []
        self.s, self.t = brk - 1, brk

    def chosen(self) -> set[int]:
        """The best plan's items."""
        chosen, trail = set(range(self.brk)), self.best[2]
        while trail is not None:
            item, trail = trail
            chosen ^= {item}
        return chosen

    def adopt(self, chosen: set[int]) -> None:
        """Take a plan found elsewhere as the best, if it is better."""
        value = sum(self.values[i] for i in chosen)
        if value > self.best[0]:
            trail: _Trail = None
            for item in sorted(chosen.symmetric_difference(range(self.brk))):
                trail = (item, trail)
            self.best = (value, sum(self.prices[i] for i in chosen), trail)

    def _limits(self, s: int, t: int) -> tuple[int, int, int, int]:
        """Ratios (as value, price) to fill spare room at, and to shed excess at, with items[:s+1] in
        (they may be dropped) and items[t:] out (they may be added) still to decide."""
        n = len(self.prices)
        add = (self.values[t], self.prices[t]) if t < n else (0, 1)
        drop = (self.values[s], self.prices[s]) if s >= 0 else (0, 0)
        return add + drop

    def expand(self, max_work: int, beam: int = 0) -> None:
        """From the break plan, every item outward; with beam, only that many partial plans are kept
        (a heuristic: it finds plans, proves nothing)."""
        budget, prices, values, n = self.budget, self.prices, self.values, len(self.prices)
        z = self.best[0]
        s, t, work = self.brk - 1, self.brk, 0
        states: list[tuple[int, int, _Trail]] = [(sum(prices[:self.brk]), sum(values[:self.brk]), None)]
        while states and (s >= 0 or t < n):
            work += len(states)
            if work > max_work:
                break
            grown: list[tuple[int, int, _Trail]]
            if t < n and (s < 0 or t - self.brk <= self.brk - 1 - s):  # alternating, nearest the break first
                item, t = t, t + 1
                grown = [(w + prices[item], p + values[item], (item, tr)) for w, p, tr in states]
            else:
                item, s = s, s - 1
                grown = [(w - prices[item], p - values[item], (item, tr)) for w, p, tr in states]
            # LP bound of a state: under budget, fill the room at items[t]'s ratio; over, shed the excess
            # at items[s]'s (the worst ratio left among those in). Kept only if it can beat z.
            add_p, add_w, drop_p, drop_w = self._limits(s, t)
            kept: list[tuple[int, int, _Trail]] = []
            top = -1
            for w, p, tr in sorted(states + grown, key=lambda state: (state[0], -state[1])):
                if p <= top:
                    continue  # dominated: costs no less than a kept state and is worth no more
                if w <= budget:
                    if p > z:
                        z, self.best = p, (p, w, tr)
                    if p * add_w + (budget - w) * add_p > z * add_w:
                        kept.append((w, p, tr))
                        top = p
                elif p * drop_w - (w - budget) * drop_p > z * drop_w:
                    kept.append((w, p, tr))
                    top = p
            if beam and len(kept) > beam:  # the most promising by LP bound, nearest the budget on ties
                scored = sorted(range(len(kept)), key=lambda k: self._score(kept[k], add_p, add_w, drop_p, drop_w))
                kept = [kept[k] for k in sorted(scored[-beam:])]
            states = kept
        if not beam:
            self.states, self.s, self.t = states, s, t
            self.exact = not states or (s < 0 and t >= n)

    def _score(self, state: tuple[int, int, _Trail], add_p: int, add_w: int, drop_p: int,
               drop_w: int) -> tuple[float, int]:
        """Only ranks partial plans for the heuristic pass: floats are good enough, and quick."""
        w, p, _ = state
        if w <= self.budget:
            return p + (self.budget - w) * add_p / add_w, w - self.budget
        return p - (w - self.budget) * drop_p / drop_w, self.budget - w

    def ceiling(self) -> int:
        """No plan is worth more: the best found, or the LP bound of a partial plan still open."""
        if self.exact:
            return self.best[0]
        add_p, add_w, drop_p, drop_w = self._limits(self.s, self.t)
        top = self.best[0]
        for w, p, _ in self.states:
            if w <= self.budget:
                top = max(top, p + (self.budget - w) * add_p // add_w)
            elif drop_w:
                top = max(top, p - (w - self.budget) * drop_p // drop_w)
        return top


def optimal_plan(budget_cents: int, offers: Iterable[Offer], objective: Objective = "face_value") -> PlanResult:
    offers = list(offers)
    candidates = _ranked((o for o in offers if o.value(objective) > 0 and o.price_cents <= budget_cents), objective)
    search = _best(budget_cents, candidates, objective)
    chosen = tuple(candidates[i] for i in search.chosen)
    spent = sum(o.price_cents for o in chosen)
    if spent > budget_cents or spent != search.price:  # checked in integers, whatever the search did
        raise AssertionError(f"the plan spends {spent} cents of {budget_cents}")
    value, chosen_ids = search.value, {o.offer_id for o in chosen}
    relaxation = _Relaxation([o.price_cents for o in candidates], [o.value(objective) for o in candidates])
    rank = {o.offer_id: i for i, o in enumerate(candidates)}
    # With an offer forced in, no plan is worth more than the LP bound: below the plan's value, that is
    # the reason. The closest calls (highest bounds) are solved again with it forced in, a bounded few.
    ceilings = {o.offer_id: relaxation.with_item(rank[o.offer_id], budget_cents)
                for o in candidates if o.offer_id not in chosen_ids}
    close = sorted((c, oid) for oid, c in ceilings.items() if c >= value)[::-1][:MAX_RESOLVES] if search.exact else []
    with_it = {oid: _forced(budget_cents, candidates, rank[oid], objective) for _, oid in close}
    explanation = []
    for offer in sorted(offers, key=lambda o: o.offer_id):
        worth, oid = offer.value(objective), offer.offer_id
        if oid in chosen_ids:
            why = "chosen"
        elif worth <= 0:
            why = "nothing in it is eligible under the campaign's policy and not bought already"
        elif offer.price_cents > budget_cents:
            why = f"costs {offer.price_cents} cents, more than the {budget_cents} available"
        elif ceilings[oid] < value:
            why = f"with it, no plan is worth more than {ceilings[oid]}, less than the {value} chosen"
        elif (best_with := with_it.get(oid)) is not None:
            why = (f"the best plan that includes it is worth {best_with}, less than the {value} chosen"
                   if best_with < value else f"the best plan that includes it is worth {value} too: a tie, "
                   "and the plan found first is kept")
        elif search.exact:
            why = (f"a close call: with it, no plan is worth more than {ceilings[oid]}, and none beats the "
                   f"{value} chosen (proven optimal)")
        else:
            why = f"not in the plan found (search limit reached; no plan is worth more than {search.upper_bound})"
        explanation.append(Choice(oid, offer.price_cents, worth,
                                  cents_per_dollar(offer.price_cents, offer.value("face_value")),
                                  oid in chosen_ids, why))
    return PlanResult(chosen, value, spent, tuple(explanation), search.exact, search.upper_bound)


def _forced(budget: int, items: Sequence[Offer], item: int, objective: Objective) -> int | None:
    """The best value of a plan that includes items[item], or None when that search hits its limit."""
    others = [o for i, o in enumerate(items) if i != item]
    search = _best(budget - items[item].price_cents, others, objective, share=10)  # close calls: a little each
    return items[item].value(objective) + search.value if search.exact else None
