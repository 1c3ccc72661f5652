"""POST /webhooks/sandbox and the sandbox checkout: signed, applied once, never half-written."""

from functions.adapters.payments import SIGNATURE_HEADER, SandboxPayments
from functions.adapters.secrets import derived_key
from tests.support import donate, figures, items, pay


def signed(cloud, donation, **changes):
    provider = SandboxPayments(derived_key("sandbox-webhook"), cloud.public_base_url)
    return provider.payment_completed({"campaign_id": "c1", "donation_id": donation["donation_id"],
                                       "amount_cents": 2_500, "currency": "USD"} | changes)


def test_checkout_confirms_the_donation_and_the_pool_books_it(cloud):
    donation = donate(cloud, 2_500).json()
    assert "Pay $25.00" in cloud.http("GET", donation["checkout_url"].removeprefix(cloud.public_base_url)).body
    assert pay(cloud, donation).json()["status"] == "confirmed"
    assert items("donation")[0]["status"] == "confirmed"
    cloud.drain()
    f = figures(cloud)
    assert (f["donations_confirmed"], f["raised_cents"], f["fees_cents"]) == (1, 2_500, 102)
    assert f["reserve_cents"] == (2_500 - 102) // 10  # 10% of the net gift


def test_the_same_webhook_twice_is_counted_once(cloud):
    donation = donate(cloud).json()
    headers, body = signed(cloud, donation)
    outcomes = [cloud.http("POST", "/webhooks/sandbox", body, headers) for _ in range(3)]
    assert [(r.status, r.json()["status"]) for r in outcomes] == [(200, "confirmed"), (200, "duplicate"),
                                                                   (200, "duplicate")]
    cloud.drain()
    assert figures(cloud)["raised_cents"] == 2_500
    assert len(items("gift")) == 1


def test_a_second_event_for_a_paid_donation_books_nothing(cloud):
    donation = donate(cloud).json()
    for _ in range(2):  # two distinct provider events claiming the same payment
        headers, body = signed(cloud, donation)
        cloud.http("POST", "/webhooks/sandbox", body, headers)
    cloud.drain()
    assert figures(cloud)["donations_confirmed"] == 1


def test_a_forged_signature_is_a_400_and_changes_nothing(cloud):
    donation = donate(cloud).json()
    headers, body = signed(cloud, donation)
    forged = body.replace(b"2500", b"250000")
    response = cloud.http("POST", "/webhooks/sandbox", forged, headers)
    assert response.status == 400 and "signature" in response.json()["message"]
    missing = cloud.http("POST", "/webhooks/sandbox", body, {})
    assert missing.status == 400 and missing.json()["problems"][0]["field"] == f"header.{SIGNATURE_HEADER}"
    assert items("donation")[0]["status"] == "pending" and items("outbox") == []


def test_an_amount_other_than_the_pledge_is_refused(cloud):
    donation = donate(cloud).json()
    headers, body = signed(cloud, donation, amount_cents=1)
    response = cloud.http("POST", "/webhooks/sandbox", body, headers)
    assert response.status == 422 and items("outbox") == [] and items("donation")[0]["status"] == "pending"


def test_unknown_providers_and_donations_are_404(cloud):
    assert cloud.http("POST", "/webhooks/paypal", "{}").status == 404
    assert cloud.http("POST", "/sandbox/checkout/c1/don_missing").status == 404


def test_an_event_about_a_pledge_this_deployment_never_took_is_acknowledged_and_ignored(cloud):
    headers, body = signed(cloud, {"donation_id": "don_of_another_deployment"})
    response = cloud.http("POST", "/webhooks/sandbox", body, headers)
    assert (response.status, response.json()) == (200, {"status": "ignored"})  # a 4xx would be redelivered for days
    assert items("outbox") == [] and items("donation") == []
