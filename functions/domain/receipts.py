"""Donors' receipts: one per confirmed gift, and a statement of a donor's gifts in a year.

What a receipt says follows the IRS's rules for a written acknowledgment (Publication 1771):
the organisation's name, the amount and date of the gift, and whether any goods or services
were given in exchange (Jubilee gives none). A 501(c)(3)'s receipt also names its EIN and says
the gift is deductible; every other kind of campaign's says it is not.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from functions.domain.impact import SHARE_DEFINITION, abolished_share_cents
from functions.domain.money import format_cents


def link_signature(key: bytes, purpose: str, *parts: str) -> str:
    """What makes a donor's link unguessable (a receipt, a statement, a cancel link): only its holder can
    use it, and a link made for one purpose never works for another. ("receipt|<campaign>|<donation>" is
    what receipt links were always signed over: the links donors already hold keep working.)"""
    return hmac.new(key, "|".join((purpose, *parts)).encode(), hashlib.sha256).hexdigest()[:32]


def link_matches(key: bytes, given: str, purpose: str, *parts: str) -> bool:
    # As bytes: compare_digest raises TypeError on a str with non-ASCII characters.
    return hmac.compare_digest(link_signature(key, purpose, *parts).encode(), (given or "").encode())


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


def tax_lines(campaign: Mapping[str, Any], gifts: int = 1) -> list[str]:
    """What a receipt says about taxes: no goods or services given in exchange (Publication 1771's
    statement, required for gifts of $250 or more), and whether the gift is deductible."""
    organisation = campaign.get("legal_name") or campaign["name"]
    these = "this contribution" if gifts == 1 else "these contributions"
    lines = [f"No goods or services were provided in exchange for {these}."]
    if campaign.get("entity_type") == "501c3":
        ein = f" (EIN {campaign['ein']})" if campaign.get("ein") else ""
        lines.append(f"{organisation}{ein} is a tax-exempt organization under section 501(c)(3) of the Internal "
                     "Revenue Code. Your gift is tax-deductible to the extent allowed by law; keep this receipt "
                     "for your tax records.")
    else:
        lines.append(f"{organisation} is not a 501(c)(3) organization: this gift is not tax-deductible as a "
                     "charitable contribution.")
    if campaign.get("tax_statement"):
        lines.append(str(campaign["tax_statement"]))
    return lines


def issuer_lines(campaign: Mapping[str, Any]) -> list[str]:
    """Who gives the receipt: the legal name, its postal address and EIN when the campaign has them."""
    lines = [str(campaign.get("legal_name") or campaign["name"])]
    address = list(campaign.get("postal_address") or ())
    if len(address) == 4:
        lines += [address[0], f"{address[1]}, {address[2]} {address[3]}"]
    if campaign.get("ein"):
        lines.append(f"EIN {campaign['ein']}")
    return lines


def abolished_share(given_cents: int, figures: Mapping[str, Any]) -> dict[str, int]:
    """What a donor's gifts (net of refunds) have abolished so far, from the campaign's public figures
    (`raised_cents`, `face_value_forgiven_cents`): the dashboard's reckoning (functions/domain/impact.py)."""
    return {"abolished_share_cents": abolished_share_cents(
        max(given_cents, 0), figures["raised_cents"], figures["face_value_forgiven_cents"])}


def receipt(donation: Mapping[str, Any], campaign: Mapping[str, Any],
            installments: Iterable[Mapping[str, Any]] = (), figures: Mapping[str, Any] | None = None
            ) -> dict[str, Any]:
    """A confirmed gift's receipt, for its donor only (the link is signed); never published. A gift recorded
    by hand (a check, cash, a wire) says how it was paid, and its reference. With the campaign's public
    `figures`, its share of the debt abolished so far (a monthly gift's: all its months on the receipt)."""
    line = receipt_line(donation)
    donor = donation.get("donor") or {}
    months = [receipt_line(i) for i in installments if i.get("status") == "confirmed"]
    share = abolished_share(line.net_cents + sum(m.net_cents for m in months), figures) if figures else {}
    return {
        "receipt_number": f"{line.campaign_id}/{line.donation_id}", "campaign": campaign["name"],
        "organisation": campaign.get("legal_name") or campaign["name"], "ein": campaign.get("ein") or None,
        "entity_type": campaign.get("entity_type", "none"),
        "tax_deductible": campaign.get("entity_type") == "501c3",
        "goods_or_services_provided": False,
        "date": line.date, "amount_cents": line.amount_cents, "refunded_cents": line.refunded_cents,
        "net_cents": line.net_cents, "currency": line.currency, "frequency": donation.get("frequency", "once"),
        "covered_fees_cents": int(donation.get("covered_cents", 0)),
        "pledge_ended": bool(donation.get("ended_at")),
        "donor_name": donor.get("name"), "tax_statement": campaign.get("tax_statement") or "",
        "statements": tax_lines(campaign),
        "installments": [m.__dict__ for m in months],
    } | share | ({"method": donation["method"], "reference": donation["reference"]} if donation.get("method") else {})


@dataclass(frozen=True)
class Document:
    """A receipt or statement as its parts, for the HTML page and the PDF alike."""

    title: str
    issuer: list[str]
    facts: list[tuple[str, str]]  # (label, value)
    gifts: list[ReceiptLine] = field(default_factory=list)  # a table of gifts: a pledge's months, a year's gifts
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Everything it says, in reading order (the PDF's text)."""
        table = [f"{g.date}  {g.campaign_id}/{g.donation_id}  {format_cents(g.amount_cents, g.currency)}"
                 + (f"  (refunded {format_cents(g.refunded_cents, g.currency)})" if g.refunded_cents else "")
                 for g in self.gifts]
        return [*self.issuer, "", self.title, "", *(f"{label}: {value}" for label, value in self.facts),
                *([""] + table if table else []), "", *(note for n in self.notes for note in (n, ""))]


def _money(cents: int, currency: str) -> str:
    return format_cents(cents, currency)


def fee_note(covered_cents: int, currency: str) -> str:
    return (f"This amount includes {_money(covered_cents, currency)} you added to cover the payment processor's "
            "fee; what the fee does not use goes to the pool that buys debt.")


def share_fact(answer: Mapping[str, Any], currency: str) -> tuple[list[tuple[str, str]], list[str]]:
    """The share of the debt abolished so far, as a fact and the line that says how it is reckoned."""
    if "abolished_share_cents" not in answer:
        return [], []
    return ([("Debt abolished so far by your giving", _money(answer["abolished_share_cents"], currency))],
            [f"Debt abolished so far by your giving: your share of all the debt {answer['campaign']} has bought "
             f"and forgiven, {SHARE_DEFINITION}. Every gift is pooled, so it grows as the campaign forgives "
             "more."])


def gift_document(answer: Mapping[str, Any], campaign: Mapping[str, Any]) -> Document:
    """The receipt of one gift (`answer`: what `receipt` made of it)."""
    currency = answer["currency"]
    facts = [("Receipt number", answer["receipt_number"]), ("Received from", answer["donor_name"] or "")]
    facts = [fact for fact in facts if fact[1]]
    facts += [("Date received", answer["date"]), ("Amount", _money(answer["amount_cents"], currency))]
    if answer["refunded_cents"]:
        facts += [("Refunded", _money(answer["refunded_cents"], currency)),
                  ("Net gift", _money(answer["net_cents"], currency))]
    if answer["frequency"] == "monthly":
        facts.append(("Given", "monthly, ended" if answer["pledge_ended"] else "monthly, until you stop it"))
    if answer.get("method"):  # recorded by hand: a check, cash, a wire
        facts.append(("Paid by", f"{answer['method']}, reference {answer['reference']}"))
    facts.append(("To", f"{campaign['name']}"))
    share, definition = share_fact(answer, currency)
    notes = ([fee_note(answer["covered_fees_cents"], currency)] if answer["covered_fees_cents"] else [])
    installments = [ReceiptLine(**i) for i in answer["installments"]]
    return Document("Receipt for your gift", issuer_lines(campaign), facts + share, installments,
                    notes + definition + list(answer["statements"]))


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


def statement_answer(statement: Statement, campaign: Mapping[str, Any],
                     figures: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A donor's year in one campaign, for the donor (the link is signed): each gift, and the totals; with
    the campaign's public `figures`, the year's gifts' share of the debt abolished so far."""
    return {"campaign": campaign["name"], "organisation": campaign.get("legal_name") or campaign["name"],
            "ein": campaign.get("ein") or None, "year": statement.year,
            "tax_deductible": campaign.get("entity_type") == "501c3", "goods_or_services_provided": False,
            "gifts": [line.__dict__ | {"net_cents": line.net_cents} for line in statement.lines],
            "totals": statement.totals(), "statements": tax_lines(campaign, len(statement.lines))
            } | (abolished_share(statement.totals().get(figures["currency"], 0), figures) if figures else {})


def statement_document(answer: Mapping[str, Any], campaign: Mapping[str, Any]) -> Document:
    facts = [("Year", str(answer["year"])), ("To", campaign["name"]), ("Gifts", str(len(answer["gifts"])))]
    facts += [(f"Total given ({currency}, net of refunds)", _money(total, currency))
              for currency, total in sorted(answer["totals"].items())]
    share, definition = share_fact(answer, campaign["currency"])
    gifts = [ReceiptLine(**{k: v for k, v in g.items() if k != "net_cents"}) for g in answer["gifts"]]
    return Document(f"Your gifts in {answer['year']}", issuer_lines(campaign), facts + share, gifts,
                    definition + list(answer["statements"]))
