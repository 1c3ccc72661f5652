"""Scheduled check: every cached balance must equal the sum of its entries."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from functions.adapters import clock, dynamo, ledger, purchases
from functions.domain.ledger import POOL, balances_from, negative_accounts

logger = Logger()
metrics = Metrics(namespace="Jubilee")


def reconcile(campaign_id: str) -> dict[str, Any]:
    meta, cached = ledger.snapshot(campaign_id)
    recomputed = balances_from(ledger.transfers(campaign_id))
    drift = {a: {"cached": cached[a], "entries": recomputed[a]} for a in recomputed if cached[a] != recomputed[a]}
    negative = negative_accounts(recomputed)
    live_plans = any(p["status"] in purchases.LIVE for p in purchases.all_plans(campaign_id))
    now = clock.now()
    lapsing = purchases.lapsed_offers(campaign_id, now.date().isoformat())
    if meta and (recomputed[POOL] >= meta["threshold_cents"] or live_plans or lapsing):
        # A safety net for a purchase check that a lost race never sent, and the hourly sweep that
        # voids plans whose approval window closed and retires offers past their seller's date.
        hour = now.strftime("%Y%m%d%H")
        dynamo.transact_once([dynamo.outbox("purchases", f"purchase-check#{campaign_id}#reconcile#{hour}",
                                            {"campaign_id": campaign_id, "reason": "reconcile"})])
    return {"campaign_id": campaign_id, "drift": drift, "negative": negative}


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict, context: Any) -> dict:
    results = [reconcile(campaign_id) for campaign_id in ledger.campaign_ids()]
    drifted = sum(len(r["drift"]) + len(r["negative"]) for r in results)
    metrics.add_metric(name="LedgerDrift", unit=MetricUnit.Count, value=drifted)
    for result in results:
        if result["drift"] or result["negative"]:
            logger.error("ledger drift", extra=result)
    return {"campaigns": len(results), "drifted_accounts": drifted, "results": results}
