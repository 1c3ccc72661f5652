"""The public log in DynamoDB: entries under LOG#<campaign>, the head beside the campaign.

An entry is appended in the same transaction as the state change it records (a purchase's
settlement, a chunk's forgiveness), so the log can neither miss nor repeat one. The head item
is the chain's lock: each append is conditional on the head it read, and a writer that lost
the race reads the new head and chains onto it.
"""

from __future__ import annotations

import json
from typing import Any

from functions.adapters import dynamo
from functions.adapters.aws import client, settings
from functions.adapters.dynamo import TransactionCancelled
from functions.adapters.keys import LOG_HEAD, campaign_pk, log_pk
from functions.domain.public_log import GENESIS, canonical, next_entry

HEAD = LOG_HEAD
ATTEMPTS = 50  # appends racing for one head: each loser retries on the new head


def head_of(item: dict[str, Any] | None) -> dict[str, Any]:
    """{"seq": entries so far, "hash": the head hash}, from the head item (None: an empty log)."""
    return {"seq": int(item["seq"]), "hash": item["hash"]} if item else {"seq": 0, "hash": GENESIS}


def head(campaign_id: str) -> dict[str, Any]:
    return head_of(dynamo.get(campaign_pk(campaign_id), HEAD))


def stored_entry(campaign_id: str, entry: dict[str, Any]) -> dict[str, Any]:
    """An entry as the table keeps it: its canonical JSON, byte for byte what its hash covers."""
    return {"pk": log_pk(campaign_id), "sk": f"{entry['seq']:010d}", "kind": "log-entry", "seq": entry["seq"],
            "entry": canonical(entry).decode()}


def stored_head(campaign_id: str, entry: dict[str, Any]) -> dict[str, Any]:
    """The head item once `entry` is the last."""
    return {"pk": campaign_pk(campaign_id), "sk": HEAD, "seq": entry["seq"], "hash": entry["hash"]}


def entry_items(campaign_id: str, current: dict[str, Any], entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The writes that append `entry` after `current` (the head as read): both fail if the head moved."""
    seq = entry["seq"]
    guard = "attribute_not_exists(pk)" if current["seq"] == 0 else "seq = :prev"
    return [
        dynamo.put(stored_entry(campaign_id, entry)),
        dynamo.update(campaign_pk(campaign_id), HEAD, "SET seq = :seq, #hash = :hash",
                      {":seq": seq, ":hash": entry["hash"]} | ({":prev": current["seq"]} if current["seq"] else {}),
                      condition=guard, names={"#hash": "hash"}),
    ]


def transact_logged(campaign_id: str, items: list[dict[str, Any]], body: dict[str, Any]) -> bool:
    """Run a guarded transaction (as dynamo.transact_once) with `body` appended to the log.

    False if one of `items`' own conditions failed (the change happened already, or cannot):
    then nothing is appended either.
    """
    for attempt in range(ATTEMPTS):
        current = head(campaign_id)
        entry = next_entry(current["hash"], current["seq"] + 1, body)
        try:
            dynamo.transact(items + entry_items(campaign_id, current, entry))
            return True
        except TransactionCancelled as cancelled:
            if any(position < len(items) for position in cancelled.failed()):
                return False
            if not cancelled.failed():  # (conflicts with writes in flight were retried by dynamo.transact)
                raise
        dynamo.backoff(attempt)  # another append moved the head: back off, re-read it, chain onto it
    raise RuntimeError(f"could not append to the log of {campaign_id} after {ATTEMPTS} attempts; will be retried")


def entries(campaign_id: str, after: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
    """Entries in order from seq `after + 1`, at most `limit` of them (all, page by page, if None)."""
    request: dict[str, Any] = {
        "TableName": settings().table, "KeyConditionExpression": "pk = :pk AND sk > :after", "ConsistentRead": True,
        "ExpressionAttributeValues": dynamo.to_item({":pk": log_pk(campaign_id), ":after": f"{after:010d}"})}
    found: list[dict[str, Any]] = []
    while True:
        wanted = {"Limit": limit - len(found)} if limit is not None else {}
        page = client("dynamodb").query(**request, **wanted)
        found += [json.loads(item["entry"]["S"]) for item in page["Items"]]
        if "LastEvaluatedKey" not in page or (limit is not None and len(found) >= limit):
            return found
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
