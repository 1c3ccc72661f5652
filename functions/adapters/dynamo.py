"""DynamoDB plumbing shared by the stores: keys, (de)serialization, transactions."""

from __future__ import annotations

import json
import random
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from itertools import islice
from typing import Any, TypeVar

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from functions.adapters import clock, keys
from functions.adapters.aws import client, settings
from functions.wiring import Index

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
MAX_TRANSACTION_ITEMS = 100
OUTBOX_TTL_SECONDS = 7 * 24 * 3600
# A sparse index of the outbox items not yet relayed (only they carry its keys), so the relay finds
# what the stream failed to deliver without a scan. Sharded: one partition takes ~1,000 writes/s.
OUTBOX_INDEX, OUTBOX_SHARD, OUTBOX_AT = "outbox-waiting", "outbox_shard", "outbox_at"
OUTBOX_SHARDS = 8
BATCH_WRITE = 25  # BatchWriteItem's limit
CONFLICT_ATTEMPTS = 8  # then the error propagates: SQS redelivers the message, a caller sees a 5xx
# A request DynamoDB refused because another write to one of its items was in flight: nothing of it
# was written, so the same request may simply be sent again. (The SDK's standard retries cover
# throttling and TransactionInProgressException, not a transaction cancelled for these reasons.)
_CONFLICT_ERRORS = {"TransactionConflictException", "TransactionInProgressException"}
_CONFLICT_REASONS = {"TransactionConflict", "ThrottlingError"}
T = TypeVar("T")


def to_item(data: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in data.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(_deserializer.deserialize(v)) for k, v in item.items()}


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; everything we store is integral."""
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def put(data: dict[str, Any], *, new: bool = True, condition: str | None = None,
        values: dict[str, Any] | None = None) -> dict[str, Any]:
    """A transaction Put; `new` makes it fail if the item exists (our idempotency guard)."""
    op: dict[str, Any] = {"TableName": settings().table, "Item": to_item(data)}
    expression = " AND ".join(c for c in ("attribute_not_exists(pk)" if new else None, condition) if c)
    if expression:
        op["ConditionExpression"] = expression
    if values:
        op["ExpressionAttributeValues"] = to_item(values)
    return {"Put": op}


def backoff(attempt: int, base_s: float = 0.01, cap_s: float = 0.5) -> None:
    """Sleep a "full jitter" exponential delay (AWS's advice), so writers that collided spread out."""
    time.sleep(random.uniform(0, min(cap_s, base_s * 2 ** attempt)))


def conflicted(error: ClientError) -> bool:
    """Refused for a write in flight, not for a condition: trying again is safe and may succeed."""
    code = error.response.get("Error", {}).get("Code")
    reasons = {r.get("Code") for r in error.response.get("CancellationReasons") or []}
    return code in _CONFLICT_ERRORS or (code == "TransactionCanceledException" and bool(reasons & _CONFLICT_REASONS)
                                        and "ConditionalCheckFailed" not in reasons)


def retrying(call: Callable[[], T]) -> T:
    """call(), sent again after a jittered pause while DynamoDB refuses it for a conflicting write in
    flight (hot items: a campaign's counters, balances, log head); bounded, then the error propagates."""
    for attempt in range(CONFLICT_ATTEMPTS - 1):
        try:
            return call()
        except ClientError as error:
            if not conflicted(error):
                raise
        backoff(attempt)
    return call()


def put_new(data: dict[str, Any]) -> bool:
    """One PutItem of an item that must not exist yet; False (nothing written) if it does."""
    try:
        retrying(lambda: client("dynamodb").put_item(**put(data)["Put"]))
        return True
    except client("dynamodb").exceptions.ConditionalCheckFailedException:
        return False


def put_or_existing(data: dict[str, Any]) -> dict[str, Any] | None:
    """One PutItem of an item that must not exist yet: None if written, else the item that exists
    (returned by the failed condition itself, so it costs no read)."""
    try:
        retrying(lambda: client("dynamodb").put_item(**put(data)["Put"], ReturnValuesOnConditionCheckFailure="ALL_OLD"))
        return None
    except client("dynamodb").exceptions.ConditionalCheckFailedException as exists:
        return from_item(dict(exists.response["Item"]))


def update(pk: str, sk: str, expression: str, values: dict[str, Any], *, condition: str | None = None,
           names: dict[str, str] | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {
        "TableName": settings().table, "Key": key(pk, sk),
        "UpdateExpression": expression, "ExpressionAttributeValues": to_item(values),
    }
    if condition:
        op["ConditionExpression"] = condition
    if names:
        op["ExpressionAttributeNames"] = names
    return {"Update": op}


def outbox(stage: str, message_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The outbox item that the dispatcher turns into a message on `stage`'s queue.

    Written in the same transaction as the state change it announces; its id makes a
    replayed state change unable to announce itself twice. It waits in OUTBOX_INDEX until
    SQS has its message (functions/adapters/outbox.py).
    """
    now = int(clock.now().timestamp())
    return put({
        "pk": keys.outbox_pk(message_id), "sk": keys.OUTBOX, "kind": "outbox", "stage": stage,
        "message_id": message_id, "body": json.dumps(body, sort_keys=True),
        OUTBOX_SHARD: str(zlib.crc32(message_id.encode()) % OUTBOX_SHARDS), OUTBOX_AT: now,
        "expires_at": now + OUTBOX_TTL_SECONDS,
    })


def _outbox_id(op: dict[str, Any]) -> str | None:
    """The key of an outbox Put in a transaction, else None."""
    pk = op.get("Put", {}).get("Item", {}).get("pk", {}).get("S", "")
    return pk if pk.startswith(keys.OUTBOX_PREFIX) else None


class TransactionCancelled(Exception):
    def __init__(self, codes: list[str], old: list[dict[str, Any] | None] | None = None):
        super().__init__(f"transaction cancelled: {codes}")
        self.codes = codes
        self.old = old or []  # each item as it was, where its op asked (ReturnValuesOnConditionCheckFailure)

    def failed(self) -> list[int]:
        """Positions of the items whose condition failed."""
        return [i for i, code in enumerate(self.codes) if code == "ConditionalCheckFailed"]


def transact(items: list[dict[str, Any]]) -> None:
    if not items:
        return
    if len(items) > MAX_TRANSACTION_ITEMS:
        raise ValueError(f"{len(items)} items exceed one transaction")
    try:
        retrying(lambda: client("dynamodb").transact_write_items(TransactItems=items))
    except ClientError as error:
        if error.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        reasons = error.response.get("CancellationReasons") or []
        raise TransactionCancelled([r.get("Code", "None") for r in reasons],
                                   [from_item(dict(r["Item"])) if r.get("Item") else None for r in reasons]) from error


def transact_once(items: list[dict[str, Any]]) -> bool:
    """Run a transaction guarded by conditions; False if a condition says it already happened or cannot."""
    try:
        transact(items)
    except TransactionCancelled as cancelled:
        if cancelled.failed():
            return False
        raise
    return True


def batch_get(keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Strongly consistent reads of up to 100 items by (pk, sk)."""
    wanted = [key(pk, sk) for pk, sk in dict.fromkeys(keys)]
    found: dict[tuple[str, str], dict[str, Any]] = {}
    table = settings().table
    while wanted:
        request = {table: {"Keys": wanted[:100], "ConsistentRead": True}}
        response = client("dynamodb").batch_get_item(RequestItems=request)
        for item in response["Responses"].get(table, []):
            data = from_item(item)
            found[(data["pk"], data["sk"])] = data
        wanted = wanted[100:] + response.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
    return found


def transact_get(keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Up to 100 items by (pk, sk), read as one serializable snapshot (TransactGetItems)."""
    wanted = list(dict.fromkeys(keys))
    request = [{"Get": {"TableName": settings().table, "Key": key(pk, sk)}} for pk, sk in wanted]
    response = retrying(lambda: client("dynamodb").transact_get_items(TransactItems=request))
    found = (from_item(r["Item"]) for r in response["Responses"] if r.get("Item"))
    return {(item["pk"], item["sk"]): item for item in found}


def query(pk: str, sk_prefix: str = "", **kwargs: Any) -> Iterable[dict[str, Any]]:
    """Every item of a partition (whose sort key starts with sk_prefix), page by page."""
    expression = "pk = :pk" + (" AND begins_with(sk, :prefix)" if sk_prefix else "")
    values = {":pk": pk} | ({":prefix": sk_prefix} if sk_prefix else {})
    paginator = client("dynamodb").get_paginator("query")
    for page in paginator.paginate(TableName=settings().table, KeyConditionExpression=expression,
                                   ExpressionAttributeValues=to_item(values), ConsistentRead=True, **kwargs):
        yield from (from_item(item) for item in page["Items"])


def scan(kind: str | None = None) -> Iterable[dict[str, Any]]:
    """Every item of the table (of one kind), page by page: for operators and schedules, never a request."""
    extra = {"FilterExpression": "kind = :kind", "ExpressionAttributeValues": to_item({":kind": kind})} if kind else {}
    for page in client("dynamodb").get_paginator("scan").paginate(TableName=settings().table, **extra):
        yield from (from_item(item) for item in page["Items"])




def query_index(index: Index, pk: str, since: str) -> Iterable[dict[str, Any]]:
    """Items of a partition whose `index.sort_key` is `since` or later, in that order (an index is read
    eventually consistent: a write shows in it a moment after it commits)."""
    paginator = client("dynamodb").get_paginator("query")
    for page in paginator.paginate(TableName=settings().table, IndexName=index.name,
                                   KeyConditionExpression="pk = :pk AND #at >= :since",
                                   ExpressionAttributeNames={"#at": index.sort_key},
                                   ExpressionAttributeValues=to_item({":pk": pk, ":since": since})):
        yield from (from_item(item) for item in page["Items"])


def get(pk: str, sk: str) -> dict[str, Any] | None:
    item = client("dynamodb").get_item(TableName=settings().table, Key=key(pk, sk), ConsistentRead=True).get("Item")
    return from_item(item) if item else None


def transact_new(new: list[Any], build: Any) -> list[Any]:
    """Write the items of `new` not written before, with whatever `build` adds for them.

    `build(pending)` returns the transaction: one guarded Put per pending item first, in
    order, then the items that depend on them (balances, counters, outbox). A Put whose
    guard fails was written by an earlier delivery; it is dropped and the rest retried,
    so a redelivered batch counts each item once. An outbox item further on whose id exists
    was announced before (a batch delivered again makes the same one): it is left out.
    Returns what this call wrote.
    """
    pending, announced = list(new), set()
    while pending:
        items = [op for op in build(pending) if _outbox_id(op) not in announced]
        try:
            transact(items)
            return pending
        except TransactionCancelled as cancelled:
            failed = set(cancelled.failed())
            later = [_outbox_id(items[i]) for i in failed if i >= len(pending)]
            if not failed or None in later:
                raise
            announced.update(later)
            pending = [item for i, item in enumerate(pending) if i not in failed]
    return []


def batches(items: Iterable[T], size: int = BATCH_WRITE) -> Iterator[list[T]]:
    """Items `size` at a time, taken as they come (a generator's are made one batch at a time)."""
    items = iter(items)
    while batch := list(islice(items, size)):
        yield batch


def batch_put(items: Iterable[dict[str, Any]]) -> int:
    """Unconditional Puts of items (DynamoDB JSON) with BatchWriteItem in 25s, retrying what DynamoDB
    leaves unprocessed; returns the calls made."""
    table, calls = settings().table, 0
    for batch in batches(items):
        pending = [{"PutRequest": {"Item": item}} for item in batch]
        for attempt in range(8):
            calls += 1
            pending = client("dynamodb").batch_write_item(RequestItems={table: pending}) \
                .get("UnprocessedItems", {}).get(table, [])
            if not pending:
                break
            backoff(attempt, base_s=0.05, cap_s=1.0)  # the table is throttling us
        else:
            raise RuntimeError("DynamoDB kept items unprocessed")
    return calls
