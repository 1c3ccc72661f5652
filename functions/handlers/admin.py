"""Admin API: approvers see plans and approve or reject them.

Behind API Gateway these routes use IAM authorization: only signed requests reach this
function, and the caller's ARN (requestContext.identity.userArn) is the approver. The
local emulator stands in with bearer tokens and sets the same field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from functions.adapters import ledger, purchases
from functions.domain.campaigns import CAMPAIGN_ID_SHAPE, Campaign
from functions.domain.purchase import campaign_of
from functions.domain.records import PlanRecord
from functions.handlers.http import ApiError, make_app, unknown_campaign
from functions.services import purchases as purchase_service

logger = Logger()
router = Router()
CampaignId = Annotated[str, Path(pattern=f"^{CAMPAIGN_ID_SHAPE}$")]
PlanId = Annotated[str, Path(pattern=rf"^{CAMPAIGN_ID_SHAPE}\.[A-Za-z0-9_-]{{1,100}}\.\d{{1,6}}$")]


def _caller() -> str:
    event = router.current_event  # a REST API's (make_app), so it carries the IAM caller's identity
    arn = event.request_context.identity.user_arn if isinstance(event, APIGatewayProxyEvent) else None
    if not arn:  # API Gateway's IAM authorizer always sets it; without it, nobody signed this request
        raise ApiError(401, "unauthenticated", "sign the request with AWS credentials (IAM)")
    return arn


def _campaign(campaign_id: str, caller: str) -> Campaign:
    campaign = ledger.load_campaign(campaign_id)
    if campaign is None:
        raise unknown_campaign(campaign_id)
    if caller not in campaign.approvers:
        raise ApiError(403, "not_an_approver", f"{caller} is not an approver of {campaign_id!r}")
    return campaign


def _plan_view(item: Mapping[str, Any], campaign: Campaign) -> dict[str, Any]:
    offer = item["offer"]
    return {"plan_id": item["plan_id"], "status": item["status"], "price_cents": item["price_cents"],
            "offer_id": offer["offer_id"], "seller": offer["seller"], "accounts": offer["accounts"],
            "face_value_cents": offer["face_value_cents"],
            "eligible_face_value_cents": offer.get("eligible_face_value_cents"),
            "approvals": sorted(item.get("approvers") or ()), "approvals_required":
                0 if not campaign.needs_approval(item["price_cents"]) else campaign.approvals_required,
            "expires_at": item.get("expires_at"), "void_reason": item.get("void_reason")}


@router.get("/admin/campaigns/<campaign_id>/plans", summary="Purchase plans and why (IAM)", tags=["admin"])
def list_plans(campaign_id: CampaignId) -> dict:
    campaign = _campaign(campaign_id, _caller())
    return {"plans": [_plan_view(i, campaign) for i in purchases.all_plans(campaign_id)],
            "last_planning": purchases.last_planning(campaign_id)}


def _live_plan(plan_id: str, caller: str) -> tuple[Campaign, PlanRecord]:
    campaign = _campaign(campaign_of(plan_id), caller)
    item = purchases.load_plan(plan_id)
    if item is None:
        raise ApiError(404, "unknown_plan", f"no plan {plan_id!r}", "path.plan_id")
    if item["status"] != "proposed":
        raise ApiError(409, "plan_closed", f"plan {plan_id} is {item['status']}", "path.plan_id")
    return campaign, item


@router.post("/admin/plans/<plan_id>/approve", summary="Approve a proposed plan (IAM)", tags=["admin"])
def approve(plan_id: PlanId) -> dict:
    caller = _caller()
    campaign, _ = _live_plan(plan_id, caller)
    item = purchase_service.approve(purchases.DynamoApprovalStore(), campaign, plan_id, caller)
    logger.info("plan approval", extra={"plan_id": plan_id, "status": item.get("status")})
    return _plan_view(item, campaign)


@router.post("/admin/plans/<plan_id>/reject", summary="Reject a proposed plan: its funds return (IAM)",
             tags=["admin"])
def reject(plan_id: PlanId) -> dict:
    caller = _caller()
    campaign, item = _live_plan(plan_id, caller)
    plan = purchases.plan_from_item(item)
    if not purchases.DynamoPurchaseStore().void(plan, f"rejected by {caller}", reopen=True):
        raise ApiError(409, "plan_closed", f"plan {plan_id} changed meanwhile", "path.plan_id")
    logger.info("plan rejected", extra={"plan_id": plan_id})
    return _plan_view(purchases.load_plan(plan_id) or item, campaign)


app = make_app(router)  # PlanId's pattern is the format purchase.plan_id_for makes


@logger.inject_lambda_context
def handler(event: dict, context: Any) -> dict:
    return app.resolve(event, context)
