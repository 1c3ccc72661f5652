"""Offer files: the seller's CSV of defaulted accounts, one row per account.

The format is `OfferRow` below (its JSON Schema: `jubilee offers schema`). Required columns:
account_ref, debtor_name, address_line, city, state, zip, original_creditor, debt_type,
balance_cents, charge_off_date. Optional: last_payment_date, household_income_cents,
household_size (what eligibility by income needs; sellers of medical debt often have it).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ "
    "NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR".split()
)
DebtType = Literal["medical", "credit_card", "student", "auto", "payday", "utility", "other"]
DEBT_TYPES = frozenset(get_args(DebtType))
Text = Annotated[str, Field(min_length=1, max_length=200)]


class OfferRow(BaseModel):
    """One account of an offer file. Names and addresses are PII: never logged, never published."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, frozen=True)
    account_ref: Annotated[str, Field(min_length=1, max_length=100, description="the seller's account number")]
    debtor_name: Text
    address_line: Text
    city: Text
    state: str = Field(description="two-letter USPS code")
    zip: Annotated[str, Field(pattern=r"^\d{5}$")]
    original_creditor: Text
    debt_type: DebtType
    balance_cents: Annotated[int, Field(gt=0, le=10**11, description="what is owed, in whole cents")]
    charge_off_date: dt.date
    last_payment_date: dt.date | None = None
    household_income_cents: Annotated[int, Field(ge=0, le=10**11)] | None = None
    household_size: Annotated[int, Field(ge=1, le=30)] | None = None

    @field_validator("state")
    @classmethod
    def _state(cls, value: str) -> str:
        if value not in STATES:
            raise ValueError("is not a two-letter US state code")
        return value

    @field_validator("charge_off_date", "last_payment_date")
    @classmethod
    def _not_future(cls, value: dt.date | None) -> dt.date | None:
        if value is not None and value > dt.date.today():
            raise ValueError("is in the future")
        return value

    @field_validator("last_payment_date", "household_income_cents", "household_size", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _income_needs_size(self) -> OfferRow:
        if (self.household_income_cents is None) != (self.household_size is None):
            raise ValueError("household_income_cents and household_size go together")
        return self


Account = OfferRow  # the name the rest of the code reads best with
COLUMNS = tuple(name for name, f in OfferRow.model_fields.items() if f.is_required())
OPTIONAL_COLUMNS = tuple(name for name, f in OfferRow.model_fields.items() if not f.is_required())


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


def _problems(line: int, error: ValidationError) -> list[RowProblem]:
    # Pydantic's messages name the rule, never the value: a bad row's PII stays out of the report.
    return [RowProblem(line, str(e["loc"][0]) if e["loc"] else "row", e["msg"].removeprefix("Value error, "))
            for e in error.errors(include_input=False, include_url=False)]


@dataclass(frozen=True)
class ReadResult:
    accounts: list[OfferRow]
    problems: list[RowProblem]


def check_accounts(lines: Iterable[str]) -> ReadResult:
    """Every account that is valid, and every problem, by line and column."""
    reader = csv.DictReader(lines)
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        return ReadResult([], [RowProblem(1, c, "column is missing") for c in missing])
    accounts, problems, refs = [], [], set()
    for row in reader:
        line = reader.line_num
        try:
            account = OfferRow.model_validate(row)
        except ValidationError as error:
            problems += _problems(line, error)
            continue
        ref = "".join(account.account_ref.casefold().split())  # as duplicates.normalized compares it
        if ref in refs:
            problems.append(RowProblem(line, "account_ref", "appears twice in the file"))
            continue
        refs.add(ref)
        accounts.append(account)
    if not accounts and not problems:
        problems.append(RowProblem(2, "account_ref", "the file has no accounts"))
    return ReadResult(accounts, problems)


def read_accounts(lines: Iterable[str]) -> Iterator[OfferRow]:
    """Accounts of a file that must be clean. Raises OfferFileError naming every bad row."""
    result = check_accounts(lines)
    if result.problems:
        raise OfferFileError(result.problems)
    return iter(result.accounts)


def write_accounts(accounts: Iterable[OfferRow]) -> str:
    """The accounts back as an offer file (used to store only the good rows of a file)."""
    import io

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS + OPTIONAL_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for account in accounts:
        writer.writerow({k: ("" if v is None else v) for k, v in account.model_dump(mode="json").items()})
    return out.getvalue()
