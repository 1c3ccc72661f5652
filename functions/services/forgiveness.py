"""Forgiveness: a bought portfolio split into chunks, each chunk's accounts forgiven and counted once, and
the plaintext files deleted once every chunk is in, over the forgiveness store's port."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from functions.services.ports import ForgivenessStore


def split(store: ForgivenessStore, message: dict[str, Any]) -> int | None:
    """Announce the portfolio's chunks: how many, or None for a late redelivery (every chunk is in, and the
    files, deleted again, are gone)."""
    cid, plan_id = message["campaign_id"], message["plan_id"]
    if store.drop_plaintext_when_done(cid, plan_id):
        return None
    store.ensure_key_pair(cid, plan_id)
    header, ranges = store.chunk_ranges(message["portfolio_key"])
    store.announce_chunks(message, header, ranges)
    return len(ranges)


@dataclass(frozen=True)
class ChunkForgiven:
    accounts: int
    counted_now: bool  # False: an earlier delivery counted it (its events are the same)
    portfolio_done: bool  # every chunk is in: the plaintext files are deleted


def forgive_chunk(store: ForgivenessStore, message: dict[str, Any]) -> ChunkForgiven | None:
    """Forgive a chunk's accounts once; None if an earlier delivery counted it already."""
    cid, plan_id = message["campaign_id"], message["plan_id"]
    if store.chunk_done(cid, plan_id, message["chunk"]):
        # Counted by an earlier delivery (whose events are written); its deletion may have failed.
        store.drop_plaintext_when_done(cid, plan_id)
        return None
    plan, key_pair = store.load_plan(plan_id), store.debtor_key(cid, plan_id)
    if plan is None or key_pair is None:
        raise LookupError(f"plan {plan_id} has no debtor key yet")
    # The purchase's settlement time: the same on every redelivery, so rewritten events say the same.
    forgiven_at = plan.get("finished_at") or plan["held_at"]
    accounts, face, skipped = store.write_events(message, bytes(key_pair["public_key"]), forgiven_at)
    counted = store.finish_chunk(message, accounts, face, forgiven_at, skipped)
    return ChunkForgiven(accounts, counted, store.drop_plaintext_when_done(cid, plan_id))
