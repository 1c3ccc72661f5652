"""Admin API: approvers see plans and expenses, and approve or reject them.

Behind API Gateway these routes use IAM authorization: only signed requests reach this
function, and the caller's ARN (requestContext.identity.userArn) is the approver. The
local emulator stands in with bearer tokens and sets the same field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from functions.adapters import ledger, offline, purchases
from functions.domain.campaigns import CAMPAIGN_ID_SHAPE, Campaign
from functions.domain.offline import EXPENSE_ID_SHAPE, Expense
from functions.domain.purchase import campaign_of
from functions.handlers.http import ApiError, make_app, unknown_campaign
from functions.services.ports import ApprovalStore

logger = Logger()
router = Router()
CampaignId = Annotated[str, Path(pattern=f"^{CAMPAIGN_ID_SHAPE}$")]
PlanId = Annotated[str, Path(pattern=rf"^{CAMPAIGN_ID_SHAPE}\.[A-Za-z0-9_-]{{1,100}}\.\d{{1,6}}$")]
ExpenseId = Annotated[str, Path(pattern=f"^{EXPENSE_ID_SHAPE}$")]


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


def _live(what: str, item_id: str, caller: str) -> tuple[Campaign, Mapping[str, Any]]:
    """A proposed plan or expense (`what`) the caller may decide, with its campaign."""
    campaign = _campaign(campaign_of(item_id), caller)
    item = purchases.load_plan(item_id) if what == "plan" else offline.load(campaign.campaign_id, item_id)
    if item is None:
        raise ApiError(404, f"unknown_{what}", f"no {what} {item_id!r}", f"path.{what}_id")
    if item["status"] != "proposed":
        raise ApiError(409, f"{what}_closed", f"{what} {item_id} is {item['status']}", f"path.{what}_id")
    return campaign, item


def _decided(what: str, item_id: str,
             decide: Callable[[Campaign, Mapping[str, Any], str], Mapping[str, Any] | None],
             view: Callable[[Mapping[str, Any], Campaign], dict[str, Any]]) -> dict:
    """Approve or reject a proposed plan or expense (`what`) as the signed caller; None from `decide`: it
    changed meanwhile."""
    caller = _caller()
    campaign, item = _live(what, item_id, caller)
    after = decide(campaign, item, caller)
    if after is None:
        raise ApiError(409, f"{what}_closed", f"{what} {item_id} changed meanwhile", f"path.{what}_id")
    logger.info(f"{what} decided", extra={f"{what}_id": item_id, "status": after.get("status")})
    return view(after, campaign)


@router.post("/admin/plans/<plan_id>/approve", summary="Approve a proposed plan (IAM)", tags=["admin"])
def approve(plan_id: PlanId) -> dict:
    return _approved("plan", plan_id, purchases.DynamoApprovalStore(), _plan_view)


def _approved(what: str, item_id: str, store: ApprovalStore,
              view: Callable[[Mapping[str, Any], Campaign], dict[str, Any]]) -> dict:
    """Count the signed caller's approval of a proposed plan or expense (one approval path for both)."""
    # On use: the purchase service brings the planner, which only the approvals (not the listings) touch.
    from functions.services import purchases as purchase_service

    return _decided(what, item_id, lambda campaign, _, caller: purchase_service.approve(
        store, campaign, item_id, caller), view)


@router.post("/admin/plans/<plan_id>/reject", summary="Reject a proposed plan: its funds return (IAM)",
             tags=["admin"])
def reject(plan_id: PlanId) -> dict:
    return _rejected("plan", plan_id, lambda item, why: purchases.DynamoPurchaseStore().void(
        purchases.plan_from_item(item), why, reopen=True), lambda _: purchases.load_plan(plan_id), _plan_view)


def _rejected(what: str, item_id: str, void: Callable[[Mapping[str, Any], str], bool],
              reload: Callable[[Campaign], Mapping[str, Any] | None],
              view: Callable[[Mapping[str, Any], Campaign], dict[str, Any]]) -> dict:
    """Reject a proposed plan or expense: its hold voided (the funds back in the pool), once."""
    def decide(campaign: Campaign, item: Mapping[str, Any], caller: str) -> Mapping[str, Any] | None:
        return (reload(campaign) or item) if void(item, f"rejected by {caller}") else None

    return _decided(what, item_id, decide, view)


def _expense_view(item: Mapping[str, Any], campaign: Campaign) -> dict[str, Any]:
    return {k: item.get(k) for k in ("expense_id", "status", "amount_cents", "payee", "purpose", "receipt_sha256",
                                     "expires_at", "void_reason")} | {
        "approvals": sorted(item.get("approvers") or ()),
        "approvals_required": campaign.approvals_required if campaign.needs_approval(item["amount_cents"]) else 0}


@router.get("/admin/campaigns/<campaign_id>/expenses", summary="Expenses held, paid or voided (IAM)",
            tags=["admin"])
def list_expenses(campaign_id: CampaignId) -> dict:
    campaign = _campaign(campaign_id, _caller())
    return {"expenses": [_expense_view(i, campaign) for i in offline.all_expenses(campaign_id)]}


@router.post("/admin/expenses/<expense_id>/approve", summary="Approve a proposed expense (IAM)", tags=["admin"])
def approve_expense(expense_id: ExpenseId) -> dict:
    return _approved("expense", expense_id, offline.ExpenseApprovalStore(), _expense_view)


@router.post("/admin/expenses/<expense_id>/reject", summary="Reject a proposed expense: its funds return (IAM)",
             tags=["admin"])
def reject_expense(expense_id: ExpenseId) -> dict:
    return _rejected("expense", expense_id, lambda item, why: offline.void(Expense.from_dict(item), why),
                     lambda campaign: offline.load(campaign.campaign_id, expense_id), _expense_view)


app = make_app(router)  # PlanId's pattern is the format purchase.plan_id_for makes


@logger.inject_lambda_context
def handler(event: dict, context: Any) -> dict:
    return app.resolve(event, context)
