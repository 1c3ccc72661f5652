"""A campaign's settings, checked once when it is created."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from functions.domain.eligibility import Guidelines, Policy
from functions.domain.letter_text import ENTITY_TYPES, LANGUAGES
from functions.domain.money import BPS, CURRENCIES, is_cents
from functions.domain.terms import PROVIDERS, STATES

MAILERS = ("sandbox", "lob", "bundle")  # how letters leave: the sandbox printer (a bucket), Lob, or print bundles
CAMPAIGN_ID_SHAPE = r"[a-z0-9][a-z0-9-]{0,62}"  # the one pattern: campaigns, the API's paths, plan ids
CAMPAIGN_ID = re.compile(f"^{CAMPAIGN_ID_SHAPE}$")
# A sender: ASCII only (no SMTPUTF8 in a From line), no display name (the campaign's name is it), <= 254.
EMAIL_ADDRESS = re.compile(r"^(?=.{3,254}$)[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
EIN = re.compile(r"^\d{2}-\d{7}$")  # the IRS's Employer Identification Number, as printed: 12-3456789
ZIP = re.compile(r"^\d{5}(-\d{4})?$")
OLD_ENTITY_TYPES = {"charity": "501c3", "other": "none"}  # as campaigns stored them before the legal identity


def parse_address(text: str) -> tuple[str, str, str, str]:
    """A US postal address written on one line, "street, city, ST 12345" (the street may hold commas:
    "1 Main St, Suite 2, Springfield, IL 62701"), as the campaign's (street line, city, state, ZIP)."""
    parts = [part.strip() for part in text.rsplit(",", 2)]
    if len(parts) != 3 or not all(parts):
        raise CampaignError("address", 'write it as "street, city, ST 12345"')
    street, city, last = parts
    state, _, zip_code = last.partition(" ")
    zip_code = zip_code.strip()
    if state not in STATES:
        raise CampaignError("address", f"{state!r} is not a US state code (like IL), after the city")
    if not ZIP.match(zip_code):
        raise CampaignError("address", "needs a 5-digit ZIP (or ZIP+4) after the state")
    return street, city, state, zip_code


class UnknownCampaign(LookupError):
    """The one way to say a campaign is not here: the API's 404, the stages' and the operator's errors."""

    def __init__(self, campaign_id: str):
        super().__init__(f"no campaign {campaign_id!r}")
        self.campaign_id = campaign_id


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
    # The processor's fee as donors who cover it are asked for it: Stripe's standard card price, 2.9% + 30c.
    fee_estimate_bps: int = 290
    fee_estimate_fixed_cents: int = 30
    # Purchases: what to maximise, who must approve, and for how long a proposed plan holds its funds.
    objective: str = "face_value"  # or "people": eligible accounts
    policy: dict = field(default_factory=dict)  # eligibility.Policy as data; {} is Undue's default
    extra_guidelines: tuple = ()  # (year, region, household size, guideline in USD): e.g. Alaska, Hawaii
    approvers: tuple = ()  # the M identities (IAM ARNs) who may approve purchases
    approvals_required: int = 0  # N distinct approvals a plan needs; 0 buys without approval
    auto_approve_cents: int = 0  # plans at or under this price need no approval
    plan_ttl_hours: int = 72  # a plan not approved by then is voided and its funds released
    debtor_data_days: int = 30  # debtors' sealed data is shredded this long after their letters are sent
    letters_after_days: int = 0  # letters wait this long after settlement, so a seller's scrub arrives first
    # Letters: who mails them, and the letterhead they go out under (required for a real mailer: the
    # sender's legal name and postal address are the letter's return address).
    mailer: str = "sandbox"
    legal_name: str = ""
    postal_address: tuple = ()  # (street line, city, state, ZIP)
    letter_languages: tuple = ("en",)  # one page per language, in this order: "en", "es"
    # The campaign's legal identity: receipts and letters say what it is (letter_text.ENTITY_TYPES); only a
    # 501(c)(3)'s receipts say a gift is tax-deductible, naming the legal name and EIN.
    entity_type: str = "none"
    ein: str = ""  # 12-3456789
    letter_tax_note: str = ""  # the campaign's own tax note, printed instead of the default
    generic_creditor: bool = False  # print "a medical provider" instead of the provider's name
    # Email to donors through Amazon SES (receipts, installments, the year-end statement): opt-in, from an
    # address of the deployment's verified SES identity (functions/domain/email.py).
    email_receipts: bool = False
    email_from: str = ""

    def __post_init__(self) -> None:
        if not CAMPAIGN_ID.match(self.campaign_id):
            raise CampaignError("campaign_id", "use 1-63 lowercase letters, digits and '-'")
        if not self.name.strip() or len(self.name) > 200:
            raise CampaignError("name", "must be 1-200 characters")
        if self.currency not in CURRENCIES:
            raise CampaignError("currency", f"must be one of {', '.join(sorted(CURRENCIES))}")
        for amount in ("threshold_cents", "min_donation_cents", "max_donation_cents"):
            value = getattr(self, amount)
            if not is_cents(value) or value <= 0:
                raise CampaignError(amount, "must be a positive whole number of cents")
        if not is_cents(self.reserve_bps) or not 0 <= self.reserve_bps < BPS:
            raise CampaignError("reserve_bps", "must be a whole number from 0 to 9999")
        if not is_cents(self.fee_estimate_bps) or not 0 <= self.fee_estimate_bps <= 2_000:
            raise CampaignError("fee_estimate_bps", "must be a whole number from 0 to 2000 (20%)")
        if not is_cents(self.fee_estimate_fixed_cents) or not 0 <= self.fee_estimate_fixed_cents <= 10_000:
            raise CampaignError("fee_estimate_fixed_cents", "must be 0 to 10000 whole cents")
        if self.payments not in PROVIDERS:
            raise CampaignError("payments", f"must be one of {', '.join(PROVIDERS)}")
        if len(self.tax_statement) > 1_000:
            raise CampaignError("tax_statement", "must be at most 1000 characters")
        if len(self.contact) > 300:
            raise CampaignError("contact", "must be at most 300 characters")
        if self.objective not in ("face_value", "people"):
            raise CampaignError("objective", "must be face_value or people")
        if not is_cents(self.approvals_required) or not 0 <= self.approvals_required <= len(self.approvers):
            raise CampaignError("approvals_required", f"must be 0..{len(self.approvers)}, the number of approvers")
        if len(set(self.approvers)) != len(self.approvers):
            raise CampaignError("approvers", "are listed twice")
        if not is_cents(self.auto_approve_cents) or self.auto_approve_cents < 0:
            raise CampaignError("auto_approve_cents", "must be zero or more whole cents")
        if not is_cents(self.plan_ttl_hours) or not 1 <= self.plan_ttl_hours <= 24 * 90:
            raise CampaignError("plan_ttl_hours", "must be 1 to 2160 hours")
        if not is_cents(self.debtor_data_days) or not 1 <= self.debtor_data_days <= 3650:
            raise CampaignError("debtor_data_days", "must be 1 to 3650 days")
        if not is_cents(self.letters_after_days) or not 0 <= self.letters_after_days <= 365:
            raise CampaignError("letters_after_days", "must be 0 to 365 days")
        try:
            Policy.from_dict(self.policy)
        except (TypeError, ValueError) as error:
            raise CampaignError("policy", str(error)) from None
        self._check_letterhead()
        self._check_email()
        if self.min_donation_cents > self.max_donation_cents:
            raise CampaignError("min_donation_cents", "must not exceed max_donation_cents")

    def _check_letterhead(self) -> None:
        if self.mailer not in MAILERS:
            raise CampaignError("mailer", f"must be one of {', '.join(MAILERS)}")
        if len(self.legal_name) > 200:
            raise CampaignError("legal_name", "must be at most 200 characters")
        if self.postal_address:
            if len(self.postal_address) != 4 or not all(isinstance(p, str) and p.strip() for p in self.postal_address):
                raise CampaignError("postal_address", "must be [street line, city, state, ZIP], none empty")
            if self.postal_address[2] not in STATES or not ZIP.match(self.postal_address[3]):
                raise CampaignError("postal_address", "needs a US state code and a 5-digit ZIP")
        if not self.letter_languages or not set(self.letter_languages) <= set(LANGUAGES) or len(
                set(self.letter_languages)) != len(self.letter_languages):
            raise CampaignError("letter_languages", f"must be one or more of {', '.join(LANGUAGES)}, each once")
        if self.entity_type not in ENTITY_TYPES:
            raise CampaignError("entity_type", f"must be one of {', '.join(ENTITY_TYPES)}")
        if self.ein and not EIN.match(self.ein):
            raise CampaignError("ein", "must be two digits, a dash and seven digits, like 12-3456789")
        if len(self.letter_tax_note) > 1_000:
            raise CampaignError("letter_tax_note", "must be at most 1000 characters")
        if not isinstance(self.generic_creditor, bool):
            raise CampaignError("generic_creditor", "must be true or false")
        if self.mailer != "sandbox" and not (self.legal_name.strip() and self.postal_address):
            raise CampaignError("legal_name" if not self.legal_name.strip() else "postal_address",
                                "is required before letters can be mailed (it is the letter's return address)")

    def _check_email(self) -> None:
        if not isinstance(self.email_receipts, bool):
            raise CampaignError("email_receipts", "must be true or false")
        if self.email_from and not EMAIL_ADDRESS.match(self.email_from):
            raise CampaignError("email_from", "must be one plain ASCII address, like receipts@example.org")
        if self.email_receipts and not self.email_from:
            raise CampaignError("email_from", "is required to send email (an address of a verified SES identity)")

    def to_dict(self) -> dict:
        return asdict(self) | {"approvers": list(self.approvers), "postal_address": list(self.postal_address),
                               "letter_languages": list(self.letter_languages),
                               "extra_guidelines": [list(row) for row in self.extra_guidelines]}

    @classmethod
    def from_dict(cls, data: dict) -> Campaign:
        fields = cls.__dataclass_fields__  # annotations are strings here (from __future__ import annotations)
        kinds: dict[str, Callable[[Any], Any]] = {
            "int": int, "tuple": lambda v: tuple(tuple(x) if isinstance(x, list) else x for x in v)}
        data = data | ({"entity_type": OLD_ENTITY_TYPES[data["entity_type"]]}
                       if data.get("entity_type") in OLD_ENTITY_TYPES else {})
        return cls(**{k: kinds.get(str(fields[k].type), lambda v: v)(v) for k, v in data.items() if k in fields})

    @property
    def organisation(self) -> str:
        """Who receipts and letters are from: the legal name, or the campaign's name without one."""
        return self.legal_name.strip() or self.name

    def eligibility(self) -> Policy:
        return Policy.from_dict(self.policy)

    def guidelines(self, published: Guidelines) -> Guidelines:
        """The published table, with the campaign's own rows (Alaska, Hawaii, ...) on top."""
        own = {(int(y), str(r), int(n)): int(usd) * 100 for y, r, n, usd in self.extra_guidelines}
        return published.merged(Guidelines(own))

    def needs_approval(self, price_cents: int) -> bool:
        return self.approvals_required > 0 and price_cents > self.auto_approve_cents


# --- changing a campaign's settings (`jubilee campaigns update`) -----------------------------------

# What never changes once a campaign exists, and why.
FIXED = {"campaign_id": "it names the campaign's records",
         "currency": "the campaign's money is counted in it",
         "payments": "each gift is confirmed only by its own provider's events"}
# Settings that say how donors' money is used: their changes are appended to the public log too.
# The rest (contact, approvers, letterhead, texts, data retention) is the team's own business.
PUBLIC_SETTINGS = ("name", "threshold_cents", "reserve_bps", "min_donation_cents", "max_donation_cents",
                   "objective", "policy", "extra_guidelines")


def setting_value(name: str, text: str) -> Any:
    """A setting given as text (`--set name=value`) in its field's type: a whole number, true/false,
    JSON for objects and lists (policy, approvers, postal_address, ...), else the text as it is."""
    fields = Campaign.__dataclass_fields__
    if name not in fields:
        raise CampaignError(name, f"is not a campaign setting (settings: {', '.join(settable())})")
    kind = str(fields[name].type)  # a string: annotations are not evaluated here
    if kind == "int":
        try:
            return int(text.replace("_", ""))
        except ValueError:
            raise CampaignError(name, f"{text!r} is not a whole number") from None
    if kind == "bool":
        if text.lower() not in ("true", "false", "yes", "no"):
            raise CampaignError(name, "must be true or false")
        return text.lower() in ("true", "yes")
    if kind in ("dict", "tuple"):
        try:
            value = json.loads(text)
        except ValueError:
            raise CampaignError(name, "must be JSON" + (" (an object)" if kind == "dict" else " (a list)")) from None
        if not isinstance(value, dict if kind == "dict" else list):
            raise CampaignError(name, "must be a JSON object" if kind == "dict" else "must be a JSON list")
        return value
    return text


def settable() -> list[str]:
    return [name for name in Campaign.__dataclass_fields__ if name not in FIXED]


@dataclass(frozen=True)
class Change:
    field: str
    old: Any
    new: Any


def changed(campaign: Campaign, settings: dict[str, Any]) -> tuple[Campaign, list[Change]]:
    """The campaign with `settings` applied, checked whole (a bad value raises CampaignError naming its
    field, and nothing is changed), and each setting whose value differs, old and new as stored."""
    for name in settings:
        if name in FIXED:
            raise CampaignError(name, f"cannot be changed: {FIXED[name]}")
        if name not in Campaign.__dataclass_fields__:
            raise CampaignError(name, f"is not a campaign setting (settings: {', '.join(settable())})")
    before = campaign.to_dict()
    try:
        updated = Campaign.from_dict(before | settings)
    except (TypeError, ValueError) as error:
        if isinstance(error, CampaignError):
            raise
        raise CampaignError(next(iter(settings), "settings"), str(error)) from None
    after = updated.to_dict()
    return updated, [Change(name, before[name], after[name]) for name in after if before[name] != after[name]]
