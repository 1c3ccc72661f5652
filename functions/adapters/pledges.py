"""Pledges taken once per (campaign, Idempotency-Key), in one conditional put.

The donation's id is a keyed hash of the campaign and the key, so the pledge's one write (the pending
donation, put only if its id is new) is its idempotency record as well: one call, one item. A retry or
a concurrent twin finds the donation the first wrote and answers as the first did; the same key with
another body is refused (the donation holds a keyed hash of its body). The provider's own idempotency
key is the donation's id and the body's hash, so a retry opens the same checkout, and another body
under a used key never reuses the first's. Nothing stored holds the key a client chose.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from hashlib import blake2b
from typing import Any

from functions.adapters.secrets import derived_key


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
        return "don_" + blake2b(self.record_id.encode(), digest_size=10).hexdigest()

    @property
    def checkout_key(self) -> str:
        """The provider's idempotency key for this pledge's checkout: its donation, and its body."""
        return f"{self.donation_id}-{self.body_hash[:16]}"


def check_replay(pledge: Pledge, stored: dict[str, Any]) -> None:
    """A pledge found stored under this key: KeyReused unless it had the same body."""
    if stored.get("request") != pledge.body_hash:
        raise KeyReused
