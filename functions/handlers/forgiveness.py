"""Forgiveness stage: one event per account of a bought portfolio, and a letters request per chunk."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from functions.adapters import forgiveness, storage
from functions.adapters.secrets import derived_key
from functions.domain.forgiveness import chunks, forgiveness_event
from functions.domain.offers import read_accounts
from functions.handlers.queue import each_message

logger = Logger()


def forgive(message: dict[str, Any]) -> None:
    campaign_id, plan_id = message["campaign_id"], message["plan_id"]
    key = derived_key("account-hash")
    accounts = read_accounts(storage.read_lines(message["portfolio_key"]))
    written = 0
    for chunk_no, chunk in enumerate(chunks(accounts, forgiveness.CHUNK_SIZE)):
        events = [forgiveness_event(key, campaign_id, plan_id, account) for account in chunk]
        written += len(forgiveness.record_chunk(campaign_id, plan_id, chunk_no, events, message | {"chunk": chunk_no}))
    logger.info("portfolio forgiven", extra={"campaign_id": campaign_id, "plan_id": plan_id, "new_events": written})


handler = logger.inject_lambda_context(each_message(forgive))
