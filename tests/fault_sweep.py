"""A small campaign played end to end, then recovered as an operator would: the fault sweep's scenario.

`play(cloud)` runs gifts, a refund, a lost dispute, a purchase, a declined offer, forgiveness and
letters on a started emulator, retrying as real callers do (a donor's browser, a provider's
webhook deliveries) and recovering as an operator does (redelivery, schedules, DLQ redrive). It
returns what must be identical with and without an injected fault: `outcome(cloud)`.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from functions.adapters import keys, public_log
from functions.adapters.aws import client, settings
from functions.adapters.payments import SandboxPayments
from functions.adapters.secrets import derived_key
from functions.domain.campaigns import Campaign
from functions.domain.public_log import compare, verify
from infra import topology
from local.emulator import LocalCloud
from local.sample_data import offer_csv
from ops import operations

CAMPAIGN = Campaign("sweep", "Fault Sweep", threshold_cents=3_000, contact="letters@sweep.example")
GIFTS = (1_500, 1_500, 1_200, 900)
BOUGHT, DECLINED = ("offer-bought", 3, 2_000), ("offer-declined", 2, 1_000)  # id, accounts, price
REFUNDED_CENTS = 500  # of the second gift
RECOVERY_ROUNDS = 2  # one fault needs one round to fail in and one to recover


def _retrying(call: Any, attempts: int = 8, wait_s: float = 0.0) -> Any:
    """A caller that retries what API Gateway answers for a dead or busy function (5xx, 409 in progress)."""
    for _ in range(attempts):
        response = call()
        if response.status < 500 and response.status != 409:
            return response
        time.sleep(wait_s)
    return response


def _webhook(cloud: LocalCloud, signed: tuple[dict[str, str], bytes]) -> None:
    """The provider delivers until it gets a 2xx, as Stripe does."""
    headers, body = signed
    answer = _retrying(lambda: cloud.http("POST", "/webhooks/sandbox", body, headers))
    assert answer.status == 200, answer.body


def _pledge(cloud: LocalCloud, n: int, amount: int) -> dict[str, Any]:
    """A donor's browser: the same Idempotency-Key until it gets an answer (a crashed pledge's key is
    busy until the invocation's time would have run out, so it waits a little between tries)."""
    body = {"amount_cents": amount, "currency": "USD", "donor": {"name": f"Donor {n}", "email": f"d{n}@example.org"}}
    answer = _retrying(lambda: cloud.http("POST", f"/campaigns/{CAMPAIGN.campaign_id}/donations", body,
                                          {"Idempotency-Key": f"sweep-{n}"}), attempts=30, wait_s=0.5)
    assert answer.status == 201, answer.body
    return {"campaign_id": CAMPAIGN.campaign_id, "amount_cents": amount, "currency": "USD", **answer.json()}


def _schedules(cloud: LocalCloud) -> None:
    for schedule in topology.SCHEDULES:
        try:
            cloud.run_schedule(schedule.function)
        except Exception:  # noqa: BLE001 - a failed scheduled run is simply run again at its next time
            pass


def _redrive_all(cloud: LocalCloud) -> None:
    """`jubilee dlq redrive STAGE` for every stage, and `jubilee dlq redrive outbox` (the emulator's
    resources have their local names, as behind `--endpoint-url`; the in-process mock needs no URL)."""
    for stage, dlq in cloud.dlq_urls.items():
        if stage == "outbox":
            operations.redrive_outbox(endpoint_url=cloud.endpoint_url or "in-process")
        else:
            operations.redrive(cloud.queue_urls[stage], dlq)


def recover(cloud: LocalCloud) -> None:
    """What happens after the scenario, with or without a fault: queues drain (SQS redelivers what
    failed), schedules run, an operator redrives whatever reached a dead-letter queue."""
    for _ in range(RECOVERY_ROUNDS):
        cloud.drain()
        _schedules(cloud)
        cloud.drain()
        _redrive_all(cloud)
    cloud.drain()


def play(cloud: LocalCloud) -> None:
    operations.create_campaign(CAMPAIGN)
    cid = CAMPAIGN.campaign_id
    for seed, (offer_id, accounts, price) in enumerate((BOUGHT, DECLINED)):  # other people in each offer
        seller = "sandbox" if offer_id == BOUGHT[0] else "sandbox-declines"
        operations.add_offer(cid, offer_csv(accounts, seed, prefix=offer_id.upper()), seller, price, offer_id=offer_id)
    provider = SandboxPayments(derived_key("sandbox-webhook"), cloud.public_base_url)
    pledges = [_pledge(cloud, n, amount) for n, amount in enumerate(GIFTS)]
    for pledge in pledges:
        _webhook(cloud, provider.payment_completed(pledge))
    cloud.drain()
    _webhook(cloud, provider.refunded(pledges[1], REFUNDED_CENTS))
    _webhook(cloud, provider.dispute(pledges[2], "dp_sweep", "open"))
    _webhook(cloud, provider.dispute(pledges[2], "dp_sweep", "lost"))
    recover(cloud)


def outcome(cloud: LocalCloud) -> dict[str, Any]:
    """What a fault must not change: the books (every balance, in `figures`), each gift once, forgiveness and
    letters once, the verified log, no debtor's file left in plaintext, empty dead-letter queues."""
    cid = CAMPAIGN.campaign_id
    figures = cloud.http("GET", f"/campaigns/{cid}").json()
    log = public_log.entries(cid)
    checked = verify(log)
    # Each transfer once, by kind. How a refund or a lost dispute splits between reserve, pool and
    # shortfall depends on which was booked first (a redelivery may change that); the balances may not.
    transfers = Counter(t.kind for t in _transfers(cid))
    s3 = client("s3")
    leftovers = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=settings().offers_bucket).get("Contents", []))
    return {
        "figures": {k: v for k, v in figures.items() if k != "log_head"},
        "transfers": sorted(transfers.items()),
        "log_verifies": checked.ok and not compare(checked, figures),
        "log_entries": [(e["type"], e.get("accounts"), e.get("price_cents")) for e in log],
        "donations": sorted((d["status"], d["amount_cents"]) for d in _donations(cid) if d["status"] != "pending"),
        "forgiven_accounts": len({e["account_hash"] for e in _events(cid)}),
        "forgiveness_events": len(_events(cid)),
        "offer_files_left": leftovers,
        "dead_letters": {stage: n for stage, n in cloud.dlq_depths().items() if n},
    }


def _transfers(cid: str) -> list[Any]:
    from functions.adapters import ledger

    return list(ledger.transfers(cid))


def _donations(cid: str) -> list[dict[str, Any]]:
    from functions.adapters import dynamo

    return list(dynamo.query(keys.campaign_pk(cid), keys.donation_sk("")))


def _events(cid: str) -> list[dict[str, Any]]:
    from functions.adapters import dynamo

    return [e for e in dynamo.scan("forgiveness") if e["campaign_id"] == cid]


def printed(plan: Any) -> Counter:
    """How often each batch of letters was handed to the printer (the letters bucket)."""
    return Counter(key for operation, bucket, key in plan.written
                   if operation == "PutObject" and bucket == settings().letters_bucket)
