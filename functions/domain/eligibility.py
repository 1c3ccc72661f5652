"""Who a campaign buys debt for, as data: a policy, the federal poverty guidelines, an assessment per account.

The default mirrors Undue Medical Debt's: medical debt of people whose household income is
at most 4x the federal poverty guideline, or whose debt is at least 5% of their income.
The guidelines are a table loaded from data (HHS publishes them each January); Alaska, Hawaii
and Puerto Rico have their own, which a campaign loads — an account there is never silently
judged by the contiguous states' figures.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from functions.domain.terms import DEBT_TYPES

if TYPE_CHECKING:
    from functions.domain.offers import OfferAccount

CONTIGUOUS = "contiguous_us_and_dc"
OWN_TABLES = {"AK": "alaska", "HI": "hawaii", "PR": "puerto_rico"}


def region_of(state: str) -> str:
    return OWN_TABLES.get(state, CONTIGUOUS)


@dataclass(frozen=True)
class Guidelines:
    """Poverty guidelines in cents by (year, region, household size)."""

    table: Mapping[tuple[int, str, int], int]

    def for_household(self, year: int, region: str, size: int) -> int | None:
        if (year, region, size) in self.table:
            return self.table[(year, region, size)]
        eight, seven = self.table.get((year, region, 8)), self.table.get((year, region, 7))
        if size > 8 and eight is not None and seven is not None:
            return eight + (size - 8) * (eight - seven)  # HHS: each extra person adds the same step
        return None

    def merged(self, other: Guidelines) -> Guidelines:
        return Guidelines({**self.table, **other.table})


def read_guidelines(lines: Iterable[str]) -> Guidelines:
    """A CSV of year,region,household_size,guideline_usd (as in functions/data/)."""
    table = {}
    for row in csv.DictReader(lines):
        table[(int(row["year"]), row["region"].strip(), int(row["household_size"]))] = int(row["guideline_usd"]) * 100
    return Guidelines(table)


@dataclass(frozen=True)
class Policy:
    income_multiple_pct: int = 400  # household income at most 400% of its poverty guideline ...
    debt_to_income_pct: int = 5  # ... or the debt at least 5% of that income
    debt_types: tuple[str, ...] = ("medical",)
    max_age_years: int | None = None  # charged off at most this long ago (None: any age)
    guideline_year: int = 2026
    eligible_when_income_unknown: bool = True  # most offer files carry no income: buy, as the Rolling Jubilee did

    def __post_init__(self) -> None:
        unknown = set(self.debt_types) - DEBT_TYPES
        if unknown:
            raise ValueError(f"debt_types: unknown {', '.join(sorted(unknown))}")
        if self.income_multiple_pct < 0 or not 0 <= self.debt_to_income_pct <= 100:
            raise ValueError("income_multiple_pct must be >= 0 and debt_to_income_pct 0..100")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"debt_types": list(self.debt_types)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Policy:
        data = dict(data or {})
        if "debt_types" in data:
            data["debt_types"] = tuple(data["debt_types"])
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Assessment:
    eligible: bool
    reason: str
    determined: bool = True  # False: the policy could not be applied (no guideline for the region)


def assess(account: OfferAccount, policy: Policy, guidelines: Guidelines, today: dt.date) -> Assessment:
    if account.debt_type not in policy.debt_types:
        return Assessment(False, f"debt type {account.debt_type} is not bought")
    if policy.max_age_years is not None and (today - account.charge_off_date).days > 365 * policy.max_age_years:
        return Assessment(False, f"charged off more than {policy.max_age_years} years ago")
    income, size = account.household_income_cents, account.household_size
    if income is None or size is None:
        return Assessment(policy.eligible_when_income_unknown, "household income unknown")
    region = region_of(account.state)
    guideline = guidelines.for_household(policy.guideline_year, region, size)
    if guideline is None:
        return Assessment(False, f"no {policy.guideline_year} poverty guideline loaded for {region}", determined=False)
    if income * 100 <= policy.income_multiple_pct * guideline:
        return Assessment(True, f"income at most {policy.income_multiple_pct}% of the poverty guideline")
    if account.balance_cents * 100 >= policy.debt_to_income_pct * income:
        return Assessment(True, f"debt at least {policy.debt_to_income_pct}% of income")
    return Assessment(False, "income above the limit and debt below the share of income")


def _age_band(account: OfferAccount, today: dt.date) -> str:
    years = (today - account.charge_off_date).days / 365.25  # display only: a band, not money
    return "under 2 years" if years < 2 else "2 to 5 years" if years < 5 else "over 5 years"


@dataclass
class OfferProfile:
    """What an offer holds, with no personal data: publishable as is."""

    accounts: int = 0
    face_value_cents: int = 0
    eligible_accounts: int = 0
    eligible_face_value_cents: int = 0
    undetermined_accounts: int = 0
    by_state: dict[str, dict[str, int]] = field(default_factory=dict)
    by_debt_type: dict[str, dict[str, int]] = field(default_factory=dict)
    by_age: dict[str, dict[str, int]] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OfferProfile:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def profile(accounts: Iterable[OfferAccount], policy: Policy, guidelines: Guidelines,
            today: dt.date | None = None) -> OfferProfile:
    today = today or dt.date.today()
    out = OfferProfile()
    for account in accounts:
        verdict = assess(account, policy, guidelines, today)
        out.accounts += 1
        out.face_value_cents += account.balance_cents
        out.reasons[verdict.reason] = out.reasons.get(verdict.reason, 0) + 1
        if verdict.eligible:
            out.eligible_accounts += 1
            out.eligible_face_value_cents += account.balance_cents
        if not verdict.determined:
            out.undetermined_accounts += 1
        for bucket, key in ((out.by_state, account.state), (out.by_debt_type, account.debt_type),
                            (out.by_age, _age_band(account, today))):
            entry = bucket.setdefault(key, {"accounts": 0, "face_value_cents": 0})
            entry["accounts"] += 1
            entry["face_value_cents"] += account.balance_cents
    return out
