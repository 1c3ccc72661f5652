"""Public API: take a donation pledge, show a campaign's totals, describe itself."""

from __future__ import annotations

import secrets
from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Path
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from functions.adapters import ledger
from functions.adapters.aws import client, settings
from functions.adapters.providers import ProviderUnavailable, UnknownProvider, provider
from functions.domain.campaigns import Campaign
from functions.domain.donations import DonationRequest, DonationResponse, limit_problem
from functions.handlers import webhook
from functions.handlers.http import ApiError, make_app

logger = Logger()
router = Router()
CampaignId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description="Campaign id")]
IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=255,
                                       description="Any unique string; a retry with the same key and body replays")]


def _pledge(pledge: dict[str, Any]) -> dict[str, Any]:
    """Record a pending donation and open its checkout. Runs once per (campaign, Idempotency-Key).

    The checkout is opened first: if the provider fails, nothing is stored and a retry with
    the same key starts afresh (Powertools drops the in-progress record on an exception).
    """
    request = DonationRequest.model_validate(pledge["request"])
    campaign = Campaign.from_dict(pledge["campaign"])
    campaign_id, donation_id = campaign.campaign_id, f"don_{secrets.token_hex(10)}"
    payments = provider(campaign.payments)
    checkout_url = payments.start_checkout(campaign, donation_id, request)
    ledger.create_donation(campaign_id, donation_id, request.amount_cents, request.currency, payments.name,
                           checkout_url, request.donor.model_dump(), request.anonymous, request.frequency)
    logger.info("donation pledged", extra={"campaign_id": campaign_id, "donation_id": donation_id})
    return DonationResponse(donation_id=donation_id, status="pending", checkout_url=checkout_url).model_dump()


@cache
def _idempotency() -> tuple[Any, IdempotencyConfig]:
    config = IdempotencyConfig(event_key_jmespath="[campaign_id, idempotency_key]",
                               payload_validation_jmespath="request", expires_after_seconds=24 * 3600)
    store = DynamoDBPersistenceLayer(table_name=settings().idempotency_table, boto3_client=client("dynamodb"))
    return idempotent_function(_pledge, data_keyword_argument="pledge", persistence_store=store, config=config), config


@router.post("/campaigns/<campaign_id>/donations", summary="Pledge a donation", tags=["donations"],
             responses={201: {"description": "Pending donation with its checkout link"}})
def create_donation(campaign_id: CampaignId, body: DonationRequest, idempotency_key: IdempotencyKey
                    ) -> Response[DonationResponse]:
    campaign = ledger.load_campaign(campaign_id)
    if campaign is None:
        raise ApiError(404, "unknown_campaign", f"no campaign {campaign_id!r}", "path.campaign_id")
    if problem := limit_problem(body, campaign):
        raise ApiError(422, "invalid_request", problem[1], problem[0])
    pledge_once, _ = _idempotency()
    pledge = {"campaign_id": campaign_id, "idempotency_key": idempotency_key, "request": body.model_dump(),
              "campaign": campaign.to_dict()}
    try:
        answer = pledge_once(pledge=pledge)
    except IdempotencyValidationError:
        raise ApiError(422, "idempotency_key_reused", "this Idempotency-Key was used with a different body",
                       "header.Idempotency-Key") from None
    except (ProviderUnavailable, UnknownProvider) as error:
        logger.warning("checkout not opened", extra={"campaign_id": campaign_id, "reason": str(error)})
        raise ApiError(503, "payments_unavailable", "the payment provider is unavailable; retry shortly",
                       "path.campaign_id") from None
    except IdempotencyAlreadyInProgressError:
        raise ApiError(409, "in_progress", "a request with this Idempotency-Key is still running; retry shortly",
                       "header.Idempotency-Key") from None
    return Response(status_code=201, body=answer, content_type="application/json")


@router.get("/campaigns/<campaign_id>", summary="A campaign's public totals", tags=["campaigns"])
def campaign_totals(campaign_id: CampaignId) -> dict:
    figures = ledger.public_figures(campaign_id)
    if figures is None:
        raise ApiError(404, "unknown_campaign", f"no campaign {campaign_id!r}", "path.campaign_id")
    return figures


@router.get("/openapi.json", summary="This API's OpenAPI description", include_in_schema=False)
def openapi():  # noqa: ANN201
    spec = make_app(router, webhook.router).get_openapi_json_schema(
        title="Jubilee", version="0.1.0", description="Pooled donations that buy and forgive debt.")
    return Response(status_code=200, body=spec, content_type="application/json")


app = make_app(router)


@logger.inject_lambda_context
def handler(event: dict, context: Any) -> dict:
    _idempotency()[1].register_lambda_context(context)  # lets an interrupted pledge expire with the invocation
    return app.resolve(event, context)
