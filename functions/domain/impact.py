"""What the money did: a donor's share of the debt abolished, and a purchase's price split by what it bought.

Pure integer arithmetic on cents (no floats), so the dashboard's script, the receipts and the
exports give the same figure to the cent."""

from __future__ import annotations

from collections.abc import Mapping

from functions.domain.money import is_cents

# How the share is reckoned, as the dashboard and the receipts say it in one line.
SHARE_DEFINITION = "gift ÷ total raised × face value forgiven, rounded down to the cent"


def abolished_share_cents(gift_cents: int, raised_cents: int, face_value_forgiven_cents: int) -> int:
    """A donor's share of the debt abolished so far: gift ÷ total raised × face value forgiven, rounded
    down to the cent. Every gift is pooled, so each dollar given has abolished the same amount; nothing
    is abolished by a campaign that has raised nothing."""
    for name, value in (("gift_cents", gift_cents), ("raised_cents", raised_cents),
                        ("face_value_forgiven_cents", face_value_forgiven_cents)):
        if not is_cents(value) or value < 0:
            raise ValueError(f"{name}: must be zero or more whole cents")
    if raised_cents == 0:
        return 0
    return gift_cents * face_value_forgiven_cents // raised_cents


def split_cents(total_cents: int, weights: Mapping[str, int]) -> dict[str, int]:
    """`total_cents` split in proportion to `weights` (largest remainder, ties by key): the parts sum to
    the total exactly. E.g. a portfolio's price across the states its accounts were in, by face value."""
    if not is_cents(total_cents) or total_cents < 0 or any(not is_cents(w) or w < 0 for w in weights.values()):
        raise ValueError("split_cents takes zero or more whole cents and non-negative whole weights")
    whole = sum(weights.values())
    if whole == 0:
        raise ValueError("split_cents needs a positive weight")
    parts = {key: total_cents * weight // whole for key, weight in weights.items()}
    by_remainder = sorted(weights, key=lambda key: (-(total_cents * weights[key] % whole), key))
    for key in by_remainder[:total_cents - sum(parts.values())]:
        parts[key] += 1
    return parts
