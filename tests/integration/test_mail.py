"""Letters mailed through Lob, by its official SDK, against a local fake of Lob's API on a real port.

Each letter is one Lob letter with a stable Idempotency-Key; its status moves printed -> mailed ->
delivered | returned on Lob's signed tracking webhooks; `letters_sent` counts what was mailed; the
portfolio's debtor key is kept while any letter is unmailed or returned.
"""

from __future__ import annotations

import time

import pytest

from functions.adapters import dynamo, mail
from functions.adapters.forgiveness import debtor_key_sk
from functions.adapters.keys import campaign_pk
from functions.domain.campaigns import Campaign
from local.emulator import LocalCloud
from local.sample_data import offer_csv
from ops import operations
from tests.fake_lob import UNDELIVERABLE, FakeLob
from tests.support import figures, give, items

SECRET = "lob-webhook-secret"
CAMPAIGN = Campaign("c1", "Test Campaign", threshold_cents=1_000, contact="team@test.example", mailer="lob",
                    legal_name="Test Campaign Inc.", postal_address=("1 Main St", "Springfield", "IL", "62701"))


@pytest.fixture
def lob(monkeypatch):
    with FakeLob("test_fake_key") as fake:
        monkeypatch.setenv("LOB_API_BASE", fake.start())
        monkeypatch.setenv("LOB_API_KEY", "test_fake_key")
        monkeypatch.setenv("LOB_WEBHOOK_SECRET", SECRET)
        with LocalCloud(public_base_url="http://jubilee.test", app_secret="test-secret") as cloud:
            operations.create_campaign(CAMPAIGN)
            yield cloud, fake


def buy(cloud, accounts=3, undeliverable=0):
    body = offer_csv(accounts, 1, prefix="OFFER")
    lines = body.decode().splitlines(keepends=True)
    for n in range(1, undeliverable + 1):  # the address field is the third column
        fields = lines[n].split(",")
        fields[2] = UNDELIVERABLE
        lines[n] = ",".join(fields)
    operations.add_offer("c1", "".join(lines).encode(), "sandbox", 1_500, offer_id="offer-a")
    give(cloud, [5_000])
    cloud.drain()
    [plan] = {i["plan_id"] for i in items("letter")}
    return plan


def key_item(plan):
    return dynamo.get(campaign_pk("c1"), debtor_key_sk(plan))


def track(cloud, fake, letter_id, event, secret=SECRET, timestamp=None):
    body, headers = fake.track(letter_id, event, secret, timestamp)
    return cloud.http("POST", "/webhooks/mail/lob", body, headers)


def test_each_account_gets_one_lob_letter_tracked_to_delivery(lob):
    cloud, fake = lob
    plan = buy(cloud)
    letters = items("letter")
    assert len(fake.letters) == 3 == len(letters) and {i["status"] for i in letters} == {"printed"}
    sent = next(iter(fake.letters.values()))
    assert sent["from"]["name"] == "Test Campaign Inc." and sent["address_placement"] == "top_first_page"
    assert sent["use_type"] == "operational" and "Verification code: " in sent["file"]
    # The account as the debtor knows it: from the sealed data (the number's last 4, the charge-off date).
    assert "Account number ending in: 00" in sent["file"] and "Charge-off or service date: 20" in sent["file"]
    assert sent["metadata"]["campaign_id"] == "c1" and "account" in sent["metadata"]
    # Handed over is not mailed: nothing counted yet, and the debtors' key is kept for them.
    assert (figures(cloud)["letters_sent"], figures(cloud)["letters_waiting"]) == (0, 3)
    assert "expires_at" not in key_item(plan) and key_item(plan)["unsettled"] == 3
    for letter_id in fake.letters:
        assert track(cloud, fake, letter_id, "letter.mailed").json() == {"status": "recorded"}
    assert (figures(cloud)["letters_sent"], figures(cloud)["letters_waiting"]) == (3, 0)
    assert key_item(plan)["unsettled"] == 0 and key_item(plan)["expires_at"] > time.time() + 29 * 86_400
    first = next(iter(fake.letters))
    for event in ("letter.in_transit", "letter.delivered", "letter.delivered", "letter.mailed"):
        track(cloud, fake, first, event)
    statuses = sorted(i["status"] for i in items("letter"))
    assert statuses == ["delivered", "mailed", "mailed"] and figures(cloud)["letters_sent"] == 3


def test_a_returned_letter_keeps_the_debtor_key_and_is_counted(lob):
    cloud, fake = lob
    plan = buy(cloud, accounts=2)
    first, second = fake.letters
    for letter_id in (first, second):
        track(cloud, fake, letter_id, "letter.mailed")
    assert "expires_at" in key_item(plan)
    track(cloud, fake, first, "letter.returned_to_sender")
    f = figures(cloud)
    assert (f["letters_sent"], f["letters_returned"]) == (2, 1)
    assert "expires_at" not in key_item(plan) and key_item(plan)["unsettled"] == 1
    # A scan after the return moves nothing back.
    assert track(cloud, fake, first, "letter.in_transit").json() == {"status": "unchanged"}
    assert mail.settle_key("c1", plan, 30) is False and "expires_at" not in key_item(plan)


def test_an_address_lob_cannot_deliver_to_is_held_not_mailed(lob):
    cloud, fake = lob
    plan = buy(cloud, accounts=3, undeliverable=1)
    statuses = sorted(i["status"] for i in items("letter"))
    assert statuses == ["printed", "printed", "undeliverable"] and len(fake.letters) == 2
    for letter_id in fake.letters:
        track(cloud, fake, letter_id, "letter.mailed")
    assert figures(cloud)["letters_sent"] == 2
    assert key_item(plan)["unsettled"] == 1 and "expires_at" not in key_item(plan)


@pytest.mark.parametrize("forgery", ["wrong secret", "stale timestamp", "no signature", "non-ASCII digits",
                                     "non-ASCII signature"])
def test_a_tracking_webhook_with_a_bad_signature_is_refused(lob, forgery):
    cloud, fake = lob
    buy(cloud, accounts=1)
    [letter_id] = fake.letters
    if forgery == "no signature":
        body, _ = fake.track(letter_id, "letter.mailed", SECRET)
        answer = cloud.http("POST", "/webhooks/mail/lob", body)
    elif forgery.startswith("non-ASCII"):  # str.isdigit takes "²"; hmac.compare_digest refuses non-ASCII str
        body, headers = fake.track(letter_id, "letter.mailed", SECRET)
        header = "Lob-Signature-Timestamp" if forgery.endswith("digits") else "Lob-Signature"
        answer = cloud.http("POST", "/webhooks/mail/lob", body, headers | {header: "²" if "digits" in forgery else "é"})
    else:
        answer = track(cloud, fake, letter_id, "letter.mailed", secret="not-it" if forgery == "wrong secret" else
                       SECRET, timestamp=str(int((time.time() - 3_600) * 1000)) if forgery == "stale timestamp"
                       else None)
    assert answer.status == 400 and answer.json()["error"] == "bad_webhook"
    assert figures(cloud)["letters_sent"] == 0 and {i["status"] for i in items("letter")} == {"printed"}


def test_a_chunk_retried_after_lob_took_a_letter_mails_it_once(lob, monkeypatch):
    cloud, fake = lob
    original, crashes = mail.LobMailer.send, list[str]()

    def crash_once(self, *args, **kwargs):
        letter_id = original(self, *args, **kwargs)
        if not crashes:  # Lob accepted the letter; the function dies before recording it
            crashes.append(letter_id)
            raise TimeoutError("the function timed out")
        return letter_id

    monkeypatch.setattr(mail.LobMailer, "send", crash_once)
    buy(cloud, accounts=3)
    creates = [p for _, p in fake.requests if p == "/v1/letters"]
    assert len(crashes) == 1 and cloud.invocations["letters"] == 2
    assert len(creates) == 4 and len(fake.letters) == 3  # asked twice for one letter, which Lob made once
    assert {i["service_id"] for i in items("letter")} == set(fake.letters)


def test_events_of_another_deployment_or_kind_are_acknowledged_and_ignored(lob):
    cloud, fake = lob
    buy(cloud, accounts=1)
    [letter_id] = fake.letters
    fake.letters[letter_id]["metadata"] = {"campaign_id": "someone-else", "plan_id": "p", "account": "a"}
    assert track(cloud, fake, letter_id, "letter.mailed").json()["status"] == "ignored"
    assert track(cloud, fake, letter_id, "postcard.mailed").json()["status"] == "ignored"
    assert figures(cloud)["letters_sent"] == 0


def test_a_returned_letter_resent_to_a_corrected_address_goes_to_lob_once(lob):
    from ops import mailroom

    cloud, fake = lob
    plan = buy(cloud, accounts=1)
    [first] = fake.letters
    track(cloud, fake, first, "letter.mailed")
    track(cloud, fake, first, "letter.returned_to_sender")
    [item] = items("letter")
    assert mailroom.resend("c1", plan, item["sk"], ["9 New Rd", "Austin", "TX", "78701"]) == 2
    cloud.drain()
    [again] = [letter_id for letter_id in fake.letters if letter_id != first]
    assert fake.letters[again]["to"]["address_line1"] == "9 New Rd" and len(fake.letters) == 2
    [item] = items("letter")
    assert (item["status"], item["service_id"], item["attempt"]) == ("printed", again, 2)
    assert track(cloud, fake, first, "letter.delivered").json()["status"] == "unchanged"  # the old mailing's
    track(cloud, fake, again, "letter.mailed")
    f = figures(cloud)
    assert (f["letters_sent"], f["letters_returned"]) == (2, 1) and "expires_at" in key_item(plan)


def test_a_chunk_too_big_for_one_invocation_is_mailed_across_deliveries(lob, monkeypatch):
    cloud, fake = lob
    monkeypatch.setattr(mail, "BUDGET_SECONDS", -1.0)  # every delivery has time for one letter only
    plan = buy(cloud, accounts=8)  # more letters than the queue's receives: the chunk goes on, never dead
    assert cloud.invocations["letters"] == 8 and len(fake.letters) == 8 == len(items("letter"))
    assert key_item(plan)["unsettled"] == 8 and sum(cloud.dlq_depths().values()) == 0
    assert len(items("verification")) == 8  # every code checks out, whichever letter arrives first


def test_two_tracking_events_of_one_letter_at_once_are_both_recorded(lob, monkeypatch):
    """`returned` reads the letter as printed; `mailed` lands before `returned` writes: the loser reads
    again and moves on, so the return is neither dropped nor the key left to expire under it."""
    cloud, fake = lob
    plan = buy(cloud, accounts=1)
    [item] = items("letter")
    read, raced = mail.letter, []

    def read_then_race(*args):
        found = read(*args)
        if not raced:
            raced.append("racing")
            monkeypatch.setattr(mail, "letter", read)  # the other event reads as it would
            raced.append(mail.advance("c1", plan, item["sk"], item["service_id"], "mailed"))
            monkeypatch.setattr(mail, "letter", read_then_race)
        return found

    monkeypatch.setattr(mail, "letter", read_then_race)
    assert mail.advance("c1", plan, item["sk"], item["service_id"], "returned") and raced == ["racing", True]
    assert [i["status"] for i in items("letter")] == ["returned"]
    assert (figures(cloud)["letters_sent"], figures(cloud)["letters_returned"]) == (1, 1)
    assert key_item(plan)["unsettled"] == 1


def test_no_debtors_name_or_address_reaches_a_log_even_at_debug(lob, caplog):
    """Lob's SDK logs its responses at DEBUG (a letter's carries the address it went to) unless its Configuration
    holds it at WARNING, as ours does: a letters run at DEBUG logs no debtor's name or address."""
    cloud, fake = lob
    caplog.set_level("DEBUG")
    buy(cloud, accounts=2)
    sent = [letter["to"] for letter in fake.letters.values()]
    assert len(sent) == 2
    lines = "\n".join(r.getMessage() + str(r.__dict__) for r in caplog.records)
    for to in sent:
        assert to["name"] not in lines and to["address_line1"] not in lines
