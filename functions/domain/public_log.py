"""The campaign's public log: a hash chain over every purchase and forgiveness batch.

Each entry carries its sequence number, the previous entry's hash and its own hash (SHA-256
over the previous hash and the entry's canonical JSON), so the head hash commits to the whole
history: an altered, dropped or reordered entry breaks the chain where it happened. No entry
holds personal data: purchases say what was bought for how much, forgiveness batches how many
accounts and how much face value. Anyone can recompute the chain and the totals from the
entries alone (`verify`) and compare them with what the campaign publishes (`compare`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

GENESIS = "0" * 64


def canonical(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def link(previous: str, entry: dict[str, Any]) -> str:
    return hashlib.sha256(previous.encode() + canonical(entry)).hexdigest()


def next_entry(previous_hash: str, seq: int, body: dict[str, Any]) -> dict[str, Any]:
    """The entry that follows `previous_hash` as number `seq` (from 1)."""
    entry = {**body, "seq": seq, "prev": previous_hash}
    return {**entry, "hash": link(previous_hash, entry)}


def purchase_body(campaign_id: str, plan_id: str, seller: str, price_cents: int, face_value_cents: int,
                  accounts: int, settled_at: str) -> dict[str, Any]:
    return {"type": "purchase", "campaign_id": campaign_id, "plan_id": plan_id, "seller": seller,
            "price_cents": price_cents, "face_value_cents": face_value_cents, "accounts": accounts, "at": settled_at}


def forgiveness_body(campaign_id: str, plan_id: str, chunk: int, accounts: int, face_value_cents: int,
                     forgiven_at: str, already_forgiven: int = 0) -> dict[str, Any]:
    """`accounts` forgiven now; `already_forgiven`: the chunk's accounts skipped, forgiven under another plan
    (written only when some were, so entries made before it existed read the same)."""
    return {"type": "forgiveness", "campaign_id": campaign_id, "plan_id": plan_id, "chunk": chunk,
            "accounts": accounts, "face_value_cents": face_value_cents, "at": forgiven_at} | \
        ({"already_forgiven": already_forgiven} if already_forgiven else {})


def campaign_change_body(campaign_id: str, changes: list[Any]) -> dict[str, Any]:
    """Public settings changed (domain.campaigns.PUBLIC_SETTINGS): which, from what to what; not by whom."""
    return {"type": "campaign-change", "campaign_id": campaign_id,
            "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in changes]}


@dataclass
class LogTotals:
    entries: int = 0
    purchases: int = 0
    spent_cents: int = 0
    face_value_purchased_cents: int = 0
    accounts_forgiven: int = 0
    face_value_forgiven_cents: int = 0


@dataclass
class Verification:
    head: str = GENESIS
    totals: LogTotals = field(default_factory=LogTotals)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "head": self.head, "totals": asdict(self.totals), "problems": self.problems}


def verify(entries: Iterable[dict[str, Any]]) -> Verification:
    """Recompute the chain and the totals from the entries alone, naming each entry that breaks it."""
    result, running, expected = Verification(), GENESIS, 1
    bought: dict[str, tuple[int, int]] = {}  # plan -> (accounts, face value) its purchase entry announced
    forgiven: dict[str, list[int]] = {}
    for position, entry in enumerate(entries, start=1):
        seq = entry.get("seq")
        where = f"entry {position} (seq {seq})"
        if seq != expected:
            result.problems.append(f"{where}: expected seq {expected}; an entry was dropped, added or moved here")
        expected = seq + 1 if isinstance(seq, int) else expected + 1  # re-synchronise: one problem, one report
        if entry.get("prev") != running:
            result.problems.append(f"{where}: 'prev' is not the hash of the entry before it (dropped or reordered)")
        body = {k: v for k, v in entry.items() if k != "hash"}
        if entry.get("hash") != link(str(entry.get("prev")), body):
            result.problems.append(f"{where}: its content does not match its hash (altered)")
        running = str(entry.get("hash"))  # follow the stored chain, so one bad entry is reported once
        _count(result.totals, entry, where, bought, forgiven, result.problems)
    for plan_id, (accounts, face) in bought.items():
        done = forgiven.get(plan_id, [0, 0, 0])
        if done[0] + done[2] > accounts or done[1] > face:
            skipped = f", {done[2]} skipped as forgiven before" if done[2] else ""
            result.problems.append(f"plan {plan_id}: more forgiven ({done[0]} accounts, {done[1]} cents{skipped}) "
                                   f"than bought ({accounts}, {face})")
    for plan_id in forgiven.keys() - bought.keys():
        result.problems.append(f"plan {plan_id}: forgiveness without a purchase entry")
    result.head = running
    return result


def _count(totals: LogTotals, entry: dict[str, Any], where: str, bought: dict[str, tuple[int, int]],
           forgiven: dict[str, list[int]], problems: list[str]) -> None:
    totals.entries += 1
    try:
        if entry["type"] == "purchase":
            totals.purchases += 1
            totals.spent_cents += int(entry["price_cents"])
            totals.face_value_purchased_cents += int(entry["face_value_cents"])
            bought[entry["plan_id"]] = (int(entry["accounts"]), int(entry["face_value_cents"]))
        elif entry["type"] == "forgiveness":
            totals.accounts_forgiven += int(entry["accounts"])
            totals.face_value_forgiven_cents += int(entry["face_value_cents"])
            done = forgiven.setdefault(entry["plan_id"], [0, 0, 0])
            done[0] += int(entry["accounts"])
            done[1] += int(entry["face_value_cents"])
            done[2] += int(entry.get("already_forgiven", 0))
        elif entry["type"] == "letter-bundle":  # a print bundle exported: how many letters, never whose
            int(entry["letters"])
        elif entry["type"] == "campaign-change":  # a public setting changed: no money moved
            if not all({"field", "old", "new"} <= set(change) for change in entry["changes"]):
                raise ValueError("a change without field, old and new")
        else:
            problems.append(f"{where}: unknown type {entry['type']!r}")
    except (KeyError, TypeError, ValueError) as error:
        problems.append(f"{where}: malformed ({error})")


PUBLISHED = {"log_head": "head", "log_entries": "entries", "purchases": "purchases", "spent_cents": "spent_cents",
             "accounts_forgiven": "accounts_forgiven", "face_value_forgiven_cents": "face_value_forgiven_cents"}


def compare(verification: Verification, published: dict[str, Any]) -> list[str]:
    """Where the recomputed chain and totals differ from what the campaign publishes."""
    ours = {"head": verification.head, **asdict(verification.totals)}
    return [f"published {name} is {published.get(name)!r}, the entries give {ours[mine]!r}"
            for name, mine in PUBLISHED.items() if published.get(name) != ours[mine]]
