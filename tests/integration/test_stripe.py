"""Stripe end to end on the emulator: the `stripe` package talks to a fake Stripe, never the network."""

import json
import time

import pytest

from functions.adapters.payments import SandboxPayments
from functions.adapters.secrets import derived_key
from functions.adapters.stripe_payments import StripePayments
from functions.domain.campaigns import Campaign
from local.emulator import LocalCloud
from ops import operations
from tests.fake_stripe import FakeStripe, FakeStripeHTTPClient, sign
from tests.support import assert_books_balance, figures, items

SECRET = "whsec_test_current"


@pytest.fixture
def stripe_cloud(monkeypatch):
    fake = FakeStripe()
    monkeypatch.setattr(StripePayments, "http_client", FakeStripeHTTPClient(fake))
    with LocalCloud(public_base_url="http://jubilee.test", app_secret="s", stripe_webhook_secret=SECRET) as cloud:
        operations.create_campaign(Campaign("s1", "Stripe Campaign", threshold_cents=10**9, payments="stripe"))
        yield cloud, fake


def pledge(cloud, amount=10_000, key="k1", **extra):
    response = cloud.http("POST", "/campaigns/s1/donations",
                          {"amount_cents": amount, "currency": "USD", **extra}, {"Idempotency-Key": key})
    assert response.status == 201, response.body
    return response.json()


def session_of(fake, donation):
    return next(o for o in fake.objects.values() if o["object"] == "checkout.session"
                and o["client_reference_id"] == donation["donation_id"])


def deliver(cloud, fake, kind, obj, secret=SECRET, **signing):
    body = fake.event(kind, obj)
    return cloud.http("POST", "/webhooks/stripe", body, {"Stripe-Signature": sign(body, secret, **signing)})


def test_a_pledge_opens_a_checkout_session_at_stripe(stripe_cloud):
    cloud, fake = stripe_cloud
    donation = pledge(cloud, 2_500, donor={"email": "ada@example.org"})
    session = session_of(fake, donation)
    assert donation["checkout_url"] == session["url"] and session["mode"] == "payment"
    [(method, path, params, headers)] = fake.requests
    assert (method, path) == ("POST", "/v1/checkout/sessions")
    assert params["line_items"][0]["price_data"] == {"currency": "usd", "unit_amount": "2500",
                                                     "product_data": {"name": "Gift to Stripe Campaign"}}
    assert params["payment_intent_data"]["metadata"] == {"campaign_id": "s1", "donation_id": donation["donation_id"]}
    assert headers["Idempotency-Key"].startswith(f"jubilee-checkout-{donation['donation_id']}-")  # and its body's


def test_stripe_refusing_the_checkout_is_a_503_and_the_same_key_opens_it_once_stripe_is_back(stripe_cloud):
    cloud, fake = stripe_cloud
    fake.refuse_next = True
    response = cloud.http("POST", "/campaigns/s1/donations", {"amount_cents": 2_500, "currency": "USD"},
                          {"Idempotency-Key": "k"})
    assert response.status == 503
    [waiting] = items("donation")  # pending, with no checkout anybody could pay
    assert waiting["status"] == "pending"
    assert not [o for o in fake.objects.values() if o["object"] == "checkout.session"]
    again = pledge(cloud, 2_500, key="k")
    assert again["status"] == "pending" and again["donation_id"] == waiting["donation_id"]
    assert again["checkout_url"] == session_of(fake, again)["url"] and len(items("donation")) == 1


def test_a_retried_pledge_gets_its_first_checkout_back_paid_or_not_and_after_22_hours_a_409_never_a_new_one(
        stripe_cloud, monkeypatch):
    """Retries send Stripe the same parameters (the session's expiry counts from the pledge), so Stripe replays its
    first session instead of refusing the key or opening another; the key with another body opens none; past
    22 hours (Stripe keeps its keys 24) the key no longer replays and nothing new can be paid."""
    import datetime as dt

    from functions.adapters import clock

    cloud, fake = stripe_cloud
    first = pledge(cloud, 2_500, key="k")
    session = session_of(fake, first)
    assert session["expires_at"] - time.time() == pytest.approx(23 * 3600, abs=60)
    pledged = dt.datetime.now(dt.UTC)
    monkeypatch.setattr(clock, "now", lambda: pledged + dt.timedelta(hours=1))  # a retry an hour later
    assert pledge(cloud, 2_500, key="k") == first
    other = cloud.http("POST", "/campaigns/s1/donations", {"amount_cents": 9_900, "currency": "USD"},
                       {"Idempotency-Key": "k"})
    assert other.status == 422 and other.json()["problems"][0]["field"] == "header.Idempotency-Key"
    fake.pay(session["id"])
    assert deliver(cloud, fake, "checkout.session.completed", session_of(fake, first)).json()["status"] == "confirmed"
    assert pledge(cloud, 2_500, key="k") == first  # paid: the same answer, whose session takes no second payment
    monkeypatch.setattr(clock, "now", lambda: pledged + dt.timedelta(hours=22, minutes=1))
    fake.forget_idempotency_keys()  # (Stripe would keep them two hours more: the API no longer asks it)
    late = cloud.http("POST", "/campaigns/s1/donations", {"amount_cents": 2_500, "currency": "USD"},
                      {"Idempotency-Key": "k"})
    assert late.status == 409 and late.json()["problems"][0]["field"] == "header.Idempotency-Key"
    assert len([o for o in fake.objects.values() if o["object"] == "checkout.session"]) == 1
    cloud.drain()
    assert figures(cloud, "s1")["raised_cents"] == 2_500 and len(items("donation")) == 1

def test_a_completion_three_times_and_out_of_order_with_its_refund_books_one_gift_and_one_refund(stripe_cloud):
    cloud, fake = stripe_cloud
    donation = pledge(cloud)
    intent = fake.pay(session_of(fake, donation)["id"], fee=320)
    charge = fake.refund(intent["latest_charge"], 10_000)
    completed = session_of(fake, donation)
    statuses = [deliver(cloud, fake, "checkout.session.completed", completed).json()["status"],
                deliver(cloud, fake, "charge.refunded", charge).json()["status"],
                deliver(cloud, fake, "checkout.session.completed", completed).json()["status"],
                deliver(cloud, fake, "charge.refunded", charge).json()["status"],
                deliver(cloud, fake, "checkout.session.completed", completed).json()["status"]]
    assert statuses == ["confirmed", "refunded", "duplicate", "duplicate", "duplicate"]
    cloud.drain()
    f = figures(cloud, "s1")
    assert (f["donations_confirmed"], f["raised_cents"], f["fees_cents"], f["refunded_cents"]) == (1, 10_000, 320,
                                                                                                10_000)
    assert len(items("gift")) == 1 and len(items("refund")) == 1
    assert_books_balance(f)


def test_a_refund_arriving_before_the_completion_still_books_the_gift_first(stripe_cloud):
    cloud, fake = stripe_cloud
    donation = pledge(cloud)
    intent = fake.pay(session_of(fake, donation)["id"])
    charge = fake.refund(intent["latest_charge"], 4_000)  # partial
    assert deliver(cloud, fake, "charge.refunded", charge).json()["status"] == "refunded"
    again = deliver(cloud, fake, "checkout.session.completed", session_of(fake, donation))
    assert again.json()["status"] == "duplicate"
    cloud.drain()
    f = figures(cloud, "s1")
    assert (f["raised_cents"], f["refunded_cents"]) == (10_000, 4_000)
    assert_books_balance(f)


@pytest.mark.parametrize("case", ["wrong secret", "missing", "stale", "not v1"])
def test_a_bad_signature_is_a_400_and_changes_nothing(stripe_cloud, case):
    cloud, fake = stripe_cloud
    donation = pledge(cloud)
    fake.pay(session_of(fake, donation)["id"])
    body = fake.event("checkout.session.completed", session_of(fake, donation))
    header = {"wrong secret": sign(body, "whsec_other"), "stale": sign(body, SECRET, timestamp=1_000_000_000),
              "not v1": sign(body, SECRET, scheme="v0"), "missing": None}[case]
    response = cloud.http("POST", "/webhooks/stripe", body, {"Stripe-Signature": header} if header else {})
    assert response.status == 400
    assert response.json()["problems"][0]["field"] == "header.Stripe-Signature"
    assert items("donation")[0]["status"] == "pending" and items("outbox") == []


def test_during_a_secret_rotation_either_signature_is_accepted(stripe_cloud):
    cloud, fake = stripe_cloud
    donation = pledge(cloud)
    fake.pay(session_of(fake, donation)["id"])
    # Stripe signs with the old and the new secret while both are live; we know only the new one.
    response = deliver(cloud, fake, "checkout.session.completed", session_of(fake, donation), secret="whsec_old",
                       more_secrets=(SECRET,))
    assert response.status == 200 and response.json()["status"] == "confirmed"


def test_unpaid_completions_wait_for_the_async_outcome(stripe_cloud):
    cloud, fake = stripe_cloud
    paid_later, never_paid = pledge(cloud, key="a"), pledge(cloud, key="b")
    for donation in (paid_later, never_paid):
        pending = session_of(fake, donation) | {"payment_status": "unpaid"}
        assert deliver(cloud, fake, "checkout.session.completed", pending).json()["status"] == "ignored"
    fake.pay(session_of(fake, paid_later)["id"])
    assert deliver(cloud, fake, "checkout.session.async_payment_succeeded",
                   session_of(fake, paid_later)).json()["status"] == "confirmed"
    assert deliver(cloud, fake, "checkout.session.async_payment_failed",
                   session_of(fake, never_paid)).json()["status"] == "failed"
    cloud.drain()
    statuses = {d["donation_id"]: d["status"] for d in items("donation")}
    assert statuses == {paid_later["donation_id"]: "confirmed", never_paid["donation_id"]: "failed"}
    assert figures(cloud, "s1")["raised_cents"] == 10_000


def test_a_zero_amount_invoice_of_a_monthly_pledge_books_nothing_and_is_acknowledged(stripe_cloud):
    cloud, fake = stripe_cloud
    metadata = session_of(fake, pledge(cloud, 2_000, frequency="monthly"))["subscription_metadata"]
    invoice = fake.invoice_paid(metadata, 2_000)
    invoice["amount_paid"] = 0  # a discounted month: Stripe records no invoice payment
    for stored in [o for o in fake.objects.values() if o["object"] == "invoice_payment"]:
        if stored["invoice"] == invoice["id"]:
            del fake.objects[stored["id"]]
    assert deliver(cloud, fake, "invoice.paid", invoice).json() == {"status": "ignored"}
    cloud.drain()
    assert figures(cloud, "s1")["donations_confirmed"] == 0


def test_each_paid_invoice_of_a_monthly_pledge_is_its_own_gift_and_can_be_refunded(stripe_cloud):
    cloud, fake = stripe_cloud
    donation = pledge(cloud, 2_000, frequency="monthly")
    session = session_of(fake, donation)
    assert session["mode"] == "subscription"
    metadata = session["subscription_metadata"]
    first = fake.invoice_paid(metadata, 2_000, first=True)
    second = fake.invoice_paid(metadata, 2_000)
    for invoice in (first, second, second):
        assert deliver(cloud, fake, "invoice.paid", invoice).status == 200
    cloud.drain()
    f = figures(cloud, "s1")
    assert (f["donations_confirmed"], f["raised_cents"]) == (2, 4_000)
    installment = next(d for d in items("donation") if d["donation_id"] != donation["donation_id"])
    assert installment["pledge_id"] == donation["donation_id"] and installment["status"] == "confirmed"
    charge = fake.refund(installment["payment_id"], 2_000)
    assert deliver(cloud, fake, "charge.refunded", charge).json() == {"status": "refunded",
                                                                     "donation_id": installment["donation_id"]}
    cloud.drain()
    assert figures(cloud, "s1")["refunded_cents"] == 2_000


def test_disputes_freeze_then_book_the_loss_with_stripes_fee(stripe_cloud):
    cloud, fake = stripe_cloud
    gift, other = pledge(cloud, key="a"), pledge(cloud, 50_000, key="b")
    for donation in (gift, other):
        fake.pay(session_of(fake, donation)["id"], fee=320)
        deliver(cloud, fake, "checkout.session.completed", session_of(fake, donation))
    charge_id = fake.objects[session_of(fake, gift)["payment_intent"]]["latest_charge"]
    assert deliver(cloud, fake, "charge.dispute.created",
                   fake.dispute(charge_id, "needs_response", dispute_id="dp_1")).json()["status"] == "dispute_open"
    cloud.drain()
    assert figures(cloud, "s1")["frozen_cents"] == 10_000
    assert deliver(cloud, fake, "charge.dispute.closed",
                   fake.dispute(charge_id, "lost", fee=1_500, dispute_id="dp_1")).json()["status"] == "dispute_lost"
    cloud.drain()
    f = figures(cloud, "s1")
    assert (f["frozen_cents"], f["disputes_lost_cents"], f["fees_cents"]) == (0, 10_000, 320 * 2 + 1_500)
    assert_books_balance(f)


def test_other_event_types_are_acknowledged_and_ignored(stripe_cloud):
    cloud, fake = stripe_cloud
    response = deliver(cloud, fake, "customer.created", {"id": "cus_1", "object": "customer"})
    assert response.status == 200 and response.json()["status"] == "ignored" and items("outbox") == []


def test_the_local_secret_is_never_logged(stripe_cloud, capsys):
    cloud, fake = stripe_cloud
    donation = pledge(cloud)
    fake.pay(session_of(fake, donation)["id"])
    deliver(cloud, fake, "checkout.session.completed", session_of(fake, donation), secret="whsec_wrong")
    captured = capsys.readouterr()
    assert SECRET not in captured.out + captured.err and "sk_test_local" not in captured.out + captured.err
    assert json.dumps(items()).find(SECRET) == -1


def test_stripes_refusal_quoting_the_donors_email_reaches_no_log_or_answer(stripe_cloud, capsys, caplog):
    cloud, fake = stripe_cloud
    caplog.set_level("DEBUG")
    fake.refuse_next, fake.refusal = True, "Invalid email address: ada.secret@example.org (customer Ada Secret)"
    response = cloud.http("POST", "/campaigns/s1/donations", {"amount_cents": 2_500, "currency": "USD",
                                                             "donor": {"name": "Ada Secret",
                                                                       "email": "ada.secret@example.org"}},
                          {"Idempotency-Key": "k"})
    assert response.status == 503 and "ada" not in response.body.lower()
    captured = capsys.readouterr()
    lines = captured.out + captured.err + "\n".join(r.getMessage() + str(r.__dict__) for r in caplog.records)
    assert "checkout not opened" in lines and "ada.secret" not in lines and "Ada Secret" not in lines


@pytest.fixture
def stripe_env(monkeypatch):
    fake = FakeStripe()
    monkeypatch.setattr(StripePayments, "http_client", FakeStripeHTTPClient(fake))
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", SECRET)
    return fake


def test_reconcile_names_a_missing_refund_and_an_unbooked_charge_and_nothing_else(stripe_env, served_cloud, capsys):
    from ops import cli

    fake, (cloud, endpoint) = stripe_env, served_cloud
    operations.create_campaign(Campaign("s1", "Stripe Campaign", threshold_cents=10**9, payments="stripe"))
    operations.create_campaign(Campaign("s2", "Another", payments="stripe"))
    refunded, unbooked, fine = (pledge(cloud, 1_000 * (n + 1), key=f"k{n}") for n in range(3))
    elsewhere = cloud.http("POST", "/campaigns/s2/donations", {"amount_cents": 777, "currency": "USD"},
                           {"Idempotency-Key": "other"}).json()
    for donation in (refunded, unbooked, fine, elsewhere):
        fake.pay(session_of(fake, donation)["id"])
    for donation in (refunded, fine):  # the completion of `unbooked` never reached us
        deliver(cloud, fake, "checkout.session.completed", session_of(fake, donation))
    charge = fake.refund(fake.objects[session_of(fake, refunded)["payment_intent"]]["latest_charge"], 400)
    cloud.drain()  # ... and neither did the refund's webhook
    assert cli.main(["reconcile", "--campaign", "s1", "--endpoint-url", endpoint]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    unbooked_charge = fake.objects[session_of(fake, unbooked)["payment_intent"]]["latest_charge"]
    assert sorted(lines[:-1]) == sorted([
        f"missing in ledger: refunds of {charge['id']} (processor 400, ledger 0)",
        f"missing in ledger: charge of {unbooked_charge} (processor 2000, ledger 0)",
    ])
    assert lines[-1] == "2 difference(s) between Stripe and the ledger of 's1'"
    # Once the lost webhooks are delivered, the two sides agree.
    deliver(cloud, fake, "checkout.session.completed", session_of(fake, unbooked))
    deliver(cloud, fake, "charge.refunded", charge)
    cloud.drain()
    assert cli.main(["reconcile", "--campaign", "s1", "--endpoint-url", endpoint]) == 0
    assert "0 difference(s)" in capsys.readouterr().out


def charge_of(fake, donation):
    return fake.objects[session_of(fake, donation)["payment_intent"]]["latest_charge"]


def paid(cloud, fake, donation, **paying):
    fake.pay(session_of(fake, donation)["id"], **paying)
    delivered = deliver(cloud, fake, "checkout.session.completed", session_of(fake, donation))
    assert delivered.json()["status"] == "confirmed"


def test_neither_the_sandbox_checkout_nor_a_sandbox_event_can_confirm_a_stripe_pledge(stripe_cloud):
    cloud, fake = stripe_cloud
    donation = pledge(cloud)
    assert cloud.http("POST", f"/sandbox/checkout/s1/{donation['donation_id']}").status == 403
    # An authentic sandbox event (signed with this deployment's own sandbox key) naming the Stripe pledge.
    sandbox = SandboxPayments(derived_key("sandbox-webhook"), cloud.public_base_url)
    headers, body = sandbox.payment_completed({"campaign_id": "s1", "donation_id": donation["donation_id"],
                                               "amount_cents": 10_000, "currency": "USD"})
    response = cloud.http("POST", "/webhooks/sandbox", body, headers)
    assert response.status == 403 and response.json()["status"] == "wrong_provider"
    cloud.drain()
    assert items("donation")[0]["status"] == "pending" and items("gift") == []
    assert figures(cloud, "s1")["raised_cents"] == 0
    paid(cloud, fake, donation)  # its own provider's event still confirms it


def test_an_inquiry_moves_no_money_and_a_chargeback_freezes_it_when_stripe_withdraws_it(stripe_cloud):
    cloud, fake = stripe_cloud
    gift, other = pledge(cloud, key="a"), pledge(cloud, 50_000, key="b")
    for donation in (gift, other):
        paid(cloud, fake, donation, fee=320)
    charge_id = charge_of(fake, gift)
    for kind, status in (("charge.dispute.created", "warning_needs_response"),
                         ("charge.dispute.updated", "warning_under_review"),
                         ("charge.dispute.closed", "warning_closed")):
        inquiry = fake.dispute(charge_id, status, dispute_id="dp_inquiry")
        assert deliver(cloud, fake, kind, inquiry).json()["status"] == "ignored"
    cloud.drain()
    f = figures(cloud, "s1")
    assert (f["frozen_cents"], f["disputes_lost_cents"], f["fees_cents"]) == (0, 0, 320 * 2)
    # A later inquiry escalates: its funds are withdrawn, and frozen in the books then.
    escalated = fake.dispute(charge_id, "needs_response", dispute_id="dp_escalated")
    assert deliver(cloud, fake, "charge.dispute.funds_withdrawn", escalated).json()["status"] == "dispute_open"
    assert deliver(cloud, fake, "charge.dispute.created", escalated).json()["status"] == "duplicate"
    cloud.drain()
    assert figures(cloud, "s1")["frozen_cents"] == 10_000
    assert_books_balance(figures(cloud, "s1"))


def test_a_failed_refund_comes_back_into_the_books_and_a_later_refund_of_the_same_amount_still_counts(stripe_cloud):
    cloud, fake = stripe_cloud
    donation = pledge(cloud)
    paid(cloud, fake, donation, fee=320)
    charge = fake.refund(charge_of(fake, donation), 4_000)
    assert deliver(cloud, fake, "charge.refunded", charge).json()["status"] == "refunded"
    cloud.drain()
    [refund] = fake.refunds_of(charge["id"])
    failed = fake.fail_refund(refund["id"])
    statuses = [deliver(cloud, fake, "charge.refund.updated", failed).json()["status"],
                deliver(cloud, fake, "refund.failed", failed).json()["status"],
                deliver(cloud, fake, "charge.refunded", charge).json()["status"]]  # an older copy, delivered late
    assert statuses == ["refund_failed", "duplicate", "duplicate"]
    cloud.drain()
    f = figures(cloud, "s1")
    assert (f["raised_cents"], f["refunded_cents"], f["fees_cents"]) == (10_000, 0, 320)
    assert_books_balance(f)
    [reversal] = items("refund_failed")
    assert reversal["sk"] == f"refund_failed#stripe#{charge['id']}@4000" and reversal["legs"]["refunded"] == -4_000
    assert len(items("refund")) == 1  # the refund's own transfer is left as it was
    charge = fake.refund(charge["id"], 4_000)
    assert deliver(cloud, fake, "charge.refunded", charge).json()["status"] == "refunded"
    cloud.drain()
    f = figures(cloud, "s1")
    assert f["refunded_cents"] == 4_000 and items("donation")[0]["refunded_cents"] == 4_000
    assert_books_balance(f)
    assert operations.reconcile("s1") == []


def test_events_about_other_payments_on_the_account_are_acknowledged_and_ignored(stripe_cloud):
    cloud, fake = stripe_cloud
    sale = fake.payment_intent(4_900, metadata={"order_id": "42"})  # a shop selling on the same Stripe account
    shop_session = {"id": "cs_shop", "object": "checkout.session", "mode": "payment", "payment_status": "paid",
                    "payment_intent": sale["id"], "metadata": {"order_id": "42"}, "amount_total": 4_900,
                    "currency": "usd"}
    elsewhere = fake.payment_intent(2_000, metadata={"campaign_id": "s1", "donation_id": "don_of_another_stack"})
    events = [
        ("checkout.session.completed", shop_session),
        ("checkout.session.async_payment_failed", shop_session),
        ("invoice.paid", fake.invoice_paid({"plan": "pro"}, 900)),
        ("charge.refunded", fake.refund(sale["latest_charge"], 900)),
        ("charge.refunded", {"id": "ch_legacy", "object": "charge", "payment_intent": None, "amount_refunded": 100}),
        ("charge.dispute.created", fake.dispute(sale["latest_charge"], "needs_response")),
        ("checkout.session.completed", shop_session | {"payment_intent": elsewhere["id"]}),
    ]
    for kind, obj in events:
        response = deliver(cloud, fake, kind, obj)
        assert (response.status, response.json()) == (200, {"status": "ignored"}), kind
    assert items("outbox") == [] and items("donation") == []


def installment_charge(fake, invoice):
    [payment] = [o for o in fake.objects.values() if o["object"] == "invoice_payment" and o["invoice"] == invoice["id"]]
    return fake.objects[payment["payment"]["payment_intent"]]["latest_charge"]


def test_a_refund_of_an_installment_whose_invoice_paid_never_came_books_the_installment_too(stripe_cloud):
    cloud, fake = stripe_cloud
    donation = pledge(cloud, 2_000, frequency="monthly")
    metadata = session_of(fake, donation)["subscription_metadata"]
    deliver(cloud, fake, "invoice.paid", fake.invoice_paid(metadata, 2_000, first=True))
    second = fake.invoice_paid(metadata, 2_000)  # its invoice.paid never reaches us
    charge = fake.refund(installment_charge(fake, second), 2_000)
    assert deliver(cloud, fake, "charge.refunded", charge).json() == {
        "status": "refunded", "donation_id": f"{donation['donation_id']}-{second['id']}"}
    cloud.drain()
    f = figures(cloud, "s1")
    assert (f["donations_confirmed"], f["raised_cents"], f["refunded_cents"]) == (2, 4_000, 2_000)


def test_reconcile_reads_bank_debits_failed_refunds_and_installments_never_placed(stripe_cloud):
    cloud, fake = stripe_cloud
    card, bank, bounced = pledge(cloud, 1_000, key="a"), pledge(cloud, 2_000, key="b"), pledge(cloud, 3_000, key="c")
    paid(cloud, fake, card)
    for donation in (bank, bounced):
        paid(cloud, fake, donation, bank_debit=True)
    monthly = pledge(cloud, 500, key="m", frequency="monthly")
    metadata = session_of(fake, monthly)["subscription_metadata"]
    deliver(cloud, fake, "invoice.paid", fake.invoice_paid(metadata, 500, first=True))
    unplaced = fake.invoice_paid(metadata, 500)  # whose invoice.paid never arrived
    card_charge = fake.refund(charge_of(fake, card), 300)
    deliver(cloud, fake, "charge.refunded", card_charge)
    failed = fake.fail_refund(fake.refunds_of(card_charge["id"])[0]["id"])  # its webhook never arrived either
    bank_charge = fake.refund(charge_of(fake, bank), 700)  # a `payment_refund`, not delivered
    fake.fail_debit(charge_of(fake, bounced))  # a `payment_failure_refund`: the debit bounced after it was credited
    cloud.drain()
    assert sorted(map(str, operations.reconcile("s1"))) == sorted([
        f"missing at processor: refunds of {card_charge['id']} (processor 0, ledger 300)",
        f"missing in ledger: refunds of {bank_charge['id']} (processor 700, ledger 0)",
        f"amount mismatch: charge of {charge_of(fake, bounced)} (processor 0, ledger 3000)",
        f"missing in ledger: charge of {installment_charge(fake, unplaced)} (processor 500, ledger 0)",
    ])
    for kind, obj in (("refund.failed", failed), ("charge.refunded", bank_charge), ("invoice.paid", unplaced)):
        assert deliver(cloud, fake, kind, obj).status == 200
    cloud.drain()
    # What is left needs an operator: a bank debit that bounced after its gift was booked.
    assert [str(d) for d in operations.reconcile("s1")] == [
        f"amount mismatch: charge of {charge_of(fake, bounced)} (processor 0, ledger 3000)"]


def test_a_deleted_subscription_ends_the_pledge_and_a_later_invoice_books_nothing(stripe_cloud):
    cloud, fake = stripe_cloud
    donation = pledge(cloud, 2_000, frequency="monthly", donor={"email": "m@example.org"})
    metadata = session_of(fake, donation)["subscription_metadata"]
    assert deliver(cloud, fake, "invoice.paid", fake.invoice_paid(metadata, 2_000, first=True)).status == 200
    subscription = next(o for o in fake.objects.values() if o["object"] == "subscription")
    paid_before = fake.invoice_paid(metadata, 2_000, paid_at=int(time.time()) - 60)  # its event comes late
    ended = fake.cancel_subscription(subscription["id"])
    for _ in range(2):  # Stripe delivers at least once
        answer = deliver(cloud, fake, "customer.subscription.deleted", ended)
        assert answer.status == 200
    assert answer.json()["status"] == "duplicate"
    after = fake.invoice_paid(metadata, 2_000, paid_at=ended["ended_at"] + 1)
    answer = deliver(cloud, fake, "invoice.paid", after)
    assert answer.status == 200 and answer.json()["status"] == "pledge_ended"
    assert deliver(cloud, fake, "invoice.paid", paid_before).json()["status"] == "confirmed"
    cloud.drain()
    f = figures(cloud, "s1")
    assert (f["donations_confirmed"], f["raised_cents"]) == (2, 4_000)
    other = fake.cancel_subscription(fake._subscription({"plan": "pro"})["id"])  # another product's: not ours
    assert deliver(cloud, fake, "customer.subscription.deleted", other).json() == {"status": "ignored"}


def test_the_receipt_of_a_monthly_gift_opens_stripes_customer_portal_for_its_donor(stripe_cloud):
    cloud, fake = stripe_cloud
    donation = pledge(cloud, 2_000, frequency="monthly")
    metadata = session_of(fake, donation)["subscription_metadata"]
    deliver(cloud, fake, "invoice.paid", fake.invoice_paid(metadata, 2_000, first=True))
    receipt_path = donation["receipt_url"].removeprefix(cloud.public_base_url)
    manage = cloud.http("GET", receipt_path).json()["links"]["manage"]
    answer = cloud.http("GET", manage.removeprefix(cloud.public_base_url), headers={"Accept": "text/html"})
    portal = next(o for o in fake.objects.values() if o["object"] == "billing_portal.session")
    subscription = next(o for o in fake.objects.values() if o["object"] == "subscription")
    assert answer.status == 303 and answer.headers["Location"] == portal["url"]
    assert portal["customer"] == subscription["customer"] and portal["return_url"] == donation["receipt_url"]
    stop = cloud.http("POST", manage.removeprefix(cloud.public_base_url))
    assert stop.status == 409 and "customer portal" in stop.body  # the sandbox's stop button is not Stripe's


def test_covering_the_fees_reaches_stripe_and_the_books(stripe_cloud):
    cloud, fake = stripe_cloud
    donation = pledge(cloud, 10_000, cover_fees=True)
    session = session_of(fake, donation)
    assert session["amount_total"] == donation["amount_cents"] == 10_330
    assert session["payment_intent_metadata"]["covered_cents"] == "330"
    fake.pay(session["id"], fee=300)
    assert deliver(cloud, fake, "checkout.session.completed", session_of(fake, donation)).status == 200
    cloud.drain()
    f = figures(cloud, "s1")
    assert_books_balance(f)
    # 300 to Stripe; the 30 cents the fee left of the 330 go to the pool whole; 10% of the 10,000 to the reserve.
    assert (f["raised_cents"], f["fees_cents"], f["reserve_cents"], f["pool_available_cents"]) == (
        10_330, 300, 1_000, 9_030)


def test_stripe_sends_the_donor_back_to_their_receipt_which_thanks_them_until_the_payment_is_confirmed(stripe_cloud):
    cloud, fake = stripe_cloud
    donation = pledge(cloud, 2_500)
    back = session_of(fake, donation)["success_url"]
    assert back == donation["receipt_url"]
    page = cloud.http("GET", back.removeprefix(cloud.public_base_url), headers={"Accept": "text/html"})
    assert page.status == 200 and "Your payment is being confirmed" in page.body
    assert cloud.http("GET", back.removeprefix(cloud.public_base_url)).status == 404  # an API client: not paid yet
    fake.pay(session_of(fake, donation)["id"])
    deliver(cloud, fake, "checkout.session.completed", session_of(fake, donation))
    page = cloud.http("GET", back.removeprefix(cloud.public_base_url), headers={"Accept": "text/html"})
    assert page.status == 200 and "Receipt for your gift" in page.body and "$25.00" in page.body
