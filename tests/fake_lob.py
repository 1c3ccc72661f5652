"""A stand-in for Lob's print-and-mail API, served on a local port: enough of it for Jubilee's calls,
in Lob's shapes (the `lob-python` SDK deserialises every answer against its OpenAPI models).

`POST /v1/us_verifications` verifies an address, `POST /v1/letters` takes a letter (honouring the
`Idempotency-Key` header as Lob does: the same key answers the letter already made), and `track`
makes the tracking event Lob would send to a webhook, signed as Lob signs them: `Lob-Signature` is
the hex HMAC-SHA256 of "<Lob-Signature-Timestamp>.<body>" under the webhook's secret.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from tests.fake_stripe import send_json

UNDELIVERABLE = "1 Nowhere Ln"  # the fake's address that USPS would not deliver to


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def sign(body: bytes, secret: str, timestamp: str | None = None) -> dict[str, str]:
    """The headers Lob sends with a webhook: its timestamp and the signature over "<timestamp>.<body>"."""
    stamp = timestamp or str(int(time.time() * 1000))
    digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"Lob-Signature": digest, "Lob-Signature-Timestamp": stamp}


class FakeLob:
    def __init__(self, api_key: str = "test_fake_key") -> None:
        self.api_key = api_key
        self.letters: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, str] = {}  # Idempotency-Key -> letter id
        self.requests: list[tuple[str, str]] = []  # (method, path) of every call
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.webhook_url, self.webhook_secret = "", ""  # where send_all posts tracking events

    # --- serving ------------------------------------------------------------------------

    def start(self, port: int = 0) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                status, answer = fake.answer(self.path, dict(self.headers), self.rfile.read(length))
                send_json(self, status, answer)

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeLob:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # --- the API ------------------------------------------------------------------------

    def answer(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        self.requests.append(("POST", path))
        auth = headers.get("Authorization", "")
        if path.startswith("/_fake/"):
            auth = "Basic " + base64.b64encode(f"{self.api_key}:".encode()).decode()
        if not auth.startswith("Basic ") or base64.b64decode(auth[6:]).decode() != f"{self.api_key}:":
            return 401, {"error": {"message": "Your API key is not valid.", "status_code": 401,
                                   "code": "unauthorized"}}
        data = self._body(headers, body)
        if path == "/v1/us_verifications":
            return 200, self.verification(data)
        if path == "/v1/letters":
            return self.create_letter(headers.get("Idempotency-Key"), data)
        if path.startswith("/_fake/mail-all/") and self.webhook_url:  # a local run's stand-in for the mail stream
            return 200, {"delivered": self.send_all(path.rsplit("/", 1)[1])}
        return 404, {"error": {"message": "not found", "status_code": 404, "code": "not_found"}}

    @staticmethod
    def _body(headers: dict[str, str], body: bytes) -> dict[str, Any]:
        if headers.get("Content-Type", "").startswith("application/json"):
            return json.loads(body or b"{}")
        return dict(parse_qsl(body.decode()))

    def verification(self, data: dict[str, Any]) -> dict[str, Any]:
        primary = str(data.get("primary_line", "")).upper()
        bad = primary == UNDELIVERABLE.upper()
        return {"id": f"us_ver_{next(self._ids):08x}", "recipient": data.get("recipient"),
                "primary_line": primary, "secondary_line": "", "urbanization": "",
                "last_line": f"{str(data.get('city', '')).upper()} {data.get('state', '')} {data.get('zip_code', '')}",
                "deliverability": "undeliverable" if bad else "deliverable", "valid_address": not bad,
                "object": "us_verification"}

    def create_letter(self, key: str | None, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        for field in ("to", "from", "file", "use_type"):
            if field not in data:
                return 422, {"error": {"message": f"{field} is required", "status_code": 422,
                                       "code": "invalid"}}
        with self._lock:
            if key and key in self.by_key:
                return 200, self.letters[self.by_key[key]]
            letter_id = f"ltr_{next(self._ids):016x}"
            now = _now()

            def address(fields: dict[str, Any], prefix: str) -> dict[str, Any]:
                return {"id": f"adr_{prefix}{next(self._ids):012x}", "object": "address", "date_created": now,
                        "date_modified": now, "deleted": False,
                        **{k: v for k, v in fields.items() if k != "address_country"}}

            letter = {"id": letter_id, "object": "letter", "to": address(data["to"], "t"),
                      "from": address(data["from"], "f"), "date_created": now, "date_modified": now,
                      "return_envelope": False, "use_type": data["use_type"], "color": data.get("color", False),
                      "double_sided": data.get("double_sided", True), "mail_type": data.get("mail_type"),
                      "address_placement": data.get("address_placement"), "carrier": "USPS",
                      "metadata": data.get("metadata", {}), "description": data.get("description"),
                      "tracking_events": [], "url": f"https://lob-assets.example/letters/{letter_id}.pdf"}
            self.letters[letter_id] = letter | {"file": data["file"]}
            if key:
                self.by_key[key] = letter_id
            return 200, letter

    # --- what happens in the mail stream ------------------------------------------------

    def track(self, letter_id: str, event_type: str, secret: str,
              timestamp: str | None = None) -> tuple[bytes, dict[str, str]]:
        """The webhook Lob sends for a tracking event of this letter: (body, headers)."""
        letter = {k: v for k, v in self.letters[letter_id].items() if k != "file"}
        event = {"id": f"evt_{next(self._ids):016x}", "object": "event", "date_created": _now(),
                 "reference_id": letter_id, "body": letter,
                 "event_type": {"id": event_type, "enabled_for_test": True, "resource": "letters",
                                "object": "event_type"}}
        body = json.dumps(event).encode()
        return body, sign(body, secret, timestamp) | {"Content-Type": "application/json"}

    def send_all(self, event_type: str) -> int:
        """Post `event_type` for every letter to the webhook, as Lob would; returns how many were taken."""
        from urllib.request import Request, urlopen

        taken = 0
        for letter_id in list(self.letters):
            body, headers = self.track(letter_id, event_type, self.webhook_secret)
            with urlopen(Request(self.webhook_url, body, headers, method="POST"), timeout=10) as answer:
                taken += answer.status == 200
        return taken


if __name__ == "__main__":  # a fake Lob for `jubilee serve` (README, Letters)
    import argparse

    parser = argparse.ArgumentParser(description="a local fake of Lob's API")
    parser.add_argument("--port", type=int, default=4010)
    parser.add_argument("--api-key", default="test_local")
    parser.add_argument("--webhook", default="http://127.0.0.1:3000/webhooks/mail/lob")
    parser.add_argument("--secret", default="local-lob-webhook-secret")
    args = parser.parse_args()
    fake = FakeLob(args.api_key)
    fake.webhook_url, fake.webhook_secret = args.webhook, args.secret
    print(f"fake Lob at {fake.start(args.port)}; mail every letter: curl -X POST "
          f"http://127.0.0.1:{args.port}/_fake/mail-all/letter.mailed", flush=True)
    threading.Event().wait()
