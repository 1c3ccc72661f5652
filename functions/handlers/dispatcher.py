"""The outbox relay: new outbox items on the table's stream become messages on stage queues."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

from functions.adapters import outbox
from functions.handlers.queue import failures

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict, context: Any) -> dict:
    records = []
    for record in DynamoDBStreamEvent(event).records:
        image = record.dynamodb.new_image if record.dynamodb else None
        inserted = record.event_name is not None and record.event_name.name == "INSERT"
        if not inserted or not image or image.get("kind") != "outbox":
            continue  # the event source's filter already drops these; locally too, but stay safe
        records.append(record.raw_event["dynamodb"])
    refused = outbox.announce([r["NewImage"] for r in records])
    failed = [records[n]["SequenceNumber"] for n in refused]
    if failed:
        logger.error("outbox items not sent", extra={"count": len(failed)})
    # For a stream, the lowest failed sequence number is where Lambda resumes; later ones are resent too.
    return failures(sorted(failed, key=int)[:1])
