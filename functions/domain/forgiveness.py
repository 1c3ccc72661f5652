"""Turning a bought portfolio into forgiveness events and letters."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from operator import itemgetter

from functions.domain.money import format_cents
from functions.domain.offers import COLUMNS, STATES, Account, OfferFileError, RowProblem


def account_hash(key: bytes, campaign_id: str, account_ref: str) -> str:
    """A keyed hash (BLAKE2b as a MAC): stable per account, useless to anyone without the key."""
    return hashlib.blake2b(f"{campaign_id}|{account_ref}".encode(), key=key, digest_size=16).hexdigest()


SEPARATOR = "\x1f"  # the ASCII unit separator: joins a debtor's sealed fields (no such character in an address)


def read_private(blob: bytes) -> list[str]:
    """name, address line, city, state, zip: SEPARATOR-joined when sealed at ingestion."""
    return blob.decode().split(SEPARATOR)


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


def debts(header: list[str], rows: Iterable[list[str]], first_line: int) -> Iterator[tuple]:
    """The hot path of ingestion: rows of a file already validated in full when it was registered
    (offers.OfferRow), checked again for what the books depend on, at a few microseconds a row.
    Yields plain tuples in Debt's field order (a tuple costs less to make than an object)."""
    if set(COLUMNS) - set(header):
        raise OfferFileError([RowProblem(1, c, "column is missing") for c in COLUMNS if c not in header])
    pick = itemgetter(*(header.index(c) for c in ("account_ref", "debtor_name", "address_line", "city", "state",
                                                  "zip", "original_creditor", "debt_type", "balance_cents")))
    for line, row in enumerate(rows, start=first_line):
        try:
            ref, name, address, city, state, zip_code, creditor, kind, balance = pick(row)
            cents = int(balance)
        except (IndexError, ValueError):
            raise OfferFileError([RowProblem(line, "row", "is not a row of this offer file")]) from None
        if cents <= 0 or state not in STATES or not ref or SEPARATOR in name + address + city + zip_code:
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


def normalize_code(text: str) -> str | None:
    """A verification code as people type it (any case, with or without dashes), or None if it can't be one."""
    code = "".join(ch for ch in text.upper() if ch not in "- ")
    if len(code) != 16 or not set(code) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"):
        return None
    return code


def code_hash(code: str) -> str:
    """What is stored of a letter's code: it proves a code, and cannot be turned back into one."""
    return hashlib.sha256(code.encode()).hexdigest()


def verification_code(key: bytes, account_hash_: str) -> str:
    """80 bits, derived from the account's public hash with a secret key: a re-rendered letter carries
    the same code, and no one without the key can derive any code from the public record."""
    digest = hashlib.blake2b(account_hash_.encode(), key=key, digest_size=10).digest()
    code = base64.b32encode(digest).decode()  # 10 bytes = 80 bits = 16 base32 characters
    return f"{code[:4]}-{code[4:8]}-{code[8:12]}-{code[12:]}"


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
