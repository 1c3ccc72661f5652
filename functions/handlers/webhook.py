"""Payment webhooks, and the sandbox provider's checkout page that fires them."""

from __future__ import annotations

from html import escape
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from functions.adapters import ledger, receipt_links
from functions.adapters.aws import settings
from functions.adapters.payments import (
    SIGNATURE_HEADER,
    ProviderUnavailable,
    SandboxPayments,
    WebhookRejected,
)
from functions.adapters.providers import PaymentProvider, UnknownProvider, provider
from functions.domain.money import format_cents
from functions.domain.pages import site_page
from functions.handlers.http import ApiError, make_app
from functions.services import payments as payment_service

logger = Logger()
router = Router()
Segment = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,80}$")]
# Every other outcome is a 200: applied, or applied before. A donation only its own provider may touch.
OUTCOME_STATUS: dict[payment_service.PaymentOutcome, int] = {"wrong_provider": 403, "mismatch": 422}
SIGNATURE_HEADERS = {"sandbox": SIGNATURE_HEADER, "stripe": "Stripe-Signature"}


def payments(provider_key: str) -> PaymentProvider:
    try:
        return provider(provider_key)
    except UnknownProvider as unknown:
        raise ApiError(404, "unknown_provider", str(unknown), "path.provider") from None


def receive(provider_key: str, headers: dict[str, str], body: bytes) -> Response:
    payments_provider = payments(provider_key)
    field = f"header.{SIGNATURE_HEADERS[provider_key]}"
    if not all(v.isascii() for k, v in headers.items() if f"header.{k}".lower() == field.lower()):
        # No signature is; and hmac.compare_digest raises TypeError on such a str (a 5xx).
        raise ApiError(400, "bad_webhook", "the signature header is not ASCII", field)
    try:
        event = payments_provider.verify(headers, body)
    except WebhookRejected as rejected:
        logger.warning("webhook rejected", extra={"provider": provider_key, "reason": str(rejected)})
        raise ApiError(400, "bad_webhook", str(rejected), field) from None
    except ProviderUnavailable as unavailable:
        raise ApiError(503, "provider_unavailable", str(unavailable)) from None
    if event is None:
        return Response(200, content_types.APPLICATION_JSON, {"status": "ignored"})
    outcome = payment_service.apply_payment_event(ledger.STORE, event)
    gift = event.gift
    logger.info("webhook applied", extra={"provider": provider_key, "event_id": gift.event_id, "outcome": outcome,
                                          "donation_id": gift.donation_id})
    if outcome == "unknown":  # not a pledge of this deployment (another one sharing the account): never retried
        return Response(200, content_types.APPLICATION_JSON, {"status": "ignored"})
    return Response(OUTCOME_STATUS.get(outcome, 200), content_types.APPLICATION_JSON,
                    {"status": outcome, "donation_id": gift.donation_id})


@router.post("/webhooks/<provider>", summary="Payment provider events (signed)", tags=["payments"])
def webhook(provider: Segment):  # returns a Response: Powertools can't put a bare Response in OpenAPI
    event = router.current_event
    return receive(provider, dict(event.headers or {}), (event.decoded_body or "").encode())


def _pending(campaign_id: str, donation_id: str) -> dict[str, Any]:
    donation = ledger.load_donation(campaign_id, donation_id)
    if donation is None:
        raise ApiError(404, "unknown_donation", "no such donation", "path.donation_id")
    if donation["provider"] != "sandbox":
        raise ApiError(403, "wrong_provider", f"this donation is paid through {donation['provider']}, not the sandbox",
                       "path.donation_id")
    return donation


def _page(title: str, body: str, campaign_id: str) -> Response:
    return Response(200, "text/html; charset=utf-8", site_page(title, body, settings().site_url, campaign_id))


def _back_link(campaign_id: str) -> str:
    """As a hosted checkout's success URL does: back to the campaign's site."""
    return f'<p><a href="{escape(settings().site_url)}?campaign={escape(campaign_id)}">Back to the campaign</a></p>'


@router.get("/sandbox/checkout/<campaign_id>/<donation_id>", summary="Sandbox checkout page", tags=["sandbox"])
def checkout_page(campaign_id: Segment, donation_id: Segment):  # an HTML Response
    payments("sandbox")
    donation = _pending(campaign_id, donation_id)
    amount = format_cents(donation["amount_cents"], donation["currency"])
    body = (f'<p class="lede">Pay {amount} to campaign {escape(campaign_id)}.</p>'
            '<p class="note">This is the sandbox: no card is asked for and no real money moves.</p>'
            f"<form method=post><button>Pay {amount}</button></form>{_back_link(campaign_id)}")
    return _page("Sandbox checkout", body, campaign_id)


@router.post("/sandbox/checkout/<campaign_id>/<donation_id>", summary="Complete a sandbox payment", tags=["sandbox"])
def checkout(campaign_id: Segment, donation_id: Segment):  # a Response, as the webhook's
    """Pays the pledge and delivers the provider's signed webhook, as a hosted checkout would; a
    browser (asking for HTML) gets a thank-you page instead of the webhook's answer."""
    sandbox = payments("sandbox")
    assert isinstance(sandbox, SandboxPayments)
    headers, body = sandbox.payment_completed(_pending(campaign_id, donation_id))
    answer = receive("sandbox", headers, body)
    accept = (router.current_event.headers or {}).get("accept") or ""  # Powertools v3: case-insensitive
    if "text/html" not in accept or answer.status_code != 200:
        return answer
    receipt = escape(receipt_links.receipt_url(campaign_id, donation_id))
    page = (f'<p class="lede">Your gift is paid (sandbox, no real money moved).</p>'
            f'<p><a href="{receipt}">Your receipt</a>: keep this link, it is yours alone.</p>{_back_link(campaign_id)}')
    return _page("Thank you", page, campaign_id)


app = make_app(router)


@logger.inject_lambda_context
def handler(event: dict, context: Any) -> dict:
    return app.resolve(event, context)
