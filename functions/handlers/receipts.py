"""Donors' signed links: a gift's receipt, a year's statement (JSON, a printable page, or a PDF), and
managing a monthly gift (Stripe's customer portal, or the sandbox's own stop button)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from functions.adapters import donors, ledger, receipt_links
from functions.adapters.aws import settings
from functions.adapters.payments import ProviderUnavailable, SandboxPayments
from functions.adapters.providers import UnknownProvider, provider
from functions.domain.campaigns import CAMPAIGN_ID_SHAPE, Campaign
from functions.domain.receipt_page import document_page, message_page
from functions.domain.receipts import (
    Document,
    gift_document,
    receipt,
    statement_answer,
    statement_document,
    year_end_statement,
)
from functions.handlers.http import ApiError

logger = Logger()
router = Router()
CampaignId = Annotated[str, Path(pattern=f"^{CAMPAIGN_ID_SHAPE}$", description="Campaign id")]
DonationId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,120}$")]
Signature = Annotated[str, Query(max_length=64, description="The link's signature")]
Format = Annotated[Literal["json", "html", "pdf"] | None,
                   Query(description="json, html or pdf; without it, a page for browsers and JSON for the rest")]
HTML = "text/html; charset=utf-8"


def _form(format: str | None) -> str:
    accept = (router.current_event.headers or {}).get("accept") or ""  # Powertools v3: case-insensitive
    return format or ("html" if "text/html" in accept else "json")


def _refuse(form: str, status: int, error: str, message: str, field: str | None = None) -> Response:
    """A link that does not work: a page for a person, the API's error for the rest."""
    if form != "html":
        raise ApiError(status, error, message, field)
    return Response(status, HTML, message_page("This link does not work", message, settings().site_url))


def _site(campaign_id: str = "") -> str:
    return f"{settings().site_url}?campaign={campaign_id}" if campaign_id else settings().site_url


def _answer(form: str, answer: dict[str, Any], doc: Document, links: dict[str, tuple[str, str]], name: str,
            campaign_id: str) -> Any:
    """`links`: name -> (what a page calls it, URL); an API client gets them by name."""
    if form == "pdf":
        from functions.adapters.letters_pdf import document_pdf  # on use: the API's other routes never draw a PDF

        return Response(200, "application/pdf", document_pdf(doc.lines(), doc.title),
                        headers={"Content-Disposition": f'inline; filename="{name}.pdf"'})
    if form == "html":
        return Response(200, HTML, document_page(doc, list(links.values()), settings().site_url, campaign_id))
    return answer | {"links": {key: url for key, (_, url) in links.items()}}


@router.get("/receipts/<campaign_id>/<donation_id>", summary="A donor's receipt (signed link)", tags=["donations"])
def donor_receipt(campaign_id: CampaignId, donation_id: DonationId, sig: Signature = "",
                  format: Format = None):  # a dict, or a page's or PDF's Response
    form = _form(format)
    if not receipt_links.valid(sig, "receipt", campaign_id, donation_id):
        return _refuse(form, 403, "bad_signature", "this link is not signed for this receipt; use the link you "
                                                   "were given", "query.sig")
    donation, campaign = ledger.load_donation(campaign_id, donation_id), ledger.load_campaign(campaign_id)
    if form == "html" and donation is not None and donation["status"] == "pending":
        # Where a hosted checkout sends the donor back: the payment's webhook may be a moment behind.
        return Response(200, HTML, message_page("Thank you", "Your payment is being confirmed: reload this page in a "
                                                             "moment to see your receipt.", settings().site_url,
                                                campaign_id))
    if donation is None or campaign is None or donation["status"] != "confirmed":
        return _refuse(form, 404, "no_receipt", "no receipt at this link yet: the gift is not paid")
    later = ledger.installments(campaign_id, donation_id) if donation.get("frequency") == "monthly" else []
    answer = receipt(donation | {"donor": donors.opened(donation) or {}}, campaign.to_dict(), later,
                     ledger.public_figures(campaign_id))
    url = receipt_links.receipt_url(campaign_id, donation_id)
    links = {"pdf": ("Download this receipt as a PDF", f"{url}&format=pdf")}
    if donation.get("donor_ref"):
        year = int(answer["date"][:4])
        links["statement"] = (f"All your gifts in {year}",
                              receipt_links.statement_url(campaign_id, donation["donor_ref"], year))
    if donation.get("frequency") == "monthly" and not donation.get("ended_at"):
        links["manage"] = ("Change or stop your monthly gift", receipt_links.manage_url(campaign_id, donation_id))
    links["campaign"] = ("Back to the campaign", _site(campaign_id))
    return _answer(form, answer, gift_document(answer, campaign.to_dict()), links, f"receipt-{donation_id}",
                   campaign_id)


@router.get("/statements/<campaign_id>/<donor_ref>/<year>", summary="A donor's gifts in a year (signed link)",
            tags=["donations"])
def donor_statement(campaign_id: CampaignId, donor_ref: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,140}$")],
                    year: Annotated[int, Path(ge=2000, le=9999)], sig: Signature = "", format: Format = None):
    """Every confirmed gift of one donor (as the campaign knows them: by email, or by their donation when
    they gave none) in a calendar year, net of refunds: the statement a tax preparer asks for."""
    form = _form(format)
    if not receipt_links.valid(sig, "statement", campaign_id, donor_ref, str(year)):
        return _refuse(form, 403, "bad_signature", "this link is not signed for this statement; use the link you "
                                                   "were given", "query.sig")
    campaign = ledger.load_campaign(campaign_id)
    statement = year_end_statement(donors.donations_of(campaign_id, donor_ref) if campaign else [], "", year)
    if campaign is None or not statement.lines:
        return _refuse(form, 404, "no_statement", f"no gifts at this link in {year}")
    answer = statement_answer(statement, campaign.to_dict(), ledger.public_figures(campaign_id))
    url = receipt_links.statement_url(campaign_id, donor_ref, year)
    links = {"pdf": ("Download this statement as a PDF", f"{url}&format=pdf"),
             "campaign": ("Back to the campaign", _site(campaign_id))}
    return _answer(form, answer, statement_document(answer, campaign.to_dict()), links, f"gifts-{year}", campaign_id)


def _monthly(campaign_id: str, donation_id: str, sig: str, form: str) -> tuple[dict[str, Any], Campaign] | Response:
    if not receipt_links.valid(sig, "manage", campaign_id, donation_id):
        return _refuse(form, 403, "bad_signature", "this link is not signed for this gift; use the link on your "
                                                   "receipt", "query.sig")
    pledge, campaign = ledger.load_donation(campaign_id, donation_id), ledger.load_campaign(campaign_id)
    if pledge is None or campaign is None or pledge["status"] != "confirmed" or pledge.get("frequency") != "monthly":
        return _refuse(form, 404, "no_monthly_gift", "no monthly gift at this link")
    return pledge, campaign


def _stopped(campaign_id: str) -> Response:
    return Response(200, HTML, message_page("Your monthly gift is stopped",
                                            "No further payments will be taken. Thank you for what you gave.",
                                            settings().site_url, campaign_id))


@router.get("/receipts/<campaign_id>/<donation_id>/manage", summary="Change or stop a monthly gift (signed link)",
            tags=["donations"])
def manage_gift(campaign_id: CampaignId, donation_id: DonationId, sig: Signature = ""):  # a page or a redirect
    """Stripe's customer portal for the donor (a redirect), or, in the sandbox, a page to stop the gift."""
    found = _monthly(campaign_id, donation_id, sig, "html")
    if isinstance(found, Response):
        return found
    pledge, _ = found
    if pledge.get("ended_at"):
        return _stopped(campaign_id)
    if pledge["provider"] == "sandbox":
        form = ('<form method="post"><p>Stop this monthly gift: no further payments will be taken.</p>'
                '<button type="submit">Stop my monthly gift</button></form>')
        return Response(200, HTML, message_page("Your monthly gift", "A sandbox gift: no real money moves.",
                                                settings().site_url, campaign_id, form))
    from functions.adapters.stripe_payments import StripePayments

    try:
        stripe = provider(pledge["provider"])
        assert isinstance(stripe, StripePayments)
        portal = stripe.portal_url(donation_id, receipt_links.receipt_url(campaign_id, donation_id))
    except (ProviderUnavailable, UnknownProvider) as error:
        # The error's kind, never its text: a provider's message may quote the customer (an email, a name).
        logger.warning("portal not opened", extra={"campaign_id": campaign_id, "reason": type(error).__name__})
        return Response(503, HTML, message_page("Please try again shortly", str(error), settings().site_url,
                                                             campaign_id))
    return Response(303, HTML, "", headers={"Location": portal})


@router.post("/receipts/<campaign_id>/<donation_id>/manage", summary="Stop a sandbox monthly gift (signed link)",
             tags=["sandbox"])
def stop_gift(campaign_id: CampaignId, donation_id: DonationId, sig: Signature = ""):  # a page or the webhook's answer
    """The sandbox's stand-in for Stripe's portal: ends the pledge through the sandbox's signed webhook,
    as Stripe's customer.subscription.deleted does."""
    form = _form(None)
    found = _monthly(campaign_id, donation_id, sig, form)
    if isinstance(found, Response):
        return found
    pledge, _ = found
    if pledge["provider"] != "sandbox":
        raise ApiError(409, "use_the_portal", "this gift is paid through Stripe: stop it in Stripe's customer portal "
                                              "(GET this link)", "path.donation_id")
    try:
        sandbox = provider("sandbox")
    except UnknownProvider as unknown:
        raise ApiError(404, "unknown_provider", str(unknown), "path.donation_id") from None
    assert isinstance(sandbox, SandboxPayments)
    from functions.handlers import webhook  # on use (a sandbox route): the API's other routes never need it

    answer = webhook.receive("sandbox", *sandbox.subscription_ended(pledge))
    if form != "html" or answer.status_code != 200:
        return answer
    return _stopped(campaign_id)

