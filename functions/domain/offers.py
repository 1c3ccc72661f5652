"""Offer files: the seller's CSV of defaulted accounts, one row per account."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

COLUMNS = (
    "account_ref", "debtor_name", "address_line", "city", "state", "zip",
    "original_creditor", "debt_type", "balance_cents", "charge_off_date",
)
STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ "
    "NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR".split()
)
DEBT_TYPES = frozenset({"medical", "credit_card", "student", "auto", "payday", "utility", "other"})


@dataclass(frozen=True)
class Account:
    account_ref: str
    debtor_name: str  # PII
    address_line: str  # PII
    city: str
    state: str
    zip: str
    original_creditor: str
    debt_type: str
    balance_cents: int
    charge_off_date: str


@dataclass(frozen=True)
class RowProblem:
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.reason}"


class OfferFileError(ValueError):
    def __init__(self, problems: list[RowProblem]):
        self.problems = problems
        shown = "; ".join(map(str, problems[:20]))
        more = f" (+{len(problems) - 20} more)" if len(problems) > 20 else ""
        super().__init__(f"{len(problems)} problem(s): {shown}{more}")


def _row_problems(line: int, row: dict[str, str]) -> list[RowProblem]:
    problems = []

    def bad(column: str, reason: str) -> None:
        problems.append(RowProblem(line, column, reason))

    for column in ("account_ref", "debtor_name", "address_line", "original_creditor"):
        if not (row.get(column) or "").strip():
            bad(column, "is empty")
    if row.get("state") not in STATES:
        bad("state", "is not a two-letter US state code")
    zip_code = row.get("zip") or ""
    if not (len(zip_code) == 5 and zip_code.isdigit()):
        bad("zip", "must be 5 digits")
    if row.get("debt_type") not in DEBT_TYPES:
        bad("debt_type", f"must be one of {', '.join(sorted(DEBT_TYPES))}")
    balance = row.get("balance_cents") or ""
    if not (balance.isdigit() and int(balance) > 0):
        bad("balance_cents", "must be a positive whole number of cents")
    try:
        dt.date.fromisoformat(row.get("charge_off_date") or "")
    except ValueError:
        bad("charge_off_date", "must be a real date as YYYY-MM-DD")
    return problems


def read_accounts(lines: Iterable[str]) -> Iterator[Account]:
    """Accounts of an offer file, in file order. Raises OfferFileError naming every bad row."""
    reader = csv.DictReader(lines)
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise OfferFileError([RowProblem(1, c, "column is missing") for c in missing])
    problems: list[RowProblem] = []
    refs: set[str] = set()
    accounts = []
    for row in reader:
        line = reader.line_num
        row_problems = _row_problems(line, row)
        if row["account_ref"] in refs:
            row_problems.append(RowProblem(line, "account_ref", "appears twice in the file"))
        refs.add(row["account_ref"])
        problems += row_problems
        if not row_problems:
            accounts.append(Account(**{c: row[c].strip() for c in COLUMNS if c != "balance_cents"},
                                    balance_cents=int(row["balance_cents"])))
    if problems:
        raise OfferFileError(problems)
    if not accounts:
        raise OfferFileError([RowProblem(2, "account_ref", "the file has no accounts")])
    return iter(accounts)


@dataclass(frozen=True)
class OfferProfile:
    accounts: int
    face_value_cents: int


def profile(accounts: Iterable[Account]) -> OfferProfile:
    count = face = 0
    for account in accounts:
        count += 1
        face += account.balance_cents
    return OfferProfile(count, face)
