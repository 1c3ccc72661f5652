"""Pledges taken once per (campaign, Idempotency-Key), in one conditional put.

The donation's id is a keyed hash of the campaign and the key, so the pledge's one write (the pending
donation, put only if its id is new) is its idempotency record as well: one call, one item. A retry or
a concurrent twin finds the donation the first wrote and answers as the first did, for REPLAY_S; the same
key with another body is refused (the donation holds a keyed hash of its body). The checkout is opened
under the provider's idempotency key for the pledge (its id and its body's hash), with the same parameters
every time, so the provider replays the first checkout rather than open a second. Nothing stored holds the
key a client chose.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from hashlib import blake2b
from typing import Any

from functions.adapters.secrets import derived_key

# How long a key replays its pledge: until an hour before its checkout expires (23 h, stripe_payments.py), well
# within Stripe's own keys' 24 h, so a retry always gets the first checkout back and never opens a second one.
REPLAY_S = 22 * 3600


class KeyReused(Exception):
    """The Idempotency-Key was used before with another body."""


class KeyExpired(Exception):
    """The Idempotency-Key's pledge is older than REPLAY_S."""


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


def check_replay(pledge: Pledge, stored: dict[str, Any], now: dt.datetime) -> None:
    """A pledge found stored under this key: KeyReused unless it had the same body, KeyExpired if it was made
    more than REPLAY_S ago."""
    if stored.get("request") != pledge.body_hash:
        raise KeyReused
    if (now - dt.datetime.fromisoformat(stored["created_at"])).total_seconds() > REPLAY_S:
        raise KeyExpired
