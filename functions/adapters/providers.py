"""The payment providers by name: what a campaign's `payments` setting and a webhook's path choose."""

from __future__ import annotations

from typing import Protocol

from functions.adapters.aws import settings
from functions.adapters.payments import ProviderUnavailable, SandboxPayments
from functions.adapters.secrets import derived_key
from functions.domain.campaigns import Campaign
from functions.domain.donations import DonationRequest
from functions.domain.gifts import PaymentEvent


class PaymentProvider(Protocol):
    name: str

    def start_checkout(self, campaign: Campaign, donation_id: str, request: DonationRequest,
                       covered_cents: int = 0, once: str = "", pledged_at: int = 0) -> str:
        """Open a checkout for a pledge (of which `covered_cents` covers the fee); the URL the donor pays at.
        The same `once` (default: the donation's id) and `pledged_at` (epoch seconds; default now) open the
        same checkout again."""
        ...

    def verify(self, headers: dict[str, str], body: bytes) -> PaymentEvent | None:
        """Check a webhook's signature and reduce it to what the books need (None: ignored type)."""
        ...


class UnknownProvider(LookupError):
    pass


__all__ = ["PaymentProvider", "ProviderUnavailable", "UnknownProvider", "provider"]


def provider(name: str) -> PaymentProvider:
    if name == "sandbox":
        if settings().payments != "sandbox":
            raise UnknownProvider("the sandbox provider is off in this deployment")
        return SandboxPayments(derived_key("sandbox-webhook"), settings().public_base_url)
    if name == "stripe":
        # Imported on use: the stripe package is large, and sandbox-only runs never need it.
        from functions.adapters.stripe_payments import StripePayments

        return StripePayments.configured()
    raise UnknownProvider(f"no payment provider {name!r}")
