"""Forgiveness stage: split a bought portfolio into chunks, then forgive each chunk's accounts.

Per account, one event: public fields (a keyed hash for the account, never its reference;
the hash of the letter's code, by which /verify finds it), and the debtor's name and address
sealed with the portfolio's data key for the letters stage alone.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

from aws_lambda_powertools import Logger

from functions.adapters import crypto, dynamo
from functions.adapters import forgiveness as store
from functions.adapters.secrets import derived_key
from functions.domain.forgiveness import account_hash, code_hash, debts, private_fields, verification_code
from functions.handlers.queue import each_message

logger = Logger()


def split(message: dict[str, Any]) -> None:
    cid, plan_id = message["campaign_id"], message["plan_id"]
    if store.ingested(cid, plan_id):
        return  # a late redelivery: every chunk is in, and the file is gone
    store.ensure_data_key(cid, plan_id, lambda: crypto.new_data_key(cid, plan_id))
    header, ranges = store.chunk_ranges(message["portfolio_key"])
    store.announce_chunks(message, header, ranges)
    logger.info("portfolio split", extra={"campaign_id": cid, "plan_id": plan_id, "chunks": len(ranges)})


def chunk_items(message: dict[str, Any], rows: Iterable[list[str]], cipher: Any, hash_key: bytes, code_key: bytes,
                forgiven_at: str) -> tuple[list[dict[str, Any]], int, int]:
    """A chunk's DynamoDB items (one event per account, found by code through the by_code index),
    with its account count and face value. Built in DynamoDB's wire format directly: this loop is the
    ingestion's hot path (bench/RESULTS.md)."""
    cid, plan_id, chunk = message["campaign_id"], message["plan_id"], message["chunk"]
    header = next(csv.reader([message["header"]]))
    items, face = [], 0
    partition, kind, campaign = f"FORGIVEN#{cid}#{plan_id}", {"S": "forgiveness"}, {"S": cid}
    plan, when = {"S": plan_id}, {"S": forgiven_at}
    prefix, aad_prefix = chunk.to_bytes(6, "big"), f"{cid}|{plan_id}|"  # as crypto.nonce and crypto.aad make them
    for row, debt in enumerate(debts(header, rows, message["first_row"] + 2)):
        digest = account_hash(hash_key, cid, debt.account_ref)
        code = verification_code(code_key, cid, plan_id, debt.account_ref)
        proof = code_hash(code.replace("-", ""))
        nonce = prefix + row.to_bytes(6, "big")  # crypto.nonce(chunk, row), inlined on the hot path
        sealed = nonce + cipher.encrypt(nonce, private_fields(debt, code), f"{aad_prefix}{digest}".encode())
        items.append({
            "pk": {"S": partition}, "sk": {"S": f"{chunk:06d}#{digest}"}, "kind": kind, "campaign_id": campaign,
            "plan_id": plan, "account_hash": {"S": digest}, "original_creditor": {"S": debt.original_creditor},
            "debt_type": {"S": debt.debt_type}, "state": {"S": debt.state},
            "face_value_cents": {"N": str(debt.balance_cents)}, "forgiven_at": when, "code_hash": {"S": proof},
            "sealed": {"B": sealed},
        })
        face += debt.balance_cents
    return items, len(items), face


def forgive_chunk(message: dict[str, Any]) -> None:
    cid, plan_id = message["campaign_id"], message["plan_id"]
    if store.chunk_done(cid, plan_id, message["chunk"]):
        return  # counted by an earlier delivery (whose events are written): nothing to redo
    plan = dynamo.get(dynamo.campaign_pk(cid), f"PLAN#{plan_id}")
    if plan is None or not plan.get("data_key"):
        raise LookupError(f"plan {plan_id} has no data key yet")
    cipher = crypto.portfolio_cipher(bytes(plan["data_key"]), cid, plan_id)
    # The purchase's settlement time: the same on every redelivery, so rewritten events are identical.
    items, accounts, face = chunk_items(message, store.chunk_rows(message), cipher, derived_key("account-hash"),
                                        derived_key("letter-code"), plan.get("finished_at") or plan["held_at"])
    store.write_items(items)
    counted = store.finish_chunk(message, accounts, face)
    done = store.drop_plaintext_when_done(cid, plan_id, [message["portfolio_key"], plan["offer"]["object_key"]])
    logger.info("chunk forgiven", extra={"campaign_id": cid, "plan_id": plan_id, "chunk": message["chunk"],
                                         "accounts": accounts, "counted_now": counted, "portfolio_done": done})


def forgive(message: dict[str, Any]) -> None:
    (forgive_chunk if message.get("kind") == "chunk" else split)(message)


handler = logger.inject_lambda_context(each_message(forgive))
