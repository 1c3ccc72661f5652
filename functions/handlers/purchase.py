"""Purchase stage: plan from open offers, hold the funds, buy, then post or void the hold."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools import Logger

from functions.adapters import clock, ledger, purchases
from functions.adapters.purchases import DynamoPurchaseStore
from functions.adapters.storage import seller_for
from functions.domain.campaigns import UnknownCampaign
from functions.handlers.queue import each_message
from functions.services.purchases import run_purchase_check

logger = Logger()


def check(message: dict[str, Any]) -> None:
    campaign = ledger.load_campaign(message["campaign_id"])
    if campaign is None:
        raise UnknownCampaign(message["campaign_id"])
    report = run_purchase_check(campaign, DynamoPurchaseStore(), seller_for, clock.now())
    if report.plan and report.plan.explanation:
        purchases.record_planning(campaign.campaign_id, [asdict(c) for c in report.plan.explanation],
                                  report.plan.exact)
    logger.info("purchase check", extra={"campaign_id": campaign.campaign_id, "proposed": report.proposed,
                                         "settled": report.settled, "voided": report.voided,
                                         "awaiting_seller": report.awaiting, "lapsed": report.lapsed})


handler = logger.inject_lambda_context(each_message(check))
