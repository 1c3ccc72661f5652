"""A campaign that mails its own letters: the print bundle round trip, what was posted, and resends."""

from __future__ import annotations

import csv
import stat
import time

import pytest

from functions.adapters import dynamo
from functions.adapters.forgiveness import debtor_key_sk
from functions.adapters.keys import campaign_pk
from functions.domain.campaigns import Campaign
from local.emulator import LocalCloud
from local.sample_data import offer_csv
from ops import mailroom, operations
from tests.support import embedded_pdf_lines, figures, give, items

CAMPAIGN = Campaign("c1", "Test Campaign", threshold_cents=1_000, contact="team@test.example", mailer="bundle",
                    legal_name="Test Campaign Inc.", postal_address=("1 Main St", "Springfield", "IL", "62701"),
                    letter_languages=("en", "es"))


@pytest.fixture
def bundled():
    with LocalCloud(public_base_url="http://jubilee.test", app_secret="test-secret") as cloud:
        operations.create_campaign(CAMPAIGN)
        operations.add_offer("c1", offer_csv(3, 1, prefix="OFFER"), "sandbox", 1_500, offer_id="offer-a")
        give(cloud, [5_000])
        cloud.drain()
        [plan] = {i["plan_id"] for i in items("letter")}
        yield cloud, plan


def key_item(plan):
    return dynamo.get(campaign_pk("c1"), debtor_key_sk(plan))


def test_the_bundle_is_one_printable_pdf_and_a_mailing_list_and_mailing_it_is_recorded(bundled, tmp_path):
    cloud, plan = bundled
    assert {i["status"] for i in items("letter")} == {"printed"} and figures(cloud)["letters_sent"] == 0
    assert figures(cloud)["letters_waiting"] == 3  # printed for the bundle, not yet posted
    assert "expires_at" not in key_item(plan)  # nothing is mailed yet: the debtors' key is kept
    done = mailroom.export("c1", plan, tmp_path / "bundle")
    assert done["letters"] == 3 and done["pages"] == 6  # English and Spanish: a page each
    pdf = (tmp_path / "bundle" / f"c1-{plan}-letters.pdf").read_bytes()
    text = embedded_pdf_lines(pdf)
    assert pdf.count(b"/Type /Page ") == 6 and sum(line.startswith("Verification code: ") for line in text) == 3
    assert "Test Campaign Inc." in text and "Springfield, IL 62701" in text
    with open(tmp_path / "bundle" / f"c1-{plan}-letters.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 3 and all(row["name"] in text for row in rows)
    assert stat.S_IMODE((tmp_path / "bundle" / f"c1-{plan}-letters.csv").stat().st_mode) == 0o600
    # The public log says a bundle of 3 was exported, and nothing of what it holds.
    [entry] = [e for e in cloud.http("GET", "/campaigns/c1/log").json()["entries"] if e["type"] == "letter-bundle"]
    assert entry["letters"] == 3 and not any(row["name"] in str(entry) for row in rows)

    returned = rows[0]["account"]
    assert mailroom.mark_mailed("c1", plan) == {"mailed": 3, "returned": 0, "debtor_key_expires": 1}
    assert figures(cloud)["letters_sent"] == 3 and key_item(plan)["expires_at"] > time.time()
    assert figures(cloud)["letters_waiting"] == 0
    assert mailroom.mark_mailed("c1", plan, [returned])["returned"] == 1  # an envelope came back
    assert "expires_at" not in key_item(plan) and figures(cloud)["letters_returned"] == 1
    with pytest.raises(mailroom.MailroomError, match="no letter of plan"):
        mailroom.export("c1", plan, tmp_path / "empty")  # nothing is waiting: nothing printed twice

    assert mailroom.resend("c1", plan, returned, ["9 New Rd", "Austin", "TX", "78701"]) == 2
    cloud.drain()  # the letters function takes the queued resend
    again = mailroom.export("c1", plan, tmp_path / "again")
    assert again["letters"] == 1 and figures(cloud)["letters_waiting"] == 1
    resent = embedded_pdf_lines((tmp_path / "again" / f"c1-{plan}-letters.pdf").read_bytes())
    assert "9 New Rd" in resent and "Austin, TX 78701" in resent and rows[0]["address_line"] not in resent
    assert mailroom.mark_mailed("c1", plan)["mailed"] == 1
    assert figures(cloud)["letters_sent"] == 4 and key_item(plan)["unsettled"] == 0 and "expires_at" in key_item(plan)
    assert figures(cloud)["letters_waiting"] == 0


def test_bad_requests_name_the_argument_and_change_nothing(bundled, tmp_path):
    _, plan = bundled
    account = items("letter")[0]["sk"]
    with pytest.raises(mailroom.MailroomError, match="--account: the letter is printed"):
        mailroom.resend("c1", plan, account, ["9 New Rd", "Austin", "TX", "78701"])
    with pytest.raises(mailroom.MailroomError, match="--address"):
        mailroom.resend("c1", plan, account, ["9 New Rd", "Austin", "Texas", "78701"])
    with pytest.raises(mailroom.MailroomError, match="--campaign: no campaign"):
        mailroom.export("nope", plan, tmp_path)
    assert {i["status"] for i in items("letter")} == {"printed"}


def test_the_letters_commands_work_against_jubilee_serves_endpoint(served_cloud, tmp_path, capsys):
    from dataclasses import replace

    from ops import cli
    from tests.support import donate, pay

    cloud, endpoint = served_cloud
    operations.create_campaign(replace(CAMPAIGN, campaign_id="b1", letter_languages=("en",)))
    operations.add_offer("b1", offer_csv(2, 4, prefix="B"), "sandbox", 1_000, offer_id="offer-b")
    assert pay(cloud, donate(cloud, 5_000, key="b-1", campaign="b1").json()).status == 200
    cloud.drain()
    [plan] = {i["plan_id"] for i in items("letter")}
    where = ["--campaign", "b1", "--plan", plan, "--endpoint-url", endpoint]
    assert cli.main(["letters", "export", *where, "--out", str(tmp_path)]) == 0
    assert "wrote 2 letter(s), 2 page(s)" in capsys.readouterr().out
    assert cli.main(["letters", "mark-mailed", *where]) == 0
    assert "recorded 2 letter(s) posted, 0 returned" in capsys.readouterr().out
    assert figures(cloud, "b1")["letters_sent"] == 2
    assert cli.main(["letters", "resend", *where, "--account", "nope", "--address", "1 A St", "B", "TX", "7"]) == 2
    assert "--address: give STREET CITY STATE ZIP" in capsys.readouterr().err
