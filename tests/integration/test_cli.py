"""The `jubilee` command as a user runs it."""

import json

import pytest

from functions.adapters.aws import client
from local.sample_data import offer_csv
from ops import cli
from tests.support import assert_books_balance


def test_demo_json_adds_up_to_the_cent(capsys):
    assert cli.main(["demo", "--json", "--donations", "30", "--seed", "3"]) == 0
    report = json.loads(capsys.readouterr().out)  # stdout is one JSON object, nothing else
    assert_books_balance(report)  # raised + shortfall = fees + refunded + disputes lost + ... + spent
    assert report["donations_confirmed"] == 31  # 30 donations and a monthly gift's second month
    assert report["money_out"] == {"monthly_gift_month_2": "confirmed", "partial_refund": "refunded",
                                   "dispute_filed": "dispute_open", "dispute_won": "dispute_won",
                                   "dispute_filed_again": "dispute_open", "dispute_lost": "dispute_lost"}
    assert report["refunded_cents"] > 0 and report["disputes_lost_cents"] > 0 and report["frozen_cents"] == 0
    assert report["purchases"] >= 1
    assert report["face_value_forgiven_cents"] == report["purchased_face_value_cents"]
    assert report["accounts_forgiven"] == report["purchased_accounts"] == report["letters_sent"]
    assert report["dead_letters"] == 0 and len(report["log_head"]) == 64
    assert report["replays"] == {"donation_request": 1, "webhook": 1, "failed_once": 1}


def test_the_same_seed_gives_the_same_report(capsys):
    runs = []
    for _ in range(2):
        cli.main(["demo", "--json", "--donations", "12", "--seed", "5"])
        runs.append(json.loads(capsys.readouterr().out))
    assert runs[0]["log_head"] == runs[1]["log_head"] and runs[0]["raised_cents"] == runs[1]["raised_cents"]


def test_operator_commands_on_a_local_deployment(served_cloud, tmp_path, capsys):
    cloud, url = served_cloud
    endpoint = ["--endpoint-url", url]
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_bytes(offer_csv(4, 1))
    bad.write_text("account_ref,debtor_name\nX,Y\n")
    assert cli.main(["campaigns", "create", "spring", "--name", "Spring", "--threshold-cents", "5000", *endpoint]) == 0
    assert cli.main(["campaigns", "create", "spring", "--name", "Again", *endpoint]) == 2
    assert "exists already" in capsys.readouterr().err
    assert cli.main(["campaigns", "register", *endpoint]) == 0  # created with the registry: nothing to add
    assert "every campaign is registered already" in capsys.readouterr().out
    assert cli.main(["offers", "add", str(good), "--campaign", "spring", "--seller", "s", "--price-cents", "900",
                     *endpoint]) == 0
    assert "4 accounts" in capsys.readouterr().out
    assert cli.main(["offers", "add", str(bad), "--campaign", "spring", "--seller", "s", "--price-cents", "9",
                     *endpoint]) == 2
    err = capsys.readouterr().err
    assert "line 1, column state: column is missing" in err and "balance_cents" in err
    assert cli.main(["offers", "add", str(good), "--campaign", "nope", "--seller", "s", "--price-cents", "9",
                     *endpoint]) == 2
    assert "--campaign: no campaign 'nope'" in capsys.readouterr().err
    # A seller's own layout, one header mapped: stored in Jubilee's, and described as JSON for scripts.
    sellers, mapping = tmp_path / "seller.csv", tmp_path / "map.json"
    sellers.write_text(SELLERS_FILE)
    mapping.write_text(json.dumps({"account_ref": "Loan ID"}))
    assert cli.main(["offers", "add", str(sellers), "--columns", str(mapping), "--campaign", "spring", "--seller", "s",
                     "--price-cents", "900", "--json", *endpoint]) == 0
    added = json.loads(capsys.readouterr().out)
    assert added["accounts"] == 2 and added["face_value_cents"] == 123_456 + 50_000
    assert cli.main(["offers", "show", added["offer_id"], "--campaign", "spring", "--json", *endpoint]) == 0
    assert json.loads(capsys.readouterr().out)["by_state"]["NY"] == {"accounts": 2, "face_value_cents": 173_456}
    # A poisoned letter request lands in its DLQ; the operator command puts it back.
    sqs = client("sqs")
    sqs.send_message(QueueUrl=cloud.dlq_urls["letters"], MessageBody="{}")
    assert cli.main(["dlq", "redrive", "letters", *endpoint]) == 0
    assert "moved 1 message" in capsys.readouterr().out
    assert cloud.dlq_depths()["letters"] == 0


SELLERS_FILE = ("\ufeffLoan ID,Full Name,Address,City,ST,Zip Code,Creditor,Type,Current Balance,Charged Off Date\r\n"
                "L-1,Avery Example,1 Imaginary Lane,Exampleton,NY,10001-1234,Example Hospital,medical,"
                "\"$1,234.56\",03/04/2021\r\n\r\n"
                "L-2,Blake Sample,2 Nowhere Road,Exampleton,NY,10002,Example Hospital,medical,500,2021-03-05\r\n")


def test_offers_check_reads_a_seller_s_file_without_uploading_and_bounds_its_refusal(tmp_path, capsys):
    sellers, mapping, wrong = tmp_path / "seller.csv", tmp_path / "map.json", tmp_path / "wrong.csv"
    sellers.write_text(SELLERS_FILE)
    mapping.write_text(json.dumps({"account_ref": "Loan ID"}))
    assert cli.main(["offers", "check", str(sellers)]) == 2  # "Loan ID" is no name Jubilee knows
    said = capsys.readouterr().err
    assert "column account_ref: column is missing" in said and "'Loan ID', 'Full Name'" in said
    assert cli.main(["offers", "check", str(sellers), "--columns", str(mapping)]) == 0
    assert "2 accounts, $1,734.56 face value: ready to add" in capsys.readouterr().out
    rows = [f"A-{n},Avery Example,1 Imaginary Lane,Exampleton,NY,10001,Example Hospital,medical,100,2021.03.04"
            for n in range(300)]
    wrong.write_text("account_ref,debtor_name,address_line,city,state,zip,original_creditor,debt_type,balance_cents,"
                     "charge_off_date\n" + "\n".join(rows) + "\n")
    assert cli.main(["offers", "check", str(wrong)]) == 2
    said = capsys.readouterr().err.splitlines()
    assert len(said) == 1 + 50 + 1 and said[-1] == ("  charge_off_date: 300 rows are not a date "
                                                   "(expected YYYY-MM-DD or MM/DD/YYYY)")
    assert cli.main(["offers", "check", str(wrong), "--date-format", "%Y.%m.%d", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["accounts"] == 300


@pytest.mark.parametrize("argv, message", [
    (["campaigns", "create", "Bad Id", "--name", "x"], "campaign_id"),
    (["campaigns", "create", "ok", "--name", "x", "--reserve-bps", "20000"], "reserve_bps"),
    (["campaigns", "create", "ok", "--name", "x", "--mailer", "lob"], "legal_name: is required before letters"),
    (["campaigns", "create", "ok", "--name", "x", "--mailer", "lob", "--legal-name", "X Inc",
      "--postal-address", "1 Main St", "Springfield", "ZZ", "62701"], "postal_address: needs a US state code"),
    (["campaigns", "create", "ok", "--name", "x", "--email-receipts"], "email_from: is required to send email"),
    (["campaigns", "create", "ok", "--name", "x", "--email-from", "Fund <a@b.example>"], "email_from: must be one"),
    (["campaigns", "create", "ok", "--name", "x", "--ein", "123456789"], "ein: must be two digits, a dash"),
    (["campaigns", "create", "ok", "--name", "x", "--address", "1 Main St Springfield IL 62701"], "address: write"),
    (["campaigns", "create", "ok", "--name", "x", "--address", "1 Main St, Springfield, IL 627"], "address: needs a"),
    (["campaigns", "create", "ok", "--name", "x", "--address", "1 Main St, Springfield, Il 62701"],
     "address: 'Il' is not a US state code"),
])
def test_bad_campaign_settings_are_named(capsys, monkeypatch, argv, message):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "")  # restored after: settings are refused before any AWS call
    assert cli.main([*argv, "--endpoint-url", "http://127.0.0.1:9"]) == 2
    assert message in capsys.readouterr().err


def test_bad_arguments_are_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["campaigns", "create", "x", "--name", "x", "--threshold-cents", "-5"])
    assert exited.value.code == 2 and "must be above zero" in capsys.readouterr().err
