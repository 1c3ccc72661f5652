"""Scheduled check: every cached balance must equal the sum of its entries, and every confirmed gift
must be booked.

Per registered campaign, from a checkpoint: the balances summed so far and the time before which
every entry is in them. Each run sums only what was posted since (the posting index), so its cost
follows the hour's activity, not the table's size. A write takes its `posted_at` before it commits
and the index shows it a moment later: a time is settled once MARGIN has passed, and entries after
it are re-read next run rather than remembered. A full recomputation from the table replaces the
checkpoint when there is none, every FULL_EVERY, or when the event says {"full": true}.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from functions.adapters import clock, ledger
from functions.domain.ledger import negative_accounts
from functions.domain.reconciliation import gifts_due, sum_on

logger = Logger()
metrics = Metrics(namespace="Jubilee")
MARGIN = dt.timedelta(minutes=15)  # > the longest a writer holds a posted_at (a 300 s function) + index lag
FULL_EVERY = dt.timedelta(days=30)
UNPOOLED_KEPT = 1_000  # gifts reported unbooked that the checkpoint remembers to look at again


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")  # as ledger.now_iso writes posted_at


def reconcile(campaign_id: str, now: dt.datetime, full: bool = False) -> dict[str, Any]:
    checkpoint = ledger.load_checkpoint(campaign_id)
    since = checkpoint["settled_before"] if checkpoint else ""
    # The checkpoint this run goes on from; None for a full pass (asked for, the first, or one due).
    base = None if full or checkpoint is None or checkpoint["full_at"] < _iso(now - FULL_EVERY) else checkpoint
    full = base is None
    settled_before = max(_iso(now - MARGIN), since)
    _, cached = ledger.snapshot(campaign_id)
    if base is None:
        settled, recomputed = sum_on({}, ledger.transfer_items(campaign_id), settled_before)
    else:
        settled, recomputed = sum_on(base["balances"], ledger.posted_since(campaign_id, since), settled_before)
    drift = {a: {"cached": cached[a], "entries": recomputed[a]} for a in recomputed if cached[a] != recomputed[a]}
    # Gifts confirmed since the checkpoint (every one, the first time), and those unbooked when last looked.
    due = (checkpoint or {}).get("unpooled", {}) | gifts_due(ledger.confirmed_since(campaign_id, since),
                                                               settled_before)
    booked = ledger.transfers_exist(campaign_id, due.values())
    unpooled = {donation: gift for donation, gift in sorted(due.items()) if gift not in booked}
    ledger.save_checkpoint(campaign_id, {
        "settled_before": settled_before, "balances": settled,
        "unpooled": dict(list(unpooled.items())[:UNPOOLED_KEPT]),
        "full_at": _iso(now) if base is None else base["full_at"],
    }, None if full else since)  # a concurrent run that moved it on first wins; this one's work is the same
    return {"campaign_id": campaign_id, "drift": drift, "negative": negative_accounts(recomputed),
            "unpooled": sorted(unpooled), "full": full, "balances": recomputed}


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict, context: Any) -> dict:
    now = clock.now()
    results = [reconcile(campaign_id, now, bool(event.get("full"))) for campaign_id in ledger.campaign_ids()]
    drifted = sum(len(r["drift"]) + len(r["negative"]) for r in results)
    unpooled = sum(len(r["unpooled"]) for r in results)
    metrics.add_metric(name="LedgerDrift", unit=MetricUnit.Count, value=drifted)
    metrics.add_metric(name="UnpooledGifts", unit=MetricUnit.Count, value=unpooled)
    for result in results:
        if result["drift"] or result["negative"]:
            logger.error("ledger drift", extra={k: result[k] for k in ("campaign_id", "drift", "negative")})
        if result["unpooled"]:  # donation ids only: no donor's name or email
            logger.error("confirmed donations without a gift transfer",
                         extra={"campaign_id": result["campaign_id"], "donation_ids": result["unpooled"]})
    return {"campaigns": len(results), "drifted_accounts": drifted, "unpooled_gifts": unpooled, "results": results}
