"""Stripe as a payment provider: Checkout Sessions in, signed webhooks back.

The API key and webhook signing secrets come from Secrets Manager (Powertools parameters),
never from code or logs. Every webhook is verified with `stripe.Webhook.construct_event`
against each configured secret (during a rotation Stripe signs with both), then reduced
to a PaymentEvent naming its charge in full, fee included, so the books never depend on
which of Stripe's events arrives first.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any, ClassVar

import stripe
from stripe.params import BalanceTransactionListParams
from stripe.params.checkout import SessionCreateParams, SessionCreateParamsLineItemPriceData

from functions.adapters import clock, receipt_links
from functions.adapters.aws import settings
from functions.adapters.payments import ProviderUnavailable, WebhookRejected
from functions.adapters.secrets import secret_json
from functions.domain.campaigns import Campaign
from functions.domain.donations import DonationRequest
from functions.domain.gifts import DisputeStatus, DisputeUpdate, PaymentConfirmed, PaymentEvent
from functions.domain.reconciliation import Side

# The stripe package logs each refusal's message at INFO and each request's parameters at DEBUG: Stripe's messages
# may quote the donor's email or name, and a checkout's parameters carry the email. Held at WARNING, whatever
# level a function, a test or Lambda's log-level control gives the root logger.
logging.getLogger("stripe").setLevel(logging.WARNING)

SIGNATURE_HEADER = "Stripe-Signature"
TOLERANCE_SECONDS = 300
CHARGE_EXPANSION = ["latest_charge.balance_transaction"]
CHECKOUT_LIFETIME_S = 23 * 3600  # a Checkout Session's (Stripe allows 30 min to 24 h)
# Real disputes freeze money from the moment Stripe withdraws it (an inquiry that escalates does so then).
DISPUTE_EVENTS = ("charge.dispute.created", "charge.dispute.updated", "charge.dispute.funds_withdrawn",
                  "charge.dispute.closed")
REFUND_UPDATES = ("charge.refund.updated", "refund.updated", "refund.failed")
# Balance transactions of gifts (card charges; bank debits as `payment`, a failed one's reversal as
# `payment_failure_refund`) and of refunds (`payment_refund` for bank debits; `refund_failure` returns a failed one).
CHARGED = ("charge", "payment", "payment_failure_refund")
COUNTED = CHARGED + ("refund", "payment_refund", "refund_failure")


class StripePayments:
    name = "stripe"
    http_client: ClassVar[stripe.HTTPClient | None] = None  # tests hand in a fake; None is the network

    def __init__(self, api_key: str, webhook_secrets: Sequence[str], site_url: str, api_base: str | None = None):
        self._client = stripe.StripeClient(api_key, base_addresses={"api": api_base} if api_base else None,
                                           http_client=self.http_client, max_network_retries=2)
        self._secrets = [s for s in webhook_secrets if s]
        self._site = site_url

    @classmethod
    def configured(cls) -> StripePayments:
        secret = secret_json(settings().stripe_secret_id)
        return cls(secret.get("api_key", ""), secret.get("webhook_secrets", []), settings().site_url,
                   os.environ.get("STRIPE_API_BASE") or None)

    # --- donations in -----------------------------------------------------------------------

    def start_checkout(self, campaign: Campaign, donation_id: str, request: DonationRequest,
                       covered_cents: int = 0, once: str = "", pledged_at: int = 0) -> str:
        metadata = {"campaign_id": campaign.campaign_id, "donation_id": donation_id}
        if covered_cents:  # read back from the charge's metadata when the gift is booked
            metadata["covered_cents"] = str(covered_cents)
        monthly = request.frequency == "monthly"
        covering = " (with the processing fee)" if covered_cents else ""
        price: SessionCreateParamsLineItemPriceData = {
            "currency": campaign.currency.lower(), "unit_amount": request.amount_cents,  # (the request's, checked)
            "product_data": {"name": f"Gift to {campaign.name}{covering}"}}
        if monthly:
            price["recurring"] = {"interval": "month"}
        params: SessionCreateParams = {
            "mode": "subscription" if monthly else "payment",
            "line_items": [{"price_data": price, "quantity": 1}],
            "client_reference_id": donation_id, "metadata": metadata,
            # Counted from the pledge, so a retry sends the same parameters and Stripe replays the session it
            # made (another expiry under the same key is an idempotency error); before Stripe forgets the key.
            "expires_at": (pledged_at or int(clock.now().timestamp())) + CHECKOUT_LIFETIME_S,
            # Once paid, to the donor's receipt (a thank-you until the webhook confirms it); if not, the donation page.
            "success_url": receipt_links.receipt_url(campaign.campaign_id, donation_id),
            "cancel_url": f"{self._site}donate.html?campaign={campaign.campaign_id}",
        }
        # Where the charge will find its donation again: on the subscription, or the PaymentIntent.
        if monthly:
            params["subscription_data"] = {"metadata": metadata}
        else:
            params["payment_intent_data"] = {"metadata": metadata}
        if request.donor.email:
            params["customer_email"] = request.donor.email
        try:
            session = self._client.v1.checkout.sessions.create(
                params, {"idempotency_key": f"jubilee-checkout-{once or donation_id}"})
        except stripe.StripeError as error:
            raise ProviderUnavailable(f"Stripe refused the checkout: {type(error).__name__}") from None
        if not session.url:  # only embedded or custom-UI sessions have none; Jubilee makes hosted ones
            raise ProviderUnavailable("Stripe's checkout session has no URL to send the donor to")
        return session.url

    def portal_url(self, donation_id: str, return_url: str) -> str:
        """A session of Stripe's customer portal for the donor of a monthly pledge, where they change or stop it
        (Stripe then sends customer.subscription.deleted). Found by the pledge's id in the subscription's
        metadata; a pledge made a moment ago may not be searchable yet."""
        try:
            found = self._client.v1.subscriptions.search(
                {"query": f"metadata['donation_id']:'{donation_id}'", "limit": 1})
            if not found.data:
                raise ProviderUnavailable("Stripe does not list this monthly gift yet; try again in a minute")
            customer = found.data[0].customer
            session = self._client.v1.billing_portal.sessions.create(
                {"customer": customer if isinstance(customer, str) else customer.id, "return_url": return_url})
        except stripe.StripeError as error:
            raise ProviderUnavailable(f"Stripe refused the customer portal: {type(error).__name__}") from None
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
        """What the books need from an event, or None: a type Jubilee does not need, or a payment that is
        not Jubilee's (another product on the same account), acknowledged either way so Stripe stops."""
        if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
            if obj["mode"] != "payment" or obj["payment_status"] != "paid":
                return None  # monthly gifts are booked from invoice.paid; unpaid ones wait for async success
            return self._event(event_id, obj["payment_intent"])
        if kind == "checkout.session.async_payment_failed":
            metadata = obj.get("metadata") or {}
            if not ours(metadata):
                return None
            return PaymentEvent(PaymentConfirmed(event_id, self.name, "", metadata["campaign_id"],
                                                 metadata["donation_id"], obj["amount_total"],
                                                 obj["currency"].upper(), 0), failed=True)
        if kind == "customer.subscription.deleted":  # a monthly pledge ended (the donor stopped it, or Stripe did)
            metadata = obj.get("metadata") or {}
            if not ours(metadata):
                return None
            return PaymentEvent(PaymentConfirmed(event_id, self.name, "", metadata["campaign_id"],
                                                 metadata["donation_id"], 0, "", 0),
                                ended_at=int(obj.get("ended_at") or obj["canceled_at"]))
        if kind == "invoice.paid":
            paid = self._installment(event_id, obj)
            return PaymentEvent(paid[0]) if paid else None
        if kind == "charge.refunded":
            return self._event(event_id, obj.get("payment_intent"), refunds=True)
        if kind in REFUND_UPDATES:  # pending and succeeded refunds reach us as charge.refunded
            if obj["status"] != "failed":
                return None
            return self._event(event_id, obj.get("payment_intent"), refunds=True, refund_failed=True)
        if kind in DISPUTE_EVENTS:
            status = dispute_status(obj["status"])
            if status is None:
                return None  # an inquiry (warning_*), or prevented: no money moved
            charge = self._client.v1.charges.retrieve(obj["charge"]).to_dict()
            fee = sum(t["fee"] for t in obj.get("balance_transactions") or []) if status == "lost" else 0
            return self._event(event_id, charge.get("payment_intent"),
                               dispute=DisputeUpdate(obj["id"], obj["amount"], status, fee))
        return None  # an event type Jubilee does not need

    def _event(self, event_id: str, payment_intent_id: str | None, refunds: bool = False,
               refund_failed: bool = False, dispute: DisputeUpdate | None = None) -> PaymentEvent | None:
        """The event about a PaymentIntent's gift. Refunds are read from the charge as Stripe has it now
        (a failed refund lowers its `amount_refunded`), never from the event's older copy."""
        paid = self._paid(event_id, payment_intent_id)
        if paid is None:
            return None
        gift, charge = paid
        if not refunds:
            return PaymentEvent(gift, dispute=dispute)
        return PaymentEvent(gift, refunded_total_cents=charge["amount_refunded"], refund_failed=refund_failed)

    def _paid(self, event_id: str, payment_intent_id: str | None) -> tuple[PaymentConfirmed, dict[str, Any]] | None:
        """The gift a PaymentIntent paid and its charge, or None if it is not a Jubilee payment."""
        if not payment_intent_id:
            return None  # a charge made without a PaymentIntent: no Jubilee checkout made it
        intent = self._client.v1.payment_intents.retrieve(payment_intent_id, {"expand": CHARGE_EXPANSION}).to_dict()
        metadata = intent["metadata"] or {}
        if ours(metadata):
            return self._gift(event_id, intent, metadata["campaign_id"], metadata["donation_id"],
                              metadata.get("pledge_id"))
        # A monthly installment whose invoice.paid we have not handled yet carries no metadata of ours:
        # its invoice names the pledge. Anything else is another product's payment.
        invoice = self._invoice_of(payment_intent_id)
        return self._installment(event_id, invoice) if invoice else None

    def _gift(self, event_id: str, intent: dict[str, Any], campaign_id: str, donation_id: str,
              pledge_id: str | None, paid_at: int | None = None) -> tuple[PaymentConfirmed, dict[str, Any]]:
        """The gift a PaymentIntent paid, with the processor fee from its balance transaction."""
        charge = intent["latest_charge"]
        covered = str((intent.get("metadata") or {}).get("covered_cents", "0"))
        return PaymentConfirmed(
            event_id=event_id, provider=self.name, payment_id=charge["id"], campaign_id=campaign_id,
            donation_id=donation_id, amount_cents=charge["amount"], currency=charge["currency"].upper(),
            fee_cents=charge["balance_transaction"]["fee"], pledge_id=pledge_id,
            covered_cents=int(covered) if covered.isdigit() else 0, paid_at=paid_at,
        ), charge

    def _installment(self, event_id: str, invoice: Any) -> tuple[PaymentConfirmed, dict[str, Any]] | None:
        """Each paid invoice of a monthly pledge is a donation of its own (the first one is the pledge)."""
        metadata = pledge_metadata(invoice)
        if metadata is None:
            return None  # another product's subscription
        pledge_id = metadata["donation_id"]
        first = invoice["billing_reason"] == "subscription_create"
        donation_id = pledge_id if first else f"{pledge_id}-{invoice['id']}"
        payments = self._client.v1.invoice_payments.list({"invoice": invoice["id"]})
        if not payments.data or not invoice.get("amount_paid"):
            return None  # nothing was charged (a $0 invoice: a trial, a full discount): no gift to book
        intent_id = payments.data[0].to_dict()["payment"]["payment_intent"]
        # Charges of a subscription carry no metadata of ours: put it on the PaymentIntent, so a later
        # refund or dispute of this charge finds its donation.
        placed = metadata | {"donation_id": donation_id, "pledge_id": pledge_id}
        intent = self._client.v1.payment_intents.update(
            intent_id, {"metadata": placed, "expand": CHARGE_EXPANSION}).to_dict()  # the update answers with it
        return self._gift(event_id, intent, metadata["campaign_id"], donation_id, pledge_id,
                          (invoice.get("status_transitions") or {}).get("paid_at"))

    def _invoice_of(self, payment_intent_id: str) -> dict[str, Any] | None:
        """The Jubilee pledge's invoice a PaymentIntent paid, found through Stripe's invoice payments."""
        found = self._client.v1.invoice_payments.list({
            "payment": {"type": "payment_intent", "payment_intent": payment_intent_id}, "expand": ["data.invoice"]})
        invoice = found.data[0].to_dict()["invoice"] if found.data else None
        return invoice if isinstance(invoice, dict) and pledge_metadata(invoice) else None

    # --- reconciliation -----------------------------------------------------------------------

    def processor_side(self, campaign_id: str, since: int | None = None) -> Side:
        """The campaign's charges and refunds as Stripe's balance transactions record them (all pages)."""
        params: BalanceTransactionListParams = {
            "limit": 100, "expand": ["data.source.payment_intent", "data.source.charge.payment_intent"]}
        if since is not None:
            params["created"] = {"gte": since}
        side, campaigns = Side(), dict[str, str | None]()  # each PaymentIntent's campaign, looked up once
        for page_item in self._client.v1.balance_transactions.list(params).auto_paging_iter():
            txn = page_item.to_dict()
            source = txn.get("source")
            if not isinstance(source, dict) or txn["type"] not in COUNTED:
                continue  # payouts, fees, adjustments: not gifts or refunds
            charge = source.get("charge") if source.get("object") == "refund" else source
            if not isinstance(charge, dict) or not isinstance(intent := charge.get("payment_intent"), dict):
                continue  # not a PaymentIntent's: not Jubilee's
            if intent["id"] not in campaigns:
                campaigns[intent["id"]] = self._campaign_of(intent)
            if campaigns[intent["id"]] != campaign_id:
                continue  # another campaign's, or not Jubilee's at all
            if txn["type"] in CHARGED:
                side.charge(charge["id"], txn["amount"])
            else:
                side.refund(charge["id"], -txn["amount"])  # refunds are negative, failed refunds positive
        return side

    def _campaign_of(self, intent: dict[str, Any]) -> str | None:
        """The campaign a PaymentIntent paid: from its metadata, or, for an installment not yet placed,
        from its invoice's subscription."""
        metadata = intent.get("metadata") or {}
        if "campaign_id" not in metadata:
            invoice = self._invoice_of(intent["id"])
            metadata = (pledge_metadata(invoice) if invoice else None) or {}
        return metadata.get("campaign_id")


def ours(metadata: dict[str, Any]) -> bool:
    """Metadata a Jubilee checkout set: without it, a payment is another product's on the same account."""
    return "campaign_id" in metadata and "donation_id" in metadata


def pledge_metadata(invoice: dict[str, Any]) -> dict[str, Any] | None:
    """A subscription invoice's Jubilee metadata (its pledge), or None for another product's invoice."""
    details = (invoice.get("parent") or {}).get("subscription_details") or invoice.get("subscription_details") or {}
    metadata = dict(details.get("metadata") or {})
    return metadata if ours(metadata) else None


def dispute_status(stripe_status: str) -> DisputeStatus | None:
    """A dispute's state for the books. Inquiries (`warning_*`) and prevented disputes move no money: None."""
    if stripe_status == "won":
        return "won"
    if stripe_status == "lost":
        return "lost"
    return None if stripe_status.startswith("warning_") or stripe_status == "prevented" else "open"
