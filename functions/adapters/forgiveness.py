"""Forgiveness events and letter receipts in DynamoDB, each counted once per account."""

from __future__ import annotations

from typing import Any

from functions.adapters import dynamo, ledger
from functions.domain.forgiveness import ForgivenessEvent

# A chunk's events, its counter update and its outbox item share one transaction (<= 100 items).
CHUNK_SIZE = 90


def record_chunk(campaign_id: str, plan_id: str, chunk_no: int, events: list[ForgivenessEvent],
                 letters_message: dict[str, Any]) -> list[ForgivenessEvent]:
    """Write a chunk's events, add them to the totals and ask for their letters: all or nothing."""

    def build(pending: list[ForgivenessEvent]) -> list[dict[str, Any]]:
        items = [dynamo.put({"pk": f"FORGIVEN#{campaign_id}#{plan_id}", "sk": e.account_hash, "kind": "forgiveness",
                             "forgiven_at": ledger.now_iso(), **e.__dict__}) for e in pending]
        items.append(ledger.count(campaign_id, accounts_forgiven=len(pending),
                                  face_value_forgiven_cents=sum(e.face_value_cents for e in pending)))
        items.append(dynamo.outbox("letters", f"letters#{plan_id}#{chunk_no}", letters_message))
        return items

    return dynamo.transact_new(events, build)


def events(campaign_id: str, plan_id: str) -> list[dict[str, Any]]:
    return list(dynamo.query(f"FORGIVEN#{campaign_id}#{plan_id}"))


def mark_letters_sent(campaign_id: str, plan_id: str, account_hashes: list[str]) -> list[str]:
    """Count each account's letter once, however often its chunk is redelivered."""

    def build(pending: list[str]) -> list[dict[str, Any]]:
        items = [dynamo.put({"pk": f"LETTER#{campaign_id}#{plan_id}", "sk": h, "kind": "letter",
                             "sent_at": ledger.now_iso()}) for h in pending]
        return items + [ledger.count(campaign_id, letters_sent=len(pending))]

    return dynamo.transact_new(account_hashes, build)
