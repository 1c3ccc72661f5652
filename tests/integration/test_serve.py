"""`jubilee serve` as a person uses it: a real port, a real process, a donation made over HTTP."""

import json
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from tests.fake_stripe import FakeStripe, serve_fake, sign
from tests.serving import call, running, start, wait_for, wait_until


@pytest.fixture
def server():
    process, base, endpoint = start()
    yield base, endpoint, admin_token(process)
    process.terminate()
    process.wait(timeout=10)


def admin_token(process):
    """The local admin token `jubilee serve` prints at start (a new one each run)."""
    for line in process.stdout:
        if line.startswith("Admin token"):
            token = line.rsplit(": ", 1)[1].strip()
            # Hex: a token starting with "-" would be taken by `--token` for an option (1 run in 64 failed so).
            assert len(token) == 48 and all(c in "0123456789abcdef" for c in token), token
            return token
    raise AssertionError("jubilee serve printed no admin token")


def test_a_donation_over_http_reaches_the_public_totals(server, monkeypatch, capsys, tmp_path):
    base, endpoint, token = server
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
    created = subprocess.run([sys.executable, "-m", "ops.cli", "campaigns", "create", "autumn", "--name", "Autumn",
                              "--endpoint-url", endpoint], capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stderr
    assert call("GET", f"{base}/campaigns/autumn")[0] == 200
    # Approvals tried locally: serve's token stands for local-operator, an approver of the demo campaign.
    from ops import cli, plans

    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)  # (the CLI in-process sets it; put back after)
    assert cli.main(["campaigns", "update", "demo", "--approvals-required", "1", "--endpoint-url", endpoint]) == 0
    assert "approvals_required: 0 → 1" in capsys.readouterr().out
    donation = json.loads(call("POST", f"{base}/campaigns/demo/donations", {"amount_cents": 200_000,
                                                                            "currency": "USD"},
                               {"Idempotency-Key": "serve-big"})[1])
    assert call("POST", donation["checkout_url"])[0] == 200
    api = plans.AdminApi(base, token)
    proposed = wait_until(base, "demo", lambda f: f["held_cents"] > 0)
    listed = api.plans("demo")["plans"]
    assert listed and {p["status"] for p in listed} == {"proposed"} and proposed["purchases"] == 0
    bought, *others = sorted(listed, key=lambda p: p["seller"] != "sandbox")  # (a sandbox-declines one refuses)
    assert cli.main(["plans", "approve", bought["plan_id"], "--endpoint", base, "--token", token, "--json"]) == 0
    approved = json.loads(capsys.readouterr().out)
    assert approved["status"] == "approved"
    assert approved["approvals"] == ["arn:aws:iam::123456789012:user/local-operator"]
    for plan in others:
        assert cli.main(["plans", "reject", plan["plan_id"], "--endpoint", base, "--token", token]) == 0
    after = wait_until(base, "demo", lambda f: f["purchases"] == 1)
    assert (after["purchases"], after["spent_cents"]) == (1, bought["price_cents"])
    statuses = {p["plan_id"]: (p["status"], p["void_reason"]) for p in api.plans("demo")["plans"]}
    assert statuses[bought["plan_id"]][0] == "settled"
    assert all(statuses[p["plan_id"]] == ("voided", "rejected by arn:aws:iam::123456789012:user/local-operator")
               for p in others)  # (their offers are open again: the next check may plan them anew)
    assert cli.main(["plans", "list", "--campaign", "demo", "--endpoint", base, "--token", "wrong"]) == 2
    assert "403" in capsys.readouterr().err
    # An expense, held from the pool, approved through the same admin API as plans, then paid.
    receipt = tmp_path / "invoice.txt"
    receipt.write_text("Print shop invoice 7")
    assert cli.main(["expenses", "add", "--campaign", "demo", "--amount-cents", "500", "--payee", "Print Shop",
                     "--purpose", "letters", "--receipt", str(receipt), "--endpoint-url", endpoint]) == 0
    assert ": proposed" in capsys.readouterr().out
    assert cli.main(["expenses", "list", "--campaign", "demo", "--endpoint", base, "--token", token, "--json"]) == 0
    [expense] = json.loads(capsys.readouterr().out)["expenses"]
    assert (expense["status"], expense["approvals_required"]) == ("proposed", 1)
    assert cli.main(["expenses", "approve", expense["expense_id"], "--endpoint", base, "--token", token]) == 0
    assert ": paid" in capsys.readouterr().out
    paid = json.loads(call("GET", f"{base}/campaigns/demo")[1])
    assert paid["expenses_cents"] == 500 and paid["ledger_balanced"]


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


@pytest.fixture(scope="module")
def shared_run():
    """One `jubilee serve` for the tests below, which only add to what it holds: (base URL, AWS endpoint)."""
    with running(env={"JUBILEE_SERVE_READ_TIMEOUT_S": "1"}) as run:  # a waiting client is answered sooner
        yield run


@pytest.fixture
def shared(shared_run):
    return shared_run[0]


def raw(base, request: bytes, *, close_sending=False):
    """Send bytes as they are (a bad Content-Length cannot be sent through urllib): the status, the
    head, the body, and how long the answer took. `close_sending`: the client then closes its side."""
    host, port = base.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(request)
        if close_sending:
            conn.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := conn.recv(65_536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), head.decode("latin-1"), body, time.monotonic() - started


def test_a_bad_content_length_or_body_is_a_400_at_once_never_a_hang(shared):
    post = (b"POST /campaigns/demo/donations HTTP/1.1\r\nHost: x\r\nIdempotency-Key: cl\r\n"
            b"Content-Type: application/json\r\n")
    body = b'{"amount_cents": 2500, "currency": "USD"}'
    cases = [  # (the rest of the request, the client closes its side after, the status, what the answer names)
        (b"Content-Length: -1\r\n\r\n" + body, False, 400, "header.Content-Length"),
        (b"Content-Length: ten\r\n\r\n" + body, False, 400, "header.Content-Length"),
        (b"Content-Length: 99999999999\r\n\r\n" + body, False, 413, "body"),
        (b"Content-Length: 500\r\n\r\n" + body, True, 400, "header.Content-Length"),
        (b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", False, 411, "header.Transfer-Encoding"),
        (b"Content-Length: 4\r\n\r\n\xff\xfe\x00\x01", False, 400, "body"),
    ]
    for rest, close_sending, status, field in cases:
        answered = raw(shared, post + rest, close_sending=close_sending)
        assert answered[0] == status and field in json.loads(answered[2])["problems"][0]["field"], (rest, answered)
        assert answered[3] < 3, (rest, answered[3])
    # A client that announces more than it sends and then waits is answered after the read timeout.
    status, _, answer, took = raw(shared, post + b"Content-Length: 500\r\n\r\n" + body)
    assert status == 400 and "ended before" in json.loads(answer)["message"] and took < 10
    assert raw(shared, post + b"Content-Length: %d\r\n\r\n" % len(body) + body)[0] == 201  # the server is well


def test_head_and_options_are_answered_as_deployed_never_501(shared):
    status, head, body, _ = raw(shared, b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 200 and "text/html" in head and body == b""  # CloudFront serves the site to HEAD
    for method in (b"HEAD", b"OPTIONS"):  # a method no route declares: API Gateway's 4xx, the allowed named
        status, head, body, _ = raw(shared,
                                    method + b" /campaigns/demo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert status == 405 and "Allow: GET" in head, (method, head)
        assert body == b"" if method == b"HEAD" else json.loads(body)["error"] == "method_not_allowed"


def test_a_hundred_concurrent_donors_are_all_served_none_reset_or_lost(shared):
    before = json.loads(call("GET", f"{shared}/campaigns/demo")[1])
    donors = 100
    start_together = threading.Barrier(donors)
    outcomes = [None] * donors

    def donor(n):
        start_together.wait()
        try:
            status, body = call("POST", f"{shared}/campaigns/demo/donations", {"amount_cents": 1_000 + n,
                                "currency": "USD"}, {"Idempotency-Key": f"crowd-{n}"}, timeout=60)
            paid = call("POST", json.loads(body)["checkout_url"], timeout=60)[0] if status == 201 else None
            outcomes[n] = (status, paid)
        except OSError as error:  # a reset or refused connection
            outcomes[n] = (type(error).__name__, None)

    threads = [threading.Thread(target=donor, args=(n,)) for n in range(donors)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [o for o in outcomes if o != (201, 200)] == []
    raised = sum(1_000 + n for n in range(donors))
    after = wait_until(shared, "demo", lambda f: f["donations_confirmed"] == before["donations_confirmed"] + donors)
    assert (after["donations_confirmed"] - before["donations_confirmed"],
            after["raised_cents"] - before["raised_cents"]) == (donors, raised)


def test_an_export_imports_into_serve_no_sample_but_not_over_its_sample_campaign(shared_run, tmp_path):
    from local.emulator import LocalCloud
    from local.sample_data import seed_campaign
    from ops import portability
    from tests.support import figures, pay

    with LocalCloud(app_secret="elsewhere") as source:  # another run's demo campaign, with gifts
        seed_campaign(source)
        for n, amount in enumerate((5_000, 7_500)):
            pay(source, source.http("POST", "/campaigns/demo/donations", {"amount_cents": amount, "currency": "USD"},
                                    {"Idempotency-Key": f"elsewhere-{n}"}).json())
        source.drain()
        portability.export_campaign("demo", tmp_path)
        published = figures(source, "demo")

    def jubilee(*args):
        return subprocess.run([sys.executable, "-m", "ops.cli", *args], capture_output=True, text=True, timeout=120)

    over_sample = jubilee("import", str(tmp_path), "--campaign", "demo", "--endpoint-url", shared_run[1])
    assert over_sample.returncode == 2
    assert "holds campaign 'demo' with other data" in " ".join(over_sample.stderr.split())
    with running("--no-sample") as (base, endpoint):
        assert call("GET", f"{base}/campaigns/demo")[0] == 404
        imported = jubilee("import", str(tmp_path), "--campaign", "demo", "--endpoint-url", endpoint)
        assert imported.returncode == 0, imported.stderr
        assert "offer offer-a withdrawn" in " ".join(imported.stderr.split())  # the sample offers' files stayed behind
        assert json.loads(call("GET", f"{base}/campaigns/demo")[1]) == published
        assert jubilee("verify-log", f"{base}/campaigns/demo").returncode == 0


def test_the_mail_a_donor_would_get_is_in_the_local_outbox_and_its_links_open(shared):
    status, body = call("POST", f"{shared}/campaigns/demo/donations", {
        "amount_cents": 1_800, "currency": "USD", "donor": {"name": "Grace", "email": "grace@example.org"}},
        {"Idempotency-Key": "serve-mail"})
    assert status == 201, body
    assert call("POST", json.loads(body)["checkout_url"])[0] == 200
    deadline, mine = time.monotonic() + 20, []
    while not mine and time.monotonic() < deadline:
        mine = [m for m in json.loads(call("GET", f"{shared}/_local/mail.json")[1]) if m["to"] == "grace@example.org"]
        time.sleep(0.2)
    [mail] = mine
    assert mail["subject"] == "Receipt: $18.00 to Demo Jubilee"
    assert mail["list_unsubscribe_post"] == "List-Unsubscribe=One-Click"
    status, page = call("GET", f"{shared}/_local/mail")
    assert status == 200 and "Receipt: $18.00 to Demo Jubilee" in page and 'href="http://127.0.0.1' in page
    receipt = re.search(r"(http://\S+/receipts/\S+)", mail["text"]).group(1)
    assert call("GET", receipt)[0] == 200
    unsubscribe = mail["list_unsubscribe"].strip("<>")
    with urllib.request.urlopen(unsubscribe, timeout=10) as shown:
        assert shown.status == 200 and "<form" in shown.read().decode()
