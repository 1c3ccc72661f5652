"""Scheduled: announce again the outbox items the stream has not relayed within a few minutes.

A dispatcher batch that ran out of stream retries leaves its items waiting (its failure
queue gets only where the batch was); consumers are idempotent, so an item the stream was
merely slow with is sent twice and counted once.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from functions.adapters import clock, outbox

logger = Logger()
RELAY_AFTER_S = 5 * 60  # the stream relays in seconds; its retries take a minute or two


@logger.inject_lambda_context
def handler(event: dict, context: Any) -> dict:
    announced, refused = outbox.relay(int(clock.now().timestamp()) - RELAY_AFTER_S)
    if announced:
        logger.warning("outbox items the stream did not relay were announced again", extra={"count": announced})
    if refused:  # the function's error alarm; they stay waiting for the next run
        raise RuntimeError(f"SQS refused {refused} outbox item(s)")
    return {"announced": announced}
