"""Offer files: the seller's CSV of defaulted accounts, one row per account.

The format is `OfferAccount` below (its JSON Schema: `jubilee offers schema`). Required columns:
account_ref, debtor_name, address_line, city, state, zip, original_creditor, debt_type,
balance_cents, charge_off_date. Optional: last_payment_date, household_income_cents,
household_size (what eligibility by income needs; sellers of medical debt often have it).
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Annotated, Any, TextIO

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from functions.domain.terms import STATES, DebtType

Text = Annotated[str, Field(min_length=1, max_length=200)]
_PAST = dt.date.today()  # at import: no date up to it is in the future, whenever a row is read


class OfferAccount(BaseModel):
    """One account of an offer file. Names and addresses are PII: never logged, never published."""

    # (titled as `jubilee offers schema` has always published it: a seller's tooling may key on it)
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, frozen=True, title="OfferRow")
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
    # What sellers often know besides: sealed with the address for the letters (SEALED_EXTRA), never published.
    address_line_2: Text | None = None
    first_delinquency_date: dt.date | None = None
    patient_name: Annotated[str, Field(min_length=1, max_length=200, description=(
        "the patient, when not the responsible party (debtor_name, who is written to)"))] | None = None
    case_number: Annotated[str, Field(min_length=1, max_length=100,
                                      description="the court case of a judgment on the debt")] | None = None
    current_collector: Annotated[str, Field(min_length=1, max_length=200,
                                            description="the collection agency holding the account now")] | None = None
    co_debtor_name: Text | None = None

    @field_validator("state")
    @classmethod
    def _state(cls, value: str) -> str:
        if value not in STATES:
            raise ValueError("is not a two-letter US state code")
        return value

    @field_validator("charge_off_date", "last_payment_date", "first_delinquency_date")
    @classmethod
    def _not_future(cls, value: dt.date | None) -> dt.date | None:
        # Asking the clock costs more than the rest of the check: only a date after _PAST can be in the future.
        if value is not None and value > _PAST and value > dt.date.today():
            raise ValueError("is in the future")
        return value

    @field_validator("last_payment_date", "household_income_cents", "household_size", "address_line_2",
                     "first_delinquency_date", "patient_name", "case_number", "current_collector", "co_debtor_name",
                     mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _income_needs_size(self) -> OfferAccount:
        if (self.household_income_cents is None) != (self.household_size is None):
            raise ValueError("household_income_cents and household_size go together")
        if self.first_delinquency_date and self.first_delinquency_date > self.charge_off_date:
            raise ValueError("first_delinquency_date is after charge_off_date")
        return self


Account = OfferAccount  # the name the rest of the code reads best with
COLUMNS = tuple(name for name, f in OfferAccount.model_fields.items() if f.is_required())
OPTIONAL_COLUMNS = tuple(name for name, f in OfferAccount.model_fields.items() if not f.is_required())


@dataclass(frozen=True)
class RowProblem:
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.reason}"


SHOWN = 50  # rows a report names one by one; past them, one count per column says the rest


@dataclass
class FileReport:
    """What reading a file found, bounded whatever its size: the first SHOWN problems by line, and a
    count per column and reason of all of them. Reasons name the rule, never the value (PII)."""

    rows: int = 0
    accounts: int = 0
    face_value_cents: int = 0
    shown: list[RowProblem] = field(default_factory=list)
    counts: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, problem: RowProblem) -> None:
        if len(self.shown) < SHOWN:
            self.shown.append(problem)
        self.counts.setdefault(problem.column, Counter())[problem.reason] += 1

    @property
    def problem_count(self) -> int:
        return sum(sum(c.values()) for c in self.counts.values())

    def summary(self) -> list[str]:
        """One line per column with problems: how many rows, and why (the commonest reasons first)."""
        lines = []
        for column, reasons in self.counts.items():
            total = sum(reasons.values())
            why = "; ".join(f"{reason}" + (f" ({n:,})" if len(reasons) > 1 else "")
                            for reason, n in reasons.most_common(3))
            more = f"; {len(reasons) - 3} other reason(s)" if len(reasons) > 3 else ""
            lines.append(f"{column}: {total:,} {_said_of_rows(total, why)}{more}")
        return lines

    def lines(self) -> list[str]:
        """What a person reads: the rows shown, then (when some were not) the summary per column."""
        shown = [str(p) for p in self.shown]
        return shown + self.summary() if self.problem_count > len(shown) else shown

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "accounts": self.accounts, "face_value_cents": self.face_value_cents,
                "problem_count": self.problem_count, "problems": [str(p) for p in self.shown],
                "summary": self.summary()}


def _said_of_rows(count: int, reason: str) -> str:
    """ "1 row is not a date", "3 rows are not a date": a reason said of a count of rows."""
    if count == 1:
        return f"row {reason}" if reason.split(" ", 1)[0] in _VERBS else f"row: {reason}"
    verb, _, rest = reason.partition(" ")
    return f"rows {_VERBS[verb]} {rest}" if verb in _VERBS else f"rows: {reason}"


_VERBS = {"is": "are", "has": "have", "appears": "appear", "should": "should"}


class OfferFileError(ValueError):
    def __init__(self, problems: list[RowProblem] | FileReport):
        if isinstance(problems, FileReport):
            self.report = problems
        else:
            self.report = FileReport()
            for problem in problems:
                self.report.add(problem)
        self.problems = self.report.shown
        count = self.report.problem_count
        shown = "; ".join(map(str, self.problems[:20]))
        more = f" (+{count - 20} more)" if count > 20 else ""
        super().__init__(f"{count} problem(s): {shown}{more}")


# Headers as sellers write them, compared without case, spaces or punctuation ("Acct #" is "acct").
# `balance` and `household_income` are in dollars ("1234.56", "$1,234.56"); the *_cents columns, in cents.
DOLLARS = {"balance": "balance_cents", "household_income": "household_income_cents"}
SYNONYMS: dict[str, tuple[str, ...]] = {
    "account_ref": ("account number", "account no", "account num", "account #", "account id", "account",
                    "acct", "acct number", "acct no", "acct ref", "account reference", "reference", "ref"),
    "debtor_name": ("name", "debtor", "full name", "consumer name", "borrower name", "customer name",
                    "responsible party name"),
    "address_line": ("address", "address 1", "address line 1", "street address", "street", "addr1", "address1"),
    "city": ("town",),
    "state": ("st", "state code", "province"),
    "zip": ("zip code", "zipcode", "postal code", "postcode", "zip5", "zip+4"),
    "original_creditor": ("creditor", "creditor name", "original creditor name", "orig creditor"),
    "debt_type": ("type", "account type", "debt category"),
    "balance_cents": ("amount cents", "current balance cents"),
    "balance": ("current balance", "balance due", "amount due", "amount owed", "balance owed", "amount"),
    "charge_off_date": ("charge off", "charged off", "charged off date", "chargeoff date", "co date",
                        "date charged off"),
    "last_payment_date": ("last payment", "last pay date", "date of last payment", "lpd"),
    "household_income": ("annual income", "income"),
    "household_size": ("family size", "household members"),
    "address_line_2": ("address 2", "address2", "addr2", "apt", "apartment", "suite", "unit"),
    "first_delinquency_date": ("date of first delinquency", "dofd", "first delinquency", "delinquency date"),
    "patient_name": ("patient", "patient full name"),
    "case_number": ("case #", "case no", "judgment number", "judgment #", "judgement number", "docket number",
                    "court case number"),
    "current_collector": ("collector", "collection agency", "agency", "placed with", "current agency"),
    "co_debtor_name": ("co debtor", "codebtor", "co borrower", "co borrower name", "cosigner", "co signer",
                       "co maker"),
}


def header_key(header: str) -> str:
    """A header as compared: lower case, letters and digits only ("Acct #" -> "acct")."""
    return "".join(ch for ch in header.casefold() if ch.isalnum())


NAMES = {**{c: c for c in COLUMNS + OPTIONAL_COLUMNS}, **{d: d for d in DOLLARS}}  # what --columns may name
KNOWN = {header_key(alias): name for name in NAMES for alias in (name, *SYNONYMS.get(name, ()))}
DATE_COLUMNS = frozenset({"charge_off_date", "last_payment_date", "first_delinquency_date"})
CENTS_COLUMNS = frozenset({"balance_cents", "household_income_cents"})
_DOLLARS = re.compile(r"^(-?)\$?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ZIP = re.compile(r"^(\d{4,5})(?:-?(\d{4}))?$")
_PLACEHOLDER: dict[str, object] = {"balance_cents": 1, "charge_off_date": dt.date(2000, 1, 1), "zip": "00000"}


@dataclass(frozen=True)
class Layout:
    """Where each of Jubilee's columns is in a seller's file: (Jubilee's column, position, in dollars)."""

    fields: tuple[tuple[str, int, bool], ...]
    width: int


def layout(header: list[str], columns: Mapping[str, str] | None = None) -> Layout:
    """Match a file's header to Jubilee's columns: by `columns` (Jubilee's column -> the file's header),
    then by name or synonym. Raises OfferFileError naming what is missing, what was found, and the
    closest header to each missing column."""
    problems: list[RowProblem] = []
    chosen: dict[str, tuple[int, bool]] = {}  # Jubilee's column -> (position, in dollars)
    by_header = {h: n for n, h in enumerate(header)}
    for name, wanted in (columns or {}).items():
        if name not in NAMES:
            problems.append(RowProblem(1, name, f"--columns: not a column of Jubilee's (they are: {', '.join(NAMES)})"))
        elif wanted not in by_header:
            problems.append(RowProblem(1, name, f"--columns: the file has no column {wanted!r}"))
        else:
            chosen[DOLLARS.get(name, name)] = (by_header[wanted], name in DOLLARS)
    mapped = set(chosen)
    for n, h in enumerate(header):
        known = KNOWN.get(header_key(h))
        if known is None or any(n == at for at, _ in chosen.values()):
            continue
        column = DOLLARS.get(known, known)
        if column in mapped:
            continue  # --columns said which
        if column in chosen:
            problems.append(RowProblem(1, column, f"two columns could be it ({header[chosen[column][0]]!r} and "
                                                  f"{h!r}): say which with --columns"))
            continue
        chosen[column] = (n, known in DOLLARS)
    unmatched = [h for n, h in enumerate(header) if all(n != at for at, _ in chosen.values())]
    for column in COLUMNS:
        if column in chosen:
            continue
        close = difflib.get_close_matches(header_key(column), [header_key(h) for h in unmatched], n=1, cutoff=0.6)
        hint = f"; closest: {next(h for h in unmatched if header_key(h) == close[0])!r}" if close else ""
        problems.append(RowProblem(1, column, f"column is missing{hint}"))
    if problems:
        if any(p.reason.startswith("column is missing") for p in problems):
            found = ", ".join(repr(h) for h in header) or "none"
            problems.append(RowProblem(1, "header", f"the file's columns are {found}; map yours with --columns "
                                                    "MAP.json, e.g. {\"account_ref\": \"Account Ref\"}"))
        raise OfferFileError(problems)
    return Layout(tuple((column, n, dollars) for column, (n, dollars) in chosen.items()), len(header))


def _cents(text: str, dollars: bool) -> int:
    if dollars:
        match = _DOLLARS.match(text.replace(" ", ""))
        if not match:
            raise ValueError("is not an amount in dollars (expected 1234.56 or $1,234.56)")
        cents = int(match[2].replace(",", "")) * 100 + int((match[3] or "0").ljust(2, "0"))
        return -cents if match[1] else cents
    if not text.removeprefix("-").isdigit():
        raise ValueError("is not a whole number of cents (for dollars, name the column balance)"
                         if _DOLLARS.match(text) else "is not a whole number of cents")
    return int(text)


def _date(text: str, date_format: str | None) -> dt.date:
    try:
        if date_format:
            return dt.datetime.strptime(text, date_format).date()
        if len(text) == 10 and "/" not in text:  # ISO first: what Jubilee's own files hold
            return dt.date.fromisoformat(text)
        if match := _US_DATE.match(text):
            return dt.date(int(match[3]), int(match[1]), int(match[2]))
    except ValueError:
        pass
    raise ValueError(f"is not a date (expected {date_format or 'YYYY-MM-DD or MM/DD/YYYY'})")


def _zip(text: str) -> str:
    match = _ZIP.match(text)
    if not match:
        raise ValueError("is not a ZIP code (expected 12345 or 12345-6789)")
    if len(match[1]) == 4:
        raise ValueError("has 4 digits: a leading zero lost (a spreadsheet drops them)? write it as 0XXXX")
    return match[1]  # the ZIP+4's extra digits are dropped: duplicates are found by the 5-digit ZIP


# Forgiveness reads the stored file by str.splitlines (these all break a line there) and seals a debtor's
# fields joined by \x1f: a cell holding any of them would stop a bought portfolio's ingestion.
_BREAKS = re.compile("[\n\r\x0b\x0c\x1c-\x1f\x85\u2028\u2029]")


def _text(text: str) -> str:
    if _BREAKS.search(text):
        raise ValueError("has a line break or control character inside")
    return text


def _converter(name: str, dollars: bool, date_format: str | None) -> Callable[[str], object]:
    """How a column's cells become what OfferAccount takes; a ValueError's message is the plain reason."""
    if name in CENTS_COLUMNS:
        return partial(_cents, dollars=dollars)
    if name in DATE_COLUMNS:
        return partial(_date, date_format=date_format)
    if name == "zip":
        return _zip
    if name == "state":
        return str.upper
    if name == "debt_type":
        return lambda text: "_".join(text.casefold().replace("-", " ").split())  # "Credit Card" is credit_card
    return _text


def check_file(lines: Iterable[str], columns: Mapping[str, str] | None = None,
               date_format: str | None = None) -> FileReport:
    """Read a whole seller's file, keeping nothing but the report (`jubilee offers check`)."""
    report = FileReport()
    for _ in normalised(lines, report, None, columns, date_format):
        pass
    return report


def normalised(lines: Iterable[str], report: FileReport, out: TextIO | None = None,
               columns: Mapping[str, str] | None = None, date_format: str | None = None) -> Iterator[OfferAccount]:
    """Read a seller's file as it comes (any header Jubilee knows, dollars or cents, ISO or US dates,
    ZIP+4; BOM, CRLF and blank lines), one row at a time: yield each good account and, with `out`,
    write it there in Jubilee's own layout (COLUMNS + OPTIONAL_COLUMNS, cents, ISO dates, 5-digit ZIP:
    what forgiveness reads). Problems go to `report`, which stays small. Reads the header at once, and
    raises OfferFileError if it will not do. Memory does not grow with the file, but for the references
    seen."""
    reader = csv.reader(lines)
    header = next(reader, [])
    if header:
        header[0] = header[0].removeprefix("\ufeff")
    if not any(h.strip() for h in header):
        raise OfferFileError([RowProblem(1, "header", "the file is empty: its first line must name the columns")])
    return _rows(reader, layout([h.strip() for h in header], columns), report, out, date_format)


def _rows(reader: Any, shape: Layout, report: FileReport, out: TextIO | None,
          date_format: str | None) -> Iterator[OfferAccount]:
    writer = None
    if out is not None:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CANONICAL)
    refs: set[str] = set()
    fields = [(name, n, _converter(name, dollars, date_format)) for name, n, dollars in shape.fields]
    # A row with no line break or control character anywhere (nearly every row) needs no _text check per cell.
    clean = [(name, n, None if convert is _text else convert) for name, n, convert in fields]
    for row in reader:
        joined = "".join(row)
        if not joined.strip():
            continue  # a blank line, or a spreadsheet's empty row (one join: cheaper than a test per cell)
        line = reader.line_num
        report.rows += 1
        if len(row) != shape.width:
            report.add(RowProblem(line, "row", f"has {len(row)} fields, the header has {shape.width}"))
            continue
        values: dict[str, object] = {}
        bad: set[str] = set()
        for name, n, convert in (fields if _BREAKS.search(joined) else clean):
            text = row[n].strip()
            if not text:
                continue  # OfferAccount says "Field required" where it is
            if convert is None:
                values[name] = text
                continue
            try:
                values[name] = convert(text)
            except ValueError as error:
                report.add(RowProblem(line, name, str(error)))
                values[name], bad = _PLACEHOLDER.get(name), bad | {name}
        try:
            account = OfferAccount.model_validate(values)
        except ValidationError as error:
            for problem in _problems(line, error):
                if problem.column not in bad:
                    report.add(problem)
            continue
        if bad:
            continue
        ref = "".join(account.account_ref.casefold().split())  # as duplicates.normalized compares it
        if ref in refs:
            report.add(RowProblem(line, "account_ref", "appears twice in the file"))
            continue
        refs.add(ref)
        report.accounts += 1
        report.face_value_cents += account.balance_cents
        if writer is not None:
            writer.writerow(["" if v is None else v for v in (getattr(account, c) for c in CANONICAL)])
        yield account
    if not report.rows:
        report.add(RowProblem(2, "account_ref", "the file has no accounts"))


CANONICAL = COLUMNS + OPTIONAL_COLUMNS


def _problems(line: int, error: ValidationError) -> list[RowProblem]:
    # Pydantic's messages name the rule, never the value: a bad row's PII stays out of the report.
    return [RowProblem(line, str(e["loc"][0]) if e["loc"] else "row",
                       "is missing" if e["type"] == "missing"
                       else e["msg"].removeprefix("Value error, ").replace("Input should", "should", 1))
            for e in error.errors(include_input=False, include_url=False)]


@dataclass(frozen=True)
class ReadResult:
    accounts: list[OfferAccount]
    problems: list[RowProblem]


def check_accounts(lines: Iterable[str]) -> ReadResult:
    """Every account that is valid, and the problems (the first SHOWN), by line and column."""
    report = FileReport()
    try:
        accounts = list(normalised(lines, report))
    except OfferFileError as error:
        return ReadResult([], error.problems)
    return ReadResult(accounts, report.shown)


def read_accounts(lines: Iterable[str]) -> Iterator[OfferAccount]:
    """Accounts of a file that must be clean, one at a time. Raises OfferFileError if any row is bad:
    at once for its header, else once the rows are read."""
    report = FileReport()
    return _clean(normalised(lines, report), report)


def _clean(accounts: Iterator[OfferAccount], report: FileReport) -> Iterator[OfferAccount]:
    yield from accounts
    if report.counts:
        raise OfferFileError(report)


def write_accounts(accounts: Iterable[OfferAccount]) -> str:
    """The accounts back as an offer file (used to store only the good rows of a file)."""
    import io

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS + OPTIONAL_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for account in accounts:
        writer.writerow({k: ("" if v is None else v) for k, v in account.model_dump(mode="json").items()})
    return out.getvalue()
