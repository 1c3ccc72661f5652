"""A donor's unsubscribe link: a page in a browser, and RFC 8058's one-click POST from a mail program.

GET shows a button and changes nothing (mail scanners open links); POST unsubscribes the donor from the
campaign's email. Any other link, altered or made up, gets one page that tells nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from functions.adapters import email as outbox_mail
from functions.adapters import ledger
from functions.adapters.aws import settings
from functions.adapters.secrets import derived_key
from functions.domain.campaigns import CAMPAIGN_ID_SHAPE
from functions.domain.email import bad_link_page, unsubscribe_page, unsubscribe_signature_ok
from functions.handlers.http import make_app

logger = Logger()
router = Router()
CampaignId = Annotated[str, Path(pattern=f"^{CAMPAIGN_ID_SHAPE}$")]
DonorRef = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,80}$")]
Signature = Annotated[str, Query(max_length=64)]
HTML = "text/html; charset=utf-8"


def _answer(campaign_id: str, donor: str, sig: str, unsubscribing: bool) -> Response:
    campaign = ledger.load_campaign(campaign_id)
    if campaign is None or not unsubscribe_signature_ok(derived_key("unsubscribe"), campaign_id, donor, sig):
        return Response(404, HTML, bad_link_page(settings().site_url))
    if unsubscribing:
        first = outbox_mail.unsubscribe(campaign_id, donor)
        logger.info("donor unsubscribed", extra={"campaign_id": campaign_id, "first_time": first})
    return Response(200, HTML, unsubscribe_page(campaign.name, unsubscribing, settings().site_url, campaign_id))


@router.get("/unsubscribe/<campaign_id>/<donor>", summary="A donor's unsubscribe page (signed link)",
            tags=["donations"])
def page(campaign_id: CampaignId, donor: DonorRef, sig: Signature = ""):  # an HTML Response
    return _answer(campaign_id, donor, sig, unsubscribing=False)


@router.post("/unsubscribe/<campaign_id>/<donor>", summary="Unsubscribe (RFC 8058 one-click, or the page's button)",
             tags=["donations"])
def one_click(campaign_id: CampaignId, donor: DonorRef, sig: Signature = ""):  # an HTML Response
    # The body ("List-Unsubscribe=One-Click") is not read: the signed link alone is the donor's say-so.
    return _answer(campaign_id, donor, sig, unsubscribing=True)


app = make_app(router)


@logger.inject_lambda_context
def handler(event: dict, context: Any) -> dict:
    return app.resolve(event, context)
