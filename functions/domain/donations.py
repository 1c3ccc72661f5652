"""What a donor may send, and what a payment provider tells us back."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from functions.domain.campaigns import Campaign
from functions.domain.gifts import covered_fees
from functions.domain.money import Currency


class Donor(BaseModel):
    """Personal data: kept out of repr, so a debug log line of a request never shows it."""

    model_config = ConfigDict(extra="forbid")
    name: Annotated[str | None, Field(min_length=1, max_length=200, repr=False)] = None
    # A plain shape check: the Lambda runtime has no email-validator, and the receipt mail is the real test.
    email: Annotated[str | None, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", repr=False)] = None


class DonationRequest(BaseModel):
    """Body of POST /campaigns/{campaign_id}/donations."""

    model_config = ConfigDict(extra="forbid")
    # Strict: "100", 100.0 and true are refused rather than coerced into money.
    amount_cents: Annotated[StrictInt, Field(gt=0, le=10_000_000, description="Whole cents, e.g. 2500 for $25.00")]
    currency: Currency | None = Field(None, description="The campaign's currency (GET /campaigns/{id}); "
                                                          "left out, the campaign's own")
    donor: Donor = Field(default_factory=Donor)
    anonymous: StrictBool = False
    frequency: Literal["once", "monthly"] = Field("once", description="monthly: a gift each month until cancelled")
    cover_fees: StrictBool = Field(False, description="add the campaign's estimate of the processor's fee to the "
                                                      "gift, so all of amount_cents reaches the campaign")


class DonationResponse(BaseModel):
    donation_id: str
    status: Literal["pending"]
    checkout_url: str
    receipt_url: str = Field(description="The donor's receipt, readable once the gift is paid; keep it private")
    amount_cents: int | None = Field(None, description="What the donor is charged: amount_cents, plus the fee "
                                                       "estimate if they cover the fees")
    covered_fees_cents: int = Field(0, description="What was added to cover the processor's fee")


def fees_covered(request: DonationRequest, campaign: Campaign) -> int:
    """What the donor adds to the gift to cover the processor's fee (0 unless they chose to)."""
    if not request.cover_fees:
        return 0
    return covered_fees(request.amount_cents, campaign.fee_estimate_bps, campaign.fee_estimate_fixed_cents)


def in_campaign_currency(request: DonationRequest, campaign: Campaign) -> DonationRequest:
    """The request with its currency stated: a donor who leaves it out gives in the campaign's."""
    return request if request.currency else request.model_copy(update={"currency": campaign.currency})


def limit_problem(request: DonationRequest, campaign: Campaign) -> tuple[str, str] | None:
    """The campaign's own limits, which the schema cannot know: (field, problem) or None."""
    if request.currency != campaign.currency:
        return "body.currency", f"campaign {campaign.campaign_id!r} takes {campaign.currency} only"
    if request.amount_cents < campaign.min_donation_cents:
        return "body.amount_cents", f"must be at least {campaign.min_donation_cents}"
    if request.amount_cents + fees_covered(request, campaign) > campaign.max_donation_cents:
        covering = " with the fees covered" if request.cover_fees else ""
        return "body.amount_cents", f"must be at most {campaign.max_donation_cents}{covering}"
    return None
