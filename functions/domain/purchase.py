"""Buying debt: plans, approvals, and which files are done with (the purchase check itself, which
proposes, buys, posts or voids, is functions/services/purchases.py).

A plan is proposed with its funds held (pool -> held). It is approved at once when the
campaign needs no approval for it, or when N distinct approvers of the campaign's M have
approved it; otherwise it expires, and its hold is voided. An approved plan is bought
through its seller: the sandbox sells at once; a manual seller waits for the operator to
record the wire (`jubilee purchases confirm`). The hold is posted exactly once when the
purchase settles, or voided exactly once on rejection, expiry or the seller's refusal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from functions.domain.campaigns import Campaign
from functions.domain.forgiveness import fully_ingested

if TYPE_CHECKING:
    from functions.domain.planner import Offer


@dataclass(frozen=True)
class Plan:
    plan_id: str
    offer: Offer
    expires_at: str = ""  # ISO time after which an unapproved plan is voided

    @property
    def campaign_id(self) -> str:
        return self.offer.campaign_id

    @property
    def price_cents(self) -> int:
        return self.offer.price_cents


def plan_id_for(offer: Offer) -> str:
    """Names the campaign too, so an approver's link needs nothing else ('.' is in no campaign id)."""
    return f"{offer.campaign_id}.{offer.offer_id}.{offer.attempt}"


def campaign_of(plan_id: str) -> str:
    return plan_id.split(".", 1)[0]


def cents_per_dollar(price_cents: int, face_cents: int) -> str:
    """Price per dollar of face value, to a hundredth of a cent, for people to read."""
    if face_cents <= 0:
        return "-"
    hundredths = price_cents * 10_000 // face_cents
    return f"{hundredths // 100}.{hundredths % 100:02d}¢"


def purchase_record(plan: Mapping[str, Any], profile: dict) -> dict:
    """What the public may read of a purchase, as the Rolling Jubilee published its redacted agreements."""
    offer = plan["offer"]
    return {"plan_id": plan["plan_id"], "seller": offer["seller"], "price_cents": plan["price_cents"],
            "face_value_cents": offer["face_value_cents"], "accounts": offer["accounts"],
            "cents_per_dollar": cents_per_dollar(plan["price_cents"], offer["face_value_cents"]),
            "settled_at": plan.get("finished_at"), "by_state": profile.get("by_state", {}),
            "by_debt_type": profile.get("by_debt_type", {})}


class SellerError(Exception):
    """The seller did not sell: the hold is voided and the offer is not bought."""


def approval_outcome(campaign: Campaign, approvers: set[str]) -> bool:
    """Whether a plan's distinct approvals, from the campaign's approvers only, reach its N."""
    return len(approvers & set(campaign.approvers)) >= campaign.approvals_required


RETIRED = ("declined", "lapsed")  # offers that will never be bought


def finished_files(offers: Iterable[Mapping], plans: Iterable[Mapping]) -> set[str]:
    """The offer files (debtors' names and addresses in the clear) nothing will read again: a retired
    offer's, and a sold offer's with its portfolio once every account in it is forgiven. An open or held
    offer's file, and a bought portfolio still being forgiven, are never among them."""
    done = {offer["object_key"] for offer in offers if offer["status"] in RETIRED}
    for plan in plans:
        if plan["status"] == "settled" and fully_ingested(plan):
            done |= {plan["offer"]["object_key"], plan["portfolio_key"]}
    return done
