"""The verify page a debtor (or a collector they point to it) reads in a browser: plain HTML, no
script, nothing from another origin; the same facts as the JSON answer, and what to do next."""

from __future__ import annotations

from html import escape

from functions.domain.money import format_cents

STYLE = ("body{font:16px/1.5 system-ui,sans-serif;max-width:38rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}"
         "dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}"
         ".ok{border-left:4px solid #1a7f37;padding-left:1rem}.miss{border-left:4px solid #b35900;padding-left:1rem}")


def _page(title: str, body: str) -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{escape(title)}</title>'
            f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>")


def forgiven_page(campaign_name: str, creditor: str, amount_cents: int, currency: str, forgiven_on: str,
                  site_url: str) -> str:
    facts = (f"<dl><dt>Forgiven by</dt><dd>{escape(campaign_name)}</dd>"
             f"<dt>Original creditor</dt><dd>{escape(creditor)}</dd>"
             f"<dt>Amount forgiven</dt><dd>{escape(format_cents(amount_cents, currency))}</dd>"
             f"<dt>Forgiven on</dt><dd>{escape(forgiven_on)}</dd></dl>")
    body = (f'<div class="ok"><p><strong>This debt is forgiven in full. Nothing is owed on it, and nothing '
            f"needs doing.</strong></p>{facts}</div>"
            "<h2>What to do next</h2><ul>"
            "<li>Keep the letter. Nobody will ask you for money or details about this debt.</li>"
            "<li>If a debt collector contacts you about it, show them the letter and its code, and send them to "
            "this page: a forgiven debt cannot be collected.</li>"
            "<li>If your credit report still shows a balance for it, dispute it with the credit bureau, with a "
            "copy of the letter.</li></ul>"
            '<p lang="es">Esta deuda está perdonada por completo: no se debe nada y no hay que hacer nada.</p>'
            f'<p><a href="{escape(site_url)}">About {escape(campaign_name)}</a></p>')
    return _page("Your debt is forgiven", body)


def miss_page(site_url: str) -> str:
    body = ('<div class="miss"><p>No forgiven debt has this code. Check it against the letter: 16 letters and '
            "digits (2 to 7), in groups of four; dashes and case don't matter.</p></div>"
            f'<p><a href="{escape(site_url)}">Back to the campaign</a></p>')
    return _page("Code not found", body)
