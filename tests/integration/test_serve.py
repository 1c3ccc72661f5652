"""`jubilee serve` as a person uses it: a real port, a real process, a donation made over HTTP."""

import json
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from tests.fake_stripe import FakeStripe, serve_fake, sign
from tests.serving import call, start, wait_for


@pytest.fixture
def server():
    process, base, endpoint = start()
    yield base, endpoint
    process.terminate()
    process.wait(timeout=10)


def test_a_donation_over_http_reaches_the_public_totals(server):
    base, endpoint = server
    status, body = call("POST", f"{base}/campaigns/demo/donations", {"amount_cents": 2_500, "currency": "USD"},
                        {"Idempotency-Key": "serve-1"})
    assert status == 201, body
    checkout = json.loads(body)["checkout_url"]
    assert checkout.startswith(base)
    assert call("POST", checkout)[0] == 200
    totals = wait_for(base, "demo", "raised_cents", 2_500)
    assert totals["raised_cents"] == 2_500 and totals["ledger_balanced"] is True
    bad = call("POST", f"{base}/campaigns/demo/donations", {"amount_cents": -1, "currency": "USD"},
               {"Idempotency-Key": "serve-2"})
    assert bad[0] == 422 and "body.amount_cents" in bad[1]
    # The operator CLI reaches the same run through its AWS endpoint.
    created = subprocess.run([sys.executable, "-m", "infra.cli", "campaigns", "create", "autumn", "--name", "Autumn",
                              "--endpoint-url", endpoint], capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stderr
    assert call("GET", f"{base}/campaigns/autumn")[0] == 200


def test_serve_with_stripe_takes_stripe_signed_events_for_its_donations():
    fake = FakeStripe()
    fake_server, api_base = serve_fake(fake)
    secret = "whsec_local_listen"
    process, base, _ = start("--payments", "stripe", env={"STRIPE_WEBHOOK_SECRET": secret, "STRIPE_API_BASE": api_base})
    try:
        status, body = call("POST", f"{base}/campaigns/demo/donations", {"amount_cents": 5_000, "currency": "USD"},
                            {"Idempotency-Key": "stripe-1"})
        assert status == 201, body
        donation = json.loads(body)
        [session] = [o for o in fake.objects.values() if o["object"] == "checkout.session"]
        assert donation["checkout_url"] == session["url"]
        fake.pay(session["id"], fee=175)
        event = fake.event("checkout.session.completed", fake.objects[session["id"]])
        status, body = call_raw(f"{base}/webhooks/stripe", event, {"Stripe-Signature": sign(event, secret)})
        assert (status, json.loads(body)["status"]) == (200, "confirmed")
        forged = call_raw(f"{base}/webhooks/stripe", event, {"Stripe-Signature": sign(event, "whsec_forged")})
        assert forged[0] == 400
        totals = wait_for(base, "demo", "raised_cents", 5_000)
        assert (totals["raised_cents"], totals["fees_cents"]) == (5_000, 175)
    finally:
        process.terminate()
        process.wait(timeout=10)
        fake_server.shutdown()


def call_raw(url, payload: bytes, headers):
    request = urllib.request.Request(url, data=payload, method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
