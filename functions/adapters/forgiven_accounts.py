"""A forgiven chunk's events, built and written, and the forgiveness service's store (functions/services/ports.py).

Per account, one event: public fields (a keyed hash for the account, never its reference, and
the hash of the debtor's verification code) and the debtor's name and address sealed to the
portfolio's public key for the letters stage. This code can seal, never open (crypto.py).
"""

from __future__ import annotations

import csv
import gc
from collections.abc import Callable
from functools import partial
from hashlib import blake2b, sha256
from typing import Any

from functions.adapters import crypto, duplicates, ledger, purchases, storage
from functions.adapters import forgiveness as store
from functions.adapters.keys import chunk_sk, forgiven_pk
from functions.adapters.secrets import derived_key
from functions.adapters.storage import KEY_WIDTH
from functions.domain.campaigns import UnknownCampaign
from functions.domain.duplicates import ACCOUNT, PERSON, primed
from functions.domain.forgiveness import CODE_BYTES, SEPARATOR, accounts_in
from functions.domain.records import PlanRecord

KEYED_BYTES = 16 + CODE_BYTES  # as account_keys makes them


class DynamoForgivenessStore:
    """Chunks, their events and counts in DynamoDB, the portfolio in S3 (functions/adapters/forgiveness.py)."""

    # Each looks its function up when called (the fault tests replace them on the module).
    def load_plan(self, plan_id: str) -> PlanRecord | None:
        return purchases.load_plan(plan_id)

    def debtor_key(self, campaign_id: str, plan_id: str) -> dict[str, Any] | None:
        return store.debtor_key(campaign_id, plan_id)

    def chunk_ranges(self, portfolio_key: str) -> tuple[str, list[tuple[int, int, int]]]:
        return store.chunk_ranges(portfolio_key)

    def announce_chunks(self, message: dict[str, Any], header: str, ranges: list[tuple[int, int, int]]) -> None:
        store.announce_chunks(message, header, ranges)

    def chunk_done(self, campaign_id: str, plan_id: str, chunk: int) -> bool:
        return store.chunk_done(campaign_id, plan_id, chunk)

    def finish_chunk(self, message: dict[str, Any], accounts: int, face_value_cents: int, forgiven_at: str,
                     already_forgiven: int = 0) -> bool:
        campaign = ledger.load_campaign(message["campaign_id"])  # its letters may wait for a seller's scrub
        if campaign is None:
            raise UnknownCampaign(message["campaign_id"])
        return store.finish_chunk(message, accounts, face_value_cents, forgiven_at, already_forgiven,
                                  campaign.letters_after_days)

    def drop_plaintext_when_done(self, campaign_id: str, plan_id: str) -> bool:
        return store.drop_plaintext_when_done(campaign_id, plan_id)

    def ensure_key_pair(self, campaign_id: str, plan_id: str) -> None:
        store.ensure_key_pair(campaign_id, plan_id, lambda: crypto.new_key_pair(campaign_id, plan_id))

    def write_events(self, message: dict[str, Any], public_key: bytes, forgiven_at: str) -> tuple[int, int, int]:
        cid, plan_id = message["campaign_id"], message["plan_id"]
        known = storage.offer_keys(message["portfolio_key"], message["first_row"], store.CHUNK_ROWS)
        items, accounts, face, skipped = chunk_items(
            message, store.chunk_text(message), crypto.Sealer(public_key), derived_key("account-hash"),
            forgiven_at, derived_key("account-claim"), partial(duplicates.claim, cid, f"{plan_id}#{message['chunk']}"),
            known)
        store.write_items(items)
        return accounts, face, skipped


def chunk_items(message: dict[str, Any], text: str, sealer: crypto.Sealer, hash_key: bytes,
                forgiven_at: str, claim_key: bytes,
                claim: Callable[[list[tuple[str, str]]], set[int]] | None = None, known: str | None = None
                ) -> tuple[list[dict[str, Any]], int, int, int]:
    """A chunk's DynamoDB items, one event per account, with its account count, face value and the
    number of accounts skipped: those `claim` refuses (given each account's keys, domain/duplicates.py),
    forgiven already under another plan. `known`: the chunk's keys as `offers add` stored them
    (storage.offer_keys); without them (files registered before), each account is hashed here.

    This loop is the ingestion's hot path (bench/RESULTS.md): items are built in DynamoDB's wire
    format directly, and account_keys, duplicates.keys_of, code_hash, private_blob, crypto.nonce,
    crypto.aad and Sealer.seal are inlined (a test checks the results are the same as theirs).
    """
    # The items form no reference cycles, yet the cyclic collector would rescan every live one
    # each few hundred allocations: a fifth of the loop's time. Paused here, restored after.
    collecting = gc.isenabled()
    gc.disable()
    try:
        items, face, keys = _chunk_items(message, text, sealer, hash_key, forgiven_at, claim_key, known is None)
        if known is not None and len(known) < KEY_WIDTH * len(items):  # not this file's keys: hash as before
            items, face, keys = _chunk_items(message, text, sealer, hash_key, forgiven_at, claim_key, True)
        elif known is not None:
            half = KEY_WIDTH // 2
            keys = [(known[n:n + half], known[n + half:n + KEY_WIDTH])
                    for n in range(0, KEY_WIDTH * len(items), KEY_WIDTH)]
    finally:
        if collecting:
            gc.enable()
    skipped = claim(keys) if claim else set()
    if skipped:
        face -= sum(int(items[n]["face_value_cents"]["N"]) for n in skipped)
        items = [item for n, item in enumerate(items) if n not in skipped]
    return items, len(items), face, len(skipped)


def _chunk_items(message: dict[str, Any], text: str, sealer: crypto.Sealer, hash_key: bytes, forgiven_at: str,
                 claim_key: bytes, hashing: bool) -> tuple[list[dict[str, Any]], int, list[tuple[str, str]]]:
    cid, plan_id, chunk = message["campaign_id"], message["plan_id"], message["chunk"]
    header = next(csv.reader([message["header"]]))
    items, face, keys = [], 0, []
    # Attribute values shared by every item of the chunk are made once (boto3 only reads them).
    partition, kind, campaign = {"S": forgiven_pk(cid, plan_id)}, {"S": "forgiveness"}, {"S": cid}
    plan, when = {"S": plan_id}, {"S": forgiven_at}
    nonce_base, aad_prefix = chunk << 48, f"{cid}|{plan_id}|"  # as crypto.nonce and crypto.aad make them
    ephemeral, encrypt = sealer.header, sealer.cipher.encrypt
    keyed = blake2b(f"{cid}|".encode(), key=hash_key, digest_size=KEYED_BYTES)  # copied: keying once is cheaper
    sort_prefix = f"{chunk_sk(chunk)}#"
    by_account, by_person = primed(claim_key, ACCOUNT, cid), primed(claim_key, PERSON, cid)
    for row, (ref, name, address, city, state, zip_code, creditor, debt_type, cents, charged_off, extra) in enumerate(
            accounts_in(header, text, message["first_row"] + 2)):
        mac = keyed.copy()
        mac.update(ref.encode())
        raw = mac.digest()
        digest, code = raw[:16].hex(), raw[16:]
        nonce = (nonce_base | row).to_bytes(12, "big")
        private = code + SEPARATOR.join((name, address, city, state, zip_code, ref[-4:], charged_off, *extra)
                                        if any(extra) else (name, address, city, state, zip_code, ref[-4:],
                                                            charged_off)).encode()
        items.append({
            "pk": partition, "sk": {"S": f"{sort_prefix}{digest}"}, "kind": kind, "campaign_id": campaign,
            "plan_id": plan, "account_hash": {"S": digest}, "original_creditor": {"S": creditor},
            "debt_type": {"S": debt_type}, "state": {"S": state}, "face_value_cents": {"N": str(cents)},
            "forgiven_at": when, "code_hash": {"S": sha256(code).hexdigest()},
            "sealed": {"B": ephemeral + nonce + encrypt(nonce, private, f"{aad_prefix}{digest}".encode())},
        })
        face += cents
        if not hashing:
            continue
        # Its keys across offers, as duplicates.keys_of makes them (normalized inlined: NUL-joined, casefolded,
        # whitespace dropped).
        account_mac, person_mac = by_account.copy(), by_person.copy()
        account_mac.update("".join(f"{creditor}\0{ref}".casefold().split()).encode())
        person_mac.update("".join(f"{name}\0{address}\0{city}\0{state}\0{zip_code}\0{cents}".casefold().split())
                          .encode())
        keys.append((account_mac.hexdigest(), person_mac.hexdigest()))
    return items, face, keys
