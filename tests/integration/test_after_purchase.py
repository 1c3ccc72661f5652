"""After a purchase: scrubs withhold letters (held for them a campaign's days), put-backs return money to the
pool once, each plan's checklist, and the proof that an account was bought (issue 14)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from functions.adapters import clock, dynamo
from functions.adapters.aws import client, settings
from functions.adapters.keys import withheld_pk
from functions.domain.campaigns import Campaign
from functions.domain.offers import read_accounts
from functions.domain.public_log import compare, verify
from functions.handlers.sweep import sweep
from local.emulator import LocalCloud
from local.sample_data import offer_csv
from ops import operations, purchases
from ops.operations import OperationError
from tests.support import assert_books_balance, figures, give, items, letters_in_bucket

CAMPAIGN = Campaign("c1", "Test Campaign", threshold_cents=1_000, contact="team@test.example")
OFFER = offer_csv(3, 1, prefix="OFFER")
ACCOUNTS = list(read_accounts(OFFER.decode().splitlines(keepends=True)))


def bought(cloud, campaign: Campaign = CAMPAIGN) -> str:
    operations.create_campaign(campaign)
    operations.add_offer("c1", OFFER, "sandbox", 1_500, offer_id="offer-a")
    give(cloud, [5_000])
    cloud.drain()
    [plan] = [p["plan_id"] for p in items("plan") if p["status"] == "settled"]
    return plan


def listing(*rows: tuple[str, ...], header: str = "Account Number,Reason") -> list[str]:
    return [f"{header}\n"] + [",".join(row) + "\n" for row in rows]


def log(cloud) -> list[dict]:
    return cloud.http("GET", "/campaigns/c1/log").json()["entries"]


@pytest.fixture
def cloud():
    with LocalCloud(public_base_url="http://jubilee.test", app_secret="test-secret") as running:
        yield running


def test_letters_wait_for_the_scrub_and_scrubbed_accounts_get_none(cloud, monkeypatch):
    plan = bought(cloud, replace(CAMPAIGN, letters_after_days=2))
    f = figures(cloud)
    assert f["accounts_forgiven"] == 3 and f["letters_waiting"] == 0 and letters_in_bucket() == []
    assert len(items("letters-due")) == 1  # held in the table, not in a queue: days are past SQS's delays
    assert sweep("c1")["letters_released"] == 0  # not due yet
    cloud.drain()
    assert letters_in_bucket() == []

    scrubbed = ACCOUNTS[0]
    file = listing((scrubbed.account_ref, "Deceased"))
    done = purchases.scrub(plan, file, campaign_id="c1")
    assert (done["recorded_now"], done["by_reason"], done["letters_withheld"]) == (1, {"deceased": 1}, 1)
    assert purchases.scrub(plan, file)["recorded_now"] == 0  # recorded once, however often it is run
    assert [i["reason"] for i in items("withheld")] == ["deceased"]
    assert scrubbed.account_ref not in str(items("withheld"))  # kept by its keyed hash only

    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2, hours=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert sweep("c1")["letters_released"] == 1 and sweep("c1")["letters_released"] == 0
    cloud.drain()
    letters = letters_in_bucket()
    names = {line for lines in letters for line in lines}
    assert len(letters) == 2 and scrubbed.debtor_name not in names and ACCOUNTS[1].debtor_name in names
    assert figures(cloud)["letters_waiting"] == 2 and items("letters-due") == []

    # A scrub after the letters left says so, by line.
    late = purchases.scrub(plan, listing((ACCOUNTS[1].account_ref, "bankrupt")))
    assert late["letters_already_sent_lines"] == [2] and late["letters_withheld"] == 0


def test_a_putback_returns_money_to_the_pool_once_and_the_totals_and_log_agree(cloud):
    plan = bought(cloud)
    before = figures(cloud)
    back = ACCOUNTS[0]
    file = listing((back.account_ref,), header="account_ref")
    done = purchases.putback(plan, file, 500, "CM-2026-1")
    assert done["booked_now"] and done["accounts"] == 1
    f = figures(cloud)
    assert_books_balance(f)
    assert f["pool_available_cents"] == before["pool_available_cents"] + 500
    assert f["spent_cents"] == before["spent_cents"] - 500 and f["seller_refunds_cents"] == 500
    assert (f["accounts_forgiven"], f["accounts_withdrawn"]) == (2, 1)
    assert f["face_value_forgiven_cents"] == before["face_value_forgiven_cents"] - back.balance_cents
    [entry] = [e for e in log(cloud) if e["type"] == "putback"]
    assert (entry["accounts"], entry["refund_cents"], entry["reference"]) == (1, 500, "CM-2026-1")
    assert back.account_ref not in str(entry) and back.debtor_name not in str(entry)
    checked = verify(log(cloud))
    assert checked.ok and compare(checked, f) == [], (checked.problems, compare(checked, f))
    assert [t["kind"] for t in items() if t.get("kind") == "putback"] == ["putback"]
    assert [i["withdrawn_by"] for i in items("withheld")] == [done["transfer_id"]]

    # The same reference again books nothing (and writes the accounts' marks a crash may have left undone);
    # the same reference for other accounts is refused.
    [mark] = items("withheld")
    client("dynamodb").delete_item(TableName=settings().table, Key=dynamo.key(withheld_pk("c1", plan), mark["sk"]))
    assert purchases.putback(plan, file, 500, "CM-2026-1")["booked_now"] is False
    assert figures(cloud) == f and [i["withdrawn_by"] for i in items("withheld")] == [done["transfer_id"]]
    with pytest.raises(OperationError, match="--reference: 'CM-2026-1' was booked before"):
        purchases.putback(plan, listing((ACCOUNTS[1].account_ref,), header="account_ref"), 500, "CM-2026-1")
    with pytest.raises(OperationError, match="line.s. 2 were put back before"):
        purchases.putback(plan, file, 100, "CM-2026-2")


def test_bad_scrub_files_and_too_large_a_refund_are_refused_and_nothing_is_written(cloud):
    plan = bought(cloud)
    for lines, why in ((listing(("OFFER-1-000000", "asleep")), "reason 'asleep' is not one of"),
                       (listing(("NOT-OURS", "deceased")), "line.s. 2 name no account"),
                       (["Name,Reason\n", "x,deceased\n"], "no account reference column"),
                       (listing(("OFFER-1-000000",), header="account_ref"), "no 'reason' column")):
        with pytest.raises(OperationError, match=why):
            purchases.scrub(plan, lines)
    with pytest.raises(OperationError, match="not a plan of campaign 'c2'"):
        purchases.scrub(plan, listing((ACCOUNTS[0].account_ref, "deceased")), campaign_id="c2")
    assert items("withheld") == []

    purchases.putback(plan, listing((ACCOUNTS[0].account_ref,), header="account_ref"), 1_000, "CM-1")
    before, entries, marks = figures(cloud), len(log(cloud)), len(items("withheld"))
    with pytest.raises(OperationError, match="--refund-cents: 501 is more than the plan's price left to refund "
                                             r"\(500 of 1500 cents; 1000 refunded before\)"):
        purchases.putback(plan, listing((ACCOUNTS[1].account_ref,), header="account_ref"), 501, "CM-2")
    assert figures(cloud) == before and len(log(cloud)) == entries and len(items("withheld")) == marks
    with pytest.raises(OperationError, match="--reference"):
        purchases.putback(plan, listing((ACCOUNTS[1].account_ref,), header="account_ref"), 1, " ")


def test_the_checklist_is_ticked_once_and_public_and_an_account_is_shown_bought_without_the_file(cloud):
    plan = bought(cloud)
    assert figures(cloud)["checklist_open"] == {plan: 3}
    assert purchases.checklist(plan)["open"] == 3
    ticked = purchases.checklist(plan, "Collectors recalled")
    assert ticked["ticked_now"] and ticked["open"] == 2
    assert purchases.checklist(plan, "collectors-recalled")["ticked_now"] is False
    assert figures(cloud)["checklist_open"] == {plan: 2}
    with pytest.raises(OperationError, match="--tick: 'debts paid' is not an item"):
        purchases.checklist(plan, "debts paid")
    for item in ("credit-report-deletions", "judgments-satisfied"):
        purchases.checklist(plan, item)
    assert figures(cloud)["checklist_open"] == {}

    # Proof of what was bought: an account is shown to be in the purchase without the seller's file.
    [entry] = [e for e in log(cloud) if e["type"] == "purchase"]
    assert len(entry["accounts_digest"]) == 64
    header, *rows = OFFER.decode().splitlines(keepends=True)
    shown = purchases.prove(plan, [header, rows[1]])
    assert shown["accounts_digest"] == entry["accounts_digest"] and shown["accounts_in_list"] == 3
    assert shown["accounts"] == [{"line": 2, "in_purchase": True, "position": shown["accounts"][0]["position"]}]
    other = offer_csv(1, 9, prefix="ELSE").decode().splitlines(keepends=True)
    assert purchases.prove(plan, other)["accounts"][0]["in_purchase"] is False


def test_a_scrub_takes_a_waiting_letter_out_of_the_print_bundle(cloud, tmp_path):
    from functions.adapters.forgiveness import debtor_key
    from ops import mailroom

    plan = bought(cloud, replace(CAMPAIGN, mailer="bundle", legal_name="Test Campaign Inc.",
                                 postal_address=("1 Main St", "Springfield", "IL", "62701")))
    assert figures(cloud)["letters_waiting"] == 3
    done = purchases.scrub(plan, listing((ACCOUNTS[0].account_ref, "bankrupt")))
    assert done["letters_withheld"] == 1 and done["letters_already_sent_lines"] == []
    assert sorted(i["status"] for i in items("letter")) == ["printed", "printed", "withheld"]
    assert figures(cloud)["letters_waiting"] == 2
    assert mailroom.export("c1", plan, tmp_path)["letters"] == 2
    assert mailroom.mark_mailed("c1", plan)["mailed"] == 2
    f = figures(cloud)
    assert (f["letters_sent"], f["letters_waiting"]) == (2, 0) and "expires_at" in debtor_key("c1", plan)


def test_the_purchases_commands_work_against_jubilee_serves_endpoint(served_cloud, tmp_path, capsys):
    from ops import cli

    cloud, endpoint = served_cloud
    operations.add_offer("c1", OFFER, "sandbox", 1_500, offer_id="offer-a")
    give(cloud, [5_000])
    cloud.drain()
    [plan] = [p["plan_id"] for p in items("plan") if p["status"] == "settled"]
    where = ["--endpoint-url", endpoint]
    (tmp_path / "scrub.csv").write_text(f"Acct #,Reason\n{ACCOUNTS[2].account_ref},disputed\n")
    assert cli.main(["purchases", "scrub", plan, str(tmp_path / "scrub.csv"), "--campaign", "c1", *where]) == 0
    out = capsys.readouterr().out
    assert "1 account(s) withheld from letters (1 new; 1 disputed)" in out and "line(s) 2" in out  # sent already
    (tmp_path / "back.csv").write_text(f"account_ref\n{ACCOUNTS[2].account_ref}\n")
    back = ["purchases", "putback", plan, "--accounts", str(tmp_path / "back.csv"), "--reference", "CM-9", *where]
    assert cli.main([*back, "--refund-cents", "2000"]) == 2
    assert "--refund-cents: 2000 is more than the plan's price left to refund" in capsys.readouterr().err
    assert cli.main([*back, "--refund-cents", "300"]) == 0
    assert "booked $3.00 back to the pool: 1 account(s)" in capsys.readouterr().out
    assert cli.main(["purchases", "checklist", plan, "--tick", "judgments-satisfied", "--json", *where]) == 0
    assert '"open": 2' in capsys.readouterr().out
    (tmp_path / "row.csv").write_text(OFFER.decode().splitlines(keepends=True)[0]
                                      + OFFER.decode().splitlines(keepends=True)[1])
    assert cli.main(["purchases", "prove", plan, "--account-file", str(tmp_path / "row.csv"), *where]) == 0
    assert "line 2: in the purchase" in capsys.readouterr().out
    assert ACCOUNTS[2].account_ref not in str(items())  # the seller's references are never stored
    assert cli.main(["campaigns", "update", "c1", "--letters-after-days", "14", *where]) == 0
    assert operations.ledger_store.load_campaign("c1").letters_after_days == 14
