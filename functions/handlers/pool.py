"""Pool stage: book what payment providers reported.

Gifts are booked a whole SQS batch per transaction (each campaign's balance items written
once per batch); refunds and dispute steps, rarer, one by one with fresh balances.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.data_classes import SQSEvent

from functions.adapters import ledger
from functions.domain.campaigns import Campaign, UnknownCampaign
from functions.domain.gifts import PaymentAdjusted, PaymentConfirmed, from_message
from functions.domain.ledger import POOL, SHORTFALL
from functions.handlers.queue import failures

logger = Logger()


def book_gifts(campaign_id: str, gifts: list[PaymentConfirmed]) -> None:
    meta, balances = ledger.snapshot(campaign_id)
    if meta is None:
        raise UnknownCampaign(campaign_id)
    # A message delivered twice in one batch is one gift: one transaction can't write an item twice.
    unique = list({g.transfer_id: g for g in gifts}.values())
    booked = ledger.post_gifts(Campaign.from_dict(meta), unique, balances[POOL])
    logger.info("gifts booked", extra={"campaign_id": campaign_id, "booked": len(booked),
                                       "already_booked": len(unique) - len(booked)})


def book_adjustment(adjustment: PaymentAdjusted) -> None:
    _, balances = ledger.snapshot(adjustment.campaign_id)
    transfer = adjustment.transfer(balances)
    if not ledger.post_adjustment(adjustment, transfer):
        return
    shortfall = -transfer.deltas().get(SHORTFALL, 0)
    logger.info("adjustment booked", extra={"campaign_id": adjustment.campaign_id, "kind": adjustment.kind,
                                            "transfer_id": adjustment.transfer_id, "shortfall_cents": shortfall})
    if shortfall:
        # Paid out more than the reserve and pool held: the ShortfallCents alarm fires on this.
        with single_metric(name="ShortfallCents", unit=MetricUnit.Count, value=shortfall,
                           namespace="Jubilee") as metric:
            metric.add_metadata(key="campaign_id", value=adjustment.campaign_id)  # not a dimension: one alarm for all


@logger.inject_lambda_context
def handler(event: dict, context: Any) -> dict:
    gifts: dict[str, list[tuple[str, PaymentConfirmed]]] = defaultdict(list)
    adjustments: list[tuple[str, PaymentAdjusted]] = []
    failed: list[str] = []
    for record in SQSEvent(event).records:
        try:
            fact = from_message(json.loads(record.body))
        except (ValueError, KeyError, TypeError):
            logger.error("unreadable pool message", extra={"message_id": record.message_id})
            failed.append(record.message_id)
            continue
        if isinstance(fact, PaymentConfirmed):
            gifts[fact.campaign_id].append((record.message_id, fact))
        else:
            adjustments.append((record.message_id, fact))
    for campaign_id, messages in gifts.items():
        try:
            book_gifts(campaign_id, [g for _, g in messages])
        except Exception:
            logger.exception("gift batch failed", extra={"campaign_id": campaign_id})
            failed += [message_id for message_id, _ in messages]
    for message_id, adjustment in adjustments:  # after the gifts: a batch may hold a gift and its refund
        try:
            book_adjustment(adjustment)
        except ledger.NotYetBookable as waiting:
            logger.info("adjustment waits", extra={"reason": str(waiting)})
            failed.append(message_id)
        except Exception:
            logger.exception("adjustment failed", extra={"transfer_id": adjustment.transfer_id})
            failed.append(message_id)
    return failures(failed)
