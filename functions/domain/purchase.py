"""Buying debt: plan, hold the funds, wait for approvals, buy, then post or void the hold once.

A plan is proposed with its funds held (pool -> held). It is approved at once when the
campaign needs no approval for it, or when N distinct approvers of the campaign's M have
approved it; otherwise it expires, and its hold is voided. An approved plan is bought
through its seller: the sandbox sells at once; a manual seller waits for the operator to
record the wire (`jubilee purchases confirm`). The hold is posted exactly once when the
purchase settles, or voided exactly once on rejection, expiry or the seller's refusal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from functions.domain.campaigns import Campaign
from functions.domain.forgiveness import fully_ingested
from functions.domain.planner import Offer, PlanResult, optimal_plan


@dataclass(frozen=True)
class Plan:
    plan_id: str
    offer: Offer
    expires_at: str = ""  # ISO time after which an unapproved plan is voided

    @property
    def campaign_id(self) -> str:
        return self.offer.campaign_id

    @property
    def price_cents(self) -> int:
        return self.offer.price_cents


def plan_id_for(offer: Offer) -> str:
    """Names the campaign too, so an approver's link needs nothing else ('.' is in no campaign id)."""
    return f"{offer.campaign_id}.{offer.offer_id}.{offer.attempt}"


def campaign_of(plan_id: str) -> str:
    return plan_id.split(".", 1)[0]


class SellerError(Exception):
    """The seller did not sell: the hold is voided and the offer is not bought."""


class PurchaseStore(Protocol):
    def pool_available(self, campaign_id: str) -> int: ...
    def open_offers(self, campaign_id: str) -> list[Offer]: ...
    def retire_lapsed(self, campaign_id: str, today: str) -> list[str]: ...
    def plans(self, campaign_id: str, status: str) -> list[Plan]: ...
    # Each returns False when the step was already done or lost a race: nothing is written then.
    def propose(self, plan: Plan, approved: bool) -> bool: ...
    def settle(self, plan: Plan, portfolio_key: str, reference: str = "") -> bool: ...
    def void(self, plan: Plan, reason: str, reopen: bool) -> bool: ...


class Seller(Protocol):
    def buy(self, plan: Plan) -> str | None:
        """Buy the plan's offer, idempotently per plan id: the portfolio's object key, or None
        when the purchase completes outside (a wire the operator confirms later)."""
        ...


@dataclass
class PurchaseReport:
    proposed: list[str] = field(default_factory=list)
    settled: list[str] = field(default_factory=list)
    voided: list[str] = field(default_factory=list)
    awaiting: list[str] = field(default_factory=list)
    lapsed: list[str] = field(default_factory=list)  # offers past their seller's date, retired
    plan: PlanResult | None = None


def execute(plan: Plan, store: PurchaseStore, seller: Seller, report: PurchaseReport) -> None:
    try:
        portfolio_key = seller.buy(plan)
    except SellerError as error:
        if store.void(plan, str(error), reopen=False):
            report.voided.append(plan.plan_id)
        return
    if portfolio_key is None:
        report.awaiting.append(plan.plan_id)
    elif store.settle(plan, portfolio_key):
        report.settled.append(plan.plan_id)


def run_purchase_check(campaign: Campaign, store: PurchaseStore, seller_for: Callable[[str], Seller],
                       now: dt.datetime) -> PurchaseReport:
    report, cid = PurchaseReport(), campaign.campaign_id
    report.lapsed = store.retire_lapsed(cid, now.date().isoformat())
    for plan in store.plans(cid, "proposed"):  # unapproved past their time: the funds go back
        if plan.expires_at and plan.expires_at <= now.isoformat() and store.void(plan, "expired", reopen=True):
            report.voided.append(plan.plan_id)
    # Approved plans not finished (approved since, a crash, a timeout) are bought first.
    for plan in store.plans(cid, "approved"):
        execute(plan, store, seller_for(plan.offer.seller), report)
    report.plan = optimal_plan(store.pool_available(cid), store.open_offers(cid), campaign.objective)  # type: ignore[arg-type]
    expires = (now + dt.timedelta(hours=campaign.plan_ttl_hours)).isoformat()
    for offer in report.plan.chosen:
        plan = Plan(plan_id_for(offer), offer, expires)
        approved = not campaign.needs_approval(offer.price_cents)
        if store.propose(plan, approved):
            report.proposed.append(plan.plan_id)
            if approved:
                execute(plan, store, seller_for(offer.seller), report)
    return report


def approval_outcome(campaign: Campaign, approvers: set[str]) -> bool:
    """Whether a plan's distinct approvals, from the campaign's approvers only, reach its N."""
    return len(approvers & set(campaign.approvers)) >= campaign.approvals_required


RETIRED = ("declined", "lapsed")  # offers that will never be bought


def finished_files(offers: Iterable[Mapping], plans: Iterable[Mapping]) -> set[str]:
    """The offer files (debtors' names and addresses in the clear) nothing will read again: a retired
    offer's, and a sold offer's with its portfolio once every account in it is forgiven. An open or held
    offer's file, and a bought portfolio still being forgiven, are never among them."""
    done = {offer["object_key"] for offer in offers if offer["status"] in RETIRED}
    for plan in plans:
        if plan["status"] == "settled" and fully_ingested(plan):
            done |= {plan["offer"]["object_key"], plan["portfolio_key"]}
    return done
