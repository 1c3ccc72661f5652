"""After a purchase, in DynamoDB and S3 (the rules: domain/after_purchase.py).

- Accounts withheld from letters (scrubbed, or put back): one item each under WITHHELD#<campaign>#<plan>,
  sort key the account's public hash, no personal data. The letters stage reads the plan's partition.
- Letters held for a scrub: a chunk's letters request waits in the campaign's partition under
  LETTERSDUE#<due date>#<plan>#<chunk> (not in SQS, whose delays stop at 15 minutes); the hourly sweep
  announces those due through the outbox, in the same transaction that removes them.
- A put-back: the refund's transfer, the balances, the plan's running refund total (conditional: never
  above its price), the public counters and the log entry in one transaction; then the accounts' marks.
- Each offer's sorted account hashes, kept in parts under PROOF#<campaign>#<offer> (never deleted with
  the offer's file: they are MACs, not the debtors' data; they leave in exports).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from functions.adapters import dynamo, ledger, public_log
from functions.adapters.aws import settings
from functions.adapters.keys import (
    campaign_pk,
    chunk_sk,
    forgiven_pk,
    ledger_pk,
    letters_due_sk,
    plan_sk,
    proof_pk,
    withheld_pk,
)
from functions.domain.after_purchase import is_due, ticked_attribute
from functions.domain.ledger import Transfer
from functions.domain.public_log import putback_body


def plan_accounts(campaign_id: str, plan_id: str) -> dict[str, dict[str, int]]:
    """Every account forgiven under the plan: its public hash -> {chunk, face_value_cents} (keys only read)."""
    found = dynamo.query(forgiven_pk(campaign_id, plan_id), ProjectionExpression="sk, face_value_cents")
    return {item["sk"].split("#", 1)[1]: {"chunk": int(item["sk"].split("#", 1)[0]),
                                           "face_value_cents": int(item["face_value_cents"])} for item in found}


def withheld(campaign_id: str, plan_id: str) -> dict[str, dict[str, Any]]:
    """The plan's accounts withheld from letters, by public hash."""
    return {item["sk"]: item for item in dynamo.query(withheld_pk(campaign_id, plan_id))}


def withhold(campaign_id: str, plan_id: str, account_hash: str, reason: str) -> bool:
    """Withhold an account's letter for a scrub's reason; False if it was withheld before."""
    return dynamo.put_new({"pk": withheld_pk(campaign_id, plan_id), "sk": account_hash, "kind": "withheld",
                           "campaign_id": campaign_id, "plan_id": plan_id, "reason": reason,
                           "withheld_at": ledger.now_iso()})


def mark_withdrawn(campaign_id: str, plan_id: str, account_hashes: Iterable[str], transfer_id: str) -> None:
    """Mark put-back accounts withdrawn (and so withheld), naming the refund's transfer: idempotent, so a
    repeated put-back completes marks a crash left unwritten."""
    now = ledger.now_iso()
    ops = [dynamo.update(withheld_pk(campaign_id, plan_id), h,
                         "SET kind = :kind, campaign_id = :c, plan_id = :p, withdrawn_by = :t, "
                         "withheld_at = if_not_exists(withheld_at, :now), reason = if_not_exists(reason, :r)",
                         {":kind": "withheld", ":c": campaign_id, ":p": plan_id, ":t": transfer_id, ":now": now,
                          ":r": "not_owned"}) for h in sorted(account_hashes)]
    for start in range(0, len(ops), dynamo.MAX_TRANSACTION_ITEMS):
        dynamo.transact(ops[start:start + dynamo.MAX_TRANSACTION_ITEMS])


def book_putback(campaign_id: str, plan_id: str, transfer: Transfer, account_hashes: list[str],
                 face_value_cents: int, refund_cents: int, reference: str, price_cents: int) -> bool:
    """The seller's refund and the accounts' withdrawal, with its log entry, once; False if the transfer is
    booked already, or the plan's refunds would pass its price (another put-back won a race)."""
    n = len(account_hashes)
    return public_log.transact_logged(campaign_id, [
        ledger.transfer_put(transfer, plan_id=plan_id, reference=reference, accounts=sorted(account_hashes)),
        dynamo.update(campaign_pk(campaign_id), plan_sk(plan_id),
                      "SET refunded_cents = if_not_exists(refunded_cents, :zero) + :refund",
                      {":zero": 0, ":refund": refund_cents, ":room": price_cents - refund_cents,
                       ":settled": "settled"},
                      condition="#s = :settled AND (attribute_not_exists(refunded_cents) OR refunded_cents <= :room)",
                      names={"#s": "status"}),
        ledger.count(campaign_id, accounts_forgiven=-n, face_value_forgiven_cents=-face_value_cents,
                     accounts_withdrawn=n, seller_refunds_cents=refund_cents),
        *ledger.balance_updates(campaign_id, [transfer]),
    ], putback_body(campaign_id, plan_id, n, face_value_cents, refund_cents, reference, ledger.now_iso()))


def booked_transfer(campaign_id: str, transfer_id: str) -> dict[str, Any] | None:
    return dynamo.get(ledger_pk(campaign_id), transfer_id)


def tick(campaign_id: str, plan_id: str, item: str) -> bool:
    """Tick a settled plan's checklist item; False if it was ticked before (or the plan is not settled)."""
    attribute = ticked_attribute(item)
    return dynamo.transact_once([dynamo.update(
        campaign_pk(campaign_id), plan_sk(plan_id), f"SET {attribute} = :at",
        {":at": ledger.now_iso(), ":settled": "settled"},
        condition=f"#s = :settled AND attribute_not_exists({attribute})", names={"#s": "status"})])


# --- letters held for a scrub -----------------------------------------------------------------

def letters_message(campaign_id: str, plan_id: str, chunk: int) -> dict[str, Any]:
    """The outbox item asking the letters stage for a chunk's letters (one id per chunk, ever)."""
    return dynamo.outbox("letters", f"letters#{plan_id}#{chunk}",
                         {"campaign_id": campaign_id, "plan_id": plan_id, "chunk": chunk})


def hold_letters(campaign_id: str, plan_id: str, chunk: int, due_at: str) -> dict[str, Any]:
    """The item holding a chunk's letters request until `due_at` (in the chunk's forgiveness transaction)."""
    return dynamo.put({"pk": campaign_pk(campaign_id), "sk": letters_due_sk(f"{due_at}#{plan_id}#{chunk_sk(chunk)}"),
                       "kind": "letters-due", "campaign_id": campaign_id, "plan_id": plan_id, "chunk": chunk,
                       "due_at": due_at})


def release_due_letters(campaign_id: str, now: dt.datetime) -> int:
    """Announce every held letters request whose date has come, each in the transaction that removes it
    (a concurrent sweep loses the race and announces nothing). Returns how many were released."""
    released = 0
    for item in dynamo.query(campaign_pk(campaign_id), letters_due_sk("")):  # oldest date first
        if not is_due(item["due_at"], now):
            break
        remove = {"Delete": {"TableName": settings().table, "Key": dynamo.key(item["pk"], item["sk"]),
                             "ConditionExpression": "attribute_exists(pk)"}}
        released += dynamo.transact_once([remove, letters_message(campaign_id, item["plan_id"], int(item["chunk"]))])
    return released


# --- proof of purchase ------------------------------------------------------------------------

HASHES_PER_PART = 10_000  # 33 bytes a line: a part stays well inside DynamoDB's 400 KB item


def keep_hashes(campaign_id: str, offer_id: str, listing: bytes) -> int:
    """Keep an offer's hash list (hash_list's lines) in parts; returns the number of parts."""
    lines = listing.decode().splitlines(keepends=True)
    parts = [{"pk": proof_pk(campaign_id, offer_id), "sk": f"{n:06d}", "kind": "purchase-proof",
              "campaign_id": campaign_id, "offer_id": offer_id,
              "hashes": "".join(lines[start:start + HASHES_PER_PART])}
             for n, start in enumerate(range(0, len(lines), HASHES_PER_PART))]
    dynamo.batch_put([dynamo.to_item(part) for part in parts])
    return len(parts)


def kept_hashes(campaign_id: str, offer_id: str) -> bytes | None:
    """The offer's hash list as kept, or None if none was (offers added before lists were kept)."""
    parts = list(dynamo.query(proof_pk(campaign_id, offer_id)))
    return "".join(part["hashes"] for part in parts).encode() if parts else None
