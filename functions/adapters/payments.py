"""Payment providers. `sandbox` stands in for a real processor: it signs its webhooks the
way Stripe does (timestamped HMAC-SHA256, 300 s tolerance), so the webhook path is real."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from functions.domain.gifts import PaymentConfirmed

SIGNATURE_HEADER = "Jubilee-Sandbox-Signature"
TOLERANCE_SECONDS = 300


class WebhookRejected(ValueError):
    """A webhook that is not provably from the provider, or not a payment we can read."""


class SandboxPayments:
    name = "sandbox"

    def __init__(self, secret: bytes, public_base_url: str):
        self._secret = secret
        self._base = public_base_url

    def checkout_url(self, campaign_id: str, donation_id: str) -> str:
        return f"{self._base}/sandbox/checkout/{campaign_id}/{donation_id}"

    @staticmethod
    def fee_cents(amount_cents: int) -> int:
        """A typical card fee, 2.9% + 30 cents (rounded down), never more than the gift."""
        return min(amount_cents, amount_cents * 290 // 10_000 + 30)

    def _sign(self, timestamp: int, body: bytes) -> str:
        return hmac.new(self._secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()

    def payment_completed(self, donation: dict[str, Any], now: int | None = None) -> tuple[dict[str, str], bytes]:
        """The signed webhook the sandbox sends when its checkout page is paid: (headers, raw body)."""
        event = {
            "id": f"evt_{secrets.token_hex(12)}", "type": "payment.succeeded",
            "data": {"campaign_id": donation["campaign_id"], "donation_id": donation["donation_id"],
                     "amount_cents": donation["amount_cents"], "currency": donation["currency"],
                     "fee_cents": self.fee_cents(donation["amount_cents"])},
        }
        body = json.dumps(event).encode()
        timestamp = int(time.time()) if now is None else now
        return {SIGNATURE_HEADER: f"t={timestamp},v1={self._sign(timestamp, body)}"}, body

    def verify(self, headers: dict[str, str], body: bytes, now: int | None = None) -> PaymentConfirmed | None:
        """The payment an authentic webhook reports, or None for event types we ignore."""
        header = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER.lower()), None)
        if not header:
            raise WebhookRejected(f"missing {SIGNATURE_HEADER} header")
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        try:
            timestamp = int(parts["t"])
        except (KeyError, ValueError):
            raise WebhookRejected("signature header has no timestamp") from None
        if abs((int(time.time()) if now is None else now) - timestamp) > TOLERANCE_SECONDS:
            raise WebhookRejected("signature timestamp outside the 300 s tolerance")
        if not hmac.compare_digest(parts.get("v1", ""), self._sign(timestamp, body)):
            raise WebhookRejected("signature does not match")
        try:
            event = json.loads(body)
            if event.get("type") != "payment.succeeded":
                return None
            data = event["data"]
            return PaymentConfirmed(
                event_id=str(event["id"]), provider=self.name, campaign_id=str(data["campaign_id"]),
                donation_id=str(data["donation_id"]), amount_cents=int(data["amount_cents"]),
                currency=str(data["currency"]), fee_cents=int(data["fee_cents"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise WebhookRejected(f"payload is not a readable payment event: {type(error).__name__}") from None
