"""Receipts and statements as pages a donor reads and prints: the site's page (functions/domain/pages.py),
no script, the same facts as the JSON answer and the PDF. The site's stylesheet prints them without the
header, footer, links and buttons."""

from __future__ import annotations

from html import escape

from functions.domain.money import format_cents
from functions.domain.pages import site_page
from functions.domain.receipts import Document


def document_page(doc: Document, links: list[tuple[str, str]], site_url: str, campaign_id: str) -> str:
    """`links`: (text, URL) pairs under the receipt (its PDF, the year's statement, managing the gift)."""
    issuer = "<br>".join(escape(line) for line in doc.issuer)
    facts = "".join(f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>" for label, value in doc.facts)
    table = ""
    if doc.gifts:
        rows = "".join(f"<tr><td>{escape(g.date)}</td><td>{escape(g.campaign_id)}/{escape(g.donation_id)}</td>"
                       f'<td class="num">{escape(format_cents(g.amount_cents, g.currency))}</td>'
                       f'<td class="num">{escape(format_cents(g.refunded_cents, g.currency))}</td></tr>'
                       for g in doc.gifts)
        table = ('<table><caption>Gifts</caption><thead><tr><th scope="col">Date</th><th scope="col">Receipt '
                 'number</th><th scope="col" class="num">Amount</th><th scope="col" class="num">Refunded</th>'
                 f"</tr></thead><tbody>{rows}</tbody></table>")
    notes = "".join(f"<p>{escape(note)}</p>" for note in doc.notes)
    nav = "".join(f'<li><a href="{escape(url)}">{escape(text)}</a></li>' for text, url in links)
    body = (f'<p class="issuer">{issuer}</p><dl class="facts">{facts}</dl>{table}<div class="tax">{notes}</div>'
            f'<nav aria-label="This receipt"><ul>{nav}</ul></nav>')
    return site_page(doc.title, body, site_url, campaign_id)


def message_page(title: str, text: str, site_url: str, campaign_id: str = "", actions: str = "") -> str:
    """A short page: a stopped gift, a link that does not work; `actions`: markup (a form), already escaped."""
    back = f"{site_url}?campaign={campaign_id}" if campaign_id else site_url
    return site_page(title, f'<p>{escape(text)}</p>{actions}<p><a href="{escape(back)}">Back to the campaign</a></p>',
                     site_url, campaign_id)
