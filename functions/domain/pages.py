"""The frame of a page the API itself serves (the sandbox checkout, its thank-you page): the campaign
site's own stylesheet, header, main and footer landmarks, one h1 and the page's language, so it reads
as part of the site. No script."""

from __future__ import annotations

from html import escape


def site_page(title: str, body: str, site_url: str, campaign_id: str = "", lang: str = "en") -> str:
    """`body` is HTML the caller has escaped; the site's assets are linked from `site_url`."""
    site = site_url.rstrip("/") + "/"
    home = escape(f"{site}?campaign={campaign_id}" if campaign_id else site)
    return (f'<!doctype html><html lang="{escape(lang)}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)} — Jubilee</title>"
            f'<link rel="stylesheet" href="{escape(site)}assets/site.css">'
            f'<link rel="icon" href="{escape(site)}assets/favicon.svg" type="image/svg+xml"></head><body>'
            f'<header class="top"><div class="wrap"><p class="brand">Jubilee</p>'
            f'<nav aria-label="Site"><a href="{home}">Dashboard</a></nav></div></header>'
            f'<main class="wrap narrow"><h1>{escape(title)}</h1>{body}</main>'
            '<footer class="wrap foot"><p>No cookies, no trackers, no third-party requests.</p></footer>'
            "</body></html>")
