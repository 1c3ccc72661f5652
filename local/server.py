"""`jubilee serve`: the API on a local port, the workers in the background, all on a moto server.

The moto server is a real endpoint, so operator commands reach this local run with
`--endpoint-url http://127.0.0.1:<aws-port>`, as they would reach AWS.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import sys
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from infra import site
from local import mailbox
from local.emulator import LocalCloud, log

PUMP_INTERVAL_S = 0.2
MAX_BODY = 10 * 1024 * 1024  # API Gateway's limit on a request's payload
# A client that announced more body than it sends is answered, not waited on forever (tests shorten it).
READ_TIMEOUT_S = float(os.environ.get("JUBILEE_SERVE_READ_TIMEOUT_S", "5"))
LOCAL_OPERATOR = "local-operator"  # the IAM user name serve's admin token stands for


class BadBody(Exception):
    """A request whose body cannot be read as announced: answered at once, in the API's error shape."""

    def __init__(self, status: int, error: str, field: str, problem: str):
        super().__init__(problem)
        self.status, self.error, self.field, self.problem = status, error, field, problem

    def payload(self) -> bytes:
        return json.dumps({"error": self.error, "message": self.problem,
                           "problems": [{"field": self.field, "problem": self.problem}]}).encode()


class Server(ThreadingHTTPServer):
    """Many donors at once: the default listen backlog of 5 resets connections under a burst."""

    request_queue_size = 128
    daemon_threads = True


def _handler_class(cloud: LocalCloud, campaign: str = "demo") -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "jubilee-local"
        timeout = READ_TIMEOUT_S  # on the socket: reads of a body that never comes end

        def _send(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":  # HEAD: GET's headers, no body
                self.wfile.write(payload)

        def _body(self) -> str | None:
            """The request body as text, or BadBody naming what is wrong with it (never quoting it)."""
            if self.headers.get("Transfer-Encoding"):
                raise BadBody(411, "length_required", "header.Transfer-Encoding",
                              "send the body with a Content-Length, not in chunks")
            given = (self.headers.get("Content-Length") or "0").strip()
            if not given.isdigit() or not given.isascii():
                raise BadBody(400, "bad_content_length", "header.Content-Length", "must be a whole number of bytes")
            length = int(given)
            if length > MAX_BODY:
                raise BadBody(413, "body_too_large", "body", f"must be at most {MAX_BODY} bytes")
            try:
                raw = self.rfile.read(length) if length else b""
            except TimeoutError:
                raw = b""
            if len(raw) < length:
                raise BadBody(400, "incomplete_body", "header.Content-Length",
                              f"announces {length} bytes; the body ended before them")
            try:
                return raw.decode() if length else None
            except UnicodeDecodeError:
                raise BadBody(400, "malformed_body", "body", "is not UTF-8 text") from None

        def _site(self, path: str) -> bool:
            """The public site at `/`, beside the API, with the headers CloudFront adds when deployed."""
            if self.command not in ("GET", "HEAD"):  # CloudFront's default: GET and HEAD
                return False
            if path == f"/{site.CONFIG}":
                found: tuple[bytes, str] | None = (site.config_js("", campaign, cloud.public_base_url).encode(),
                                                   "text/javascript; charset=utf-8")
            else:
                found = site.static_file(path)
            if found is None:
                return False
            self._send(200, found[0], {"Content-Type": found[1], "Cache-Control": "no-cache", **site.SECURITY_HEADERS})
            return True

        def _outbox(self, path: str) -> bool:
            """The mail this run would have sent (local only: no deployed stack has this page)."""
            if self.command not in ("GET", "HEAD") or path not in (mailbox.PATH, f"{mailbox.PATH}.json"):
                return False
            mails = cloud.sent_mail()
            if path.endswith(".json"):
                self._send(200, json.dumps([mailbox.summary(m) for m in mails]).encode(),
                           {"Content-Type": "application/json", "Cache-Control": "no-store"})
            else:
                self._send(200, mailbox.page(mails).encode(), {"Content-Type": "text/html; charset=utf-8",
                                                                "Cache-Control": "no-store"})
            return True

        def _relay(self) -> None:
            url = urlsplit(self.path)
            if self._site(url.path) or self._outbox(url.path):
                return
            try:
                body = self._body()
            except BadBody as bad:
                self.close_connection = True  # what is left of the body is not a next request
                self._send(bad.status, bad.payload(), {"Content-Type": "application/json"})
                return
            # HEAD and OPTIONS go to the API like any method: a route declares neither, and API
            # Gateway answers an undeclared method with a 4xx (the emulator's 405, naming what is allowed).
            response = cloud.http(self.command, url.path, body, dict(self.headers.items()),
                                  dict(parse_qsl(url.query)) or None)
            self._send(response.status, response.body.encode(), response.headers)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _relay

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
            sys.stderr.write(f"{self.command} {urlsplit(self.path).path} -> {args[1] if len(args) > 1 else ''}\n")

    return Handler


def _pump(cloud: LocalCloud, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            cloud.drain()
        except Exception:
            log.exception("worker round failed; retrying")
        stop.wait(PUMP_INTERVAL_S)


def serve(host: str, port: int, aws_port: int, payments: str = "sandbox", sample: bool = True) -> int:
    from moto.server import ThreadedMotoServer

    from local.sample_data import DEMO_CAMPAIGN, seed_campaign

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request lines drown the useful ones
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=aws_port, verbose=False)
    moto.start()
    endpoint = f"http://127.0.0.1:{aws_port}"
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    # A new admin token each run: the emulator takes it, on its admin routes only, for the IAM user
    # local-operator (a deployed stack's admin routes take SigV4-signed requests and nothing else).
    token = secrets.token_hex(24)  # (token_urlsafe may start with "-", which `--token` would take for an option)
    cloud = LocalCloud(public_base_url=f"http://{host}:{port}", endpoint_url=endpoint, payments=payments,
                       admin_tokens={token: LOCAL_OPERATOR}).start()
    operator = cloud.user_arn(LOCAL_OPERATOR)
    if sample:  # local-operator may see the demo's plans; `campaigns update demo --approvals-required 1` to try
        seed_campaign(cloud, replace(DEMO_CAMPAIGN, payments=payments, approvers=(operator,)))
    stop = threading.Event()
    worker = threading.Thread(target=_pump, args=(cloud, stop), daemon=True)
    worker.start()
    httpd = Server((host, port), _handler_class(cloud))
    if not sample:
        print(f"Jubilee is serving http://{host}:{port}/ with no campaign (--no-sample). Bring one in:\n"
              f"  jubilee import DIR --campaign ID --endpoint-url {endpoint}   (an export, e.g. of another run)\n"
              f"  jubilee campaigns create ID --name NAME --endpoint-url {endpoint}", flush=True)
    else:
        print(f"Jubilee is serving http://{host}:{port}/ (the campaign's site) and its API "
              f"(campaign {DEMO_CAMPAIGN.campaign_id!r} with sample offers, "
              f"paid through {payments})\n"
              f"  try: curl -X POST http://{host}:{port}/campaigns/demo/donations -H 'Idempotency-Key: k1' "
              f"-H 'Content-Type: application/json' -d '{{\"amount_cents\": 2500, \"currency\": \"USD\"}}'\n"
              f"  the email it would have sent: http://{host}:{port}{mailbox.PATH}\n"
              f"AWS endpoint (moto): {endpoint}  e.g. jubilee offers add FILE --campaign demo --seller S "
              f"--price-cents N --endpoint-url {endpoint}", flush=True)
    print(f"Admin token (for this run; stands in for the IAM identity {operator}): {token}\n"
          f"  e.g. jubilee plans list --campaign demo --endpoint http://{host}:{port} --token {token}\n"
          f"       jubilee plans approve PLAN --endpoint http://{host}:{port} --token {token}", flush=True)
    try:
        httpd.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        worker.join(timeout=5)
        httpd.server_close()
        moto.stop()
        time.sleep(0)
    return 0
