"""Offers, plans and approvals in DynamoDB: the PurchaseStore and ApprovalStore ports of functions/services.

Each step is one transaction whose conditions make it happen at most once: a proposal needs
the offer open and the pool sufficient; settling needs the plan approved; voiding needs it
proposed or approved; an approver counts once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from functions.adapters import dynamo, ledger, public_log, storage
from functions.adapters.aws import client, settings
from functions.adapters.keys import PLANNING, account_sk, campaign_pk, offer_sk, plan_sk
from functions.domain.duplicates import net_of, taken_from
from functions.domain.ledger import POOL, hold_transfer, post_transfer, void_transfer
from functions.domain.public_log import purchase_body
from functions.domain.purchase import Plan, campaign_of
from functions.domain.records import PlanRecord

if TYPE_CHECKING:
    from functions.domain.planner import Offer

LIVE = ("proposed", "approved")  # a plan whose funds are held


def offer_from_item(item: dict[str, Any]) -> Offer:
    # Here: only the purchase function (which plans) and the admin's approvals make Offers; the API, the
    # sweep and the letters stages read plans as items and never load the planner.
    from functions.domain.planner import Offer

    return Offer(**{f: item[f] for f in Offer.__dataclass_fields__ if f in item})


def plan_from_item(item: Mapping[str, Any]) -> Plan:
    return Plan(item["plan_id"], offer_from_item(item["offer"]), item.get("expires_at", ""))


def register_offer(offer: Offer, profile: dict[str, Any], expires: str | None = None,
                   duplicates: dict[str, Any] | None = None) -> bool:
    """False if an offer with that id exists already. `duplicates`: its accounts met before (an Overlap)."""
    item = {"pk": campaign_pk(offer.campaign_id), "sk": offer_sk(offer.offer_id), "kind": "offer",
            "status": "open", "registered_at": ledger.now_iso(), "profile": profile, "expires": expires,
            "duplicates": duplicates, **offer.__dict__}
    return dynamo.transact_once([dynamo.put(item)])


def load_offer(campaign_id: str, offer_id: str) -> dict[str, Any] | None:
    return dynamo.get(campaign_pk(campaign_id), offer_sk(offer_id))


def offers(campaign_id: str) -> list[dict[str, Any]]:
    return list(dynamo.query(campaign_pk(campaign_id), offer_sk("")))


def load_plan(plan_id: str) -> PlanRecord | None:
    return cast(PlanRecord | None, dynamo.get(campaign_pk(campaign_of(plan_id)), plan_sk(plan_id)))


def _lapsed(offer: dict[str, Any], today: str) -> bool:
    """An open offer whose seller's date has passed (an offer is good through its `expires` day)."""
    return offer["status"] == "open" and bool(offer.get("expires")) and offer["expires"] < today


def lapsed_offers(campaign_id: str, today: str) -> list[dict[str, Any]]:
    return [o for o in offers(campaign_id) if _lapsed(o, today)]


def all_plans(campaign_id: str) -> list[PlanRecord]:
    return [cast(PlanRecord, item) for item in dynamo.query(campaign_pk(campaign_id), plan_sk(""))]


def _set_offer(plan: Plan, old: str, new: str, *, next_attempt: bool = False) -> dict[str, Any]:
    expression = "SET #status = :new" + (", attempt = attempt + :one" if next_attempt else "")
    values = {":old": old, ":new": new, ":attempt": plan.offer.attempt} | ({":one": 1} if next_attempt else {})
    return dynamo.update(campaign_pk(plan.campaign_id), offer_sk(plan.offer.offer_id), expression, values,
                         condition="#status = :old AND attempt = :attempt", names={"#status": "status"})


def _finish_plan(plan: Plan, status: str, allowed: tuple[str, ...], **fields: Any) -> dict[str, Any]:
    return finish(plan.campaign_id, plan_sk(plan.plan_id), status, allowed, **fields)


def finish(campaign_id: str, sk: str, status: str, allowed: tuple[str, ...], **fields: Any) -> dict[str, Any]:
    """An update moving a plan or expense (`sk`) from one of the `allowed` statuses to `status`, once."""
    sets = "".join(f", {k} = :{k}" for k in fields)
    allowed_values = {f":was{i}": s for i, s in enumerate(allowed)}
    return dynamo.update(campaign_pk(campaign_id), sk,
                         f"SET #status = :status, finished_at = :at{sets}",
                         {":status": status, ":at": ledger.now_iso()} | allowed_values
                         | {f":{k}": v for k, v in fields.items()},
                         condition=f"#status IN ({', '.join(allowed_values)})", names={"#status": "status"})


class DynamoPurchaseStore:
    def pool_available(self, campaign_id: str) -> int:
        item = dynamo.get(campaign_pk(campaign_id), account_sk(POOL))
        return int(item["balance"]) if item else 0

    def open_offers(self, campaign_id: str) -> list[Offer]:
        """(The purchase check retires lapsed offers first: what is open is good today.) Each is valued net
        of the accounts that offers registered after it, and bought (or held) since, share with it."""
        found = offers(campaign_id)
        taken = taken_from(found, lambda item: item["status"] in ("held", "sold"))
        return [net_of(offer_from_item(i), taken.get(i["offer_id"], ())) for i in found if i["status"] == "open"]

    def retire_lapsed(self, campaign_id: str, today: str) -> list[str]:
        """Open offers whose seller's date has passed: their files (debtors' data in the clear) are
        deleted first, then they are marked lapsed, so a crash in between only repeats the delete."""
        retired = []
        for item in lapsed_offers(campaign_id, today):
            storage.delete_offer(item["object_key"])
            lapse = dynamo.update(campaign_pk(campaign_id), offer_sk(item["offer_id"]), "SET #status = :lapsed",
                                  {":lapsed": "lapsed", ":open": "open"}, condition="#status = :open",
                                  names={"#status": "status"})
            if dynamo.transact_once([lapse]):
                retired.append(item["offer_id"])
        return retired

    def plans(self, campaign_id: str, status: str) -> list[Plan]:
        return [plan_from_item(i) for i in all_plans(campaign_id) if i["status"] == status]

    def propose(self, plan: Plan, approved: bool) -> bool:
        transfer = hold_transfer(plan.campaign_id, plan.plan_id, plan.price_cents)
        plan_item = {"pk": campaign_pk(plan.campaign_id), "sk": plan_sk(plan.plan_id), "kind": "plan",
                     "plan_id": plan.plan_id, "status": "approved" if approved else "proposed",
                     "offer": plan.offer.__dict__, "price_cents": plan.price_cents, "held_at": ledger.now_iso(),
                     "expires_at": plan.expires_at}
        return dynamo.transact_once([
            dynamo.put(plan_item), _set_offer(plan, "open", "held"),
            ledger.transfer_put(transfer, plan_id=plan.plan_id),
            *ledger.balance_updates(plan.campaign_id, [transfer]),
        ])

    def settle(self, plan: Plan, portfolio_key: str, reference: str = "") -> bool:
        transfer = post_transfer(plan.campaign_id, plan.plan_id, plan.price_cents)
        offer = plan.offer
        record = purchase_body(plan.campaign_id, plan.plan_id, offer.seller, plan.price_cents, offer.face_value_cents,
                               offer.accounts, ledger.now_iso(), offer.accounts_digest)
        return public_log.transact_logged(plan.campaign_id, [
            _finish_plan(plan, "settled", ("approved",), portfolio_key=portfolio_key, wire_reference=reference),
            _set_offer(plan, "held", "sold"),
            ledger.transfer_put(transfer, plan_id=plan.plan_id),
            *ledger.balance_updates(plan.campaign_id, [transfer]),
            ledger.count(plan.campaign_id, purchases=1),
            dynamo.outbox("forgiveness", f"forgive#{plan.plan_id}",
                          {"campaign_id": plan.campaign_id, "plan_id": plan.plan_id, "portfolio_key": portfolio_key}),
        ], record)

    def void(self, plan: Plan, reason: str, reopen: bool) -> bool:
        """Release the hold. A refused sale retires the offer; a rejected or expired plan reopens it."""
        transfer = void_transfer(plan.campaign_id, plan.plan_id, plan.price_cents)
        voided = dynamo.transact_once([
            _finish_plan(plan, "voided", LIVE, void_reason=reason[:500]),
            _set_offer(plan, "held", "open" if reopen else "declined", next_attempt=True),
            ledger.transfer_put(transfer, plan_id=plan.plan_id),
            *ledger.balance_updates(plan.campaign_id, [transfer]),
        ])
        if not reopen:  # retired (again, on a redelivery: deleting twice is harmless)
            storage.delete_offer(plan.offer.object_key)
        return voided


def count_approver(campaign_id: str, sk: str, approver: str) -> dict[str, Any] | None:
    """One approver counted once on a proposed plan or expense (`sk`): the item after, or None if it is not
    proposed (closed, or no such item)."""
    try:
        updated = dynamo.retrying(lambda: client("dynamodb").update_item(  # the item may be in a transaction
            TableName=settings().table, Key=dynamo.key(campaign_pk(campaign_id), sk),
            UpdateExpression="ADD approvers :who", ConditionExpression="#status = :proposed",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":who": {"SS": [approver]}, ":proposed": {"S": "proposed"}},
            ReturnValues="ALL_NEW"))["Attributes"]
    except client("dynamodb").exceptions.ConditionalCheckFailedException:
        return None
    return dynamo.from_item(updated)


class DynamoApprovalStore:
    """The approvals' port (functions/services/ports.py): an approver counted once, a plan approved once."""

    def load_plan(self, plan_id: str) -> PlanRecord | None:
        return load_plan(plan_id)

    def add_approval(self, campaign_id: str, plan_id: str, approver: str) -> dict[str, Any] | None:
        return count_approver(campaign_id, plan_sk(plan_id), approver)

    def mark_approved(self, plan: dict[str, Any], approvers: list[str]) -> bool:
        approved = plan_from_item(plan)
        return dynamo.transact_once([
            _finish_plan(approved, "approved", ("proposed",), approved_by=approvers),
            dynamo.outbox("purchases", f"approved#{approved.plan_id}", {"campaign_id": approved.campaign_id,
                                                                        "reason": "approved"}),
        ])


def record_planning(campaign_id: str, explanation: list[dict[str, Any]], exact: bool) -> None:
    """The planner's last reasoning, for approvers to read (no personal data in it)."""
    client("dynamodb").put_item(TableName=settings().table, Item=dynamo.to_item({
        "pk": campaign_pk(campaign_id), "sk": PLANNING, "kind": "planning", "at": ledger.now_iso(),
        "exact": exact, "explanation": explanation}))


def last_planning(campaign_id: str) -> dict[str, Any] | None:
    return dynamo.get(campaign_pk(campaign_id), PLANNING)
