"""Payment providers. `sandbox` stands in for a real processor: it signs its webhooks the
way Stripe does (timestamped HMAC-SHA256, 300 s tolerance), so the webhook path is real."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

from functions.adapters import clock
from functions.domain.gifts import DisputeUpdate, PaymentConfirmed, PaymentEvent

SIGNATURE_HEADER = "Jubilee-Sandbox-Signature"
TOLERANCE_SECONDS = 300
HANDLED = ("payment.succeeded", "payment.refunded", "dispute.created", "dispute.closed", "subscription.deleted")


class WebhookRejected(ValueError):
    """A webhook that is not provably from the provider, or not a payment we can read."""


class ProviderUnavailable(Exception):
    """The provider could not be reached or refused the call: retry later; nothing was recorded."""


class SandboxPayments:
    name = "sandbox"

    def __init__(self, secret: bytes, public_base_url: str):
        self._secret = secret
        self._base = public_base_url

    def start_checkout(self, campaign: Any, donation_id: str, request: Any, covered_cents: int = 0,
                       once: str = "", pledged_at: int = 0) -> str:
        """The sandbox's hosted checkout page for this pledge (served by the webhook function)."""
        return f"{self._base}/sandbox/checkout/{campaign.campaign_id}/{donation_id}"

    @staticmethod
    def fee_cents(amount_cents: int) -> int:
        """A typical card fee, 2.9% + 30 cents (rounded down), never more than the gift."""
        return min(amount_cents, amount_cents * 290 // 10_000 + 30)

    def _sign(self, timestamp: int, body: bytes) -> str:
        return hmac.new(self._secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()

    def _event(self, kind: str, data: dict[str, Any], now: int | None) -> tuple[dict[str, str], bytes]:
        body = json.dumps({"id": f"evt_{secrets.token_hex(12)}", "type": kind, "data": data}).encode()
        timestamp = int(clock.now().timestamp()) if now is None else now
        return {SIGNATURE_HEADER: f"t={timestamp},v1={self._sign(timestamp, body)}"}, body

    def _payment(self, donation: dict[str, Any], installment: int | None = None) -> dict[str, Any]:
        donation_id = donation["donation_id"]
        suffix = f"-m{installment}" if installment else ""
        return {"campaign_id": donation["campaign_id"], "donation_id": donation_id + suffix,
                "payment_id": f"pay_{donation_id}{suffix}", "amount_cents": donation["amount_cents"],
                "currency": donation["currency"], "fee_cents": self.fee_cents(donation["amount_cents"]),
                "pledge_id": donation_id if installment else None,
                "covered_cents": int(donation.get("covered_cents", 0))}

    # The signed webhooks the sandbox sends: (headers, raw body). Each names its payment in full.
    def payment_completed(self, donation: dict[str, Any], now: int | None = None) -> tuple[dict[str, str], bytes]:
        return self._event("payment.succeeded", self._payment(donation), now)

    def installment_paid(self, pledge: dict[str, Any], month: int,
                         now: int | None = None) -> tuple[dict[str, str], bytes]:
        """A monthly pledge's payment for month >= 2 (month 1 is the checkout itself)."""
        paid_at = int(clock.now().timestamp()) if now is None else now
        return self._event("payment.succeeded", self._payment(pledge, installment=month) | {"paid_at": paid_at}, now)

    def subscription_ended(self, pledge: dict[str, Any], now: int | None = None) -> tuple[dict[str, str], bytes]:
        """The donor stopped a monthly pledge (as Stripe's customer.subscription.deleted says)."""
        ended_at = int(clock.now().timestamp()) if now is None else now
        return self._event("subscription.deleted", {
            "campaign_id": pledge["campaign_id"], "donation_id": pledge["donation_id"], "payment_id": "",
            "amount_cents": 0, "currency": pledge["currency"], "fee_cents": 0, "ended_at": ended_at}, now)

    def refunded(self, donation: dict[str, Any], refunded_total_cents: int, now: int | None = None
                 ) -> tuple[dict[str, str], bytes]:
        return self._event("payment.refunded", self._payment(donation) | {"amount_refunded": refunded_total_cents}, now)

    def dispute(self, donation: dict[str, Any], dispute_id: str, status: str, amount_cents: int | None = None,
                fee_cents: int = 1_500, now: int | None = None) -> tuple[dict[str, str], bytes]:
        """A chargeback: status "open" when it is filed, then "won" or "lost" (with the network's fee)."""
        kind = "dispute.created" if status == "open" else "dispute.closed"
        dispute = {"id": dispute_id, "amount": amount_cents or donation["amount_cents"], "status": status,
                   "fee": fee_cents if status == "lost" else 0}
        return self._event(kind, self._payment(donation) | {"dispute": dispute}, now)

    def verify(self, headers: dict[str, str], body: bytes, now: int | None = None) -> PaymentEvent | None:
        """What an authentic webhook reports, or None for event types we ignore."""
        header = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER.lower()), None)
        if not header:
            raise WebhookRejected(f"missing {SIGNATURE_HEADER} header")
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        try:
            timestamp = int(parts["t"])
        except (KeyError, ValueError):
            raise WebhookRejected("signature header has no timestamp") from None
        if abs((int(clock.now().timestamp()) if now is None else now) - timestamp) > TOLERANCE_SECONDS:
            raise WebhookRejected("signature timestamp outside the 300 s tolerance")
        if not hmac.compare_digest(parts.get("v1", ""), self._sign(timestamp, body)):
            raise WebhookRejected("signature does not match")
        try:
            event = json.loads(body)
            if event.get("type") not in HANDLED:
                return None
            data = event["data"]
            gift = PaymentConfirmed(
                event_id=str(event["id"]), provider=self.name, payment_id=str(data["payment_id"]),
                campaign_id=str(data["campaign_id"]), donation_id=str(data["donation_id"]),
                amount_cents=int(data["amount_cents"]), currency=str(data["currency"]),
                fee_cents=int(data["fee_cents"]), pledge_id=data.get("pledge_id"),
                covered_cents=int(data.get("covered_cents", 0)),
                paid_at=int(data["paid_at"]) if data.get("paid_at") is not None else None,
            )
            if event["type"] == "subscription.deleted":
                return PaymentEvent(gift, ended_at=int(data["ended_at"]))
            if event["type"] == "payment.refunded":
                return PaymentEvent(gift, refunded_total_cents=int(data["amount_refunded"]))
            if event["type"].startswith("dispute."):
                d = data["dispute"]
                if d["status"] not in ("open", "won", "lost"):
                    raise ValueError("dispute status")
                return PaymentEvent(gift, dispute=DisputeUpdate(str(d["id"]), int(d["amount"]), d["status"],
                                                                int(d.get("fee", 0))))
            return PaymentEvent(gift)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise WebhookRejected(f"payload is not a readable payment event: {type(error).__name__}") from None
