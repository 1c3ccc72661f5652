"""Donors' receipts: one per confirmed gift, and a year-end statement per donor."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


def receipt_signature(key: bytes, campaign_id: str, donation_id: str) -> str:
    """What makes a receipt link unguessable: only the holder of the link can read the receipt."""
    return hmac.new(key, f"receipt|{campaign_id}|{donation_id}".encode(), hashlib.sha256).hexdigest()[:32]


def signature_matches(key: bytes, campaign_id: str, donation_id: str, given: str) -> bool:
    # As bytes: compare_digest raises TypeError on a str with non-ASCII characters.
    return hmac.compare_digest(receipt_signature(key, campaign_id, donation_id).encode(), (given or "").encode())


@dataclass(frozen=True)
class ReceiptLine:
    campaign_id: str
    donation_id: str
    date: str  # YYYY-MM-DD the gift was confirmed
    amount_cents: int
    refunded_cents: int
    currency: str

    @property
    def net_cents(self) -> int:
        return self.amount_cents - self.refunded_cents


def receipt_line(donation: Mapping[str, Any]) -> ReceiptLine:
    return ReceiptLine(donation["campaign_id"], donation["donation_id"], str(donation["confirmed_at"])[:10],
                       int(donation["amount_cents"]), int(donation.get("refunded_cents", 0)), donation["currency"])


def receipt(donation: Mapping[str, Any], campaign: Mapping[str, Any],
            installments: Iterable[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """A confirmed gift's receipt, for its donor only (the link is signed); never published. A gift recorded
    by hand (a check, cash, a wire) says how it was paid, and its reference."""
    line = receipt_line(donation)
    donor = donation.get("donor") or {}
    return {
        "receipt_number": f"{line.campaign_id}/{line.donation_id}", "campaign": campaign["name"],
        "date": line.date, "amount_cents": line.amount_cents, "refunded_cents": line.refunded_cents,
        "net_cents": line.net_cents, "currency": line.currency, "frequency": donation.get("frequency", "once"),
        "donor_name": donor.get("name"), "tax_statement": campaign.get("tax_statement") or "",
        "installments": [receipt_line(i).__dict__ for i in installments if i.get("status") == "confirmed"],
    } | ({"method": donation["method"], "reference": donation["reference"]} if donation.get("method") else {})


@dataclass(frozen=True)
class Statement:
    email: str
    year: int
    lines: tuple[ReceiptLine, ...]

    def totals(self) -> dict[str, int]:
        """Net given per currency: refunds are not gifts."""
        out: dict[str, int] = {}
        for line in self.lines:
            out[line.currency] = out.get(line.currency, 0) + line.net_cents
        return out


def year_end_statement(donations: Iterable[Mapping[str, Any]], email: str, year: int) -> Statement:
    """The statement of one donor's donations (the caller picks theirs): the year's confirmed gifts."""
    lines = [receipt_line(d) for d in donations
             if d.get("status") == "confirmed" and str(d.get("confirmed_at", "")).startswith(f"{year}-")]
    return Statement(email, year, tuple(sorted(lines, key=lambda line: (line.date, line.donation_id))))
