"""`jubilee serve`'s local outbox: the email SES would have delivered, at /_local/mail (JSON at /_local/mail.json).

Nothing leaves the machine: moto's SES keeps each message. The page shows them newest first, their links
live (a receipt, the unsubscribe page), so a person can follow a donor's mail as it would arrive.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from html import escape
from typing import Any

PATH = "/_local/mail"
LINK = re.compile(r"https?://[^\s<>\"']+")


def summary(mail: EmailMessage) -> dict[str, Any]:
    text = mail.get_body(preferencelist=("plain",))
    return {"to": str(mail["To"]), "from": str(mail["From"]), "subject": str(mail["Subject"]),
            "date": str(mail["Date"]), "list_unsubscribe": str(mail["List-Unsubscribe"] or ""),
            "list_unsubscribe_post": str(mail["List-Unsubscribe-Post"] or ""),
            "text": text.get_content() if text is not None else ""}


def page(mails: list[EmailMessage]) -> str:
    def linked(text: str) -> str:
        parts, at = [], 0
        for found in LINK.finditer(text):
            parts += [escape(text[at:found.start()]), f'<a href="{escape(found.group())}">{escape(found.group())}</a>']
            at = found.end()
        return "".join(parts) + escape(text[at:])

    items = "".join(
        f"<article><h2>{escape(m['subject'])}</h2><dl><dt>To</dt><dd>{escape(m['to'])}</dd>"
        f"<dt>From</dt><dd>{escape(m['from'])}</dd><dt>Date</dt><dd>{escape(m['date'])}</dd>"
        f"<dt>List-Unsubscribe</dt><dd>{linked(m['list_unsubscribe'])}</dd></dl>"
        f"<pre>{linked(m['text'])}</pre></article>" for m in reversed([summary(m) for m in mails]))
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Local outbox</title>'
            '<meta name="viewport" content="width=device-width,initial-scale=1"></head><body><main>'
            f"<h1>Local outbox: {len(mails)} email(s)</h1>"
            "<p>What Amazon SES would have delivered from this run. Nothing left the machine.</p>"
            f"{items or '<p>No email yet.</p>'}</main></body></html>")
