"""Forgiveness stage: split a bought portfolio into chunks, then forgive each chunk's accounts
(functions/services/forgiveness.py; the events are built in functions/adapters/forgiven_accounts.py)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from functions.adapters.forgiven_accounts import DynamoForgivenessStore
from functions.handlers.queue import each_message
from functions.services import forgiveness

logger = Logger()
STORE = DynamoForgivenessStore()


def split(message: dict[str, Any]) -> None:
    chunks = forgiveness.split(STORE, message)
    if chunks is not None:
        logger.info("portfolio split", extra={"campaign_id": message["campaign_id"], "plan_id": message["plan_id"],
                                              "chunks": chunks})


def forgive_chunk(message: dict[str, Any]) -> None:
    done = forgiveness.forgive_chunk(STORE, message)
    if done is not None:
        logger.info("chunk forgiven", extra={"campaign_id": message["campaign_id"], "plan_id": message["plan_id"],
                                             "chunk": message["chunk"], "accounts": done.accounts,
                                             "counted_now": done.counted_now, "portfolio_done": done.portfolio_done})


def forgive(message: dict[str, Any]) -> None:
    (forgive_chunk if message.get("kind") == "chunk" else split)(message)


handler = logger.inject_lambda_context(each_message(forgive))
