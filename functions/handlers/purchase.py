"""Purchase stage: plan from open offers, hold the funds, buy, then post or void the hold."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from functions.adapters.purchases import DynamoPurchaseStore
from functions.adapters.storage import SandboxSeller
from functions.domain.purchase import run_purchase_check
from functions.handlers.queue import each_message

logger = Logger()


def check(message: dict[str, Any]) -> None:
    report = run_purchase_check(message["campaign_id"], DynamoPurchaseStore(), SandboxSeller())
    logger.info("purchase check", extra={"campaign_id": message["campaign_id"], "settled": report.settled,
                                         "voided": report.voided})


handler = logger.inject_lambda_context(each_message(check))
