"""The outbox relay: outbox items become messages on their stages' queues.

The dispatcher announces each new item from the table's stream; once SQS has accepted its
message, the item is written back without its OUTBOX_INDEX keys. What is still in that
sparse index after a few minutes was never announced (a stream batch that ran out of
retries leaves only metadata in the dispatcher's failure queue): the scheduled relay, and
`jubilee dlq redrive outbox`, announce it again. Consumers are idempotent, so an item sent
twice (the stream was only slow) does no harm.

The relayed item itself stays until its TTL: its id keeps guarding exactly-once as before
(an hourly purchase check, a portfolio's chunks are announced once by their id alone).
Writing it back is a MODIFY on the stream, which the dispatcher's filter drops (INSERT only).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Any

from functions.adapters import dynamo
from functions.adapters.aws import client, settings

SQS_BATCH = 10  # SendMessageBatch's limit


def announce(items: list[dict[str, Any]]) -> list[int]:
    """Send outbox items (as stored, DynamoDB JSON) to their stages' queues; those SQS accepted
    leave the waiting index. Returns the positions of the items SQS did not accept."""
    by_stage: dict[str, list[int]] = {}
    for position, item in enumerate(items):
        by_stage.setdefault(item["stage"]["S"], []).append(position)
    refused: list[int] = []
    for stage, positions in by_stage.items():
        for start in range(0, len(positions), SQS_BATCH):
            batch = positions[start:start + SQS_BATCH]
            entries = [{"Id": str(n), "MessageBody": items[n]["body"]["S"], "MessageAttributes": {
                "message_id": {"DataType": "String", "StringValue": items[n]["message_id"]["S"]}}} for n in batch]
            response = client("sqs").send_message_batch(QueueUrl=settings().queue_url(stage), Entries=entries)
            refused += [int(f["Id"]) for f in response.get("Failed", [])]
    keys = (dynamo.OUTBOX_SHARD, dynamo.OUTBOX_AT)
    dynamo.batch_put([{k: v for k, v in item.items() if k not in keys}
                      for n, item in enumerate(items) if n not in set(refused) and dynamo.OUTBOX_SHARD in item])
    return sorted(refused)


def waiting(before: int) -> Iterator[dict[str, Any]]:
    """Outbox items written before `before` (epoch seconds) and not relayed yet: one Query per
    shard of the sparse index, never a scan. (The index is eventually consistent: an item just
    relayed may still show, and is then sent once more.)"""
    paginator = client("dynamodb").get_paginator("query")
    for shard in range(dynamo.OUTBOX_SHARDS):
        for page in paginator.paginate(
                TableName=settings().table, IndexName=dynamo.OUTBOX_INDEX,
                KeyConditionExpression="#shard = :shard AND #at < :before",
                ExpressionAttributeNames={"#shard": dynamo.OUTBOX_SHARD, "#at": dynamo.OUTBOX_AT},
                ExpressionAttributeValues=dynamo.to_item({":shard": str(shard), ":before": before})):
            yield from page["Items"]


def relay(before: int, batch: int = 100) -> tuple[int, int]:
    """Announce again every outbox item written before `before` and still waiting.
    Returns (announced, refused by SQS: still waiting for the next run)."""
    announced = refused = 0
    items = waiting(before)
    while found := list(islice(items, batch)):
        missed = len(announce(found))
        announced, refused = announced + len(found) - missed, refused + missed
    return announced, refused
