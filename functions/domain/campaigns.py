"""A campaign's settings, checked once when it is created."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from functions.domain.money import BPS, CURRENCIES, is_cents

PROVIDERS = ("sandbox", "stripe")
CAMPAIGN_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class CampaignError(ValueError):
    def __init__(self, field: str, problem: str):
        super().__init__(f"{field}: {problem}")
        self.field, self.problem = field, problem


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    name: str
    currency: str = "USD"
    threshold_cents: int = 500_000  # buy once $5,000 is pooled, as the Rolling Jubilee's first buy
    reserve_bps: int = 1_000  # 10% of each net gift held back, as the Rolling Jubilee did
    min_donation_cents: int = 100
    max_donation_cents: int = 10_000_000  # $100,000 per gift; larger gifts by arrangement
    contact: str = ""  # printed on debtors' letters: an address, phone or email of the campaign
    payments: str = "sandbox"  # the provider donors pay through: "sandbox" (no money moves) or "stripe"
    tax_statement: str = ""  # printed on receipts, e.g. the organisation's tax-exempt status

    def __post_init__(self) -> None:
        if not CAMPAIGN_ID.match(self.campaign_id):
            raise CampaignError("campaign_id", "use 1-63 lowercase letters, digits and '-'")
        if not self.name.strip() or len(self.name) > 200:
            raise CampaignError("name", "must be 1-200 characters")
        if self.currency not in CURRENCIES:
            raise CampaignError("currency", f"must be one of {', '.join(sorted(CURRENCIES))}")
        for field in ("threshold_cents", "min_donation_cents", "max_donation_cents"):
            value = getattr(self, field)
            if not is_cents(value) or value <= 0:
                raise CampaignError(field, "must be a positive whole number of cents")
        if not is_cents(self.reserve_bps) or not 0 <= self.reserve_bps < BPS:
            raise CampaignError("reserve_bps", "must be a whole number from 0 to 9999")
        if self.payments not in PROVIDERS:
            raise CampaignError("payments", f"must be one of {', '.join(PROVIDERS)}")
        if len(self.tax_statement) > 1_000:
            raise CampaignError("tax_statement", "must be at most 1000 characters")
        if len(self.contact) > 300:
            raise CampaignError("contact", "must be at most 300 characters")
        if self.min_donation_cents > self.max_donation_cents:
            raise CampaignError("min_donation_cents", "must not exceed max_donation_cents")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Campaign:
        fields = cls.__dataclass_fields__
        return cls(**{k: (int(v) if fields[k].type == "int" else v) for k, v in data.items() if k in fields})
