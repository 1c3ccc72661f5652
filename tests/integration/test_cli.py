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
    # A poisoned letter request lands in its DLQ; the operator command puts it back.
    sqs = client("sqs")
    sqs.send_message(QueueUrl=cloud.dlq_urls["letters"], MessageBody="{}")
    assert cli.main(["dlq", "redrive", "letters", *endpoint]) == 0
    assert "moved 1 message" in capsys.readouterr().out
    assert cloud.dlq_depths()["letters"] == 0


@pytest.mark.parametrize("argv, message", [
    (["campaigns", "create", "Bad Id", "--name", "x"], "campaign_id"),
    (["campaigns", "create", "ok", "--name", "x", "--reserve-bps", "20000"], "reserve_bps"),
])
def test_bad_campaign_settings_are_named(capsys, monkeypatch, argv, message):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "")  # restored after: settings are refused before any AWS call
    assert cli.main([*argv, "--endpoint-url", "http://127.0.0.1:9"]) == 2
    assert message in capsys.readouterr().err


def test_bad_arguments_are_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["campaigns", "create", "x", "--name", "x", "--threshold-cents", "-5"])
    assert exited.value.code == 2 and "must be above zero" in capsys.readouterr().err
