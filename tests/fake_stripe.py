"""A stand-in for Stripe's API, in memory: enough of it for Jubilee's calls, with Stripe's shapes.

It serves the `stripe` package through a custom HTTP client (no network), keeps objects by
id, expands `expand[]` paths as Stripe does, and signs webhook events the way Stripe signs
them (`t=<timestamp>,v1=<HMAC-SHA256 of "<t>.<payload>">`).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe

API_VERSION = "2026-10-28.endive"


def send_json(handler: Any, status: int, body: Any) -> None:
    """Answer an http.server request with JSON, as the real APIs these fakes stand for do."""
    payload = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)


def nest(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (`a[b][0][c]=v`) back into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node: Any = root
        for part, following in zip(parts, parts[1:] + [None], strict=True):
            container: Any = [] if following is not None and following.isdigit() else {}
            if isinstance(node, list):
                index = int(part)
                while len(node) <= index:
                    node.append(None)
                if following is None:
                    node[index] = value
                else:
                    node[index] = node[index] if node[index] is not None else container
                    node = node[index]
            elif following is None:
                node[part] = value
            else:
                node = node.setdefault(part, container)
    return root


def sign(payload: bytes, secret: str, timestamp: int | None = None, scheme: str = "v1",
         more_secrets: tuple[str, ...] = ()) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    signatures = [hmac.new(s.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
                  for s in (secret, *more_secrets)]
    return ",".join([f"t={t}"] + [f"{scheme}={s}" for s in signatures])


class FakeStripe:
    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, dict[str, Any], dict[str, str]]] = []
        self.refuse_next = False  # answer the next call with a 400, as Stripe does for a bad request
        self.refusal = "refused by the fake"  # its message (Stripe's may quote what it was sent: an email)
        self.page_size = 2  # small pages, so that every list is read across several
        self._ids = itertools.count(1)
        self.idempotency: dict[str, dict[str, Any]] = {}

    def _id(self, prefix: str) -> str:
        return f"{prefix}_fake{next(self._ids):06d}"

    def _store(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.objects[obj["id"]] = obj
        return obj

    # --- what happens at Stripe, as scenario steps --------------------------------------

    def pay(self, session_id: str, fee: int | None = None, metadata: dict[str, str] | None = None,
            bank_debit: bool = False) -> dict[str, Any]:
        """The donor pays a Checkout Session: a PaymentIntent, its charge and balance transaction.
        A bank debit's charge is a `py_` payment, booked as a `payment` balance transaction."""
        session = self.objects[session_id]
        if session["expires_at"] is not None and time.time() >= session["expires_at"]:
            raise AssertionError(f"{session_id} expired: Stripe would not take a payment on it")
        amount, currency = session["amount_total"], session["currency"]
        fee = amount * 290 // 10_000 + 30 if fee is None else fee
        metadata = metadata if metadata is not None else session["payment_intent_metadata"]
        pi = self.payment_intent(amount, currency, metadata, fee, bank_debit)
        if session["mode"] == "payment":
            session |= {"payment_intent": pi["id"], "payment_status": "paid", "status": "complete"}
        else:
            subscription = self._subscription(dict(session["subscription_metadata"]))
            session |= {"payment_status": "paid", "status": "complete", "subscription": subscription["id"]}
        return pi

    def payment_intent(self, amount: int, currency: str = "usd", metadata: dict[str, str] | None = None,
                       fee: int | None = None, bank_debit: bool = False) -> dict[str, Any]:
        """A succeeded PaymentIntent and its charge: a donor's, or (other metadata) another product's on the account."""
        pi = self._store({"id": self._id("pi"), "object": "payment_intent", "amount": amount, "currency": currency,
                          "metadata": dict(metadata or {}), "status": "succeeded", "latest_charge": None})
        fee = amount * 290 // 10_000 + 30 if fee is None else fee
        pi["latest_charge"] = self.charge_for(pi, fee, bank_debit)["id"]
        return pi

    def charge_for(self, pi: dict[str, Any], fee: int, bank_debit: bool = False) -> dict[str, Any]:
        charge_id = self._id("py" if bank_debit else "ch")
        txn = self._store({"id": self._id("txn"), "object": "balance_transaction", "amount": pi["amount"],
                           "fee": fee, "net": pi["amount"] - fee, "currency": pi["currency"],
                           "type": "payment" if bank_debit else "charge", "source": charge_id,
                           "created": int(time.time())})
        return self._store({"id": charge_id, "object": "charge", "amount": pi["amount"], "currency": pi["currency"],
                            "amount_refunded": 0, "refunded": False, "payment_intent": pi["id"], "paid": True,
                            "balance_transaction": txn["id"], "metadata": {}, "status": "succeeded"})

    def _subscription(self, metadata: dict[str, str]) -> dict[str, Any]:
        """An active subscription of a new customer (Checkout makes the customer with the subscription)."""
        customer = self._store({"id": self._id("cus"), "object": "customer"})
        return self._store({"id": self._id("sub"), "object": "subscription", "status": "active",
                            "customer": customer["id"], "metadata": metadata, "canceled_at": None, "ended_at": None})

    def cancel_subscription(self, subscription_id: str, at: int | None = None) -> dict[str, Any]:
        """The customer cancels in the portal: the subscription ends now (customer.subscription.deleted carries it)."""
        ended = int(time.time()) if at is None else at
        subscription = self.objects[subscription_id]
        subscription |= {"status": "canceled", "canceled_at": ended, "ended_at": ended}
        return subscription

    def invoice_paid(self, subscription_metadata: dict[str, str], amount: int, currency: str = "usd",
                     first: bool = False, paid_at: int | None = None) -> dict[str, Any]:
        """A subscription's invoice paid: a PaymentIntent with no metadata of its own (Stripe copies none),
        linked to its invoice only by an invoice payment."""
        subscription = next((o for o in self.objects.values() if o["object"] == "subscription"
                             and o["metadata"] == subscription_metadata), None) or self._subscription(
            subscription_metadata)
        pi = self.payment_intent(amount, currency)
        invoice = self._store({
            "id": self._id("in"), "object": "invoice", "amount_paid": amount, "currency": currency, "status": "paid",
            "status_transitions": {"paid_at": int(time.time()) if paid_at is None else paid_at},
            "billing_reason": "subscription_create" if first else "subscription_cycle",
            "parent": {"type": "subscription_details",
                       "subscription_details": {"metadata": subscription_metadata,
                                                "subscription": subscription["id"]}},
        })
        self._store({"id": self._id("inpay"), "object": "invoice_payment", "invoice": invoice["id"],
                     "payment": {"type": "payment_intent", "payment_intent": pi["id"]}, "status": "paid"})
        return invoice

    def _balance(self, amount: int, currency: str, kind: str, source: str) -> dict[str, Any]:
        return self._store({"id": self._id("txn"), "object": "balance_transaction", "amount": amount, "fee": 0,
                            "net": amount, "currency": currency, "type": kind, "source": source,
                            "created": int(time.time())})

    def refund(self, charge_id: str, amount: int) -> dict[str, Any]:
        """Refund part or all of a charge; answers the charge (as charge.refunded carries it)."""
        charge = self.objects[charge_id]
        refund = self._store({"id": self._id("re"), "object": "refund", "amount": amount, "charge": charge_id,
                              "payment_intent": charge["payment_intent"], "currency": charge["currency"],
                              "status": "succeeded", "balance_transaction": None, "failure_balance_transaction": None,
                              "failure_reason": None})
        # A bank debit's refund is a `payment_refund`; a card's a `refund`.
        kind = "payment_refund" if charge_id.startswith("py_") else "refund"
        refund["balance_transaction"] = self._balance(-amount, charge["currency"], kind, refund["id"])["id"]
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        return charge

    def refunds_of(self, charge_id: str) -> list[dict[str, Any]]:
        return [o for o in self.objects.values() if o["object"] == "refund" and o["charge"] == charge_id]

    def fail_refund(self, refund_id: str) -> dict[str, Any]:
        """The donor's bank refuses a refund: it fails, a `refund_failure` balance transaction returns the
        money, and the charge's `amount_refunded` comes back down. Answers the refund (as refund.failed carries it)."""
        refund = self.objects[refund_id]
        charge = self.objects[refund["charge"]]
        txn = self._balance(refund["amount"], refund["currency"], "refund_failure", refund_id)
        refund |= {"status": "failed", "failure_reason": "expired_or_canceled_card",
                   "failure_balance_transaction": txn["id"]}
        charge["amount_refunded"] -= refund["amount"]
        charge["refunded"] = False
        return refund

    def fail_debit(self, charge_id: str) -> dict[str, Any]:
        """A bank debit that was credited bounces: a `payment_failure_refund` takes the money back."""
        charge = self.objects[charge_id]
        self._balance(-charge["amount"], charge["currency"], "payment_failure_refund", charge_id)
        charge["status"] = "failed"
        return charge

    def dispute(self, charge_id: str, status: str, fee: int = 1_500, dispute_id: str | None = None) -> dict[str, Any]:
        """A dispute in `status`. Inquiries (`warning_*`) move no money, so they have no balance transactions."""
        charge = self.objects[charge_id]
        dispute_id = dispute_id or self._id("dp")
        moved = status != "won" and not status.startswith("warning_")
        fees = [{"id": f"txn_{dispute_id}", "object": "balance_transaction", "amount": -charge["amount"],
                 "fee": fee, "currency": charge["currency"], "type": "adjustment"}] if moved else []
        return self._store({"id": dispute_id, "object": "dispute", "amount": charge["amount"], "charge": charge_id,
                            "currency": charge["currency"], "status": status, "balance_transactions": fees})

    def event(self, kind: str, obj: dict[str, Any]) -> bytes:
        return json.dumps({"id": self._id("evt"), "object": "event", "type": kind, "api_version": API_VERSION,
                           "created": int(time.time()), "livemode": False,
                           "data": {"object": json.loads(json.dumps(obj))}}).encode()

    # --- the HTTP API ---------------------------------------------------------------------

    def _expand(self, obj: Any, path: list[str]) -> Any:
        if not path or obj is None:
            return obj
        head, rest = path[0], path[1:]
        if head == "data" and isinstance(obj, dict) and isinstance(obj.get("data"), list):
            obj["data"] = [self._expand(item, rest) for item in obj["data"]]
            return obj
        value = obj.get(head)
        if isinstance(value, str) and value in self.objects:
            value = json.loads(json.dumps(self.objects[value]))
        obj[head] = self._expand(value, rest)
        return obj

    def handle(self, method: str, path: str, params: dict[str, Any], headers: dict[str, str] | None = None
               ) -> tuple[int, dict[str, Any]]:
        self.requests.append((method, path, json.loads(json.dumps(params)), dict(headers or {})))
        if self.refuse_next:
            self.refuse_next = False
            return 400, {"error": {"type": "invalid_request_error", "message": self.refusal}}
        key = {k.lower(): v for k, v in (headers or {}).items()}.get("idempotency-key")
        if method == "POST" and key:  # Stripe replays a key's first answer, and refuses it with other parameters
            seen = self.idempotency.get(key)
            if seen is not None and seen["params"] != params:
                return 400, {"error": {"type": "idempotency_error", "message": "Keys for idempotent requests can "
                                       "only be used with the same parameters they were first used with."}}
            if seen is not None:
                return seen["status"], json.loads(json.dumps(seen["body"]))
            first = json.loads(json.dumps(params))
            status, body = self._handle(method, path, params)
            self.idempotency[key] = {"params": first, "status": status, "body": body}
            return status, json.loads(json.dumps(body))
        return self._handle(method, path, params)

    def forget_idempotency_keys(self) -> None:
        """What Stripe does with a key after 24 hours."""
        self.idempotency.clear()

    def _handle(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        parts = path.strip("/").split("/")[1:]  # drop "v1"
        expand = params.pop("expand", [])
        if method == "POST" and parts == ["checkout", "sessions"]:
            body = self._create_session(params)
        elif method == "GET" and parts == ["subscriptions", "search"]:  # only the query Jubilee makes
            wanted = params["query"].removeprefix("metadata['donation_id']:'").removesuffix("'")
            found = [o for o in self.objects.values() if o["object"] == "subscription"
                     and o["metadata"].get("donation_id") == wanted]
            body = {"object": "search_result", "data": json.loads(json.dumps(found)), "has_more": False,
                    "next_page": None, "url": path}
        elif method == "POST" and parts == ["billing_portal", "sessions"]:
            session_id = self._id("bps")
            body = self._store({"id": session_id, "object": "billing_portal.session", "customer": params["customer"],
                                "return_url": params.get("return_url"), "livemode": False,
                                "url": f"https://billing.stripe.test/p/session/{session_id}"})
        elif method == "GET" and len(parts) == 2 and parts[1] in self.objects:
            body = json.loads(json.dumps(self.objects[parts[1]]))
        elif method == "POST" and len(parts) == 2 and parts[0] == "payment_intents" and parts[1] in self.objects:
            self.objects[parts[1]]["metadata"].update(params.get("metadata", {}))
            body = json.loads(json.dumps(self.objects[parts[1]]))
        elif method == "GET" and parts == ["invoice_payments"]:  # by `invoice`, or by `payment[payment_intent]`
            wanted = ({"invoice": params["invoice"]} if "invoice" in params
                      else {"payment_intent": (params.get("payment") or {}).get("payment_intent")})
            body = self._list([o for o in self.objects.values() if o["object"] == "invoice_payment"
                               and ({"invoice": o["invoice"]} == wanted
                                    or {"payment_intent": o["payment"]["payment_intent"]} == wanted)], params, path)
        elif method == "GET" and parts == ["balance_transactions"]:
            since = int((params.get("created") or {}).get("gte", 0))
            body = self._list([o for o in self.objects.values() if o["object"] == "balance_transaction"
                               and o["created"] >= since and o["id"].startswith("txn_fake")], params, path)
        else:
            return 404, {"error": {"type": "invalid_request_error", "message": f"no fake for {method} {path}"}}
        for path_to_expand in expand if isinstance(expand, list) else list(expand.values()):
            body = self._expand(body, path_to_expand.split("."))
        return 200, body

    def _list(self, items: list[dict[str, Any]], params: dict[str, Any], url: str) -> dict[str, Any]:
        items = sorted(items, key=lambda o: o["id"])
        if after := params.get("starting_after"):
            items = [o for o in items if o["id"] > after]
        limit = min(int(params.get("limit", 10)), self.page_size)
        page = json.loads(json.dumps(items[:limit]))
        return {"object": "list", "data": page, "has_more": len(items) > limit, "url": url}

    def _create_session(self, params: dict[str, Any]) -> dict[str, Any]:
        item = params["line_items"][0]
        price = item["price_data"]
        mode = params["mode"]
        session_id = self._id("cs")
        return self._store({
            "id": session_id, "object": "checkout.session", "mode": mode, "status": "open",
            "url": f"https://checkout.stripe.test/c/pay/{session_id}", "amount_total": int(price["unit_amount"]),
            "currency": price["currency"], "payment_status": "unpaid", "payment_intent": None, "subscription": None,
            "client_reference_id": params.get("client_reference_id"), "metadata": params.get("metadata", {}),
            "payment_intent_metadata": (params.get("payment_intent_data") or {}).get("metadata", {}),
            "subscription_metadata": (params.get("subscription_data") or {}).get("metadata", {}),
            "success_url": params.get("success_url"), "customer_email": params.get("customer_email"),
            "expires_at": int(params["expires_at"]) if "expires_at" in params else None,
        })


class FakeStripeHTTPClient(stripe.HTTPClient):
    """Hands the `stripe` package's requests to a FakeStripe instead of the network."""

    name = "fake"

    def __init__(self, fake: FakeStripe) -> None:
        super().__init__()
        self.fake = fake

    def request(self, method, url, headers, post_data=None, *, _usage=None):  # noqa: ANN001 (stripe's signature)
        split = urlsplit(url)
        pairs = parse_qsl(split.query) + (parse_qsl(post_data) if post_data else [])
        status, body = self.fake.handle(method.upper(), split.path, nest(pairs), dict(headers or {}))
        return json.dumps(body), status, {"request-id": "req_fake"}

    def close(self) -> None:
        pass


def serve_fake(fake: FakeStripe) -> tuple[Any, str]:
    """The fake on a local port, for a `jubilee serve` process to reach through STRIPE_API_BASE."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            form = self.rfile.read(length).decode() if length else ""
            status, body = fake.handle(self.command, split.path, nest(parse_qsl(split.query) + parse_qsl(form)),
                                       dict(self.headers.items()))
            send_json(self, status, body)

        do_GET = do_POST = do_DELETE = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"
