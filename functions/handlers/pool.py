"""Pool stage: book confirmed gifts in the ledger, a whole SQS batch per transaction."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import SQSEvent

from functions.adapters import ledger
from functions.domain.campaigns import Campaign
from functions.domain.gifts import PaymentConfirmed
from functions.domain.ledger import POOL
from functions.handlers.queue import failures

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict, context: Any) -> dict:
    by_campaign: dict[str, list[tuple[str, PaymentConfirmed]]] = defaultdict(list)
    failed: list[str] = []
    for record in SQSEvent(event).records:
        try:
            gift = PaymentConfirmed(**json.loads(record.body)["gift"])
        except (ValueError, KeyError, TypeError):
            logger.error("unreadable gift message", extra={"message_id": record.message_id})
            failed.append(record.message_id)
            continue
        by_campaign[gift.campaign_id].append((record.message_id, gift))
    for campaign_id, messages in by_campaign.items():
        try:
            meta, balances = ledger.snapshot(campaign_id)
            if meta is None:
                raise LookupError(f"no campaign {campaign_id!r}")
            # A message delivered twice in one batch is one gift: one transaction can't write an item twice.
            gifts = list({g.transfer_id: g for _, g in messages}.values())
            booked = ledger.post_gifts(Campaign.from_dict(meta), gifts, balances[POOL])
            logger.info("gifts booked", extra={"campaign_id": campaign_id, "booked": len(booked),
                                               "already_booked": len(gifts) - len(booked)})
        except Exception:
            logger.exception("gift batch failed", extra={"campaign_id": campaign_id})
            failed += [message_id for message_id, _ in messages]
    return failures(failed)
