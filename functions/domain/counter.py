"""A counter-offer: the accounts of an offer the campaign would buy, and a price in proportion, to send back.

The accounts kept are those eligible under the campaign's policy and not bought by it already (by
either keyed hash: the planner values an offer without those too). Accounts that another open offer
also holds are kept, and counted, since which offer to buy them from is the operator's choice.
The price is the seller's own rate applied to what is kept:
price × kept face value / offer face value, rounded down to the whole cent (never above the seller's
rate), and at least one cent.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from functions.domain.duplicates import BOUGHT_BY, Place, place_of
from functions.domain.offers import OfferAccount

ROUNDING = "rounded down to the cent (at least 1 cent)"


def proportional_price(price_cents: int, part_cents: int, whole_cents: int) -> int:
    """`price_cents` × part / whole in integer cents, rounded down, at least 1 cent for a non-empty part."""
    if part_cents <= 0 or whole_cents <= 0:
        return 0
    return max(1, price_cents * part_cents // whole_cents)


@dataclass
class CounterOffer:
    """What a counter-offer keeps of an offer, and its price. Counts only: no personal data."""

    offer_id: str
    price_cents: int  # the seller's ask for the whole offer
    accounts: int = 0
    face_value_cents: int = 0
    kept_accounts: int = 0
    kept_face_value_cents: int = 0
    not_eligible: int = 0
    already_bought: int = 0  # eligible, but bought by the campaign already (left out)
    already_bought_second_signal_only: int = 0  # of those, met by name, address and balance alone
    in_other_offers: int = 0  # kept, but another open or held offer holds them too

    @property
    def proposed_price_cents(self) -> int:
        return proportional_price(self.price_cents, self.kept_face_value_cents, self.face_value_cents)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"proposed_price_cents": self.proposed_price_cents, "rounding": ROUNDING}


def kept(accounts: Iterable[tuple[OfferAccount, tuple[str, str], bool]], places: Mapping[str, Place],
         tally: CounterOffer) -> Iterator[OfferAccount]:
    """The accounts (with their keys, and whether eligible) a counter-offer keeps, counted into `tally`."""
    for account, keys, eligible in accounts:
        tally.accounts += 1
        tally.face_value_cents += account.balance_cents
        if not eligible:
            tally.not_eligible += 1
            continue
        place, second = place_of(places, keys)
        if place is not None and place.kind == BOUGHT_BY:
            tally.already_bought += 1
            tally.already_bought_second_signal_only += second
            continue
        tally.in_other_offers += place is not None
        tally.kept_accounts += 1
        tally.kept_face_value_cents += account.balance_cents
        yield account
