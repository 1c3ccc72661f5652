"""Email to donors, composed: a receipt when a gift is booked, one for each monthly installment, and a
statement of the past year's gifts in January. Each carries a signed unsubscribe link, also as the
List-Unsubscribe header with RFC 8058's one-click POST. Pure: the caller brings keys, links and time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from html import escape
from typing import Any, Literal

from functions.domain.campaigns import EMAIL_ADDRESS, Campaign
from functions.domain.gifts import PaymentConfirmed
from functions.domain.money import format_cents
from functions.domain.pages import site_page
from functions.domain.receipts import Statement, link_signature
from functions.domain.verify_page import _page  # the one page style the donors' and debtors' pages share

Kind = Literal["receipt", "installment", "statement"]
ONE_CLICK = "List-Unsubscribe=One-Click"  # RFC 8058: the List-Unsubscribe-Post header, and the POST's body


class Undeliverable(ValueError):
    """An address a message cannot go to as is (not plain ASCII: SES would need SMTPUTF8): skipped."""


# --- links ---------------------------------------------------------------------------------------

def unsubscribe_signature(key: bytes, campaign_id: str, donor_ref: str) -> str:
    """What makes an unsubscribe link the donor's own: per donor and campaign, unguessable."""
    return hmac.new(key, f"unsubscribe|{campaign_id}|{donor_ref}".encode(), hashlib.sha256).hexdigest()[:32]


def unsubscribe_signature_ok(key: bytes, campaign_id: str, donor_ref: str, given: str) -> bool:
    # As bytes: compare_digest raises TypeError on a str with non-ASCII characters.
    return hmac.compare_digest(unsubscribe_signature(key, campaign_id, donor_ref).encode(), (given or "").encode())


def unsubscribe_link(site_url: str, key: bytes, campaign_id: str, donor_ref: str) -> str:
    return f"{site_url.rstrip('/')}/unsubscribe/{campaign_id}/{donor_ref}?sig=" \
           f"{unsubscribe_signature(key, campaign_id, donor_ref)}"


def receipt_link(site_url: str, key: bytes, campaign_id: str, donation_id: str) -> str:
    """The gift's receipt, at the signed link the API gives the donor when they pledge (on the site's
    origin, which serves /receipts/* from the API)."""
    return f"{site_url.rstrip('/')}/receipts/{campaign_id}/{donation_id}?sig=" \
           f"{link_signature(key, 'receipt', campaign_id, donation_id)}"


def receipts_message_id(campaign_id: str, transfer_ids: Iterable[str]) -> str:
    """The outbox id asking for a booked batch's receipts: the same batch booked again asks once."""
    batch = hashlib.sha256("|".join(sorted(transfer_ids)).encode()).hexdigest()[:24]
    return f"email#receipts#{campaign_id}#{batch}"


def receipts_message(campaign_id: str, gifts: Iterable[PaymentConfirmed]) -> dict[str, Any]:
    """One message for a batch's receipts (an outbox item and a queue message per batch, not per gift): the mail
    function reads the batch's donations at once, and sends to those who gave an email."""
    return {"kind": "receipts", "campaign_id": campaign_id, "donation_ids": [g.donation_id for g in gifts]}


# --- who gets a statement ---------------------------------------------------------------------------

def statement_donors(donations: Iterable[Mapping[str, Any]], year: int,
                     reachable: Callable[[str], bool]) -> dict[str, list[str]]:
    """Each donor (by donor_ref) with a confirmed gift in `year`, and those gifts' donation ids, in order;
    only donors `reachable` says gave an email."""
    found: dict[str, list[str]] = {}
    for d in sorted(donations, key=lambda d: (str(d.get("confirmed_at", "")), d["donation_id"])):
        ref = d.get("donor_ref")
        if ref and reachable(ref) and d.get("status") == "confirmed" \
                and str(d.get("confirmed_at", "")).startswith(f"{year}-"):
            found.setdefault(ref, []).append(d["donation_id"])
    return found


# --- the messages ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Content:
    subject: str
    paragraphs: tuple[str, ...]  # plain text, one paragraph each
    links: tuple[tuple[str, str], ...] = ()  # (label, URL), after the paragraphs
    rows: tuple[tuple[str, ...], ...] = ()  # a table (first row: its heading), before the links


def kind_of(donation: Mapping[str, Any]) -> Kind:
    """A monthly pledge's later payments name their pledge: each has a message of its own."""
    return "installment" if donation.get("pledge_id") and donation["pledge_id"] != donation["donation_id"] \
        else "receipt"


def _greeting(name: str | None) -> str:
    return f"Dear {name}," if name else "Hello,"


def receipt_content(campaign: Campaign, donation: Mapping[str, Any], donor_name: str | None,
                    receipt_url: str) -> Content:
    amount = format_cents(int(donation["amount_cents"]), donation["currency"])
    day = str(donation["confirmed_at"])[:10]
    if kind_of(donation) == "installment":
        subject, what = f"Your monthly gift of {amount} to {campaign.name}", \
            f"This month's installment of your monthly gift, {amount}, reached {campaign.name} on {day}."
    else:
        subject = f"Receipt: {amount} to {campaign.name}"
        what = f"Thank you for your gift of {amount} to {campaign.name}, received on {day}."
        if donation.get("frequency") == "monthly":
            what += " It is the first month of your monthly gift."
    paragraphs = [_greeting(donor_name), what, f"Receipt number: {campaign.campaign_id}/{donation['donation_id']}"]
    if campaign.tax_statement:
        paragraphs.append(campaign.tax_statement)
    return Content(subject, tuple(paragraphs), (("Your receipt", receipt_url),))


def statement_content(campaign: Campaign, statement: Statement, donor_name: str | None,
                      receipt_urls: Mapping[str, str]) -> Content:
    totals = statement.totals()
    given = ", ".join(format_cents(cents, currency) for currency, cents in sorted(totals.items()))
    rows = [("Date", "Gift", "Refunded", "Net")] + [
        (line.date, format_cents(line.amount_cents, line.currency), format_cents(line.refunded_cents, line.currency),
         format_cents(line.net_cents, line.currency)) for line in statement.lines]
    paragraphs = [_greeting(donor_name),
                  f"Your gifts to {campaign.name} in {statement.year}: {len(statement.lines)} gift(s), "
                  f"{given} in all, net of refunds.", "Keep this statement with your records."]
    if campaign.tax_statement:
        paragraphs.append(campaign.tax_statement)
    links = tuple((f"Receipt of {line.date} ({format_cents(line.amount_cents, line.currency)})",
                   receipt_urls[line.donation_id]) for line in statement.lines if line.donation_id in receipt_urls)
    return Content(f"Your {statement.year} giving to {campaign.name}: {given}", tuple(paragraphs), links,
                   tuple(rows))


def _text(content: Content, unsubscribe_url: str, campaign_name: str) -> str:
    parts = list(content.paragraphs)
    if content.rows:
        parts.append("\n".join("  ".join(cell.ljust(12) for cell in row).rstrip() for row in content.rows))
    parts += [f"{label}: {url}" for label, url in content.links]
    parts.append(f"-- \nYou get this email because you gave to {campaign_name}. "
                 f"To get no more email from it: {unsubscribe_url}")
    return "\n\n".join(parts) + "\n"


def _html(content: Content, unsubscribe_url: str, campaign_name: str) -> str:
    body = "".join(f"<p>{escape(p)}</p>" for p in content.paragraphs)
    if content.rows:
        head, *rows = content.rows
        body += ("<table><thead><tr>" + "".join(f"<th scope=col>{escape(c)}</th>" for c in head) + "</tr></thead>"
                 "<tbody>" + "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
                 + "</tbody></table>")
    body += "".join(f'<p><a href="{escape(url)}">{escape(label)}</a></p>' for label, url in content.links)
    body += (f"<hr><p><small>You get this email because you gave to {escape(campaign_name)}. "
             f'<a href="{escape(unsubscribe_url)}">Unsubscribe</a></small></p>')
    return _page(content.subject, body)


def message(campaign: Campaign, to: str, content: Content, unsubscribe_url: str, at: dt.datetime) -> bytes:
    """The whole message as SES takes it raw: text and HTML, from the campaign's sender under its name, with
    List-Unsubscribe (and its one-click POST) so mail programs offer the donor a button."""
    if not EMAIL_ADDRESS.match(to or ""):
        raise Undeliverable("the donor's address is not a plain ASCII address")
    mail = EmailMessage(policy=SMTP.clone(max_line_length=998))  # long links are folded nowhere
    mail["From"] = Address(display_name=campaign.name, addr_spec=campaign.email_from)
    mail["To"] = Address(addr_spec=to)
    mail["Subject"] = content.subject
    mail["Date"] = format_datetime(at)
    mail["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    mail["List-Unsubscribe-Post"] = ONE_CLICK
    mail.set_content(_text(content, unsubscribe_url, campaign.name))
    mail.add_alternative(_html(content, unsubscribe_url, campaign.name), subtype="html")
    return mail.as_bytes()


# --- the unsubscribe pages -----------------------------------------------------------------------------

def unsubscribe_page(campaign_name: str, done: bool, site_url: str, campaign_id: str) -> str:
    """A browser's page at the link, on the site's page: a button (GET never unsubscribes: mail scanners
    follow links), then the answer. The form posts what a mail program's one-click button does."""
    if done:
        return site_page("You are unsubscribed", f"<p>{escape(campaign_name)} will send you no more email.</p>",
                         site_url, campaign_id)
    form = ('<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
            "<button>Unsubscribe</button></form>")
    return site_page("Unsubscribe", f"<p>Stop all email from {escape(campaign_name)}: receipts, monthly receipts "
                                    f"and the year-end statement.</p>{form}", site_url, campaign_id)


def bad_link_page(site_url: str) -> str:
    return site_page("Link not recognised", "<p>This unsubscribe link is not one we sent. Use the link in the "
                                            "email itself, whole.</p>", site_url)
