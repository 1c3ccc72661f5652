"""Email to donors through SES (moto's): a receipt per booked gift and installment, a January statement per
donor-year, each sent once; an unsubscribe link that works; no address or body in any log."""

import datetime as dt
import json
import re

import pytest

from functions.adapters import clock, dynamo, keys
from functions.adapters import ledger as ledger_store
from functions.adapters.aws import client
from functions.adapters.payments import SandboxPayments
from functions.adapters.secrets import derived_key
from functions.domain.campaigns import Campaign
from functions.handlers import mail_out
from ops import operations
from tests.support import donate, pay

FUND = Campaign("fund", "Mail Fund", threshold_cents=10_000_000, email_receipts=True,
                email_from="receipts@jubilee.example", tax_statement="Mail Fund is a 501(c)(3); EIN 00-0000000.")
ADA = {"name": "Ada Lovelace", "email": "ada@example.org"}


@pytest.fixture
def fund(cloud):
    operations.create_campaign(FUND)
    return cloud


def give(cloud, key, donor=ADA, campaign="fund", amount=2_500, **extra):
    created = donate(cloud, amount, key=key, campaign=campaign, donor=donor, **extra)
    assert created.status == 201, created.body
    assert pay(cloud, created.json()).status == 200
    cloud.drain()
    return created.json()


def text_of(message):
    return message.get_body(("plain",)).get_content()


def link(message, path):
    """A link of the message's text, as a path on the local deployment."""
    [found] = re.findall(rf"http://jubilee\.test(/{path}/\S+)", text_of(message))
    return found


def again(cloud, body):
    """SQS delivers a message to the email stage once more (standard queues may)."""
    client("sqs").send_message(QueueUrl=cloud.queue_urls["email"], MessageBody=json.dumps(body))
    cloud.drain()


def test_a_booked_gift_sends_one_receipt_whose_link_opens_the_receipt_and_a_redelivery_sends_nothing(fund):
    donation = give(fund, "k1")
    [message] = fund.sent_mail()
    assert (message["To"], message["From"]) == ("ada@example.org", "Mail Fund <receipts@jubilee.example>")
    assert message["Subject"] == "Receipt: $25.00 to Mail Fund" and "Dear Ada Lovelace" in text_of(message)
    receipt = fund.http("GET", link(message, "receipts"))
    assert receipt.status == 200 and receipt.json()["amount_cents"] == 2_500
    assert link(message, "receipts") == donation["receipt_url"].removeprefix(fund.public_base_url)
    again(fund, {"kind": "receipt", "campaign_id": "fund", "donation_id": donation["donation_id"]})
    assert len(fund.sent_mail()) == 1
    [record] = [i for i in dynamo.query(keys.campaign_pk("fund"), keys.email_sk("")) if i["kind"] == "email-sent"]
    assert record["status"] == "sent" and "ada" not in json.dumps(record, default=str)
    # No email given, or a campaign that does not send email: nothing goes out.
    give(fund, "k2", donor={"name": "No Email"})
    give(fund, "k3", campaign="c1")
    assert len(fund.sent_mail()) == 1 and sum(fund.dlq_depths().values()) == 0


def test_each_installment_of_a_monthly_gift_is_emailed(fund):
    donation = give(fund, "k1", amount=1_000, frequency="monthly")
    sandbox = SandboxPayments(derived_key("sandbox-webhook"), fund.public_base_url)
    pledge = {"campaign_id": "fund", "amount_cents": 1_000, "currency": "USD", **donation}
    for month in (2, 3):
        headers, body = sandbox.installment_paid(pledge, month)
        assert fund.http("POST", "/webhooks/sandbox", body, headers).status == 200
    fund.drain()
    subjects = [m["Subject"] for m in fund.sent_mail()]
    assert subjects == ["Receipt: $10.00 to Mail Fund"] + ["Your monthly gift of $10.00 to Mail Fund"] * 2
    assert "first month of your monthly gift" in text_of(fund.sent_mail()[0])
    assert fund.http("GET", link(fund.sent_mail()[2], "receipts")).status == 200


def test_the_unsubscribe_link_shows_a_page_then_one_click_stops_all_email_to_that_donor(fund):
    give(fund, "k1")
    [first] = fund.sent_mail()
    path = link(first, "unsubscribe")
    assert first["List-Unsubscribe"] == f"<http://jubilee.test{path}>"
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    shown = fund.http("GET", path, headers={"Accept": "text/html"})
    assert shown.status == 200 and shown.headers["Content-Type"].startswith("text/html")
    assert '<form method="post">' in shown.body and "Mail Fund" in shown.body
    give(fund, "k2")  # looking at the page changed nothing (mail scanners open links)
    assert len(fund.sent_mail()) == 2
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    done = fund.http("POST", path, "List-Unsubscribe=One-Click", form)  # as RFC 8058's mail program posts it
    assert done.status == 200 and "no more email" in done.body
    assert fund.http("POST", path, "List-Unsubscribe=One-Click", form).status == 200  # twice is fine
    give(fund, "k3")
    give(fund, "k4", donor={"email": "bob@example.org"})  # another donor still gets theirs
    assert [m["To"] for m in fund.sent_mail()] == ["ada@example.org"] * 2 + ["bob@example.org"]
    forged = fund.http("POST", path[:-1] + ("0" if path[-1] != "0" else "1"), "", form)
    other = fund.http("GET", path.replace("/fund/", "/c1/"))
    assert forged.status == other.status == 404 and forged.body == other.body and "not one we sent" in forged.body


def test_in_january_the_sweep_asks_once_for_each_donors_statement_of_the_year_before(fund, monkeypatch):
    give(fund, "k1")
    give(fund, "k2", amount=1_000)
    give(fund, "k3", donor={"email": "bob@example.org"}, amount=700)
    give(fund, "k4", donor={"name": "No Email"})
    receipts = len(fund.sent_mail())
    year = dt.datetime.now(dt.UTC).year
    monkeypatch.setattr(clock, "now", lambda: dt.datetime(year + 1, 1, 2, 9, tzinfo=dt.UTC))
    swept = fund.run_schedule("sweep")
    assert {r["campaign_id"]: r["statements_asked"] for r in swept["results"]} == {"c1": 0, "fund": 2}
    fund.drain()
    statements = fund.sent_mail()[receipts:]
    assert sorted(m["To"] for m in statements) == ["ada@example.org", "bob@example.org"]
    [ada] = [m for m in statements if m["To"] == "ada@example.org"]
    assert ada["Subject"] == f"Your {year} giving to Mail Fund: $35.00" and "EIN 00-0000000" in text_of(ada)
    assert len(re.findall(r"/receipts/fund/", text_of(ada))) == 2
    # Hourly all January, and the message itself delivered again: still once per donor and year.
    assert fund.run_schedule("sweep")["results"][1]["statements_asked"] == 0
    # Ada's statement: the one over two gifts (k1 and k2; bob gave once, k4 left no address).
    [message] = [body for body in (json.loads(i["body"]) for i in dynamo.scan("outbox") if '"statement"' in i["body"])
                 if len(body["donation_ids"]) == 2]
    again(fund, message)
    fund.drain()
    assert len(fund.sent_mail()) == receipts + 2
    monkeypatch.setattr(clock, "now", lambda: dt.datetime(year + 1, 2, 1, tzinfo=dt.UTC))
    assert fund.run_schedule("sweep")["results"][1]["statements_asked"] == 0
    # Erasing Ada takes her statement's sending record (it names her reference) with the rest; Bob's stays.
    from functions.adapters import donors

    assert donors.erase("fund", "ada@example.org") == 2
    sent = [i["sk"] for i in dynamo.query(keys.campaign_pk("fund"), keys.email_sk("statement#"))]
    assert len(sent) == 1 and sent[0].endswith(donors.donor_ref("fund", "bob@example.org"))


def test_a_send_that_died_after_its_claim_is_sent_once_after_the_claim_lapses(fund, monkeypatch):
    ses = client("sesv2")
    real = ses.send_email
    dead = []

    def dies_once(**request):
        if not dead:
            dead.append(True)
            raise RuntimeError("the function died here")
        return real(**request)

    monkeypatch.setattr(ses, "send_email", dies_once)
    give(fund, "k1")
    assert fund.sent_mail() == [] and fund.dlq_depths()["email"] == 1  # redelivered while claimed: kept, not sent
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    monkeypatch.setattr(clock, "now", lambda: later)
    operations.redrive(fund.queue_urls["email"], fund.dlq_urls["email"])
    fund.drain()
    assert len(fund.sent_mail()) == 1 and sum(fund.dlq_depths().values()) == 0


def test_no_address_name_or_body_reaches_a_log_even_when_ses_refuses(fund, capsys, caplog, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")
    caplog.set_level("DEBUG")
    level = mail_out.logger.log_level
    mail_out.logger.setLevel("DEBUG")
    # A campaign whose sender is no address of the deployment's identity (made past the CLI's check).
    ledger_store.create_campaign(Campaign("stray", "Stray", email_receipts=True, email_from="x@elsewhere.example"))
    try:
        give(fund, "k1")
        give(fund, "k2", campaign="stray")
        client("sesv2").send_email(FromEmailAddress="receipts@jubilee.example",  # warm: botocore's own DEBUG
                                   Destination={"ToAddresses": ["probe@example.org"]},
                                   Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}})
    finally:
        mail_out.logger.setLevel(level)
    captured = capsys.readouterr()
    lines = captured.out + captured.err + "\n".join(r.getMessage() + str(r.__dict__) for r in caplog.records)
    assert "email sent" in lines and "is not an address of the deployment's SES identity" in lines
    assert fund.dlq_depths()["email"] == 1 and len(fund.sent_mail()) == 1  # the stray one waits for the operator
    for personal in ("ada@example.org", "Ada Lovelace", "Thank you for your gift", "probe@example.org"):
        assert personal not in lines, personal


def test_a_campaign_emails_only_from_a_verified_ses_identity(cloud):
    with pytest.raises(operations.OperationError, match="neither news@unverified.example nor its domain"):
        operations.create_campaign(Campaign("news", "News", email_receipts=True, email_from="news@unverified.example"))
    assert ledger_store.load_campaign("news") is None
    operations.create_campaign(Campaign("news", "News", email_receipts=True, email_from="news@jubilee.example"))
    assert ledger_store.load_campaign("news").email_from == "news@jubilee.example"


def test_a_pool_batch_asks_once_for_its_receipts_and_a_refused_address_leaves_the_others_sent_once(fund, monkeypatch):
    """One outbox item and one queue message per booked batch, however many gifts; the mail function reads the
    batch's donations at once, costs nothing per gift without an email, and when SES refuses one address the
    others still go out, and the redelivered batch sends only what was not sent."""
    from collections import Counter

    ses = client("sesv2")
    real, refusals = ses.send_email, []

    def refuses_bob_once(**request):
        if request["Destination"]["ToAddresses"] == ["bob@example.org"] and not refusals:
            refusals.append(True)
            raise ses.exceptions.TooManyRequestsException({"Error": {"Code": "TooManyRequestsException"}}, "SendEmail")
        return real(**request)

    monkeypatch.setattr(ses, "send_email", refuses_bob_once)
    donors = [ADA, {"name": "Bob", "email": "bob@example.org"}, {"name": "No Email"}, {}, {"email": "cy@example.org"}]
    for n, donor in enumerate(donors):
        created = donate(fund, 1_000 + n, key=f"batch-{n}", campaign="fund", donor=donor)
        assert pay(fund, created.json()).status == 200
    calls: Counter = Counter()
    client("sesv2").meta.events.register("before-call", lambda model, **_: calls.update([model.name]))
    fund.drain()
    [receipts] = [json.loads(i["body"]) for i in dynamo.scan("outbox") if i["stage"] == "email"]  # one pool batch
    assert receipts["kind"] == "receipts" and sorted(receipts["donation_ids"]) == sorted(
        i["donation_id"] for i in dynamo.scan("donation") if i["campaign_id"] == "fund")
    assert sorted(m["To"] for m in fund.sent_mail()) == ["ada@example.org", "bob@example.org", "cy@example.org"]
    assert refusals and sum(fund.dlq_depths().values()) == 0
    emailed = [i for i in dynamo.scan("email-sent")]
    assert sorted(i["sk"] for i in emailed) == sorted({i["sk"] for i in emailed}) and len(emailed) == 3
    assert calls["SendEmail"] == 3  # one accepted per donor who gave an email: never a second to anyone


def test_a_receipt_another_run_is_sending_waits_while_the_rest_of_its_batch_goes_out(fund, monkeypatch):
    first, second = (donate(fund, 1_000 + n, key=f"held-{n}", campaign="fund",
                            donor={"name": f"D{n}", "email": f"d{n}@example.org"}).json() for n in range(2))
    # Another delivery of the same batch holds the first's receipt right now (its claim is fresh).
    dynamo.put_new({"pk": keys.campaign_pk("fund"), "sk": keys.email_sk(f"receipt#{first['donation_id']}"),
                    "kind": "email-sent", "campaign_id": "fund", "message": "receipt", "status": "sending",
                    "claimed_at": int(clock.now().timestamp())})
    for donation in (first, second):
        assert pay(fund, donation).status == 200
    fund.drain()
    assert [m["To"] for m in fund.sent_mail()] == ["d1@example.org"] and fund.dlq_depths()["email"] == 1
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)  # that run died: its claim lapses
    monkeypatch.setattr(clock, "now", lambda: later)
    operations.redrive(fund.queue_urls["email"], fund.dlq_urls["email"])
    fund.drain()
    assert sorted(m["To"] for m in fund.sent_mail()) == ["d0@example.org", "d1@example.org"]
    assert sum(fund.dlq_depths().values()) == 0
