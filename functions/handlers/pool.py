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
from functions.adapters.outbox import messages
from functions.domain.gifts import PaymentAdjusted, PaymentConfirmed, from_message
from functions.handlers.queue import failures
from functions.services import payments
from functions.services.ports import NotYetBookable
from functions.wiring import PACKED_STAGES

logger = Logger()
GIFTS_PER_TRANSACTION = PACKED_STAGES["donations"]  # a transfer each, and the batch's balances: within 100 items


def book_gifts(campaign_id: str, gifts: list[PaymentConfirmed]) -> None:
    booked = payments.book_gifts(ledger.STORE, campaign_id, gifts)
    logger.info("gifts booked", extra={"campaign_id": campaign_id, "booked": booked.booked,
                                       "already_booked": booked.already_booked})


def book_adjustment(adjustment: PaymentAdjusted) -> None:
    transfer = payments.book_adjustment(ledger.STORE, adjustment)
    if transfer is None:
        return
    shortfall = payments.shortfall_cents(transfer)
    logger.info("adjustment booked", extra={"campaign_id": adjustment.campaign_id, "kind": adjustment.kind,
                                            "transfer_id": adjustment.transfer_id, "shortfall_cents": shortfall})
    if shortfall:
        # Paid out more than the reserve and pool held: the ShortfallCents alarm fires on this.
        with single_metric(name="ShortfallCents", unit=MetricUnit.Count, value=shortfall,
                           namespace="Jubilee") as metric:
            metric.add_metadata(key="campaign_id", value=adjustment.campaign_id)  # not a dimension: one alarm for all


def _readable(message_id: str, body: str) -> list[PaymentConfirmed | PaymentAdjusted | None] | None:
    """The facts a queue message carries (one, or many packed: outbox.packed), None for each unreadable one;
    None if the message itself is unreadable."""
    try:
        carried = messages(json.loads(body))
    except (ValueError, KeyError, TypeError):
        logger.error("unreadable pool message", extra={"message_id": message_id})
        return None
    facts: list[PaymentConfirmed | PaymentAdjusted | None] = []
    for n, message in enumerate(carried):
        try:
            facts.append(from_message(message))
        except (ValueError, KeyError, TypeError):
            logger.error("unreadable pool message", extra={"message_id": message_id, "position": n})
            facts.append(None)
    return facts


@logger.inject_lambda_context
def handler(event: dict, context: Any) -> dict:
    gifts: dict[str, list[tuple[str, PaymentConfirmed]]] = defaultdict(list)
    adjustments: list[tuple[str, PaymentAdjusted]] = []
    failed: list[str] = []
    for record in SQSEvent(event).records:
        facts = _readable(record.message_id, record.body)
        if facts is None or None in facts:  # the rest of its gifts are booked all the same; it goes on to the DLQ
            failed.append(record.message_id)
        for fact in facts or []:
            if fact is None:
                continue
            if isinstance(fact, PaymentConfirmed):
                gifts[fact.campaign_id].append((record.message_id, fact))
            else:
                adjustments.append((record.message_id, fact))
    for campaign_id, booking in gifts.items():
        for start in range(0, len(booking), GIFTS_PER_TRANSACTION):
            chunk = booking[start:start + GIFTS_PER_TRANSACTION]
            try:
                book_gifts(campaign_id, [g for _, g in chunk])
            except Exception:
                logger.exception("gift batch failed", extra={"campaign_id": campaign_id})
                failed += [message_id for message_id, _ in chunk]
    for message_id, adjustment in adjustments:  # after the gifts: a batch may hold a gift and its refund
        try:
            book_adjustment(adjustment)
        except NotYetBookable as waiting:
            logger.info("adjustment waits", extra={"reason": str(waiting)})
            failed.append(message_id)
        except Exception:
            logger.exception("adjustment failed", extra={"transfer_id": adjustment.transfer_id})
            failed.append(message_id)
    return failures(list(dict.fromkeys(failed)))
