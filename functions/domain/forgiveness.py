"""Turning a bought portfolio into forgiveness events and letters."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from functions.domain.money import format_cents
from functions.domain.offers import COLUMNS, STATES, Account, OfferFileError, RowProblem

CODE_BYTES = 10  # a letter's verification code: 80 bits


def account_keys(key: bytes, campaign_id: str, account_ref: str) -> tuple[str, bytes]:
    """An account's public hash and its letter's secret code, from one keyed BLAKE2b (a MAC):
    both stable per account, and neither can be had from the reference, nor the code from the
    public hash, without the key."""
    raw = hashlib.blake2b(f"{campaign_id}|{account_ref}".encode(), key=key, digest_size=16 + CODE_BYTES).digest()
    return raw[:16].hex(), raw[16:]


SEPARATOR = "\x1f"  # the ASCII unit separator: joins a debtor's sealed fields (no such character in an address)


def private_blob(code: bytes, name: str, address: str, city: str, state: str, zip_code: str) -> bytes:
    """What is sealed per account for the letters stage: the code's bytes, then the address fields."""
    return code + SEPARATOR.join((name, address, city, state, zip_code)).encode()


def read_private(blob: bytes) -> tuple[bytes, list[str]]:
    """The code's bytes and [name, address line, city, state, zip], as private_blob joined them."""
    return blob[:CODE_BYTES], blob[CODE_BYTES:].decode().split(SEPARATOR)


@dataclass(frozen=True, slots=True)
class Debt:
    """One account as ingestion reads it: the fields letters and the public record need."""

    account_ref: str
    debtor_name: str
    address_line: str
    city: str
    state: str
    zip: str
    original_creditor: str
    debt_type: str
    balance_cents: int


def debts(header: list[str], text: str, first_line: int) -> Iterator[tuple]:
    """The hot path of ingestion: the rows of a chunk of a file already validated in full when it
    was registered (offers.OfferRow), checked again for what the books depend on, at about a
    microsecond a row. Yields plain tuples in Debt's field order (cheaper to make than objects)."""
    if set(COLUMNS) - set(header):
        raise OfferFileError([RowProblem(1, c, "column is missing") for c in COLUMNS if c not in header])
    if SEPARATOR in text:  # once per chunk, not per field: sealed fields are joined with it
        line = first_line + text[:text.index(SEPARATOR)].count("\n")
        raise OfferFileError([RowProblem(line, "row", "changed since the offer was registered")])
    pick = itemgetter(*(header.index(c) for c in ("account_ref", "debtor_name", "address_line", "city", "state",
                                                  "zip", "original_creditor", "debt_type", "balance_cents")))
    # Without a quote character, RFC 4180 rows are exactly their lines split at commas: a third of
    # csv.reader's cost. Any quote and the chunk goes through csv.reader.
    rows = csv.reader(io.StringIO(text)) if '"' in text else (line.split(",") for line in text.splitlines())
    for line, row in enumerate(rows, start=first_line):
        try:
            ref, name, address, city, state, zip_code, creditor, kind, balance = pick(row)
            cents = int(balance)
        except (IndexError, ValueError):
            raise OfferFileError([RowProblem(line, "row", "is not a row of this offer file")]) from None
        if cents <= 0 or state not in STATES or not ref:
            raise OfferFileError([RowProblem(line, "row", "changed since the offer was registered")])
        yield ref, name, address, city, state, zip_code, creditor, kind, cents


def chunk_ranges(lines: Iterable[bytes], rows_per_chunk: int) -> tuple[str, list[tuple[int, int, int]]]:
    """A CSV file's header and (first row, start byte, end byte) of each chunk of rows, in one pass."""
    lines = iter(lines)
    header = next(lines, b"")
    position = start = len(header)
    rows, ranges = 0, []
    for line in lines:
        position += len(line)
        rows += 1
        if rows % rows_per_chunk == 0:
            ranges.append((rows - rows_per_chunk, start, position))
            start = position
    if position > start:
        ranges.append((rows - rows % rows_per_chunk, start, position))
    return header.decode("utf-8-sig"), ranges


def fully_ingested(plan: Mapping[str, Any]) -> bool:
    """Every chunk of a bought portfolio is forgiven (a plan item: `chunks` once split, `chunks_done`)."""
    return bool(plan.get("chunks")) and plan.get("chunks_done", 0) >= plan["chunks"]


def normalize_code(text: str) -> bytes | None:
    """A verification code as people type it (any case, with or without dashes), as its bytes, or None."""
    code = "".join(ch for ch in text.upper() if ch not in "- ")
    if len(code) != 16 or not set(code) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"):
        return None
    return base64.b32decode(code)


def code_hash(code: bytes) -> str:
    """What is stored of a letter's code: it proves a code, and cannot be turned back into one."""
    return hashlib.sha256(code).hexdigest()


def format_code(code: bytes) -> str:
    """The code as printed: 16 base32 characters (no 0/1/8/9 to misread) in groups of four."""
    text = base64.b32encode(code).decode()
    return "-".join(text[i:i + 4] for i in range(0, 16, 4))


def letter_lines(campaign_name: str, debt: Account | Debt, currency: str, code: str, contact: str,
                 verify_url: str) -> list[str]:
    return [
        debt.debtor_name, debt.address_line, f"{debt.city}, {debt.state} {debt.zip}", "",
        f"Dear {debt.debtor_name},", "",
        f"{campaign_name} bought your debt with {debt.original_creditor} and has forgiven it.",
        f"Amount forgiven: {format_cents(debt.balance_cents, currency)}.",
        "You owe nothing on this account, and you need do nothing.",
        "This is a gift, not an offer: no one will ask you for money or details.", "",
        f"Verification code: {code}",
        f"Check this letter at {verify_url} with the code above.",
        f"Questions: {contact}",
    ]
