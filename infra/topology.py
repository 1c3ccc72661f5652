"""The one wiring table: functions, queues, tables, buckets, routes, schedules as plain data.

The CDK stack (infra/stack.py) and the local emulator (local/emulator.py) are both
built from it, so what runs on a laptop and what is deployed cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The resources, the stages and the ledger's indexes, as the functions expect them (shipped with them).
from functions.wiring import (
    APP_SECRET,
    DONOR_KEY,
    EMAIL_CONFIGURATION_SET,
    EMAIL_IDENTITY,
    INDEXES,
    LEDGER,
    LETTERS,
    LOB_SECRET,
    OFFERS,
    PII_KEY,
    RESOURCES,
    STAGES,
    STRIPE_SECRET,
    queue_variable,
    service_name,
)

LEDGER_INDEXES = INDEXES  # the ledger table's global secondary indexes


@dataclass(frozen=True)
class Function:
    name: str
    handler: str  # module path under functions/handlers, with its `handler` attribute
    timeout_s: int
    memory_mb: int = 256
    # What it may touch: "<table>:read|write", "ledger:relay" (find waiting outbox items, write them back
    # relayed), "<bucket>:read|write", "secret:read", "send:<stage>", "donor-key:use|open" (make and open
    # donors' keys, or only open them), "email:send" (SES, as the deployment's identity).
    grants: tuple[str, ...] = ()


@dataclass(frozen=True)
class Queue:
    stage: str
    consumer: str
    batch_size: int = 1
    max_receives: int = 5  # then the message goes to the stage's DLQ
    # Concurrent invocations Lambda may run for this queue (2 is SQS's minimum): every consumer writes
    # its campaign's hot items (counters, balances, log head), which conflict when written at once.
    max_concurrency: int = 2
    batching_window_s: int = 1  # how long Lambda gathers a batch of more than one (needed above 10): fuller batches


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway style: /campaigns/{campaign_id}
    function: str
    sandbox_only: bool = False
    iam_auth: bool = False  # only callers signing with AWS credentials; the emulator takes bearer tokens
    throttle_per_second: int | None = None  # its own limit, apart from the stage's (README, "Capacity")


@dataclass(frozen=True)
class MetricAlarm:
    """A page on a metric a function emits (namespace Jubilee; Powertools adds the `service` dimension,
    service_name(function)): named here by function, so renaming one cannot orphan its alarm."""

    construct_id: str
    metric: str
    function: str
    statistic: str
    period_minutes: int
    description: str


@dataclass(frozen=True)
class Schedule:
    function: str
    every_minutes: int


FUNCTIONS: tuple[Function, ...] = (
    Function("api", "functions.handlers.api.handler", 10,
             grants=("ledger:write", "secret:read", "stripe-secret:read", "donor-key:use")),
    Function("webhook", "functions.handlers.webhook.handler", 10,
             grants=("ledger:write", "secret:read", "stripe-secret:read")),
    Function("admin", "functions.handlers.admin.handler", 10, grants=("ledger:write",)),
    Function("dispatcher", "functions.handlers.dispatcher.handler", 30,
             grants=("ledger:relay", *(f"send:{stage}" for stage in STAGES))),
    Function("relay", "functions.handlers.relay.handler", 120,
             grants=("ledger:relay", *(f"send:{stage}" for stage in STAGES))),
    Function("pool", "functions.handlers.pool.handler", 30, grants=("ledger:write",)),
    Function("purchase", "functions.handlers.purchase.handler", 60, grants=("ledger:write", "offers:write")),
    Function("forgiveness", "functions.handlers.forgiveness.handler", 300, 1024,
             grants=("ledger:write", "offers:write", "secret:read", "pii-key:seal")),
    Function("letters", "functions.handlers.letters.handler", 300, 1024,
             grants=("ledger:write", "letters:write", "pii-key:open", "lob-secret:read")),
    Function("mail_webhook", "functions.handlers.mail_webhook.handler", 10,
             grants=("ledger:write", "lob-secret:read")),
    Function("reconcile", "functions.handlers.reconcile.handler", 300, 512, grants=("ledger:write",)),
    Function("sweep", "functions.handlers.sweep.handler", 300, grants=("ledger:write", "offers:write")),
    # The only function that opens a donor's email address, and the only one that sends email.
    Function("mail_out", "functions.handlers.mail_out.handler", 30,
             grants=("ledger:write", "secret:read", "donor-key:open", "email:send")),
    Function("unsubscribe", "functions.handlers.unsubscribe.handler", 10, grants=("ledger:write", "secret:read")),
)

QUEUES: tuple[Queue, ...] = (
    # Each message carries up to 40 gifts (the relay packs them: wiring.PACKED_STAGES), booked 40 a transaction (a
    # transfer each, plus the balances, counter, purchase check and the batch's receipts: within 100 items);
    # gathered for 2 s: at 200 gifts/s three writers post 5 transactions a second.
    Queue("donations", "pool", batch_size=10, max_concurrency=3, batching_window_s=2),
    # Purchases spend one pool: more buyers at once would only race for the same funds.
    Queue("purchases", "purchase", max_concurrency=2),
    # Chunks are slow work (KMS, S3, one event per account); they meet only at the log head and counters.
    Queue("forgiveness", "forgiveness", max_concurrency=10),
    # Within a print-and-mail service's request rate; each chunk is one batch.
    Queue("letters", "letters", batch_size=5, max_concurrency=5),
    # One message at a time: a pool batch's receipts (up to 40 emails) or one statement, within the function's
    # 30 s and SES's sending rate (14 a second on a new production account; a refused send is retried).
    Queue("email", "mail_out", batch_size=1, max_concurrency=2),
)

# The ledger table's stream feeds the dispatcher; only new outbox items pass this filter.
STREAM_CONSUMER = "dispatcher"
STREAM_BATCH_SIZE = 100
STREAM_RETRIES = 5  # then the batch goes to the dispatcher's failure queue
OUTBOX_FILTER: dict[str, Any] = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"kind": {"S": ["outbox"]}}}}

# API Gateway's limits, sized for a peak of 200 gifts a second (README, "Capacity"): a gift is a pledge, then
# a few provider events (Stripe sends 2-3 per paid checkout), plus donors' page reads. Burst: twice the rate.
PEAK_GIFTS_PER_S = 200
STAGE_RATE_PER_S = 1_000  # every route without its own limit, together (the account's default is 10,000)
PLEDGE_RATE_PER_S = 2 * PEAK_GIFTS_PER_S  # room for retries
WEBHOOK_RATE_PER_S = 4 * PEAK_GIFTS_PER_S  # its own, so donors' traffic can never starve the payments' events

ROUTES: tuple[Route, ...] = (
    Route("POST", "/campaigns/{campaign_id}/donations", "api", throttle_per_second=PLEDGE_RATE_PER_S),
    Route("GET", "/campaigns/{campaign_id}", "api"),
    Route("GET", "/campaigns/{campaign_id}/purchases", "api"),
    Route("GET", "/campaigns/{campaign_id}/log", "api"),
    Route("GET", "/receipts/{campaign_id}/{donation_id}", "api"),
    Route("GET", "/receipts/{campaign_id}/{donation_id}/manage", "api"),
    Route("POST", "/receipts/{campaign_id}/{donation_id}/manage", "api"),
    Route("GET", "/statements/{campaign_id}/{donor_ref}/{year}", "api"),
    Route("GET", "/verify/{code}", "api", throttle_per_second=5),
    Route("GET", "/admin/campaigns/{campaign_id}/plans", "admin", iam_auth=True),
    Route("POST", "/admin/plans/{plan_id}/approve", "admin", iam_auth=True),
    Route("POST", "/admin/plans/{plan_id}/reject", "admin", iam_auth=True),
    Route("GET", "/admin/campaigns/{campaign_id}/expenses", "admin", iam_auth=True),
    Route("POST", "/admin/expenses/{expense_id}/approve", "admin", iam_auth=True),
    Route("POST", "/admin/expenses/{expense_id}/reject", "admin", iam_auth=True),
    Route("GET", "/openapi.json", "api"),
    Route("POST", "/webhooks/{provider}", "webhook", throttle_per_second=WEBHOOK_RATE_PER_S),
    Route("POST", "/webhooks/mail/{service}", "mail_webhook"),
    Route("GET", "/sandbox/checkout/{campaign_id}/{donation_id}", "webhook", sandbox_only=True),
    Route("POST", "/sandbox/checkout/{campaign_id}/{donation_id}", "webhook", sandbox_only=True),
    # A donor's unsubscribe link: a page (GET) with a button, and the one-click POST of RFC 8058.
    Route("GET", "/unsubscribe/{campaign_id}/{donor}", "unsubscribe"),
    Route("POST", "/unsubscribe/{campaign_id}/{donor}", "unsubscribe"),
)

def site_api_paths() -> list[str]:
    """CloudFront path patterns that reach the API: every public route but the providers' webhooks,
    so the site's pages and the API share one origin."""
    patterns = set()
    for route in ROUTES:
        first = route.path.strip("/").split("/")[0]
        if not route.iam_auth and first != "webhooks":
            patterns.add(f"/{first}/*" if "/" in route.path.strip("/") else route.path)
    return sorted(patterns)


# Functions told the campaign's site URL (SITE_URL): their pages and letters link to it.
SITE_LINKED = ("api", "webhook", "letters", "mail_out", "unsubscribe")

# relay: outbox items the stream left unsent are announced again (functions/handlers/relay.py);
# sweep: plan expiry, lapsed offers and debtors' files, apart from the reconcile's checks.
SCHEDULES: tuple[Schedule, ...] = (Schedule("reconcile", 60), Schedule("sweep", 60), Schedule("relay", 5))

METRIC_NAMESPACE = "Jubilee"
METRIC_ALARMS: tuple[MetricAlarm, ...] = (
    MetricAlarm("LedgerDriftAlarm", "LedgerDrift", "reconcile", "Maximum", 60,
                "A cached balance differs from the sum of its ledger entries"),
    MetricAlarm("UnpooledGiftsAlarm", "UnpooledGifts", "reconcile", "Maximum", 60,
                "Confirmed donations have no gift transfer: paid, but never pooled (the reconcile log names them)"),
    MetricAlarm("ShortfallAlarm", "ShortfallCents", "pool", "Sum", 5,
                "A refund or lost dispute paid out more than the reserve and pool held"),
)

# Names used where nothing generates them: the local emulator, and operator commands given --endpoint-url.
LOCAL_NAMES = {LEDGER: "jubilee-ledger", OFFERS: "jubilee-offers",
               LETTERS: "jubilee-letters", APP_SECRET: "jubilee/app-secret", STRIPE_SECRET: "jubilee/stripe",
               LOB_SECRET: "jubilee/lob",
               PII_KEY: "alias/jubilee-pii", DONOR_KEY: "alias/jubilee-donors"}
# The SES identity and configuration set the emulator makes (verified, in moto): the demo sends from it.
LOCAL_EMAIL = {EMAIL_IDENTITY: "jubilee.example", EMAIL_CONFIGURATION_SET: "jubilee-email"}


def local_queue_name(stage: str, dead_letters: bool = False) -> str:
    return f"jubilee-{stage}" + ("-dlq" if dead_letters else "")


def function(name: str) -> Function:
    return next(f for f in FUNCTIONS if f.name == name)


def visibility_timeout_s(queue: Queue) -> int:
    """AWS's advice: at least six times the consumer's timeout, so a slow batch isn't redelivered mid-run."""
    return 6 * function(queue.consumer).timeout_s


def environment(fn: Function, names: dict[str, str], queue_urls: dict[str, str], public_base_url: str,
                payments: str, email: dict[str, str] | None = None) -> dict[str, str]:
    """The environment variables `fn` reads (see functions/adapters/aws.py), from resource names.
    `email`: the deployment's SES identity and configuration set (LOCAL_EMAIL's keys), if it has one."""
    resources = {grant.split(":")[0] for grant in fn.grants}
    env = {"POWERTOOLS_SERVICE_NAME": service_name(fn.name), "PAYMENTS_PROVIDER": payments,
           "PUBLIC_BASE_URL": public_base_url}
    for resource in RESOURCES:
        if resource.name in resources or (resource.name == APP_SECRET and "secret" in resources):
            env[resource.variable] = names[resource.name]
    for grant in fn.grants:
        if grant.startswith("send:"):
            stage = grant.split(":", 1)[1]
            env[queue_variable(stage)] = queue_urls[stage]
    if "email:send" in fn.grants:
        env.update(email or {})
    return env
