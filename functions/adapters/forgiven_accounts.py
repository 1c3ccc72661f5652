"""A forgiven chunk's events, built and written, and the forgiveness service's store (functions/services/ports.py).

Per account, one event: public fields (a keyed hash for the account, never its reference, and
the hash of the debtor's verification code) and the debtor's name and address sealed to the
portfolio's public key for the letters stage. This code can seal, never open (crypto.py).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from functools import partial
from hashlib import blake2b, sha256
from operator import itemgetter
from typing import Any

from functions.adapters import crypto, duplicates, ledger, purchases, storage
from functions.adapters import forgiveness as store
from functions.adapters.keys import chunk_sk, forgiven_pk
from functions.adapters.secrets import derived_key
from functions.adapters.storage import KEY_WIDTH
from functions.domain.campaigns import UnknownCampaign
from functions.domain.duplicates import ACCOUNT, PERSON, primed
from functions.domain.forgiveness import CODE_BYTES, SEPARATOR, checked_rows
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
                ) -> tuple[Iterator[dict[str, Any]], int, int, int]:
    """A chunk's DynamoDB items, one event per account, with its account count, face value and the
    number of accounts skipped: those `claim` refuses (given each account's keys, domain/duplicates.py),
    forgiven already under another plan. `known`: the chunk's keys as `offers add` stored them
    (storage.offer_keys); without them (files registered before), each account is hashed here.

    Every row is checked before anything is claimed or returned (checked_rows): a changed file is
    refused whole, naming its first bad row and field. The items are then made as they are taken, so a
    writer taking them 25 at a time never holds a chunk's worth (2,000 items held at once cost a fifth of
    the ingestion's time).
    """
    rows, cents = checked_rows(next(csv.reader([message["header"]])), text, message["first_row"] + 2)
    skipped: set[int] = set()
    if claim is not None:
        keys = _STORED_KEYS.findall(known, 0, KEY_WIDTH * len(rows)) if known is not None else []
        if len(keys) < len(rows):  # not this file's keys: hash as before
            keys = _keys(message["campaign_id"], claim_key, rows, cents)
        skipped = claim(keys)
    face = sum(cents) - sum(cents[n] for n in skipped)
    return (_items(message, rows, cents, skipped, sealer, hash_key, forgiven_at), len(rows) - len(skipped), face,
            len(skipped))


# storage.offer_keys' slice: each row's account key then its person key, KEY_WIDTH // 2 characters each.
_STORED_KEYS = re.compile(f"(.{{{KEY_WIDTH // 2}}})(.{{{KEY_WIDTH // 2}}})", re.DOTALL)


def _keys(campaign_id: str, claim_key: bytes, rows: list[tuple[str, ...]], cents: list[int]) -> list[tuple[str, str]]:
    """Each account's keys across offers, as duplicates.keys_of makes them (normalized inlined: NUL-joined,
    casefolded, whitespace dropped)."""
    by_account, by_person = primed(claim_key, ACCOUNT, campaign_id), primed(claim_key, PERSON, campaign_id)
    keys = []
    for (ref, name, address, city, state, zip_code, creditor, *_), balance in zip(rows, cents, strict=True):
        account_mac, person_mac = by_account.copy(), by_person.copy()
        account_mac.update("".join(f"{creditor}\0{ref}".casefold().split()).encode())
        person_mac.update("".join(f"{name}\0{address}\0{city}\0{state}\0{zip_code}\0{balance}".casefold().split())
                          .encode())
        keys.append((account_mac.hexdigest(), person_mac.hexdigest()))
    return keys


def _items(message: dict[str, Any], rows: list[tuple[str, ...]], cents: list[int], skipped: set[int],
           sealer: crypto.Sealer, hash_key: bytes, forgiven_at: str) -> Iterator[dict[str, Any]]:
    """This loop is the ingestion's hot path (bench/RESULTS.md): items are built in DynamoDB's wire
    format directly, and account_keys, code_hash, private_blob, crypto.nonce, crypto.aad and Sealer.seal
    are inlined (a test checks the results are the same as theirs)."""
    cid, plan_id, chunk = message["campaign_id"], message["plan_id"], message["chunk"]
    # Attribute values shared by items are made once (boto3 only reads them): the chunk's own, and one
    # per creditor, debt type and state, of which a portfolio has few.
    partition, kind, campaign = {"S": forgiven_pk(cid, plan_id)}, {"S": "forgiveness"}, {"S": cid}
    plan, when = {"S": plan_id}, {"S": forgiven_at}
    shared = {v: {"S": v} for v in {*map(itemgetter(4), rows), *map(itemgetter(6), rows), *map(itemgetter(7), rows)}}
    nonce_base, aad_prefix = chunk << 48, f"{cid}|{plan_id}|"  # as crypto.nonce and crypto.aad make them
    ephemeral, encrypt = sealer.header, sealer.cipher.encrypt
    keyed = blake2b(f"{cid}|".encode(), key=hash_key, digest_size=KEYED_BYTES)  # copied: keying once is cheaper
    sort_prefix, s = f"{chunk_sk(chunk)}#", SEPARATOR
    for row, ((ref, name, address, city, state, zip_code, creditor, debt_type, _, charged_off,
               line_2, patient, co_debtor, case, collector), balance) in enumerate(zip(rows, cents, strict=True)):
        if row in skipped:
            continue
        mac = keyed.copy()
        mac.update(ref.encode())
        raw = mac.digest()
        digest, code = raw[:16].hex(), raw[16:]
        nonce = (nonce_base | row).to_bytes(12, "big")
        # What private_blob joins: the SEALED_EXTRA fields only when a seller gave any.
        private = code + (
            f"{name}{s}{address}{s}{city}{s}{state}{s}{zip_code}{s}{ref[-4:]}{s}{charged_off}{s}{line_2}{s}{patient}"
            f"{s}{co_debtor}{s}{case}{s}{collector}" if line_2 or patient or co_debtor or case or collector else
            f"{name}{s}{address}{s}{city}{s}{state}{s}{zip_code}{s}{ref[-4:]}{s}{charged_off}").encode()
        yield {
            "pk": partition, "sk": {"S": sort_prefix + digest}, "kind": kind, "campaign_id": campaign,
            "plan_id": plan, "account_hash": {"S": digest}, "original_creditor": shared[creditor],
            "debt_type": shared[debt_type], "state": shared[state], "face_value_cents": {"N": str(balance)},
            "forgiven_at": when, "code_hash": {"S": sha256(code).hexdigest()},
            "sealed": {"B": ephemeral + nonce + encrypt(nonce, private, (aad_prefix + digest).encode())},
        }
