"""Buying debt: the purchase check (retire lapsed offers, void expired plans, buy approved ones, plan from
what is open and propose) and approvals, over the purchase store's port."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from functions.domain.campaigns import Campaign
from functions.domain.planner import PlanResult, optimal_plan
from functions.domain.purchase import Plan, SellerError, approval_outcome, plan_id_for
from functions.services.ports import ApprovalStore, PurchaseStore, Seller


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


def approve(store: ApprovalStore, campaign: Campaign, plan_id: str, approver: str) -> Mapping[str, Any]:
    """Count one approver's approval once; at N distinct approvals the plan is approved (and bought by the
    purchase check that announces). The plan as it is now."""
    item = store.add_approval(campaign.campaign_id, plan_id, approver)
    if item is None:
        return store.load_plan(plan_id) or {}
    approvers = set(item.get("approvers") or ())
    if approval_outcome(campaign, approvers):
        store.mark_approved(item, sorted(approvers))
    return store.load_plan(plan_id) or item
