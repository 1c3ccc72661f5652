import inspect

import pytest

from functions.domain.campaigns import Campaign, CampaignError
from functions.domain.forgiveness import account_keys, code_hash, format_code, normalize_code
from functions.domain.offers import (
    COLUMNS,
    OPTIONAL_COLUMNS,
    OfferFileError,
    check_accounts,
    read_accounts,
    write_accounts,
)
from local.sample_data import offer_csv

GOOD = ("A-1", "Avery Example", "1 Imaginary Lane", "Exampleton", "NY", "10001", "Example Hospital", "medical",
        "125000", "2021-03-04")


def csv_text(*rows, columns=COLUMNS):
    return [",".join(columns) + "\n"] + [",".join(r) + "\n" for r in rows]


def problems(lines):
    with pytest.raises(OfferFileError) as caught:
        list(read_accounts(lines))
    return [str(p) for p in caught.value.problems]


def test_a_clean_file_is_read_and_survives_a_round_trip():
    accounts = list(read_accounts(csv_text(GOOD, ("A-2",) + GOOD[1:8] + ("500", "2020-01-01"))))
    assert [a.account_ref for a in accounts] == ["A-1", "A-2"]
    assert sum(a.balance_cents for a in accounts) == 125_500
    assert list(read_accounts(write_accounts(accounts).splitlines(keepends=True))) == accounts


def test_every_bad_row_is_named_by_line_column_and_reason():
    rows = [
        ("A-1",) + GOOD[1:8] + ("-100", GOOD[9]),  # negative balance, line 2
        ("A-2",) + GOOD[1:4] + ("ZZ",) + GOOD[5:],  # bad state, line 3
        ("A-3",) + GOOD[1:9] + ("2021-02-30",),  # impossible date, line 4
    ]
    assert problems(csv_text(*rows)) == [
        "line 2, column balance_cents: should be greater than 0",
        "line 3, column state: is not a two-letter US state code",
        "line 4, column charge_off_date: is not a date (expected YYYY-MM-DD or MM/DD/YYYY)",
    ]


def test_income_needs_a_household_size_and_dates_cannot_be_in_the_future():
    columns = COLUMNS + OPTIONAL_COLUMNS[:3]
    rows = [GOOD + ("", "2500000", ""), ("A-2",) + GOOD[1:9] + ("2099-01-01", "", "", "")]
    assert problems(csv_text(*rows, columns=columns)) == [
        "line 2, column row: household_income_cents and household_size go together",
        "line 3, column charge_off_date: is in the future",
    ]


def test_bad_rows_can_be_set_aside_and_the_good_ones_kept():
    result = check_accounts(csv_text(GOOD, ("A-2",) + GOOD[1:8] + ("0", GOOD[9])))
    assert [a.account_ref for a in result.accounts] == ["A-1"]
    assert [str(p) for p in result.problems] == ["line 3, column balance_cents: should be greater than 0"]


def test_a_problem_report_never_repeats_the_row_s_personal_data():
    bad = ("A-1", "Avery Example", "1 Imaginary Lane", "Exampleton", "XX", "1", "Example Hospital", "medical",
           "lots", "never")
    report = " ".join(problems(csv_text(bad)))
    assert "Avery" not in report and "Imaginary" not in report and "lots" not in report


def test_a_missing_column_and_a_repeated_account_are_refused():
    assert problems(csv_text(GOOD[:-1], columns=COLUMNS[:-1]))[0] == "line 1, column charge_off_date: column is missing"
    assert problems(csv_text(GOOD, GOOD)) == ["line 3, column account_ref: appears twice in the file"]


def test_sample_files_are_valid_and_reproducible():
    assert offer_csv(5, seed=3) == offer_csv(5, seed=3)
    accounts = list(read_accounts(offer_csv(5, seed=3).decode().splitlines(keepends=True)))
    assert len(accounts) == 5 and all(a.debt_type == "medical" for a in accounts)


def test_account_hashes_are_keyed():
    digest, _ = account_keys(b"k", "c", "A-1")
    assert digest == account_keys(b"k", "c", "A-1")[0] != account_keys(b"other", "c", "A-1")[0]
    assert "A-1" not in digest and len(digest) == 32


def test_verification_codes_carry_80_bits_and_are_stable_per_account():
    digest, code = account_keys(b"k", "c", "A-1")
    assert len(code) * 8 == 80 and len(format_code(code).replace("-", "")) == 16  # 16 base32 characters
    assert code == account_keys(b"k", "c", "A-1")[1] != account_keys(b"k", "c", "A-2")[1]
    assert code != account_keys(b"other key", "c", "A-1")[1]
    assert code.hex() not in digest  # the public hash does not carry the code
    printed = format_code(code)
    assert normalize_code(printed) == normalize_code(printed.lower().replace("-", " ")) == code
    assert normalize_code("ABCD-EFGH") is None and normalize_code("0000-0000-0000-0000") is None
    assert code_hash(code) != code_hash(account_keys(b"k", "c", "A-2")[1])


def test_the_letter_says_the_debt_is_gone_and_how_to_check_it():
    import datetime as dt

    from functions.domain.letter_text import Facts, compose

    account = next(read_accounts(csv_text(GOOD)))
    facts = Facts(account.debtor_name, account.address_line, account.city, account.state, account.zip,
                  account.original_creditor, account.debt_type, account.balance_cents, account.account_ref[-4:],
                  account.charge_off_date.isoformat(), "ABCD-EFGH-IJKL-MNOP",
                  "https://x.example/verify/ABCD-EFGH-IJKL-MNOP")
    letter = "\n".join(compose(facts, sender=["Demo Jubilee"], signer="Demo Jubilee", contact="team@x.example",
                               currency="USD", languages=("en",), entity_type="501c3", tax_note="",
                               generic_creditor=False, today=dt.date(2026, 1, 1)).lines())
    assert "$1,250.00" in letter and "You owe nothing" in letter and "ABCD-EFGH-IJKL-MNOP" in letter
    assert "Example Hospital" in letter and "team@x.example" in letter


def test_chunk_ranges_cover_every_row_once_by_byte_range():
    from functions.domain.forgiveness import chunk_ranges

    lines = [b"h1,h2\n"] + [f"{n},x\n".encode() for n in range(205)]
    header, ranges = chunk_ranges(lines, 90)
    body = b"".join(lines)
    assert header == "h1,h2\n" and [first for first, _, _ in ranges] == [0, 90, 180]
    rows = [line for _, start, end in ranges for line in body[start:end].decode().splitlines()]
    assert rows == [f"{n},x" for n in range(205)]


@pytest.mark.parametrize("field,kwargs", [
    ("campaign_id", {"campaign_id": "Bad Id"}), ("reserve_bps", {"reserve_bps": 10_000}),
    ("threshold_cents", {"threshold_cents": 0}), ("currency", {"currency": "XXX"}),
])
def test_campaign_settings_are_checked(field, kwargs):
    with pytest.raises(CampaignError) as caught:
        Campaign(**({"campaign_id": "ok", "name": "N"} | kwargs))
    assert caught.value.field == field


def test_the_inlined_ingestion_loop_hashes_and_seals_exactly_as_the_named_functions_do():
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from functions.adapters import crypto
    from functions.adapters.forgiven_accounts import chunk_items
    from functions.domain.duplicates import keys_of
    from functions.domain.forgiveness import private_blob, read_private

    lines = offer_csv(3, 9).decode().splitlines()
    portfolio = crypto.Opener(X25519PrivateKey.generate())
    message = {"campaign_id": "c", "plan_id": "c.o.0", "chunk": 4, "first_row": 0, "header": lines[0]}
    sealer = crypto.Sealer(portfolio.public)
    claimed = []
    items, count, face, skipped = chunk_items(message, "\n".join(lines[1:]) + "\n", sealer, b"k" * 32, "2026-01-01",
                                              b"d" * 32, lambda keys: claimed.extend(keys) or set())
    accounts = list(read_accounts([line + "\n" for line in lines]))
    assert count == 3 and face == sum(a.balance_cents for a in accounts) and skipped == 0
    assert claimed == [keys_of(b"d" * 32, "c", account) for account in accounts]
    for row, (item, account) in enumerate(zip(items, accounts, strict=True)):
        digest, code = account_keys(b"k" * 32, "c", account.account_ref)
        assert item["account_hash"]["S"] == digest and item["sk"]["S"] == f"000004#{digest}"
        assert item["code_hash"]["S"] == code_hash(code)
        sealed = item["sealed"]["B"]
        assert sealed[:crypto.PUBLIC_BYTES] == sealer.header
        assert sealed[crypto.PUBLIC_BYTES:crypto.PUBLIC_BYTES + 12] == crypto.nonce(4, row)
        plaintext = portfolio.open(sealed, crypto.aad("c", "c.o.0", digest))
        charged_off = account.charge_off_date.isoformat()
        assert plaintext == private_blob(code, account.debtor_name, account.address_line, account.city,
                                         account.state, account.zip, account.account_ref[-4:], charged_off)
        opened = read_private(plaintext)
        assert opened == (code, [account.debtor_name, account.address_line, account.city, account.state, account.zip,
                                 account.account_ref[-4:], charged_off] + [""] * 5)
    # With the keys `offers add` stored: the same items, the same claims, no hashing.
    known = "".join(a + p for a, p in claimed)
    again: list = []
    assert chunk_items(message, "\n".join(lines[1:]) + "\n", sealer, b"k" * 32, "2026-01-01", b"d" * 32,
                       lambda keys: again.extend(keys) or set(), known)[1:] == (count, face, 0)
    assert again == claimed


def test_ingestion_reads_quoted_and_unquoted_chunks_alike_and_refuses_changed_rows():
    import csv
    import io

    from functions.domain.forgiveness import accounts_in
    from functions.domain.offers import OfferFileError

    lines = offer_csv(30, 5).decode().splitlines()
    header, plain = next(csv.reader([lines[0]])), "\r\n".join(lines[1:]) + "\r\n"
    quoted = io.StringIO()
    csv.writer(quoted, quoting=csv.QUOTE_ALL).writerows(csv.reader(lines[1:]))
    assert '"' not in plain and '"' in quoted.getvalue()
    fast, careful = list(accounts_in(header, plain, 2)), list(accounts_in(header, quoted.getvalue(), 2))
    assert fast == careful and len(fast) == 30
    assert [d[8] for d in fast] == [a.balance_cents for a in read_accounts([line + "\n" for line in lines])]
    for changed, line in ((plain.replace(",", "\x1f", 40), 2), ("\n".join(lines[1:3] + ["x,y"]), 4)):
        with pytest.raises(OfferFileError) as caught:
            list(accounts_in(header, changed, 2))
        assert caught.value.problems[0].line == line


def _stored_chunk(rows: list[list[str]], quoting: int = 0) -> str:
    import csv
    import io

    out = io.StringIO()
    csv.writer(out, quoting=quoting, lineterminator="\n").writerows(rows)
    return out.getvalue()


def _rows(text: str) -> list[list[str]]:
    import csv

    return [next(csv.reader([line])) for line in text.splitlines()]


def test_ingestion_s_fast_reader_reads_and_refuses_exactly_as_the_careful_one_naming_row_and_field():
    import csv

    from functions.domain.forgiveness import SEALED_EXTRA, accounts_in, checked_rows

    lines = offer_csv(30, 5).decode().splitlines()
    header, rows = _rows(lines[0])[0], _rows("\n".join(lines[1:]))
    plain, quoted = _stored_chunk(rows), _stored_chunk(rows, csv.QUOTE_ALL)
    legacy = [n for n, column in enumerate(header) if column not in SEALED_EXTRA]  # stored before those columns
    for head, text in ((header, plain), (header, quoted), ([header[n] for n in legacy],
                                                          _stored_chunk([[r[n] for n in legacy] for r in rows]))):
        read, cents = checked_rows(head, text, 2)
        assert [(*r[:8], c, r[9], r[10:]) for r, c in zip(read, cents, strict=True)] == list(accounts_in(head, text, 2))
        assert len(read) == 30 and cents == [int(r[header.index("balance_cents")]) for r in rows]

    def changed(row: int, column: str, value: str) -> tuple[str, str]:
        edited = [list(r) for r in rows]
        edited[row][header.index(column)] = value
        return _stored_chunk(edited), value

    # Each way a stored file may have changed since `offers add` read it: refused whole by both readers, the
    # problem naming the line and the field, never the value.
    cases = [(changed(3, "balance_cents", "12.50"), 5, "balance_cents"),
             (changed(3, "balance_cents", "0"), 5, "balance_cents"),
             (changed(29, "balance_cents", "-7"), 31, "balance_cents"), (changed(7, "state", "Zq"), 9, "state"),
             (changed(0, "account_ref", ""), 2, "account_ref"), (changed(4, "city", "Mock\x1ftown"), 6, "city"),
             ((_stored_chunk(rows[:2] + [rows[2][:5]] + rows[3:]), rows[2][1]), 4, "row")]
    for (text, value), line, column in cases:
        for read in (checked_rows, lambda h, t, first: list(accounts_in(h, t, first))):
            with pytest.raises(OfferFileError) as caught:
                read(header, text, 2)
            (problem,) = caught.value.problems
            assert (problem.line, problem.column) == (line, column), problem
            assert "the file changed since the offer was registered" in problem.reason
            assert not value or value not in str(caught.value)
    with pytest.raises(OfferFileError) as caught:
        checked_rows([c for c in header if c != "state"], plain, 2)
    assert [(p.line, p.column, p.reason) for p in caught.value.problems] == [(1, "state", "column is missing")]


def _chunk(rows: int, chunk: int = 4) -> tuple[dict, str, list]:
    lines = offer_csv(rows, 9).decode().splitlines()
    message = {"campaign_id": "c", "plan_id": "c.o.0", "chunk": chunk, "first_row": 0, "header": lines[0]}
    return message, "\n".join(lines[1:]) + "\n", list(read_accounts([line + "\n" for line in lines]))


def test_a_changed_chunk_is_refused_whole_before_any_account_is_claimed_or_sealed():
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from functions.adapters import crypto
    from functions.adapters.forgiven_accounts import chunk_items

    message, text, _ = _chunk(40)
    rows = _rows(text)
    rows[31][_rows(message["header"])[0].index("state")] = "Ohio"
    claimed: list = []
    with pytest.raises(OfferFileError) as caught:
        chunk_items(message, _stored_chunk(rows), crypto.Sealer(X25519PrivateKey.generate().public_key()
                                                                .public_bytes_raw()),
                    b"k" * 32, "2026-01-01", b"d" * 32, claimed.append)
    assert [(p.line, p.column) for p in caught.value.problems] == [(33, "state")]
    assert claimed == []  # nothing claimed: a redelivery of a fixed file starts clean


def test_accounts_forgiven_elsewhere_are_left_out_and_the_rest_sealed_as_their_rows():
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from functions.adapters import crypto
    from functions.adapters.dynamo import batches
    from functions.adapters.forgiven_accounts import chunk_items
    from functions.domain.duplicates import keys_of

    message, text, accounts = _chunk(60)
    portfolio = crypto.Opener(X25519PrivateKey.generate())
    sealer = crypto.Sealer(portfolio.public)
    stored = "".join(a + p for a, p in (keys_of(b"d" * 32, "c", account) for account in accounts))
    # Keys stored for another (shorter) file are not trusted: each account is hashed here.
    claimed: list = []
    for known in (stored, stored[:-64], None):
        claimed.clear()
        items, count, face, skipped = chunk_items(message, text, sealer, b"k" * 32, "2026-01-01", b"d" * 32,
                                                  lambda keys: claimed.extend(keys) or {1, 30}, known)
        assert claimed == [keys_of(b"d" * 32, "c", account) for account in accounts]
        assert (count, skipped) == (58, 2)
        assert face == sum(a.balance_cents for n, a in enumerate(accounts) if n not in (1, 30))
    # Made as the writer takes them, 25 at a time: nothing is sealed before it is asked for.
    calls = []
    real = sealer.cipher

    class Counting:
        def encrypt(self, *args):
            calls.append(1)
            return real.encrypt(*args)

    sealer.cipher = Counting()
    items, *_ = chunk_items(message, text, sealer, b"k" * 32, "2026-01-01", b"d" * 32, lambda keys: {1, 30}, stored)
    taking = batches(items)
    first = next(taking)
    assert len(first) == 25 and len(calls) == 25
    written = first + [item for batch in taking for item in batch]
    assert len(written) == 58 and len(calls) == 58
    rows = [n for n in range(60) if n not in (1, 30)]
    for row, item, account in zip(rows, written, [accounts[n] for n in rows], strict=True):
        digest, code = account_keys(b"k" * 32, "c", account.account_ref)
        assert item["account_hash"]["S"] == digest and item["face_value_cents"]["N"] == str(account.balance_cents)
        sealed = item["sealed"]["B"]
        assert sealed[crypto.PUBLIC_BYTES:crypto.PUBLIC_BYTES + 12] == crypto.nonce(4, row)  # its row's, as before
        assert portfolio.open(sealed, crypto.aad("c", "c.o.0", digest))[:10] == code


SELLER_HEADER = "\ufeffAcct #,Full Name,Address,City,ST,Zip Code,Creditor,Type,Current Balance,Charged Off Date\r\n"


def seller_file(*rows: str, header: str = SELLER_HEADER) -> list[str]:
    import io

    return list(io.StringIO(header + "".join(rows), newline=""))


def test_a_file_laid_out_as_sellers_send_it_is_read_into_jubilee_s_own_layout():
    import io

    from functions.domain.offers import CANONICAL, FileReport, normalised

    lines = seller_file('A-1,Avery Example,1 Imaginary Lane,Exampleton,ny,10001-1234,Example Hospital,Medical,'
                        '"$1,234.56",03/04/2021\r\n', "\r\n", ",,,,,,,,,\r\n",
                        "A-2,Blake Sample,2 Nowhere Road,Sampleville,CA,90210,Sample Clinic,credit card,99,"
                        "2020-12-31\r\n")
    report, out = FileReport(), io.StringIO()
    accounts = list(normalised(lines, report, out))
    assert not report.counts and report.rows == 2 and report.face_value_cents == 123_456 + 9_900
    assert [(a.account_ref, a.zip, a.state, a.debt_type, a.balance_cents, a.charge_off_date.isoformat())
            for a in accounts] == [("A-1", "10001", "NY", "medical", 123_456, "2021-03-04"),
                                   ("A-2", "90210", "CA", "credit_card", 9_900, "2020-12-31")]
    stored = out.getvalue().splitlines()
    assert stored[0] == ",".join(CANONICAL)  # what forgiveness reads, by its fast comma split
    assert stored[1].startswith("A-1,Avery Example,1 Imaginary Lane,Exampleton,NY,10001,Example Hospital,medical,"
                                "123456,2021-03-04")
    assert list(read_accounts(out.getvalue().splitlines(keepends=True))) == accounts


def test_columns_can_be_mapped_and_dates_read_in_another_layout():
    from functions.domain.offers import check_file

    header = "Loan ID,Name,Street,City,State,Zip,Lender,Kind,Owed Cents,CO\n"
    row = "L-9,Avery Example,1 Imaginary Lane,Exampleton,NY,10001,Example Bank,auto,5000,04.03.2021\n"
    mapping = {"account_ref": "Loan ID", "address_line": "Street", "original_creditor": "Lender",
               "debt_type": "Kind", "balance_cents": "Owed Cents", "charge_off_date": "CO"}
    report = check_file(seller_file(row, header=header), mapping, "%d.%m.%Y")
    assert report.accounts == 1 and not report.counts
    refused = check_file(seller_file(row, header=header), mapping)  # the day-first date needs its format
    assert refused.lines() == ["line 2, column charge_off_date: is not a date (expected YYYY-MM-DD or MM/DD/YYYY)"]


def test_a_missing_column_names_what_was_found_and_the_closest_header():
    header = "Account Ref,Full Name,Address,City,ST,Zip Code,Creditor,Type,Current Balance,Charge Of Dt\n"
    said = problems(seller_file(header=header))
    assert said[0] == "line 1, column charge_off_date: column is missing; closest: 'Charge Of Dt'"
    assert len(said) == 2 and "'Account Ref', 'Full Name'" in said[1] and "--columns" in said[1]


def test_cells_get_plain_reasons_and_a_short_row_says_how_short():
    rows = ("A-1,Avery Example,1 Imaginary Lane,Exampleton,NY,2108,Example Hospital,medical,12.345,13/01/2021\n",
            "A-2,Avery Example,1 Imaginary Lane,Exampleton,NY,10001,Example Hospital,medical,100\n")
    assert problems(seller_file(*rows)) == [
        "line 2, column zip: has 4 digits: a leading zero lost (a spreadsheet drops them)? write it as 0XXXX",
        "line 2, column balance_cents: is not an amount in dollars (expected 1234.56 or $1,234.56)",
        "line 2, column charge_off_date: is not a date (expected YYYY-MM-DD or MM/DD/YYYY)",
        "line 3, column row: has 9 fields, the header has 10",
    ]
    # What would break the stored file's lines where forgiveness reads them is refused when it is added.
    for odd in ("\u2028", "\x1c", "\x1f", "\n"):
        row = f'A-1,"Avery{odd}Example",1 Imaginary Lane,Exampleton,NY,10001,Example Hospital,medical,1,2021-01-01\n'
        assert problems(seller_file(row)) == [
            "line 2, column debtor_name: has a line break or control character inside"] if odd != "\n" else [
            "line 3, column debtor_name: has a line break or control character inside"]


def day_first(accounts: int) -> list[str]:
    """A sample file whose every date is written day first (31/12/2020): no row can be read."""
    lines = offer_csv(accounts, 2).decode().splitlines(keepends=True)
    return lines[:1] + [line.replace("-12-", "/12/").replace("-0", "/0").replace("-1", "/1") for line in lines[1:]]


def test_a_refusal_is_bounded_whatever_the_file_s_size():
    from functions.domain.offers import SHOWN, check_file

    report = check_file(day_first(400))
    lines = report.lines()
    assert report.counts["charge_off_date"].total() == 400 and len(report.counts) == 2  # and last_payment_date
    assert len(lines) == SHOWN + 2
    assert lines[SHOWN:] == ["charge_off_date: 400 rows are not a date (expected YYYY-MM-DD or MM/DD/YYYY)",
                             "last_payment_date: 400 rows are not a date (expected YYYY-MM-DD or MM/DD/YYYY)"]


def test_checking_streams_memory_does_not_grow_with_the_file():
    import tracemalloc

    from functions.domain.offers import FileReport, check_file, normalised

    def peak(rows: int) -> int:
        lines = iter(bad[:rows + 1])
        tracemalloc.start()
        check_file(lines)
        size = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return size

    bad = day_first(1_000)
    assert inspect.isgenerator(normalised(bad, FileReport()))  # rows are read one at a time, never listed
    peak(1_000)  # fills what pydantic-core caches (bounded) first
    # A row kept would cost its line (~200 bytes) and more; what grows is pydantic-core's bounded string cache.
    assert (peak(1_000) - peak(200)) / 800 < 64


def test_the_fields_sellers_also_send_are_validated_sealed_and_lettered():
    import datetime as dt
    import io

    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from functions.adapters import crypto
    from functions.adapters.forgiven_accounts import chunk_items
    from functions.domain.forgiveness import SEPARATOR, private_blob, read_private
    from functions.domain.letter_text import Facts, compose
    from functions.domain.offers import FileReport, normalised

    header = SELLER_HEADER.rstrip() + ",Address 2,DOFD,Patient,Case #,Collection Agency,Co-Borrower\r\n"
    base = "Avery Example,1 Imaginary Lane,Exampleton,NY,10001,Example Hospital,medical,100.00,03/04/2021"
    lines = seller_file(f"A-1,{base},Apt 2,01/05/2020,Casey Example,2021-CV-123,Sample Recovery,Blake Example\r\n",
                        f"A-2,{base},,,,,,\r\n", f"A-3,{base},,2021-03-05,,,,\r\n", header=header)
    report, out = FileReport(), io.StringIO()
    accounts = list(normalised(lines, report, out))
    assert report.lines() == ["line 4, column row: first_delinquency_date is after charge_off_date"]
    first, plain = accounts
    assert (first.address_line_2, first.first_delinquency_date.isoformat(), first.patient_name, first.case_number,
            first.current_collector, first.co_debtor_name) == ("Apt 2", "2020-01-05", "Casey Example", "2021-CV-123",
                                                               "Sample Recovery", "Blake Example")
    assert plain.address_line_2 is None and plain.co_debtor_name is None
    # Forgiveness seals them after the address, as private_blob does; a blob without them is as before.
    stored = out.getvalue().splitlines()
    portfolio = crypto.Opener(X25519PrivateKey.generate())
    message = {"campaign_id": "c", "plan_id": "p", "chunk": 0, "first_row": 0, "header": stored[0]}
    items, *_ = chunk_items(message, "\n".join(stored[1:]) + "\n", crypto.Sealer(portfolio.public), b"k" * 32,
                            "2026-01-01", b"d" * 32)
    opened = [portfolio.open(item["sealed"]["B"], crypto.aad("c", "p", item["account_hash"]["S"])) for item in items]
    code = opened[0][:10]
    extra = ("Apt 2", "Casey Example", "Blake Example", "2021-CV-123", "Sample Recovery")
    assert opened[0] == private_blob(code, first.debtor_name, first.address_line, first.city, first.state, first.zip,
                                     "A-1"[-4:], "2021-03-04", extra)
    assert opened[1].count(SEPARATOR.encode()) == 6  # the seven fields alone, as sealed before sellers sent more
    assert read_private(opened[1])[1] == [plain.debtor_name, plain.address_line, "Exampleton", "NY", "10001",
                                          "A-2", "2021-03-04"] + [""] * 5
    assert read_private(opened[0])[1][7:] == list(extra)
    facts = Facts(first.debtor_name, first.address_line, first.city, first.state, first.zip, "Example Hospital",
                  "medical", 10_000, "A-1", "2021-03-04", "CODE", "https://x.example/verify", *extra)
    letter = compose(facts, sender=["Demo Jubilee"], signer="Demo Jubilee", contact="team@x.example", currency="USD",
                     languages=("en", "es"), entity_type="501c3", tax_note="", generic_creditor=False,
                     today=dt.date(2026, 11, 29))
    assert letter.recipient == ["Avery Example & Blake Example", "1 Imaginary Lane", "Apt 2", "Exampleton, NY 10001"]
    assert "Dear Avery Example & Blake Example," in letter.lines()
    text = "\n".join(letter.lines())
    assert "For the care of: Casey Example" in text and "Court case: 2021-CV-123" in text and "Sample Recovery" in text
    assert "Por la atención de: Casey Example" in text and "Caso judicial: 2021-CV-123" in text
