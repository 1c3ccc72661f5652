"""Buying debt: hold the funds, buy through the seller, then post or void the hold once.

The steps go through two small ports so the rules can be tested with in-memory fakes
and run for real against DynamoDB and a seller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from functions.domain.planner import Offer, greedy_plan


@dataclass(frozen=True)
class Plan:
    plan_id: str
    offer: Offer

    @property
    def campaign_id(self) -> str:
        return self.offer.campaign_id

    @property
    def price_cents(self) -> int:
        return self.offer.price_cents


class SellerError(Exception):
    """The seller did not sell: the hold is voided and the offer goes back on the market."""


class PurchaseStore(Protocol):
    def pool_available(self, campaign_id: str) -> int: ...
    def open_offers(self, campaign_id: str) -> list[Offer]: ...
    def held_plans(self, campaign_id: str) -> list[Plan]: ...
    # Each returns False when the step was already done or lost a race: nothing is written then.
    def hold(self, plan: Plan) -> bool: ...
    def settle(self, plan: Plan, portfolio_key: str) -> bool: ...
    def void(self, plan: Plan, reason: str) -> bool: ...


class Seller(Protocol):
    def buy(self, plan: Plan) -> str:
        """Buy the plan's offer, idempotently per plan id; return the portfolio's object key."""
        ...


@dataclass
class PurchaseReport:
    settled: list[str] = field(default_factory=list)
    voided: list[str] = field(default_factory=list)


def _execute(plan: Plan, store: PurchaseStore, seller: Seller, report: PurchaseReport) -> None:
    try:
        portfolio_key = seller.buy(plan)
    except SellerError as error:
        if store.void(plan, str(error)):
            report.voided.append(plan.plan_id)
        return
    if store.settle(plan, portfolio_key):
        report.settled.append(plan.plan_id)


def run_purchase_check(campaign_id: str, store: PurchaseStore, seller: Seller) -> PurchaseReport:
    report = PurchaseReport()
    # Plans an earlier run held but did not finish (a crash, a timeout) are finished first.
    for plan in store.held_plans(campaign_id):
        _execute(plan, store, seller, report)
    for offer in greedy_plan(store.pool_available(campaign_id), store.open_offers(campaign_id)):
        plan = Plan(offer.next_plan_id, offer)
        if store.hold(plan):
            _execute(plan, store, seller, report)
    return report
