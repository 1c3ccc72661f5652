"""What the functions expect of the deployment around them, shared with the wiring table.

The stages, the ledger table's indexes, and each resource with the environment variable that names it
to the functions and the stack output that names it to operators: the one list the functions' settings
(functions/adapters/aws.py), the wiring table (infra/topology.py), the stack's outputs and the operator
CLI all read. Plain data, importing nothing, shipped with the functions.
"""

from __future__ import annotations

from dataclasses import dataclass

# Every stage queue, in flow order. The wiring table builds one queue per name.
STAGES = ("donations", "purchases", "forgiveness", "letters", "email")
# Stages whose consumer books many messages at once (the pool: a batch of gifts a transaction): the relay packs
# up to this many outbox items into one queue message, so a busy campaign's gifts cost a tenth of the SQS calls.
PACKED_STAGES = {"donations": 40}

LEDGER = "ledger"  # the one table (pledges need no idempotency table: adapters/pledges.py)
OFFERS, LETTERS = "offers", "letters"  # buckets
APP_SECRET = "app-secret"
PII_KEY = "pii-key"  # wraps each portfolio's private debtor-data key: forgiveness may wrap, only letters unwrap
DONOR_KEY = "donor-key"  # wraps each donor's key: only the API (and operators) may use it
STRIPE_SECRET = "stripe-secret"  # {"api_key", "webhook_secrets": [...]}: the operator puts the values in
LOB_SECRET = "lob-secret"  # {"api_key", "webhook_secret"}: Lob's, for campaigns that mail through it


@dataclass(frozen=True)
class Resource:
    name: str  # as the wiring table's grants name it
    variable: str  # the environment variable that names it to a function granted it
    output: str  # the stack output that names it to the operator CLI


RESOURCES: tuple[Resource, ...] = (
    Resource(LEDGER, "TABLE_NAME", "TableName"),
    Resource(OFFERS, "OFFERS_BUCKET", "OffersBucketName"),
    Resource(LETTERS, "LETTERS_BUCKET", "LettersBucketName"),
    Resource(APP_SECRET, "APP_SECRET_ID", "AppSecretArn"),
    Resource(STRIPE_SECRET, "STRIPE_SECRET_ID", "StripeSecretArn"),
    Resource(LOB_SECRET, "LOB_SECRET_ID", "LobSecretArn"),
    Resource(DONOR_KEY, "DONOR_KEY_ID", "DonorKeyArn"),
    Resource(PII_KEY, "PII_KEY_ID", "DebtorKeyArn"),
)
VARIABLES = {r.name: r.variable for r in RESOURCES}

# Amazon SES, for campaigns that email their donors: the deployment's verified identity (a domain or one
# address) and its configuration set, told to the functions granted "email:send". A deployment made
# without an identity has neither, and sends no email.
EMAIL_IDENTITY, EMAIL_CONFIGURATION_SET = "EMAIL_IDENTITY", "EMAIL_CONFIGURATION_SET"


def queue_variable(stage: str) -> str:
    return f"QUEUE_URL_{stage.upper()}"


def service_name(function: str) -> str:
    """POWERTOOLS_SERVICE_NAME of a function: its logs' and metrics' `service` (alarms select on it)."""
    return f"jubilee-{function}"


@dataclass(frozen=True)
class Index:
    """A global secondary index of the table, partitioned by `pk` like the table and sorted by `sort_key`:
    sparse (it holds only the items that have `sort_key`), with only `projected` besides the keys."""

    name: str
    sort_key: str
    projected: tuple[str, ...]


# What a campaign posted, in order: its ledger entries (under LEDGER#<id>) and its donations' confirmations
# (under CAMPAIGN#<id>), for the reconciler to read on from its checkpoint. Entries always carried
# `posted_at`, so creating the index on a table in use backfills them. (One index: CloudFormation
# creates one per table update.)
BY_POSTING = Index("by_posting", "posted_at", ("legs", "provider", "payment_id"))
INDEXES = (BY_POSTING,)
