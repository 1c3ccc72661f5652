"""The campaign's public site (`site/`): what `jubilee serve` serves at `/`, what the stack
deploys behind CloudFront, and the self-contained report `make demo` writes.

One list of security headers serves both the local server and CloudFront's response headers
policy; one config script tells the pages where the API is (injected at deploy time).
"""

from __future__ import annotations

import json
import mimetypes
import re
from pathlib import Path
from typing import Any

SITE = Path(__file__).resolve().parent.parent / "site"
CONFIG = "config.js"  # made per deployment, never a file in site/

# 'self' only: the pages load nothing from anywhere else, and no one may frame them.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
                           "form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


def config_js(api: str, campaign: str, api_url: str) -> str:
    """`api`: the base the pages call ("" = their own origin); `api_url`: the API's public URL,
    shown to people who want to verify the log."""
    return f"window.JUBILEE_CONFIG = {json.dumps({'api': api, 'campaign': campaign, 'apiUrl': api_url})};\n"


def static_file(path: str) -> tuple[bytes, str] | None:
    """The site file at a URL path ("/" is the dashboard), with its content type; None if none."""
    name = "index.html" if path in ("", "/") else path.lstrip("/")
    target = (SITE / name).resolve()
    if SITE not in target.parents or not target.is_file():
        return None
    kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    return target.read_bytes(), f"{kind}; charset=utf-8" if kind.startswith("text/") or kind.endswith(
        ("javascript", "svg+xml")) else kind


def demo_report(figures: dict[str, Any], purchases: list[dict[str, Any]], log: list[dict[str, Any]]) -> str:
    """The dashboard as one file: its stylesheet and scripts inlined, the campaign's data embedded."""
    html = (SITE / "index.html").read_text()
    data = json.dumps({"figures": figures, "purchases": purchases, "log": log}, sort_keys=True)
    inline = {
        CONFIG: config_js("", figures["campaign_id"], "") + f"window.JUBILEE_DATA = {_script_safe(data)};\n",
        **{f"assets/{n}": (SITE / "assets" / n).read_text() for n in ("money.js", "charts.js", "dashboard.js")},
    }
    scripts = ""
    for src, code in inline.items():  # inlined at the end of the body, where the page is parsed (as defer would)
        html = re.sub(rf'<script src="{re.escape(src)}"( defer)?></script>\n', "", html)
        scripts += f"<script>\n{code}</script>\n"
    html = html.replace("</body>", f"{scripts}</body>")
    css = (SITE / "assets" / "site.css").read_text()
    html = html.replace('<link rel="stylesheet" href="assets/site.css">', f"<style>\n{css}</style>")
    html = re.sub(r'<link rel="icon"[^>]*>\n', "", html)
    # Links to the live site's pages make no sense in a file: the report says where it came from instead.
    return html.replace('<a class="button" href="donate.html" data-keep-campaign>Give</a>', "")


def _script_safe(text: str) -> str:
    """JSON inside <script>: no "</script>" or "<!--" can end it early."""
    return text.replace("<", "\\u003c")
