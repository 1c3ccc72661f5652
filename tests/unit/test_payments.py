"""The sandbox provider's signatures: pure HMAC, no AWS."""

import json

import pytest

from functions.adapters.payments import SIGNATURE_HEADER, SandboxPayments, WebhookRejected

DONATION = {"campaign_id": "c1", "donation_id": "don_1", "amount_cents": 2_500, "currency": "USD"}
provider = SandboxPayments(b"secret", "http://x")


def test_a_signed_payment_verifies_to_the_gift_it_reports():
    headers, body = provider.payment_completed(DONATION, now=1_000)
    gift = provider.verify(headers, body, now=1_100).gift
    assert (gift.donation_id, gift.amount_cents, gift.fee_cents) == ("don_1", 2_500, 102)
    assert gift.event_id == json.loads(body)["id"]
    assert gift.transfer_id == "gift#sandbox#pay_don_1"  # keyed on the payment, not the event


@pytest.mark.parametrize("tamper, reason", [
    (lambda h, b: (h, b.replace(b"2500", b"25000")), "does not match"),
    (lambda h, b: ({}, b), "missing"),
    (lambda h, b: ({SIGNATURE_HEADER: "v1=abc"}, b), "no timestamp"),
    (lambda h, b: ({SIGNATURE_HEADER: h[SIGNATURE_HEADER].replace("v1=", "v0=")}, b), "does not match"),
    (lambda h, b: (SandboxPayments(b"other", "").payment_completed(DONATION, now=1_000)[0], b), "does not match"),
])
def test_forged_or_altered_webhooks_are_rejected(tamper, reason):
    headers, body = tamper(*provider.payment_completed(DONATION, now=1_000))
    with pytest.raises(WebhookRejected, match=reason):
        provider.verify(headers, body, now=1_000)


def test_a_stale_signature_is_rejected_after_300_seconds():
    headers, body = provider.payment_completed(DONATION, now=1_000)
    provider.verify(headers, body, now=1_300)
    with pytest.raises(WebhookRejected, match="tolerance"):
        provider.verify(headers, body, now=1_301)


def test_the_sandbox_fee_never_exceeds_the_gift():
    assert SandboxPayments.fee_cents(10_000) == 320
    assert SandboxPayments.fee_cents(20) == 20
