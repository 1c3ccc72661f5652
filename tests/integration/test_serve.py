"""`jubilee serve` as a person uses it: a real port, a real process, a donation made over HTTP."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.fake_stripe import FakeStripe, serve_fake, sign


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def call(method, url, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def start(*args: str, env: dict[str, str] | None = None):
    port, aws_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT")} | (env or {})
    process = subprocess.Popen([sys.executable, "-m", "infra.cli", "serve", "--port", str(port),
                                "--aws-port", str(aws_port), *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env=env, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if call("GET", f"{base}/campaigns/demo")[0] == 200:
                break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail(f"jubilee serve did not start: {process.stdout.read()}")
    return process, base, f"http://127.0.0.1:{aws_port}"


def wait_for(base, campaign, key, value):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # the workers run in the background
        totals = json.loads(call("GET", f"{base}/campaigns/{campaign}")[1])
        if totals[key] == value:
            return totals
        time.sleep(0.2)
    return totals


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
