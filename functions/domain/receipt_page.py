"""Receipts and statements as pages a donor reads and prints: plain HTML, no script, nothing from
another origin, the same facts as the JSON answer and the PDF."""

from __future__ import annotations

from html import escape

from functions.domain.money import format_cents
from functions.domain.receipts import Document

STYLE = ("body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}"
         "dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}"
         "table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.25rem .5rem;"
         "border-bottom:1px solid #ccc}td.n{text-align:right}.issuer{margin:0 0 1rem}.tax{border-left:4px solid "
         "#1a7f37;padding-left:1rem}a{color:#0b57d0}@media print{nav,form{display:none}body{margin:0}}")


def document_page(doc: Document, links: list[tuple[str, str]]) -> str:
    """`links`: (text, URL) pairs under the receipt (its PDF, the year's statement, managing the gift)."""
    issuer = "<br>".join(escape(line) for line in doc.issuer)
    facts = "".join(f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>" for label, value in doc.facts)
    table = ""
    if doc.gifts:
        rows = "".join(f"<tr><td>{escape(g.date)}</td><td>{escape(g.campaign_id)}/{escape(g.donation_id)}</td>"
                       f'<td class="n">{escape(format_cents(g.amount_cents, g.currency))}</td>'
                       f'<td class="n">{escape(format_cents(g.refunded_cents, g.currency))}</td></tr>'
                       for g in doc.gifts)
        table = ('<table><caption>Gifts</caption><thead><tr><th scope="col">Date</th><th scope="col">Receipt '
                 'number</th><th scope="col">Amount</th><th scope="col">Refunded</th></tr></thead>'
                 f"<tbody>{rows}</tbody></table>")
    notes = "".join(f"<p>{escape(note)}</p>" for note in doc.notes)
    nav = "".join(f'<li><a href="{escape(url)}">{escape(text)}</a></li>' for text, url in links)
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{escape(doc.title)}</title>'
            f"<style>{STYLE}</style></head><body><header><p class=\"issuer\">{issuer}</p></header><main>"
            f"<h1>{escape(doc.title)}</h1><dl>{facts}</dl>{table}<div class=\"tax\">{notes}</div></main>"
            f"<nav aria-label=\"This receipt\"><ul>{nav}</ul></nav></body></html>")


def message_page(title: str, text: str, back: str, actions: str = "") -> str:
    """A short page: a stopped gift, a link that does not work; `actions`: markup (a form), already escaped."""
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{escape(title)}</title>'
            f"<style>{STYLE}</style></head><body><main><h1>{escape(title)}</h1><p>{escape(text)}</p>{actions}"
            f'<p><a href="{escape(back)}">Back to the campaign</a></p></main></body></html>')
