"""Money is integer minor units (cents) plus an ISO 4217 code. Never floats."""

from __future__ import annotations

from typing import Literal, get_args

# Currencies a campaign may be run in (the one list; the request model's type), with their
# minor-unit exponent. All have two decimals, so "cents" is exact for every one of them.
Currency = Literal["USD", "EUR", "GBP", "CAD", "AUD"]
CURRENCIES: dict[str, int] = dict.fromkeys(get_args(Currency), 2)

BPS = 10_000  # basis points in a whole


def is_cents(value: object) -> bool:
    """True for a real int (bool is an int in Python, but never money)."""
    return isinstance(value, int) and not isinstance(value, bool)


def share_bps(amount_cents: int, bps: int) -> int:
    """The floor of `bps` basis points of an amount; the remainder stays with the caller."""
    if not (is_cents(amount_cents) and is_cents(bps)):
        raise TypeError("money is integer cents")
    if amount_cents < 0 or not 0 <= bps <= BPS:
        raise ValueError("share_bps takes a non-negative amount and 0..10000 bps")
    return amount_cents * bps // BPS


def format_cents(cents: int, currency: str = "USD") -> str:
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    symbol = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$"}.get(currency, "")
    return f"{sign}{symbol}{whole:,}.{part:02d}" + ("" if symbol else f" {currency}")
