"""Pledges taken once per (campaign, Idempotency-Key), in one conditional transaction.

The key's record (in the idempotency table, expiring after a day as Powertools' did) is written in
the same TransactWriteItems as the pending donation: one call, where a put, an update and a
transaction were three. A retry or a concurrent twin finds the record and answers what the first
answered; the same key with another body is refused. The donation's id is derived from the key and
the body, so a retry after a crash opens the same checkout (the provider's own idempotency key is
the donation id) and cannot store a second donation. Record ids and body hashes are keyed hashes:
the record holds neither the key a client chose nor anything of the donor.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from hashlib import blake2b
from typing import Any

from functions.adapters import clock, dynamo
from functions.adapters.aws import settings
from functions.adapters.secrets import derived_key

TTL_SECONDS = 24 * 3600


class KeyReused(Exception):
    """The Idempotency-Key was used before with another body."""


@dataclass(frozen=True)
class Pledge:
    record_id: str
    body_hash: str

    @classmethod
    def of(cls, campaign_id: str, idempotency_key: str, request: dict[str, Any]) -> Pledge:
        secret = derived_key("idempotency")
        record = blake2b(f"{campaign_id}\0{idempotency_key}".encode(), key=secret, digest_size=16).hexdigest()
        body = blake2b(json.dumps(request, sort_keys=True).encode(), key=secret, digest_size=16).hexdigest()
        return cls(record, body)

    @property
    def donation_id(self) -> str:
        return "don_" + blake2b(f"{self.record_id}|{self.body_hash}".encode(), digest_size=10).hexdigest()


def record(pledge: Pledge, checkout_url: str) -> dict[str, Any]:
    """The key's record as a transaction Put: only if the key is new (or its record expired)."""
    now = int(clock.now().timestamp())
    return {"Put": {"TableName": settings().idempotency_table, "Item": dynamo.to_item({
        "id": pledge.record_id, "expiration": now + TTL_SECONDS, "request": pledge.body_hash,
        "donation_id": pledge.donation_id, "checkout_url": checkout_url}),
        "ConditionExpression": "attribute_not_exists(id) OR expiration < :now",
        "ExpressionAttributeValues": {":now": {"N": str(now)}}, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}


def first_answer(pledge: Pledge, cancelled: dynamo.TransactionCancelled) -> str | None:
    """The checkout URL the first pledge of this key stored, when `cancelled` says there was one; None if
    the transaction failed for another reason. KeyReused if that pledge had another body."""
    for n in cancelled.failed():
        old = cancelled.old[n] if n < len(cancelled.old) else None
        if old is None:
            continue
        if old.get("kind") != "donation" and old.get("request") != pledge.body_hash:
            raise KeyReused
        return str(old["checkout_url"])  # the record, or (its record expired) the donation itself
    return None
