"""Hourly housekeeping, per registered campaign, apart from the reconciler (whose work grows with the
ledger): ask for the purchase check that voids expired plans and retires lapsed offers, delete
the offer files nothing will read again, whatever fault stopped an earlier deletion, and in January
ask for donors' year-end statements (functions/adapters/email.py)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from functions.adapters import clock, dynamo, ledger, purchases, storage
from functions.adapters.email import ask_for_statements
from functions.domain.campaigns import Campaign
from functions.domain.ledger import POOL
from functions.domain.purchase import finished_files

logger = Logger()


def sweep(campaign_id: str) -> dict[str, Any]:
    now = clock.now()
    meta, balances = ledger.snapshot(campaign_id)
    plans = purchases.all_plans(campaign_id)
    live_plans = any(p["status"] in purchases.LIVE for p in plans)
    lapsing = purchases.lapsed_offers(campaign_id, now.date().isoformat())
    asked = bool(meta and (balances[POOL] >= meta["threshold_cents"] or live_plans or lapsing))
    if asked:
        # A purchase check that a lost race never sent; plans whose approval window closed are voided by
        # it, and offers past their seller's date retired. Once an hour at most, whatever reruns this.
        hour = now.strftime("%Y%m%d%H")
        dynamo.transact_once([dynamo.outbox("purchases", f"purchase-check#{campaign_id}#sweep#{hour}",
                                            {"campaign_id": campaign_id, "reason": "sweep"})])
    deleted = storage.delete_files(campaign_id, finished_files(purchases.offers(campaign_id), plans))
    # In January, each donor's statement of the year before: asked for once per campaign and year.
    statements = ask_for_statements(Campaign.from_dict(meta), now.year - 1) if meta and now.month == 1 else 0
    return {"campaign_id": campaign_id, "purchase_check": asked, "files_deleted": len(deleted),
            "statements_asked": statements}


@logger.inject_lambda_context
def handler(event: dict, context: Any) -> dict:
    results = [sweep(campaign_id) for campaign_id in ledger.campaign_ids()]
    for result in results:
        logger.info("swept", extra=result)  # counts only: file names carry offer ids, never debtors
    return {"campaigns": len(results), "results": results}
