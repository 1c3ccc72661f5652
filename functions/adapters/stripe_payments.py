"""Stripe as a payment provider: Checkout Sessions in, signed webhooks back.

The API key and webhook signing secrets come from Secrets Manager (Powertools parameters),
never from code or logs. Every webhook is verified with `stripe.Webhook.construct_event`
against each configured secret (during a rotation Stripe signs with both), then reduced
to a PaymentEvent naming its charge in full, fee included, so the books never depend on
which of Stripe's events arrives first.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, ClassVar

import stripe
from functions.adapters.aws import settings
from functions.adapters.payments import ProviderUnavailable, WebhookNotYetApplicable, WebhookRejected
from functions.adapters.secrets import secret_json
from functions.domain.campaigns import Campaign
from functions.domain.donations import DonationRequest
from functions.domain.gifts import DisputeUpdate, PaymentConfirmed, PaymentEvent
from functions.domain.reconciliation import Side

SIGNATURE_HEADER = "Stripe-Signature"
TOLERANCE_SECONDS = 300
CHARGE_EXPANSION = ["latest_charge.balance_transaction"]


class StripePayments:
    name = "stripe"
    http_client: ClassVar[stripe.HTTPClient | None] = None  # tests hand in a fake; None is the network

    def __init__(self, api_key: str, webhook_secrets: Sequence[str], site_url: str, api_base: str | None = None):
        base = {"api": api_base} if api_base else None
        self._client = stripe.StripeClient(api_key, base_addresses=base, http_client=self.http_client,
                                           max_network_retries=2)
        self._secrets = [s for s in webhook_secrets if s]
        self._site = site_url

    @classmethod
    def configured(cls) -> StripePayments:
        secret = secret_json(settings().stripe_secret_id)
        return cls(secret.get("api_key", ""), secret.get("webhook_secrets", []), settings().site_url,
                   os.environ.get("STRIPE_API_BASE") or None)

    # --- donations in -----------------------------------------------------------------------

    def start_checkout(self, campaign: Campaign, donation_id: str, request: DonationRequest) -> str:
        metadata = {"campaign_id": campaign.campaign_id, "donation_id": donation_id}
        monthly = request.frequency == "monthly"
        price: dict[str, Any] = {"currency": request.currency.lower(), "unit_amount": request.amount_cents,
                                 "product_data": {"name": f"Gift to {campaign.name}"}}
        if monthly:
            price["recurring"] = {"interval": "month"}
        params: dict[str, Any] = {
            "mode": "subscription" if monthly else "payment",
            "line_items": [{"price_data": price, "quantity": 1}],
            "client_reference_id": donation_id, "metadata": metadata,
            # Back to the campaign's site: its dashboard once paid, the donation page if not.
            "success_url": f"{self._site}?campaign={campaign.campaign_id}&donation={donation_id}",
            "cancel_url": f"{self._site}donate.html?campaign={campaign.campaign_id}",
            # Where the charge will find its donation again: on the PaymentIntent, or the subscription.
            ("subscription_data" if monthly else "payment_intent_data"): {"metadata": metadata},
        }
        if request.donor.email:
            params["customer_email"] = request.donor.email
        try:
            session = self._client.v1.checkout.sessions.create(
                params, {"idempotency_key": f"jubilee-checkout-{donation_id}"})
        except stripe.StripeError as error:
            raise ProviderUnavailable(f"Stripe refused the checkout: {type(error).__name__}") from None
        return session.url

    # --- webhooks back ----------------------------------------------------------------------

    def verify(self, headers: dict[str, str], body: bytes) -> PaymentEvent | None:
        header = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER.lower()), None)
        if not header:
            raise WebhookRejected(f"missing {SIGNATURE_HEADER} header")
        if not self._secrets:
            raise WebhookRejected("no webhook signing secret is configured for Stripe")
        for secret in self._secrets:
            try:
                event = stripe.Webhook.construct_event(body, header, secret, tolerance=TOLERANCE_SECONDS)
                break
            except stripe.SignatureVerificationError:
                continue
            except ValueError:
                raise WebhookRejected("payload is not JSON") from None
        else:
            raise WebhookRejected("no valid v1 signature within the 300 s tolerance")
        data = event.to_dict()  # plain dicts from here on: StripeObjects are not dicts
        try:
            return self._reduce(data["id"], data["type"], data["data"]["object"])
        except stripe.StripeError as error:
            raise ProviderUnavailable(f"Stripe lookup failed: {type(error).__name__}") from None
        except (KeyError, TypeError, AttributeError) as error:
            raise WebhookRejected(f"event is not a readable {data['type']}: {type(error).__name__}") from None

    def _reduce(self, event_id: str, kind: str, obj: Any) -> PaymentEvent | None:
        if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
            if obj["mode"] != "payment" or obj["payment_status"] != "paid":
                return None  # monthly gifts are booked from invoice.paid; unpaid ones wait for async success
            return PaymentEvent(self._gift(event_id, obj["payment_intent"]))
        if kind == "checkout.session.async_payment_failed":
            metadata = obj["metadata"]
            return PaymentEvent(PaymentConfirmed(event_id, self.name, "", metadata["campaign_id"],
                                                 metadata["donation_id"], obj["amount_total"],
                                                 obj["currency"].upper(), 0), failed=True)
        if kind == "invoice.paid":
            return PaymentEvent(self._installment(event_id, obj))
        if kind == "charge.refunded":
            return PaymentEvent(self._gift(event_id, obj["payment_intent"]), refunded_total_cents=obj["amount_refunded"])
        if kind in ("charge.dispute.created", "charge.dispute.closed"):
            charge = self._client.v1.charges.retrieve(obj["charge"]).to_dict()
            status = "open" if kind.endswith("created") else ("won" if obj["status"] == "won" else "lost")
            fee = sum(t["fee"] for t in obj.get("balance_transactions") or []) if status == "lost" else 0
            return PaymentEvent(self._gift(event_id, charge["payment_intent"]),
                                dispute=DisputeUpdate(obj["id"], obj["amount"], status, fee))
        return None  # an event type Jubilee does not need: acknowledged and ignored

    def _gift(self, event_id: str, payment_intent_id: str, pledge_id: str | None = None,
              donation_id: str | None = None, intent: dict[str, Any] | None = None) -> PaymentConfirmed:
        """The gift a PaymentIntent paid, with the processor fee from its balance transaction."""
        if intent is None:
            intent = self._client.v1.payment_intents.retrieve(payment_intent_id, {"expand": CHARGE_EXPANSION}).to_dict()
        metadata = intent["metadata"] or {}
        if "donation_id" not in metadata and donation_id is None:
            raise WebhookNotYetApplicable(f"payment {payment_intent_id} names no Jubilee donation yet")
        charge = intent["latest_charge"]
        return PaymentConfirmed(
            event_id=event_id, provider=self.name, payment_id=charge["id"],
            campaign_id=metadata["campaign_id"], donation_id=donation_id or metadata["donation_id"],
            amount_cents=charge["amount"], currency=charge["currency"].upper(),
            fee_cents=charge["balance_transaction"]["fee"], pledge_id=pledge_id or metadata.get("pledge_id"),
        )

    def _installment(self, event_id: str, invoice: Any) -> PaymentConfirmed:
        """Each paid invoice of a monthly pledge is a donation of its own (the first one is the pledge)."""
        details = (invoice.get("parent") or {}).get("subscription_details") or invoice.get("subscription_details")
        metadata = dict(details["metadata"])
        pledge_id = metadata["donation_id"]
        donation_id = pledge_id if invoice["billing_reason"] == "subscription_create" else f"{pledge_id}-{invoice['id']}"
        payments = self._client.v1.invoice_payments.list({"invoice": invoice["id"]})
        intent_id = payments.data[0].to_dict()["payment"]["payment_intent"]
        # Charges of a subscription carry no metadata of ours: put it on the PaymentIntent, so a later
        # refund or dispute of this charge finds its donation.
        placed = metadata | {"donation_id": donation_id, "pledge_id": pledge_id}
        intent = self._client.v1.payment_intents.update(
            intent_id, {"metadata": placed, "expand": CHARGE_EXPANSION}).to_dict()  # the update answers with it
        return self._gift(event_id, intent_id, pledge_id=pledge_id, donation_id=donation_id, intent=intent)

    # --- reconciliation -----------------------------------------------------------------------

    def processor_side(self, campaign_id: str, since: int | None = None) -> Side:
        """The campaign's charges and refunds as Stripe's balance transactions record them (all pages)."""
        params: dict[str, Any] = {"limit": 100, "expand": ["data.source.payment_intent",
                                                           "data.source.charge.payment_intent"]}
        if since is not None:
            params["created"] = {"gte": since}
        side = Side()
        for page_item in self._client.v1.balance_transactions.list(params).auto_paging_iter():
            txn = page_item.to_dict()
            source = txn.get("source")
            if not isinstance(source, dict) or txn["type"] not in ("charge", "payment", "refund"):
                continue  # payouts, fees, adjustments: not gifts or refunds
            charge = source if txn["type"] != "refund" else source.get("charge")
            intent = charge.get("payment_intent") if isinstance(charge, dict) else None
            if not isinstance(intent, dict) or (intent.get("metadata") or {}).get("campaign_id") != campaign_id:
                continue  # another campaign's, or not Jubilee's at all
            if txn["type"] == "refund":
                side.refund(charge["id"], -txn["amount"])
            else:
                side.charge(charge["id"], txn["amount"])
        return side
