"""Forgiveness at scale, in DynamoDB and S3.

A bought portfolio is split into chunks by byte range (one streaming pass over the file);
each chunk is a message of its own, so a million accounts never share one invocation. A
chunk's events are written with BatchWriteItem (25 items a call); its totals, its letters
request and its marker are one transaction, so a redelivered chunk rewrites the same events
and counts nothing twice. When the last chunk is in, the portfolio file, the only plaintext
copy of the debtors' data, is deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from functions.adapters import after_purchase, clock, dynamo, ledger, public_log, storage
from functions.adapters.aws import client, settings
from functions.adapters.keys import (
    VERIFY,
    campaign_pk,
    chunk_pk,
    chunk_sk,
    debtor_key_sk,
    forgiven_pk,
    letters_pk,
    plan_sk,
    verify_pk,
)
from functions.adapters.purchases import load_plan
from functions.domain.after_purchase import letters_due_at
from functions.domain.forgiveness import chunk_ranges as ranges_of
from functions.domain.forgiveness import fully_ingested
from functions.domain.public_log import forgiveness_body

CHUNK_ROWS = 2_000  # accounts per chunk: a few seconds of work, far inside the function's timeout


def plan_key(campaign_id: str, plan_id: str) -> dict[str, Any]:
    return dynamo.key(campaign_pk(campaign_id), plan_sk(plan_id))


def debtor_key(campaign_id: str, plan_id: str) -> dict[str, Any] | None:
    """The portfolio's key pair item: public key, KMS-encrypted private key (gone once shredded)."""
    return dynamo.get(campaign_pk(campaign_id), debtor_key_sk(plan_id))


def ensure_key_pair(campaign_id: str, plan_id: str, new_pair: Any) -> bytes:
    """The portfolio's public key, its pair made once (new_pair() asks KMS) and stored apart from the
    plan, so that expiring the item (TTL) shreds the debtors' data and nothing else."""
    found = debtor_key(campaign_id, plan_id)
    if found:
        return bytes(found["public_key"])
    public, encrypted_private = new_pair()
    if dynamo.put_new({"pk": campaign_pk(campaign_id), "sk": debtor_key_sk(plan_id), "kind": "debtor-key",
                       "campaign_id": campaign_id, "plan_id": plan_id, "public_key": public,
                       "private_key": encrypted_private}):
        return public
    stored = debtor_key(campaign_id, plan_id)  # another delivery got there first
    if stored is None:  # and then the pair expired (shredded) at once: never for a plan being forgiven
        raise LookupError(f"plan {plan_id}'s debtor key is gone")
    return bytes(stored["public_key"])


def chunk_ranges(portfolio_key: str) -> tuple[str, list[tuple[int, int, int]]]:
    """The header line and (first row, start byte, end byte) of each chunk, in one streaming pass."""
    body = client("s3").get_object(Bucket=settings().offers_bucket, Key=portfolio_key)["Body"]
    return ranges_of(body.iter_lines(keepends=True), CHUNK_ROWS)


def announce_chunks(message: dict[str, Any], header: str, ranges: list[tuple[int, int, int]]) -> None:
    """One forgiveness message per chunk, through the outbox (each id once, however often this runs)."""
    cid, plan_id = message["campaign_id"], message["plan_id"]
    client("dynamodb").update_item(TableName=settings().table, Key=plan_key(cid, plan_id),
                                   UpdateExpression="SET chunks = :n",
                                   ExpressionAttributeValues={":n": {"N": str(len(ranges))}})
    outbox = [dynamo.outbox("forgiveness", f"chunk#{plan_id}#{n}", {
        "kind": "chunk", "campaign_id": cid, "plan_id": plan_id, "portfolio_key": message["portfolio_key"],
        "chunk": n, "first_row": first, "start": start, "end": end, "header": header,
    }) for n, (first, start, end) in enumerate(ranges)]
    for group in range(0, len(outbox), 90):
        dynamo.transact_new(outbox[group:group + 90], lambda pending: pending)


def chunk_text(message: dict[str, Any]) -> str:
    """The chunk's rows, read by byte range: no invocation reads more of the file than its chunk."""
    body = client("s3").get_object(Bucket=settings().offers_bucket, Key=message["portfolio_key"],
                                   Range=f"bytes={message['start']}-{message['end'] - 1}")["Body"].read()
    return body.decode("utf-8")


def write_items(items: Iterable[dict[str, Any]]) -> int:
    """BatchWriteItem in 25s, retrying what DynamoDB leaves unprocessed; returns the calls made.
    If DynamoDB keeps some unprocessed, the chunk fails and is redelivered."""
    return dynamo.batch_put(items)


def finish_chunk(message: dict[str, Any], accounts: int, face_value_cents: int, forgiven_at: str,
                 already_forgiven: int = 0, letters_after_days: int = 0) -> bool:
    """Count a chunk once, log it and ask for its letters (at once, or held `letters_after_days` after the
    settlement for the hourly sweep to release). False if an earlier delivery already did.
    `already_forgiven`: its accounts skipped as forgiven under another plan, logged beside the count."""
    cid, plan_id, chunk = message["campaign_id"], message["plan_id"], message["chunk"]
    letters = (after_purchase.hold_letters(cid, plan_id, chunk, letters_due_at(forgiven_at, letters_after_days))
               if letters_after_days else after_purchase.letters_message(cid, plan_id, chunk))
    return public_log.transact_logged(cid, [
        dynamo.put({"pk": chunk_pk(cid, plan_id), "sk": chunk_sk(chunk), "kind": "chunk", "accounts": accounts}),
        ledger.count(cid, accounts_forgiven=accounts, face_value_forgiven_cents=face_value_cents),
        dynamo.update(campaign_pk(cid), plan_sk(plan_id), "ADD chunks_done :one", {":one": 1}),
        letters,
    ], forgiveness_body(cid, plan_id, chunk, accounts, face_value_cents, forgiven_at, already_forgiven))


def chunk_done(campaign_id: str, plan_id: str, chunk: int) -> bool:
    return dynamo.get(chunk_pk(campaign_id, plan_id), chunk_sk(chunk)) is not None


def drop_plaintext_when_done(campaign_id: str, plan_id: str) -> bool:
    """Once every chunk is in, delete the files that hold debtors' data in the clear: the portfolio and
    the offer it was bought as. Run by every delivery of every chunk, so a delete that failed is retried
    (deleting a deleted file is harmless); the hourly sweep catches what is left after that."""
    plan: Mapping[str, Any] = load_plan(plan_id) or {}
    if not fully_ingested(plan):
        return False
    for key in (plan["portfolio_key"], plan["offer"]["object_key"]):
        storage.delete_offer(key)  # and the keys beside it
    return True


def events_of_chunk(campaign_id: str, plan_id: str, chunk: int) -> list[dict[str, Any]]:
    return list(dynamo.query(forgiven_pk(campaign_id, plan_id), f"{chunk_sk(chunk)}#"))


def events(campaign_id: str, plan_id: str) -> list[dict[str, Any]]:
    return list(dynamo.query(forgiven_pk(campaign_id, plan_id)))


def continue_letters(message: dict[str, Any], handed_over: int) -> None:
    """The rest of a letters chunk, announced again through the outbox: its id names how far the chunk got,
    so a repeated delivery announces nothing twice, and each continuation makes progress."""
    cid, plan_id, chunk = message["campaign_id"], message["plan_id"], message["chunk"]
    dynamo.transact_once([dynamo.outbox("letters", f"letters#{plan_id}#{chunk}#after{handed_over}",
                                        {"campaign_id": cid, "plan_id": plan_id, "chunk": chunk,
                                         "after": handed_over})])


def finish_letters(campaign_id: str, plan_id: str, chunk: int, printed: int, keep_days: int,
                   expire: bool = True) -> bool:
    """Record a chunk's letters done once, however often the chunk is redelivered, counting the `printed`
    ones the sandbox printer put in the bucket (waiting: it mails nothing), and set the portfolio's key to
    expire `keep_days` after the latest letter: DynamoDB's TTL then deletes it, and with it every sealed
    copy of the debtors' data (events, printed batches) becomes unreadable. Letters a mail service or a
    print bundle takes are counted, and the key set to expire, as they are reported mailed (adapters/mail.py)."""
    now = clock.now().timestamp()
    return dynamo.transact_once([
        dynamo.put({"pk": letters_pk(campaign_id, plan_id), "sk": chunk_sk(chunk), "kind": "letters",
                    "printed": printed, "sent_at": ledger.now_iso()}),
        ledger.count(campaign_id, letters_waiting=printed),
        dynamo.update(campaign_pk(campaign_id), debtor_key_sk(plan_id), "SET expires_at = :at",
                      {":at": int(now) + keep_days * 86_400}, condition="attribute_exists(pk)"),
    ][:3 if expire else 2])


def _mailing_key(campaign_id: str, plan_id: str, chunk: int) -> tuple[str, str]:
    return letters_pk(campaign_id, plan_id), f"{chunk_sk(chunk)}#mailed"


def mailed(campaign_id: str, plan_id: str, chunk: int) -> bool:
    """Whether the chunk's batch was handed to the printer already (then it is never sent again)."""
    return dynamo.get(*_mailing_key(campaign_id, plan_id, chunk)) is not None


def record_mailing(campaign_id: str, plan_id: str, chunk: int, printer_id: str) -> None:
    """The chunk's batch was accepted by the printer (a racing delivery may have recorded it first: the
    printer took both as one batch, by its id)."""
    pk, sk = _mailing_key(campaign_id, plan_id, chunk)
    dynamo.put_new({"pk": pk, "sk": sk, "kind": "letter-mailing", "printer_id": printer_id,
                    "mailed_at": ledger.now_iso()})


def verification_item(digest: str, event: dict[str, Any]) -> dict[str, Any]:
    """What /verify may say of a letter, filed under the hash of its code: no name, no address."""
    return dynamo.to_item({"pk": verify_pk(digest), "sk": VERIFY, "kind": "verification",
                           "campaign_id": event["campaign_id"], "original_creditor": event["original_creditor"],
                           "face_value_cents": event["face_value_cents"], "forgiven_at": event["forgiven_at"]})


def verification(digest: str) -> dict[str, Any] | None:
    """The letter whose code hashes to this (one lookup, found or not)."""
    return dynamo.get(verify_pk(digest), VERIFY)
