"""One account, one purchase: the same debt known again when another offer (or the same file re-sent) holds it.

An account is known by two keyed hashes:
- its account key, over creditor + account reference: the account itself. Forgiveness claims it,
  so an account is forgiven, counted and lettered once per campaign, however it was bought;
- its person key, over debtor name + address + balance: a second signal, for the same debt offered
  under another reference (a debt resold often carries the buyer's own number). It flags an offer
  and takes the account out of the offer's value, but does not stop forgiveness: two debts of one
  person with the same balance (two equal copays) are two debts, and leaving a bought debt unforgiven
  would harm its debtor more than one letter too many.

Both are BLAKE2b MACs under a key of their own (not the public account hash's), personalised per
kind: they cannot be joined to the public account hashes, nor made from an offer file without the
key. Fields are compared without case or whitespace ("ACME  Hospital" is "acme hospital").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from hashlib import blake2b
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # types only: the offer-row model (pydantic) and the planner stay out of the ledger's users
    from functions.domain.offers import OfferAccount
    from functions.domain.planner import Offer

KEY_BYTES = 16
ACCOUNT, PERSON = b"jubilee-account", b"jubilee-person"  # BLAKE2b personalisation: one hash per kind


def normalized(*fields: str) -> bytes:
    """Fields joined by NUL (not whitespace, so it survives), casefolded, without any whitespace."""
    return "".join("\x00".join(fields).casefold().split()).encode()


def primed(key: bytes, kind: bytes, campaign_id: str) -> Any:
    """The MAC primed with the campaign: each account's hash is a copy of it, updated with its fields."""
    return blake2b(f"{campaign_id}\x00".encode(), key=key, digest_size=KEY_BYTES, person=kind)


def account_key(key: bytes, campaign_id: str, original_creditor: str, account_ref: str) -> str:
    """An account's key: its creditor and reference (also what proves it was in a purchase)."""
    ref = primed(key, ACCOUNT, campaign_id)
    ref.update(normalized(original_creditor, account_ref))
    return ref.hexdigest()


def keys_of(key: bytes, campaign_id: str, account: OfferAccount) -> tuple[str, str]:
    """(account key, person key) of an account, as the ingestion loop makes them inline."""
    person = primed(key, PERSON, campaign_id)
    person.update(normalized(account.debtor_name, account.address_line, account.city, account.state, account.zip,
                             str(account.balance_cents)))
    return account_key(key, campaign_id, account.original_creditor, account.account_ref), person.hexdigest()


BOUGHT = ""  # where a key was met: bought by the campaign, or the id of another open (or held) offer


@dataclass
class Overlap:
    """An offer's accounts met before, by the offer's own figures: no personal data, kept on the offer."""

    accounts: int = 0
    face_value_cents: int = 0
    eligible_accounts: int = 0  # of which eligible: taken out of the value the planner sees
    eligible_face_value_cents: int = 0
    already_bought: int = 0  # bought (forgiven, or being forgiven) by the campaign
    second_signal_only: int = 0  # met by name + address + balance alone
    offers: dict[str, dict[str, int]] = field(default_factory=dict)  # other open offer -> its share of the above

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def overlap(accounts: Iterable[tuple[OfferAccount, tuple[str, str], bool]], seen: Mapping[str, str]) -> Overlap:
    """Which of an offer's (account, keys, eligible) were met before; `seen` maps a key to where (BOUGHT or an
    offer id). The account key decides first; the person key counts only when it finds nothing."""
    out = Overlap()
    for account, (ref, person), eligible in accounts:
        where = seen.get(ref)
        if where is None:
            where = seen.get(person)
            if where is None:
                continue
            out.second_signal_only += 1
        cents, share = account.balance_cents, None
        out.accounts += 1
        out.face_value_cents += cents
        if where == BOUGHT:
            out.already_bought += 1
        else:
            share = out.offers.setdefault(where, {"accounts": 0, "eligible_accounts": 0,
                                                  "eligible_face_value_cents": 0})
            share["accounts"] += 1
        if eligible:
            out.eligible_accounts += 1
            out.eligible_face_value_cents += cents
            if share is not None:
                share["eligible_accounts"] += 1
                share["eligible_face_value_cents"] += cents
    return out


def net_of(offer: Offer, taken: Iterable[Mapping[str, int]]) -> Offer:
    """An offer valued without the eligible accounts `taken` from it (shares of it that offers bought since
    hold): the planner must not pay for what the campaign bought already."""
    taken = list(taken)
    if not taken:
        return offer
    accounts = offer.accounts if offer.eligible_accounts is None else offer.eligible_accounts
    face = offer.face_value_cents if offer.eligible_face_value_cents is None else offer.eligible_face_value_cents
    return replace(offer, eligible_accounts=max(0, accounts - sum(t["eligible_accounts"] for t in taken)),
                   eligible_face_value_cents=max(0, face - sum(t["eligible_face_value_cents"] for t in taken)))


def taken_from(offer_items: list[dict[str, Any]], bought: Callable[[dict[str, Any]], bool]
               ) -> dict[str, list[dict[str, int]]]:
    """For each offer, the shares of it that `bought` offers registered after it hold (from their overlaps)."""
    taken: dict[str, list[dict[str, int]]] = {}
    for item in offer_items:
        if bought(item):
            for other, share in (item.get("duplicates") or {}).get("offers", {}).items():
                taken.setdefault(other, []).append(share)
    return taken


IN_OFFER, BOUGHT_BY = "offer", "plan"  # a Place's kinds


@dataclass(frozen=True)
class Place:
    """Where a key was met, for people to act on: another open or held offer (`id` its offer id, `status`
    its status), or a purchase (`id` the plan that bought it)."""

    kind: str
    id: str
    status: str = ""

    @property
    def where(self) -> str:
        """As `overlap` reads places: BOUGHT, or the other offer's id."""
        return BOUGHT if self.kind == BOUGHT_BY else self.id


def place_of(places: Mapping[str, Place], keys: tuple[str, str]) -> tuple[Place | None, bool]:
    """Where an account's (account key, person key) were met, and whether by the person key alone:
    the account key decides first, as in `overlap`."""
    ref, person = keys
    if ref in places:
        return places[ref], False
    return places.get(person), person in places


@dataclass
class Overlaps:
    """An offer's accounts found now in other open (or held) offers and in purchases, by offer and by
    plan: counts and face value only (no personal data), for `offers show`."""

    accounts: int = 0
    face_value_cents: int = 0
    second_signal_only: int = 0
    offers: dict[str, dict[str, Any]] = field(default_factory=dict)  # offer id -> status, accounts, face value
    bought: dict[str, dict[str, int]] = field(default_factory=dict)  # plan id -> accounts, face value

    def add(self, place: Place, cents: int, second_signal: bool) -> None:
        self.accounts += 1
        self.face_value_cents += cents
        self.second_signal_only += second_signal
        if place.kind == BOUGHT_BY:
            share: dict[str, Any] = self.bought.setdefault(place.id, {"accounts": 0, "face_value_cents": 0})
        else:
            share = self.offers.setdefault(place.id, {"status": place.status, "accounts": 0, "face_value_cents": 0})
        share["accounts"] += 1
        share["face_value_cents"] += cents

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def overlaps(accounts: Iterable[tuple[OfferAccount, tuple[str, str]]], places: Mapping[str, Place]) -> Overlaps:
    out = Overlaps()
    for account, keys in accounts:
        place, second = place_of(places, keys)
        if place is not None:
            out.add(place, account.balance_cents, second)
    return out
