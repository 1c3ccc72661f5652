"""The outbox relay: new outbox items on the table's stream become messages on stage queues."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

from functions.adapters.aws import client, settings
from functions.handlers.queue import failures

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict, context: Any) -> dict:
    by_stage: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for record in DynamoDBStreamEvent(event).records:
        image = record.dynamodb.new_image if record.dynamodb else None
        if record.event_name.name != "INSERT" or not image or image.get("kind") != "outbox":
            continue  # the event source's filter already drops these; locally too, but stay safe
        by_stage.setdefault(image["stage"], []).append((record.dynamodb.sequence_number, image))
    failed: list[str] = []
    for stage, items in by_stage.items():
        queue_url = settings().queue_urls[stage]
        for start in range(0, len(items), 10):
            batch = items[start:start + 10]
            entries = [{"Id": str(i), "MessageBody": image["body"],
                        "MessageAttributes": {"message_id": {"DataType": "String", "StringValue": image["message_id"]}}}
                       for i, (_, image) in enumerate(batch)]
            response = client("sqs").send_message_batch(QueueUrl=queue_url, Entries=entries)
            failed += [batch[int(f["Id"])][0] for f in response.get("Failed", [])]
    if failed:
        logger.error("outbox items not sent", extra={"count": len(failed)})
    # For a stream, the lowest failed sequence number is where Lambda resumes; later ones are resent too.
    return failures(sorted(failed, key=int)[:1])
