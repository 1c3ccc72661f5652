"""Turning a bought portfolio into forgiveness events and letters."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from operator import itemgetter, methodcaller
from typing import Any, NoReturn

CODE_BYTES = 10  # a letter's verification code: 80 bits


def account_keys(key: bytes, campaign_id: str, account_ref: str) -> tuple[str, bytes]:
    """An account's public hash and its letter's secret code, from one keyed BLAKE2b (a MAC):
    both stable per account, and neither can be had from the reference, nor the code from the
    public hash, without the key."""
    raw = hashlib.blake2b(f"{campaign_id}|{account_ref}".encode(), key=key, digest_size=16 + CODE_BYTES).digest()
    return raw[:16].hex(), raw[16:]


SEPARATOR = "\x1f"  # the ASCII unit separator: joins a debtor's sealed fields (no such character in an address)


# Sealed after the address: what the letter names the account by (the account number's last four
# characters, the charge-off date), then, only when a seller gives any of them, the SEALED_EXTRA fields.
# read_private reads blobs of five fields (sealed before the others were kept), seven or twelve.
SEALED_EXTRA = ("address_line_2", "patient_name", "co_debtor_name", "case_number", "current_collector")
NO_EXTRA = ("",) * len(SEALED_EXTRA)


def private_blob(code: bytes, name: str, address: str, city: str, state: str, zip_code: str,
                 account_last4: str = "", charge_off_date: str = "", extra: tuple[str, ...] = NO_EXTRA) -> bytes:
    """What is sealed per account for the letters stage: the code's bytes, then the address fields, then
    what the letter names the account by, then (only if any is given) the SEALED_EXTRA fields."""
    fields = (name, address, city, state, zip_code, account_last4, charge_off_date)
    return code + SEPARATOR.join(fields + tuple(extra) if any(extra) else fields).encode()


def read_private(blob: bytes) -> tuple[bytes, list[str]]:
    """The code's bytes and [name, address line, city, state, zip, account last 4, charge-off date,
    *SEALED_EXTRA], as private_blob joined them ("" for what was not given or not yet kept)."""
    fields = blob[CODE_BYTES:].decode().split(SEPARATOR)
    return blob[:CODE_BYTES], fields + [""] * (7 + len(SEALED_EXTRA) - len(fields))


CHANGED = "the file changed since the offer was registered"
# What ingestion reads of a row, in checked_rows' order: these, then the SEALED_EXTRA fields.
FIELDS = ("account_ref", "debtor_name", "address_line", "city", "state", "zip", "original_creditor", "debt_type",
          "balance_cents", "charge_off_date")


def accounts_in(header: list[str], text: str, first_line: int) -> Iterator[tuple]:
    """The rows of a chunk of a file already validated in full when it was registered (offers.OfferAccount),
    checked again for what the books depend on, one row at a time: what names the first bad row when
    checked_rows (ingestion's hot path) refuses a chunk. Yields plain tuples: account_ref, debtor_name,
    address_line, city, state, zip, original_creditor, debt_type, balance_cents, charge_off_date, and a
    tuple of the SEALED_EXTRA fields (all empty for a file stored before those columns existed)."""
    # Here: letters, the API's verify page and the sweep use this module, never the offer-row model.
    from functions.domain.offers import COLUMNS, STATES, OfferFileError, RowProblem

    if set(COLUMNS) - set(header):
        raise OfferFileError([RowProblem(1, c, "column is missing") for c in COLUMNS if c not in header])
    if SEPARATOR in text:  # once per chunk, not per field: sealed fields are joined with it
        at = text.index(SEPARATOR)
        start, end = text.rfind("\n", 0, at) + 1, text.find("\n", at)
        cells = next(csv.reader([text[start:end if end >= 0 else None]]))
        column = next((header[n] for n, cell in enumerate(cells[:len(header)]) if SEPARATOR in cell), "row")
        raise OfferFileError([RowProblem(first_line + text.count("\n", 0, at), column,
                                         f"has a control character inside: {CHANGED}")])
    pick = itemgetter(*(header.index(c) for c in FIELDS))
    extra: Callable[[list[str]], tuple[str, ...]] = (
        itemgetter(*(header.index(c) for c in SEALED_EXTRA)) if set(SEALED_EXTRA) <= set(header) else _no_extra)
    # Without a quote character, RFC 4180 rows are exactly their lines split at commas: a third of
    # csv.reader's cost. Any quote and the chunk goes through csv.reader.
    rows = csv.reader(io.StringIO(text)) if '"' in text else (line.split(",") for line in text.splitlines())
    for line, row in enumerate(rows, start=first_line):
        try:
            ref, name, address, city, state, zip_code, creditor, kind, balance, charged_off = pick(row)
            more = extra(row)
        except IndexError:
            raise OfferFileError([RowProblem(line, "row", f"has {len(row)} fields, the header has {len(header)}: "
                                                          f"{CHANGED}")]) from None
        try:
            cents = int(balance)
        except ValueError:
            cents = 0  # refused below, as a balance
        for column, bad, reason in (("account_ref", not ref, "is empty"),
                                    ("state", state not in STATES, "is not a two-letter US state code"),
                                    ("balance_cents", cents <= 0, "is not a whole number of cents above zero")):
            if bad:  # the rule broken, never the value (PII)
                raise OfferFileError([RowProblem(line, column, f"{reason}: {CHANGED}")])
        yield ref, name, address, city, state, zip_code, creditor, kind, cents, charged_off, more


def checked_rows(header: list[str], text: str, first_line: int) -> tuple[list[tuple[str, ...]], list[int]]:
    """The hot path of ingestion: a chunk's rows with accounts_in's checks, made a column at a time
    (each a loop in C, not a Python step per row). Returns the rows, each FIELDS then the SEALED_EXTRA
    fields (empty for a file stored before those columns existed; the balance as its text), and their
    balances in cents. A chunk with any problem is read again by accounts_in, whose error names the
    first bad row, so both readers refuse exactly the same rows (a test holds them to it)."""
    from functions.domain.offers import COLUMNS, STATES  # (the forgiveness function loads offers anyway)

    if SEPARATOR in text or set(COLUMNS) - set(header):
        _refuse(header, text, first_line)
    legacy = not set(SEALED_EXTRA) <= set(header)
    pick = itemgetter(*(header.index(c) for c in FIELDS + (() if legacy else SEALED_EXTRA)))
    # As in accounts_in: without a quote, a row is its line split at commas.
    lines = csv.reader(io.StringIO(text)) if '"' in text else map(methodcaller("split", ","), text.splitlines())
    try:
        rows = list(map(pick, lines))
        cents = list(map(int, map(itemgetter(8), rows)))
    except (IndexError, ValueError):
        _refuse(header, text, first_line)
    if rows and (min(cents) <= 0 or not set(map(itemgetter(4), rows)) <= STATES or not all(map(itemgetter(0), rows))):
        _refuse(header, text, first_line)
    return ([row + NO_EXTRA for row in rows] if legacy else rows), cents


def _refuse(header: list[str], text: str, first_line: int) -> NoReturn:
    for _ in accounts_in(header, text, first_line):
        pass
    raise RuntimeError("checked_rows refused a chunk accounts_in reads: the two readers disagree (a bug)")


def _no_extra(row: list[str]) -> tuple[str, ...]:
    return NO_EXTRA


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
