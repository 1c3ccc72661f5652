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

import json
from collections.abc import Iterator
from itertools import islice
from typing import Any

from functions.adapters import dynamo
from functions.adapters.aws import client, settings
from functions.wiring import PACKED_STAGES

SQS_BATCH = 10  # SendMessageBatch's limit of entries
SQS_BATCH_BYTES = 240_000  # and of their bodies together (256 KiB), with room for the attributes


def packed(bodies: list[str]) -> str:
    """One queue message carrying several outbox items' messages (wiring.PACKED_STAGES), unpacked by messages()."""
    return json.dumps({"packed": [json.loads(body) for body in bodies]}, sort_keys=True)


def messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The outbox messages a queue message carries: itself, or those packed in it."""
    return list(body["packed"]) if "packed" in body else [body]


def _entries(items: list[dict[str, Any]], stage: str, positions: list[int]) -> list[tuple[list[int], dict[str, Any]]]:
    """The queue messages for a stage's items: one each, or packed PACKED_STAGES[stage] at a time."""
    size = PACKED_STAGES.get(stage, 1)
    groups = [positions[i:i + size] for i in range(0, len(positions), size)]
    entries = []
    for group in groups:
        ids = [items[n]["message_id"]["S"] for n in group]
        body = items[group[0]]["body"]["S"] if size == 1 else packed([items[n]["body"]["S"] for n in group])
        entries.append((group, {"MessageBody": body, "MessageAttributes": {"message_id": {
            "DataType": "String", "StringValue": ids[0] if size == 1 else f"{ids[0]} (+{len(ids) - 1})"}}}))
    return entries


def _requests(entries: list[tuple[list[int], dict[str, Any]]]) -> list[list[tuple[list[int], dict[str, Any]]]]:
    """SendMessageBatch requests: at most SQS_BATCH entries, and SQS_BATCH_BYTES of bodies, each."""
    requests: list[list[tuple[list[int], dict[str, Any]]]] = []
    size = 0
    for entry in entries:
        length = len(entry[1]["MessageBody"].encode())
        if not requests or len(requests[-1]) == SQS_BATCH or size + length > SQS_BATCH_BYTES:
            requests.append([])
            size = 0
        requests[-1].append(entry)
        size += length
    return requests


def announce(items: list[dict[str, Any]]) -> list[int]:
    """Send outbox items (as stored, DynamoDB JSON) to their stages' queues; those SQS accepted
    leave the waiting index. Returns the positions of the items SQS did not accept."""
    by_stage: dict[str, list[int]] = {}
    for position, item in enumerate(items):
        by_stage.setdefault(item["stage"]["S"], []).append(position)
    refused: list[int] = []
    for stage, positions in by_stage.items():
        for request in _requests(_entries(items, stage, positions)):
            response = client("sqs").send_message_batch(QueueUrl=settings().queue_url(stage), Entries=[
                {"Id": str(n), **entry} for n, (_, entry) in enumerate(request)])
            refused += [p for f in response.get("Failed", []) for p in request[int(f["Id"])][0]]
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
