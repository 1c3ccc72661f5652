"""Sample offer files for demos and tests: clearly fictional people, made by code, never downloaded."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass

from functions.domain.campaigns import Campaign
from functions.domain.offers import COLUMNS, OPTIONAL_COLUMNS, read_accounts
from ops import operations

# It emails its donors from the emulator's verified SES identity (jubilee serve shows them at /_local/mail).
DEMO_CAMPAIGN = Campaign("demo", "Demo Jubilee", threshold_cents=100_000, contact="letters@jubilee.example",
                         email_receipts=True, email_from="receipts@jubilee.example")

FIRST = ("Avery", "Blake", "Casey", "Devon", "Emery", "Finley", "Gray", "Harper", "Indigo", "Jordan",
         "Kendall", "Logan", "Morgan", "Noel", "Oakley", "Parker", "Quinn", "Riley", "Sage", "Taylor")
# Surnames that say at a glance this is no real person.
LAST = ("Example", "Sample", "Placeholder", "Fictional", "Madeup", "Testperson")
STREETS = ("Imaginary Lane", "Nowhere Road", "Pretend Avenue", "Fable Court", "Sample Street")
CITIES = (("Exampleton", "NY"), ("Sampleville", "CA"), ("Fakeburg", "TX"), ("Mocktown", "OH"), ("Testford", "GA"))
CREDITORS = ("Example General Hospital", "Sample Health Partners", "Placeholder Medical Group")


def offer_csv(accounts: int, seed: int, prefix: str = "ACC") -> bytes:
    """A valid offer file of `accounts` medical debts; the same seed gives the same bytes."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS + OPTIONAL_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for n in range(accounts):
        city, state = rng.choice(CITIES)
        charged_off = dt.date(2019, 1, 1) + dt.timedelta(days=rng.randrange(0, 5 * 365))
        writer.writerow({
            "account_ref": f"{prefix}-{seed}-{n:06d}",
            "debtor_name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            "address_line": f"{rng.randrange(1, 9999)} {rng.choice(STREETS)}",
            "city": city, "state": state, "zip": f"{rng.randrange(10000, 99999)}",
            "original_creditor": rng.choice(CREDITORS), "debt_type": "medical",
            "balance_cents": rng.randrange(20_000, 600_000), "charge_off_date": charged_off.isoformat(),
            "last_payment_date": (charged_off - dt.timedelta(days=rng.randrange(30, 400))).isoformat(),
            # Some sellers know household income: most such debtors are under 4x the poverty line.
            **({"household_income_cents": rng.randrange(1_000_000, 20_000_000), "household_size": rng.randrange(1, 7)}
               if rng.random() < 0.6 else {}),
        })
    return out.getvalue().encode()


@dataclass(frozen=True)
class SampleOffer:
    offer_id: str
    seller: str
    accounts: int
    cents_per_dollar_bps: int  # asking price as basis points of face value (100 = 1 cent per dollar)


# Priced like the Rolling Jubilee's buys: a cent or two per dollar of face value.
SAMPLE_OFFERS = (
    SampleOffer("offer-a", "sandbox", 30, 100),
    SampleOffer("offer-b", "sandbox", 45, 150),
    SampleOffer("offer-c", "sandbox", 20, 250),
    SampleOffer("offer-d", "sandbox-declines", 10, 100),
)


def seed_campaign(cloud: object, campaign: Campaign = DEMO_CAMPAIGN, seed: int = 7) -> None:
    """The demo campaign and its sample offers, as `jubilee serve` starts with them, on the started
    `cloud` (which the operations reach through the environment it set)."""
    operations.create_campaign(campaign)
    for n, sample in enumerate(SAMPLE_OFFERS):
        body = offer_csv(sample.accounts, seed * 100 + n, prefix=sample.offer_id.upper())
        face = sum(a.balance_cents for a in read_accounts(body.decode().splitlines(keepends=True)))
        operations.add_offer(campaign.campaign_id, body, sample.seller, face * sample.cents_per_dollar_bps // 10_000,
                             offer_id=sample.offer_id)
