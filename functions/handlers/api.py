"""Public API: take a donation pledge, show a campaign's totals, describe itself."""

from __future__ import annotations

import datetime as dt
import time
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query

from functions.adapters import clock, forgiveness, ledger, pledges, public_log, purchases, receipt_links
from functions.adapters.aws import client, settings
from functions.adapters.providers import ProviderUnavailable, UnknownProvider, provider
from functions.domain.campaigns import CAMPAIGN_ID_SHAPE, Campaign
from functions.domain.donations import (
    DonationRequest,
    DonationResponse,
    fees_covered,
    in_campaign_currency,
    limit_problem,
)
from functions.domain.forgiveness import code_hash, normalize_code
from functions.domain.purchase import purchase_record
from functions.domain.verify_page import forgiven_page, miss_page
from functions.handlers import receipts
from functions.handlers.http import ApiError, make_app, unknown_campaign

logger = Logger()
router = Router()
LOG_PAGE = 500  # entries per page of the public log
CampaignId = Annotated[str, Path(pattern=f"^{CAMPAIGN_ID_SHAPE}$", description="Campaign id")]
IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=255,
                                       description="Any unique string; a retry with the same key and body replays")]


CAMPAIGN_TTL_S = 30  # how long a container trusts the campaign it read: a changed limit shows within this
_campaigns: dict[str, tuple[float, Any, Campaign]] = {}


def _campaign(campaign_id: str) -> Campaign | None:
    """The campaign as read in the last CAMPAIGN_TTL_S seconds: a pledge need not read it every time.
    Read through the same client only, so a rewired local run never keeps another deployment's."""
    cached, dynamodb = _campaigns.get(campaign_id), client("dynamodb")
    if cached and cached[1] is dynamodb and time.monotonic() - cached[0] < CAMPAIGN_TTL_S:
        return cached[2]
    campaign = ledger.load_campaign(campaign_id)
    if campaign is not None:
        _campaigns[campaign_id] = (time.monotonic(), dynamodb, campaign)
    return campaign


@router.post("/campaigns/<campaign_id>/donations", summary="Pledge a donation", tags=["donations"],
             responses={201: {"description": "Pending donation with its checkout link"}})
def create_donation(campaign_id: CampaignId, body: DonationRequest, idempotency_key: IdempotencyKey
                    ) -> Response[DonationResponse]:
    """Record a pending donation and open its checkout, once per (campaign, Idempotency-Key) (pledges.py).

    The donation is written first, in one conditional put that is also the key's record; then its checkout is
    opened under the provider's idempotency key for the pledge, with the same parameters every time (its
    expiry counted from the pledge), so a retry or a twin within pledges.REPLAY_S gets the first answer,
    whatever happened since: the provider replays its own first answer, and opens no other checkout. Later,
    the key no longer replays (a 409): the provider may have forgotten its key by then. If the provider
    fails, the pledge stays pending with no checkout (nobody can pay it), and a retry opens it.
    """
    campaign = _campaign(campaign_id)
    if campaign is None:
        raise unknown_campaign(campaign_id)
    body = in_campaign_currency(body, campaign)
    if problem := limit_problem(body, campaign):
        raise ApiError(422, "invalid_request", problem[1], problem[0])
    pledge = pledges.Pledge.of(campaign_id, idempotency_key, body.model_dump())
    donation_id = pledge.donation_id
    covered = fees_covered(body, campaign)
    charged = body.model_copy(update={"amount_cents": body.amount_cents + covered})
    try:  # before anything is stored: a provider this deployment lacks leaves no pledge behind
        payments = provider(campaign.payments)
    except UnknownProvider as error:
        raise _unavailable(campaign_id, error) from None
    pledged_at = ledger.now_iso()
    first = ledger.create_donation(campaign_id, donation_id, charged.amount_cents, campaign.currency, payments.name,
                                   body.donor.model_dump(), body.anonymous, body.frequency, covered,
                                   request=pledge.body_hash, created_at=pledged_at)
    if first is None:
        logger.info("donation pledged", extra={"campaign_id": campaign_id, "donation_id": donation_id})
    else:  # a retry, or a twin that lost the race: answered as the first was
        try:
            pledges.check_replay(pledge, first, clock.now())
        except pledges.KeyReused:
            raise ApiError(422, "idempotency_key_reused", "this Idempotency-Key was used with a different body",
                           "header.Idempotency-Key") from None
        except pledges.KeyExpired:
            raise ApiError(409, "idempotency_key_expired", "this Idempotency-Key's pledge was made over "
                           f"{pledges.REPLAY_S // 3600} hours ago and no longer replays; a new gift needs a new key",
                           "header.Idempotency-Key") from None
        # As it was pledged, should the campaign's fee estimate or provider have changed since.
        pledged_at, covered = first["created_at"], int(first.get("covered_cents", 0))
        charged = charged.model_copy(update={"amount_cents": int(first["amount_cents"])})
    try:
        if first is not None and first["provider"] != payments.name:
            payments = provider(first["provider"])
        checkout_url = payments.start_checkout(
            campaign, donation_id, charged, covered, once=pledge.checkout_key,
            pledged_at=int(dt.datetime.fromisoformat(pledged_at).timestamp()))
    except (ProviderUnavailable, UnknownProvider) as error:
        raise _unavailable(campaign_id, error) from None
    answer: Any = DonationResponse(donation_id=donation_id, status="pending", checkout_url=checkout_url,
                                   receipt_url=receipt_links.receipt_url(campaign_id, donation_id),
                                   amount_cents=charged.amount_cents, covered_fees_cents=covered).model_dump()
    return Response(status_code=201, body=answer, content_type="application/json")


def _unavailable(campaign_id: str, error: Exception) -> ApiError:
    # The error's kind, never its text: a provider's message may quote the donor (an email, a name).
    logger.warning("checkout not opened", extra={"campaign_id": campaign_id, "reason": type(error).__name__})
    return ApiError(503, "payments_unavailable", "the payment provider is unavailable; retry shortly",
                    "path.campaign_id")


@router.get("/campaigns/<campaign_id>", summary="A campaign's public totals", tags=["campaigns"])
def campaign_totals(campaign_id: CampaignId) -> dict:
    figures = ledger.public_figures(campaign_id)
    if figures is None:
        raise unknown_campaign(campaign_id)
    return figures


@router.get("/campaigns/<campaign_id>/log", summary="The public log: hash-chained purchases and forgiveness",
            tags=["campaigns"])
def campaign_log(campaign_id: CampaignId, after: Annotated[int, Query(ge=0, description="Last seq already read")] = 0,
                 limit: Annotated[int, Query(ge=1, le=LOG_PAGE)] = LOG_PAGE) -> dict:
    """Entries in order after `after`; `next` is the path of the following page (null at the end).
    `jubilee verify-log` recomputes the chain and the totals from these alone."""
    if ledger.load_campaign(campaign_id) is None:
        raise unknown_campaign(campaign_id)
    entries = public_log.entries(campaign_id, after, limit)
    last = entries[-1]["seq"] if len(entries) == limit else None
    return {"entries": entries, "next": f"/campaigns/{campaign_id}/log?after={last}&limit={limit}" if last else None}


@router.get("/campaigns/<campaign_id>/purchases", summary="What the campaign bought (redacted)", tags=["campaigns"])
def campaign_purchases(campaign_id: CampaignId) -> dict:
    if ledger.load_campaign(campaign_id) is None:
        raise unknown_campaign(campaign_id)
    profiles = {o["offer_id"]: o.get("profile") or {} for o in purchases.offers(campaign_id)}
    return {"purchases": [purchase_record(plan, profiles.get(plan["offer"]["offer_id"], {}))
                          for plan in purchases.all_plans(campaign_id) if plan["status"] == "settled"]}


@router.get("/verify/<code>", summary="Check a forgiveness letter by its code", tags=["debtors"])
def verify_letter(code: Annotated[str, Path(max_length=64)]):  # a dict, or a page's Response (see webhook.py)
    """Creditor, amount and date of a forgiven debt: no name, no address. One answer for every miss.

    Codes are stored only as hashes, and a miss costs the same lookup as a hit (a malformed code
    is hashed and looked up too), so answers and their timing say nothing about codes nearby.
    """
    normalized = normalize_code(code)
    record = forgiveness.verification(code_hash(normalized or code.encode()))
    if "text/html" in ((router.current_event.headers or {}).get("accept") or ""):
        return verify_html(record if normalized else None)  # a person's browser: a page to read
    if normalized is None or record is None:
        raise ApiError(404, "no_such_letter", "no forgiven debt has this code")
    return {"creditor": record["original_creditor"], "amount_forgiven_cents": record["face_value_cents"],
            "forgiven_on": record["forgiven_at"][:10], "campaign_id": record["campaign_id"]}


def verify_html(record: dict | None) -> Response:
    site = settings().site_url
    # A miss reads a campaign too (one that is never there): hits and misses cost the same lookups.
    campaign = ledger.load_campaign(record["campaign_id"] if record else "-")
    if record is None or campaign is None:
        return Response(404, "text/html; charset=utf-8", miss_page(site))
    return Response(200, "text/html; charset=utf-8", forgiven_page(
        campaign.name, record["original_creditor"], int(record["face_value_cents"]), campaign.currency,
        record["forgiven_at"][:10], f"{site.rstrip('/')}/?campaign={campaign.campaign_id}"))


@router.get("/openapi.json", summary="This API's OpenAPI description", include_in_schema=False)
def openapi():  # a Response (see webhook.py)
    from functions.handlers import mail_webhook, webhook  # on use: the pledge path needs neither

    spec = make_app(router, receipts.router, webhook.router, mail_webhook.router).get_openapi_json_schema(
        title="Jubilee", version="0.1.0", description="Pooled donations that buy and forgive debt.")
    return Response(status_code=200, body=spec, content_type="application/json")


app = make_app(router, receipts.router)


@logger.inject_lambda_context
def handler(event: dict, context: Any) -> dict:
    return app.resolve(event, context)
