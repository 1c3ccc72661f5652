"""The fault sweep: a small campaign run once per AWS call position with one injected failure.

Each run must end — after redelivery, schedules and DLQ redrive, as an operator would — exactly
as the fault-free run ends: the same books, each gift once, forgiveness and letters once, a
verified log, no debtor's file left in plaintext, empty dead-letter queues (tests/fault_sweep.py).
`make test` runs a sample of positions (one per function, the kinds taking turns); `make
test-slow` runs every position with every kind.
"""

from __future__ import annotations

from collections import Counter
from functools import cache
from typing import Any

import pytest

from local.emulator import LocalCloud
from local.faults import KINDS, FaultPlan, injected
from tests import fault_sweep as scenario


def run(position: int | None = None, kind: str = "throttle") -> tuple[dict[str, Any], FaultPlan]:
    with LocalCloud(public_base_url="http://jubilee.test", app_secret="sweep") as cloud:
        with injected(cloud, FaultPlan(position, kind)) as plan:
            scenario.play(cloud)
        ended = scenario.outcome(cloud)
    ended["letter_batches_by_times_printed"] = sorted(Counter(scenario.printed(plan).values()).items())
    return ended, plan


@cache
def baseline() -> tuple[dict[str, Any], FaultPlan]:
    return run()


def test_the_fault_free_run_ends_as_the_scenario_says():
    ended, plan = baseline()
    figures = ended["figures"]
    bought_id, accounts, price = scenario.BOUGHT
    assert figures["donations_confirmed"] == len(scenario.GIFTS)
    assert figures["raised_cents"] == sum(scenario.GIFTS)
    assert figures["refunded_cents"] == scenario.REFUNDED_CENTS
    assert figures["disputes_lost_cents"] == scenario.GIFTS[2]
    assert (figures["purchases"], figures["spent_cents"], figures["held_cents"]) == (1, price, 0)
    assert figures["accounts_forgiven"] == figures["letters_waiting"] == accounts == ended["forgiven_accounts"]
    assert ended["forgiveness_events"] == accounts and figures["ledger_balanced"] and ended["log_verifies"]
    assert ended["offer_files_left"] == [] and ended["dead_letters"] == {}
    assert ended["letter_batches_by_times_printed"] == [(1, 1)]  # one batch, printed once
    assert {call.function for call in plan.calls} >= {"api", "webhook", "dispatcher", "pool", "purchase",
                                                       "forgiveness", "letters"}


def faults(plan: FaultPlan, sample: bool) -> list[tuple[int, str]]:
    """Every (position, kind) that can strike; the sample strikes each function once, the kinds taking
    turns (its first call; a conflict on its first transaction, or a throttle if it makes none)."""
    calls = plan.calls

    def strikes(n: int, kind: str) -> bool:  # a conflict only on a transaction, a crash only after a success
        return (kind != "conflict" or calls[n].transactional) and (kind != "crash" or n not in plan.refused)

    every = [(n, kind) for kind in KINDS for n in range(len(calls)) if strikes(n, kind)]
    if not sample:
        return every
    first: dict[str, int] = {}
    first_transaction: dict[str, int] = {}
    for n, call in enumerate(calls):
        if n not in plan.refused:
            first.setdefault(call.function, n)
        if call.transactional:
            first_transaction.setdefault(call.function, n)
    chosen = []
    for turn, function in enumerate(sorted(first, key=first.__getitem__)):
        kind = KINDS[turn % len(KINDS)]
        if kind == "conflict":
            chosen.append((first_transaction[function], kind) if function in first_transaction
                          else (first[function], "throttle"))
        else:
            chosen.append((first[function], kind))
    return chosen


def sweep(kind: str, sample: bool) -> None:
    expected, plan = baseline()
    differences = []
    for position, _ in [f for f in faults(plan, sample) if f[1] == kind]:
        ended, faulted = run(position, kind)
        assert faulted.fired is not None, f"the {kind} at call {position} never fired"
        changed = {k: (expected[k], ended[k]) for k in expected if ended[k] != expected[k]}
        if changed:
            differences.append(f"{kind} at call {position} ({faulted.fired.function} {faulted.fired.operation}): "
                               f"{changed}")
    assert not differences, "\n".join(differences)


@pytest.mark.parametrize("kind", KINDS)
def test_a_sample_of_faults_changes_nothing(kind):
    sweep(kind, sample=True)


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_every_fault_changes_nothing(kind):
    sweep(kind, sample=False)


def test_the_sample_reaches_every_function_and_kind():
    _, plan = baseline()
    struck = {(plan.calls[n].function, kind) for n, kind in faults(plan, sample=True)}
    assert {function for function, _ in struck} == {call.function for call in plan.calls}
    assert {kind for _, kind in struck} == set(KINDS)

