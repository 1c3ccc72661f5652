import pytest

from functions.domain.campaigns import Campaign, CampaignError
from functions.domain.forgiveness import account_keys, code_hash, format_code, letter_lines, normalize_code
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
        "line 2, column balance_cents: Input should be greater than 0",
        "line 3, column state: is not a two-letter US state code",
        "line 4, column charge_off_date: Input should be a valid date or datetime, day value is outside expected range",
    ]


def test_income_needs_a_household_size_and_dates_cannot_be_in_the_future():
    columns = COLUMNS + OPTIONAL_COLUMNS
    rows = [GOOD + ("", "2500000", ""), ("A-2",) + GOOD[1:9] + ("2099-01-01", "", "", "")]
    assert problems(csv_text(*rows, columns=columns)) == [
        "line 2, column row: household_income_cents and household_size go together",
        "line 3, column charge_off_date: is in the future",
    ]


def test_bad_rows_can_be_set_aside_and_the_good_ones_kept():
    result = check_accounts(csv_text(GOOD, ("A-2",) + GOOD[1:8] + ("0", GOOD[9])))
    assert [a.account_ref for a in result.accounts] == ["A-1"]
    assert [str(p) for p in result.problems] == ["line 3, column balance_cents: Input should be greater than 0"]


def test_a_problem_report_never_repeats_the_row_s_personal_data():
    bad = ("A-1", "Avery Example", "1 Imaginary Lane", "Exampleton", "XX", "1", "Example Hospital", "medical",
           "lots", "never")
    report = " ".join(problems(csv_text(bad)))
    assert "Avery" not in report and "Imaginary" not in report and "lots" not in report


def test_a_missing_column_and_a_repeated_account_are_refused():
    assert problems(csv_text(GOOD[:-1], columns=COLUMNS[:-1])) == ["line 1, column charge_off_date: column is missing"]
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
    account = next(read_accounts(csv_text(GOOD)))
    letter = "\n".join(letter_lines("Demo Jubilee", account, "USD", "ABCD-EFGH-IJKL-MNOP", "team@x.example",
                                     "https://x.example/verify/ABCD-EFGH-IJKL-MNOP"))
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
    from functions.domain.duplicates import keys_of
    from functions.domain.forgiveness import private_blob, read_private
    from functions.handlers.forgiveness import chunk_items

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
        assert plaintext == private_blob(code, account.debtor_name, account.address_line, account.city,
                                         account.state, account.zip)
        opened = read_private(plaintext)
        assert opened == (code, [account.debtor_name, account.address_line, account.city, account.state, account.zip])


def test_ingestion_reads_quoted_and_unquoted_chunks_alike_and_refuses_changed_rows():
    import csv
    import io

    from functions.domain.forgiveness import debts
    from functions.domain.offers import OfferFileError

    lines = offer_csv(30, 5).decode().splitlines()
    header, plain = next(csv.reader([lines[0]])), "\r\n".join(lines[1:]) + "\r\n"
    quoted = io.StringIO()
    csv.writer(quoted, quoting=csv.QUOTE_ALL).writerows(csv.reader(lines[1:]))
    assert '"' not in plain and '"' in quoted.getvalue()
    fast, careful = list(debts(header, plain, 2)), list(debts(header, quoted.getvalue(), 2))
    assert fast == careful and len(fast) == 30
    assert [d[-1] for d in fast] == [a.balance_cents for a in read_accounts([line + "\n" for line in lines])]
    for changed, line in ((plain.replace(",", "\x1f", 40), 2), ("\n".join(lines[1:3] + ["x,y"]), 4)):
        with pytest.raises(OfferFileError) as caught:
            list(debts(header, changed, 2))
        assert caught.value.problems[0].line == line
