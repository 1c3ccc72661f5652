"""Which open offers to buy with the money in the pool."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Offer:
    offer_id: str
    campaign_id: str
    seller: str
    price_cents: int
    face_value_cents: int
    accounts: int
    object_key: str  # where the offer file sits in the offers bucket
    attempt: int = 0  # bumped each time a plan for it is voided, so the next plan has a new id

    @property
    def next_plan_id(self) -> str:
        return f"plan-{self.offer_id}-{self.attempt}"


def greedy_plan(budget_cents: int, offers: Iterable[Offer]) -> list[Offer]:
    """Most face value per dollar first, whole offers only, while the budget lasts.

    Deterministic: ties go to the lower offer id. Exact ratios (Fraction), never floats.
    """
    ranked = sorted(offers, key=lambda o: (-Fraction(o.face_value_cents, o.price_cents), o.offer_id))
    chosen, left = [], budget_cents
    for offer in ranked:
        if offer.price_cents <= left:
            chosen.append(offer)
            left -= offer.price_cents
    return chosen
