"""The mail service's tracking webhooks: each letter's status, from Lob's signed events."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from functions.adapters import ledger, mail
from functions.domain.letters import RETURNED, Tracked, lob_tracking
from functions.handlers.http import ApiError, make_app

logger = Logger()
router = Router()
Service = Annotated[str, Path(pattern=r"^[a-z]{1,20}$")]


def _ignored(reason: str) -> Response:
    # Acknowledged, so Lob does not retry an event that can never apply here (another deployment's, a
    # resent letter's earlier mailing, a scan after the journey's end).
    return Response(200, content_types.APPLICATION_JSON, {"status": "ignored", "reason": reason})


def receive(headers: dict[str, str], body: bytes) -> Response:
    try:
        event = mail.verify_webhook(headers, body, str(mail.lob_secret().get("webhook_secret") or ""))
    except mail.WebhookRejected as rejected:
        logger.warning("mail webhook rejected", extra={"reason": str(rejected)})
        raise ApiError(400, "bad_webhook", str(rejected), f"header.{mail.SIGNATURE}") from None
    tracked = lob_tracking(event)
    campaign = ledger.load_campaign(tracked.campaign_id) if isinstance(tracked, Tracked) else None
    if not isinstance(tracked, Tracked) or campaign is None:
        return _ignored(tracked if isinstance(tracked, str) else "not a letter of this deployment")
    cid, plan_id = tracked.campaign_id, tracked.plan_id
    moved = mail.advance(cid, plan_id, tracked.account, tracked.service_id, tracked.status)
    if moved and tracked.status != RETURNED:
        mail.settle_key(cid, plan_id, campaign.debtor_data_days)
    logger.info("letter tracked", extra={"campaign_id": cid, "plan_id": plan_id, "status": tracked.status,
                                         "moved": moved})
    return Response(200, content_types.APPLICATION_JSON, {"status": "recorded" if moved else "unchanged"})


@router.post("/webhooks/mail/<service>", summary="Mail service tracking events (signed)", tags=["letters"])
def tracking(service: Service):  # returns a Response, as the payment webhooks do
    if service != "lob":
        raise ApiError(404, "unknown_service", f"no mail service {service!r}", "path.service")
    event = router.current_event
    return receive(dict(event.headers or {}), (event.decoded_body or "").encode())


app = make_app(router)


@logger.inject_lambda_context
def handler(event: dict, context: Any) -> dict:
    return app.resolve(event, context)
