"""Changes to moto, for speed only (the emulator installs them; answers stay moto's own).

1. Transactions without a deep copy of the whole table.

moto 5 backs up every table a transaction touches with copy.deepcopy (items and stream
records included) so it can roll back a failed transaction. Its cost grows with the
table, and made a 60-gift demo spend 80% of its time copying. DynamoDB evaluates every
condition of a transaction against the state before it (an item may appear only once),
so we check all conditions first and write only when all pass: nothing to roll back.
The answers (CancellationReasons, errors) are moto's own.

2. Reads (GetItem, Query, Scan, BatchGetItem) answered as moto's own JSON, not through moto's
model-driven response serializer, which walks every attribute value's shape (milliseconds an
item): a chunk of letters reads thousands of items.

3. Stream records read straight from moto's shard (stream_records below), for the same reason.

4. Set-up: moto gives every mock a new boto3 session, whose botocore loader parses the service
models and endpoint files again (half a second a deployment); one loader serves every session
of the process. And moto makes an RSA key for every KMS key, used only to sign, which a symmetric
key refuses on AWS: the symmetric keys share one.
"""

from __future__ import annotations

import base64
import functools
import json
from typing import Any

import botocore.loaders
import botocore.session
import moto.kms.models
from moto.core.responses import ActionResult
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoHandler

_OPERATIONS = {"ConditionCheck", "Put", "Delete", "Update"}


def _key(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return op["Key"]
    table, attrs = backend.get_table(op["TableName"]), op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    seen: set[tuple[str, str]] = set()
    checked: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    errors: list[tuple[Any, Any, Any]] = []
    for item in transact_items:
        if len(item) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(item.items()))
        if op_type not in _OPERATIONS:
            raise ValueError("Unsupported transaction operation")
        key = _key(self, op_type, op)
        identity = (str(op["TableName"]), str(dict(sorted(key.items()))))
        if identity in seen:
            raise MultipleTransactionsException()
        seen.add(identity)
        checked.append((op_type, op, key))
        condition = op.get("ConditionExpression")
        current = self.get_item(op["TableName"], key)
        if condition is not None and not get_filter_expression(
                condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")).expr(current):
            old = current.to_json()["Attributes"] if current and \
                op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" else None
            errors.append(("ConditionalCheckFailed", ConditionalCheckFailed(item=old).message, old))
        else:
            errors.append((None, None, None))
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)
    for op_type, op, key in checked:  # every condition held: write, with no conditions left to fail
        names, values = op.get("ExpressionAttributeNames") or {}, op.get("ExpressionAttributeValues") or {}
        if op_type == "Put":
            self.put_item(op["TableName"], op["Item"])
        elif op_type == "Delete":
            self.delete_item(op["TableName"], key)
        elif op_type == "Update":
            self.update_item(op["TableName"], key, update_expression=op["UpdateExpression"],
                             expression_attribute_names=names, expression_attribute_values=values)


def _wire(value: Any) -> Any:
    if isinstance(value, bytes):  # binary attributes travel base64-encoded, as DynamoDB sends them
        return base64.b64encode(value).decode()
    raise TypeError(f"cannot send {type(value).__name__}")


def _plain_json(method: Any) -> Any:
    def answer(self: Any) -> Any:
        result = method(self)
        return json.dumps(result.result, default=_wire) if isinstance(result, ActionResult) else result

    return answer


_make_private_key = moto.kms.models.generate_private_key
_unused_private_key = functools.cache(lambda: _make_private_key("RSA_2048"))


def _private_key(key_spec: str) -> Any:
    return _unused_private_key() if key_spec in ("SYMMETRIC_DEFAULT", "") else _make_private_key(key_spec)


def install() -> None:
    if getattr(DynamoDBBackend, "_jubilee_speedups", False):
        return
    botocore.session.create_loader = functools.cache(botocore.loaders.create_loader)
    moto.kms.models.generate_private_key = _private_key
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    for name in ("get_item", "query", "scan", "batch_get_item"):
        setattr(DynamoHandler, name, _plain_json(getattr(DynamoHandler, name)))
    DynamoDBBackend._jubilee_speedups = True  # type: ignore[attr-defined]


def stream_records(account: str, region: str, table_name: str, after: int) -> list[dict[str, Any]] | None:
    """Stream records of an in-process moto table from position `after` on, read straight from
    moto's shard: its GetRecords response serializer costs milliseconds per record, and a big
    portfolio writes a record per account. None when the table is not in this process's moto."""
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[account][region].tables.get(table_name)
    if table is None or table.stream_shard is None:
        return None
    return [record.record for record in table.stream_shard.items[after:]]
