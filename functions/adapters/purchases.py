"""Offers and purchase plans in DynamoDB: the PurchaseStore port of domain/purchase.py.

Each step is one transaction whose conditions make it happen at most once: the hold
needs the offer open and the pool sufficient; settle and void need the plan still held.
"""

from __future__ import annotations

from typing import Any

from functions.adapters import dynamo, ledger
from functions.adapters.dynamo import campaign_pk
from functions.domain.ledger import POOL, hold_transfer, post_transfer, void_transfer
from functions.domain.planner import Offer
from functions.domain.purchase import Plan

OFFER_FIELDS = ("offer_id", "campaign_id", "seller", "price_cents", "face_value_cents", "accounts", "object_key",
                "attempt")


def offer_sk(offer_id: str) -> str:
    return f"OFFER#{offer_id}"


def plan_sk(plan_id: str) -> str:
    return f"PLAN#{plan_id}"


def _offer(item: dict[str, Any]) -> Offer:
    return Offer(**{f: item[f] for f in OFFER_FIELDS})


def register_offer(offer: Offer) -> bool:
    """False if an offer with that id exists already."""
    item = {"pk": campaign_pk(offer.campaign_id), "sk": offer_sk(offer.offer_id), "kind": "offer",
            "status": "open", "registered_at": ledger.now_iso(), **offer.__dict__}
    return dynamo.transact_once([dynamo.put(item)])


def load_offer(campaign_id: str, offer_id: str) -> dict[str, Any] | None:
    return dynamo.get(campaign_pk(campaign_id), offer_sk(offer_id))


def _set_offer(plan: Plan, old: str, new: str, *, next_attempt: bool = False) -> dict[str, Any]:
    expression = "SET #status = :new" + (", attempt = attempt + :one" if next_attempt else "")
    values = {":old": old, ":new": new, ":attempt": plan.offer.attempt} | ({":one": 1} if next_attempt else {})
    return dynamo.update(campaign_pk(plan.campaign_id), offer_sk(plan.offer.offer_id), expression, values,
                         condition="#status = :old AND attempt = :attempt", names={"#status": "status"})


def _finish_plan(plan: Plan, status: str, **fields: Any) -> dict[str, Any]:
    sets = ", ".join(f"{k} = :{k}" for k in fields)
    return dynamo.update(campaign_pk(plan.campaign_id), plan_sk(plan.plan_id),
                         "SET #status = :status, finished_at = :at" + (f", {sets}" if sets else ""),
                         {":status": status, ":held": "held", ":at": ledger.now_iso()}
                         | {f":{k}": v for k, v in fields.items()},
                         condition="#status = :held", names={"#status": "status"})


class DynamoPurchaseStore:
    def pool_available(self, campaign_id: str) -> int:
        item = dynamo.get(campaign_pk(campaign_id), ledger.account_sk(POOL))
        return int(item["balance"]) if item else 0

    def open_offers(self, campaign_id: str) -> list[Offer]:
        return [_offer(i) for i in dynamo.query(campaign_pk(campaign_id), "OFFER#") if i["status"] == "open"]

    def held_plans(self, campaign_id: str) -> list[Plan]:
        return [Plan(i["plan_id"], _offer(i["offer"])) for i in dynamo.query(campaign_pk(campaign_id), "PLAN#")
                if i["status"] == "held"]

    def hold(self, plan: Plan) -> bool:
        transfer = hold_transfer(plan.campaign_id, plan.plan_id, plan.price_cents)
        plan_item = {"pk": campaign_pk(plan.campaign_id), "sk": plan_sk(plan.plan_id), "kind": "plan",
                     "plan_id": plan.plan_id, "status": "held", "offer": plan.offer.__dict__,
                     "price_cents": plan.price_cents, "held_at": ledger.now_iso()}
        return dynamo.transact_once([
            dynamo.put(plan_item), _set_offer(plan, "open", "held"),
            ledger.transfer_put(transfer, plan_id=plan.plan_id),
            *ledger.balance_updates(plan.campaign_id, [transfer]),
        ])

    def settle(self, plan: Plan, portfolio_key: str) -> bool:
        transfer = post_transfer(plan.campaign_id, plan.plan_id, plan.price_cents)
        return dynamo.transact_once([
            _finish_plan(plan, "settled", portfolio_key=portfolio_key), _set_offer(plan, "held", "sold"),
            ledger.transfer_put(transfer, plan_id=plan.plan_id),
            *ledger.balance_updates(plan.campaign_id, [transfer]),
            ledger.count(plan.campaign_id, purchases=1),
            dynamo.outbox("forgiveness", f"forgive#{plan.plan_id}",
                          {"campaign_id": plan.campaign_id, "plan_id": plan.plan_id, "portfolio_key": portfolio_key}),
        ])

    def void(self, plan: Plan, reason: str) -> bool:
        transfer = void_transfer(plan.campaign_id, plan.plan_id, plan.price_cents)
        return dynamo.transact_once([
            # A seller that declined is not asked again; a new offer from it is a new offer.
            _finish_plan(plan, "voided", void_reason=reason[:500]), _set_offer(plan, "held", "declined", next_attempt=True),
            ledger.transfer_put(transfer, plan_id=plan.plan_id),
            *ledger.balance_updates(plan.campaign_id, [transfer]),
        ])
