"""Benchmarks: AWS calls per confirmed donation through the whole chain, and handler import cost.

Figures are ratios against a baseline measured in the same run, never absolute timings
compared across machines. Run with `make bench`; it rewrites bench/RESULTS.md.

- Calls are counted with a botocore `before-call` hook, attributed to the function that
  made them (the emulator's own polling, which Lambda's event sources do on AWS, is not
  counted). Baseline: the same run with the donations queue at batch size 1.
- Import time is the median of fresh interpreters importing one handler module, as a
  ratio to a fresh `import boto3` (which every Lambda pays anyway).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DONATIONS = 100
DONATION_PATH = ("api", "webhook", "dispatcher", "pool")  # per gift; purchases, forgiveness, letters per portfolio
IMPORT_GOAL = 1.3
UNITS_SHORT = ("Where the write units go: a pledge is one conditional put of the donation, which is its own "
               "idempotency record and holds the donor's wrapped gift key (1 unit under 1 KB); the confirmation "
               "updates the donation and writes its outbox item in one transaction (4: a transaction bills each "
               "item twice); the dispatcher writes the outbox item back relayed (1); the pool's transaction writes "
               "each gift's transfer (2), and the balances, counter, purchase check and the batch's one receipts "
               "item once per 40 gifts. The donation item stays under 1 KB with donor details (the provider's "
               "checkout link is not stored: a retry of a pending pledge opens its checkout again under the same "
               "provider idempotency key; one paid or failed opens none).")
CHAIN_SHORT = ("The whole chain is not a per-gift goal the bench can meet as run: it adds each portfolio's purchase, "
               "forgiveness and letters (here three small sample portfolios, about 30 accounts each, so their fixed "
               "costs fall on few gifts; the 10,000-account run below costs 0.07 requests an account) and, for a "
               "donor who gave an email, the receipt itself: SES takes one SendEmail per message (moto has no bulk "
               "sending to test SendBulkEmail against), and the send is claimed before and marked after (2 writes), "
               "so that a redelivered message never emails twice.")
VIRAL_SHORT = ("Every balance, counter and the log head are written once per pool transaction (40 gifts), so no "
               "single item comes near its limit and no counter needs sharding at this rate. A campaign's donations "
               "are spread over {shards} partitions of their own (by pledge; a pledge's installments share its "
               "partition), so a gift's pledge and confirmation never meet the campaign's balances; the busiest "
               "partition key is now the ledger's entries (`LEDGER#`, a transfer per gift), at {load:.0%} of one "
               "partition's write limit at 200 gifts/s. Past about {ceiling:,} gifts/s it would want sharding too. "
               "The conflicts run below injects conflicts at the modelled rate into invocations the emulator runs "
               "one at a time, not truly concurrent ones.")
INGESTION_SHORT = ("What stands in the way ({over:.2f}x, {extra:.2f} us an account over): with the duplicate keys "
                   "read, not made, and the rows checked a column at a time, what is left per account is the parse "
                   "itself (about one bare pass), three cryptographic calls, each with its own set-up in C (the "
                   "keyed BLAKE2b of the account hash and code, the SHA-256 of the code, the AES-GCM seal: together "
                   "about one and a half bare passes), and the DynamoDB item, six dicts in pure Python.")
# What the handlers still load on every cold start, each measured as what it adds to a module already
# imported (the sentence below is filled from the same run). None is loaded by a function that does not
# use it: tests/unit/test_import_weight.py holds each function to the heavy packages it uses.
IMPORT_PARTS = {
    "powertools": ("boto3", "aws_lambda_powertools"),
    "batch": ("boto3", "aws_lambda_powertools.utilities.batch"),
    "data_classes": ("boto3", "aws_lambda_powertools.utilities.data_classes"),
    "http": ("boto3", "aws_lambda_powertools.event_handler.middlewares.openapi_validation"),
    "ledger": ("boto3", "functions.adapters.ledger"),
    "offers": ("boto3", "functions.domain.offers"),
    "planner": ("boto3", "functions.domain.planner"),
    "crypto": ("boto3", "functions.adapters.crypto"),
    "stripe": ("functions.handlers.api", "functions.adapters.stripe_payments"),
}
IMPORT_SHORT = (
    "What stands in the way, each part measured in this run as what it adds to `import boto3` alone: "
    "Powertools' Logger and Metrics (every function) {powertools:+.2f}x; the ledger adapter with the domain "
    "it shares (every function but relay and dispatcher: settings, campaigns, receipts, the public log) "
    "{ledger:+.2f}x: some thirty modules of ours, each compiled at every cold start (the asset ships no "
    "`__pycache__`; bytecode would have to be built by the runtime's Python, 3.13), then run; Powertools' batch "
    "processor (purchase, forgiveness, letters, mail_out) {batch:+.2f}x, and its event data classes "
    "(dispatcher, pool, inside the batch figure) {data_classes:+.2f}x, its package importing every event "
    "source's class; Powertools' REST resolver with OpenAPI validation (api, webhook, admin, mail_webhook, "
    "unsubscribe: paths, queries and bodies checked by pydantic, whose messages the 4xx answers name, and "
    "the API's /openapi.json) {http:+.2f}x. Used on every invocation where loaded: the offer-row model "
    "(forgiveness reads each chunk by its columns; pydantic) {offers:+.2f}x, the planner (purchase) "
    "{planner:+.2f}x, cryptography (forgiveness seals, letters open) {crypto:+.2f}x, the PDF module (letters). "
    "Not in the table: a deployment taking Stripe loads its SDK and adapter in api and webhook at the first "
    "request that needs it (every pledge and webhook then; the table's runs are the sandbox's): {stripe:+.2f}x "
    "on top of the api module.")


def item_bytes(item: dict) -> int:
    """An item's size as DynamoDB bills it: attribute names plus values (numbers about a byte per two digits)."""
    def value(v: dict) -> int:
        (kind, data), = v.items()
        if kind in ("S", "B"):
            return len(data.encode() if isinstance(data, str) else data)
        if kind == "N":
            return len(data.lstrip("-").replace(".", "")) // 2 + 2
        if kind in ("BOOL", "NULL"):
            return 1
        if kind == "M":
            return 3 + sum(len(k.encode()) + value(x) for k, x in data.items())
        if kind == "L":
            return 3 + sum(1 + value(x) for x in data)
        return sum(len(x.encode() if isinstance(x, str) else x) for x in data)  # SS, NS, BS
    return sum(len(k.encode()) + value(v) for k, v in item.items())


def written_keys(operation: str, params: dict) -> list[tuple[str, str]]:
    """The (pk, sk) of each ledger item a request writes."""
    def of(op: dict) -> tuple[str, str]:
        item = op.get("Item") or op.get("Key") or {}
        return item.get("pk", {}).get("S", "?"), item.get("sk", {}).get("S", "")

    if operation == "TransactWriteItems":
        return [of(next(iter(op.values()))) for op in params["TransactItems"] if "ConditionCheck" not in op]
    if operation == "BatchWriteItem":
        return [of(next(iter(r.values()))) for requests in params["RequestItems"].values() for r in requests]
    return [of(params)] if operation in ("PutItem", "UpdateItem", "DeleteItem") else []


def write_units(operation: str, params: dict, stored: Callable[[str, dict], dict | None]) -> int:
    """Write capacity units of one request, from the sizes of the items it writes (an update: the item as it
    is after it, read back; a delete or condition check: the item as it was, or 1): a transaction bills twice."""
    def units(size: int) -> int:
        return max(1, -(-size // 1024))

    def op_units(kind: str, op: dict) -> int:
        if kind == "Put":
            return units(item_bytes(op["Item"]))
        found = stored(op["TableName"], op["Key"])
        return units(item_bytes(found)) if found else 1

    if operation == "TransactWriteItems":
        return sum(2 * op_units(*next(iter(op.items()))) for op in params["TransactItems"])
    if operation == "BatchWriteItem":
        return sum(units(item_bytes(r["PutRequest"]["Item"])) if "PutRequest" in r else 1
                   for requests in params["RequestItems"].values() for r in requests)
    kinds = {"PutItem": "Put", "UpdateItem": "Update", "DeleteItem": "Delete"}
    return op_units(kinds[operation], params) if operation in kinds else 0


def count_calls(donations: int, batch_size: int | None = None, named: bool = False) -> tuple[Counter, dict]:
    """AWS calls by (function, operation) over `donations` pledged and paid through the sandbox, and the
    DynamoDB write units by function (under ("<function>", "WCU")); named: each donor gives a name and email."""
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    import threading

    import boto3

    from functions.adapters import aws
    from functions.adapters.payments import SandboxPayments
    from functions.adapters.secrets import derived_key
    from functions.wiring import PACKED_STAGES
    from local.emulator import LocalCloud, current_function
    from local.sample_data import seed_campaign

    calls: Counter = Counter()
    pending = threading.local()

    counting = [True]  # off for the bench's own read of the figures at the end: not a donation's

    def on_call(model, **_: object) -> None:
        function = current_function.get()
        if function and counting[0]:
            calls[(function, f"{model.service_model.service_name}.{model.name}")] += 1

    def on_params(params, model, **_: object) -> None:
        pending.params = dict(params)

    def after(model, **_: object) -> None:
        function = current_function.get()
        if function and counting[0] and model.service_model.service_name == "dynamodb":
            calls[(function, "WCU")] += write_units(model.name, pending.params, stored)
            if function in DONATION_PATH:
                for pk, sk in written_keys(model.name, pending.params):
                    calls[("item", f"{pk} {sk}")] += 1  # ("?": the idempotency table's record)
                    calls[("partition", pk)] += 2 if model.name == "TransactWriteItems" else 1  # units, < 1 KB

    with LocalCloud(app_secret="bench", batch_sizes={"donations": batch_size} if batch_size else None) as cloud:
        # After the mock starts (it resets boto3's default session), before any handler makes a client.
        boto3.setup_default_session()
        assert boto3.DEFAULT_SESSION is not None
        events = boto3.DEFAULT_SESSION.events
        events.register("before-call", on_call)
        events.register("before-parameter-build.dynamodb", on_params)
        events.register("after-call.dynamodb", after)
        reader = boto3.session.Session().client("dynamodb")  # its own session: neither counted nor hooked

        def stored(table: str, key: dict) -> dict | None:
            return reader.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")

        aws.reset()
        seed_campaign(cloud)
        batch_every = batch_size or PACKED_STAGES["donations"]  # a packed message's worth (relay, then pool)
        sandbox = SandboxPayments(derived_key("sandbox-webhook"), cloud.public_base_url)
        for n in range(donations):
            body = {"amount_cents": 5_000 + n, "currency": "USD"}
            if named:
                body["donor"] = {"name": f"Donor {n}", "email": f"donor{n}@example.org"}
            created = cloud.http("POST", "/campaigns/demo/donations", body, {"Idempotency-Key": f"bench-{n}"}).json()
            # Paid at the provider, which then sends its signed webhook (as Stripe does; the sandbox's own
            # checkout page, standing in for the provider's hosted one, is not counted).
            headers, event = sandbox.payment_completed({"campaign_id": "demo", "donation_id": created["donation_id"],
                                                        "amount_cents": body["amount_cents"], "currency": "USD"})
            assert cloud.http("POST", "/webhooks/sandbox", event, headers).status == 200
            if n % batch_every == batch_every - 1:  # as full batches as the donations queue takes
                cloud.drain()
        cloud.drain()
        counting[0] = False
        figures = cloud.http("GET", "/campaigns/demo").json()
    return calls, figures


def forgiveness_calls(accounts: int) -> dict:
    """AWS requests the forgiveness function makes for a bought portfolio, by service and operation."""
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    import boto3

    from functions.adapters import aws
    from functions.domain.campaigns import Campaign
    from local.emulator import LocalCloud, current_function
    from local.sample_data import offer_csv
    from ops import operations

    calls: Counter = Counter()

    def on_call(model, **_: object) -> None:
        if current_function.get() == "forgiveness":
            calls[f"{model.service_model.service_name}.{model.name}"] += 1

    with LocalCloud(app_secret="bench") as cloud:
        boto3.setup_default_session()
        assert boto3.DEFAULT_SESSION is not None
        boto3.DEFAULT_SESSION.events.register("before-call", on_call)
        aws.reset()
        operations.create_campaign(Campaign("bench", "Bench", threshold_cents=1_000))
        operations.add_offer("bench", offer_csv(accounts, 5), "sandbox", 1_000, offer_id="big")
        created = cloud.http("POST", "/campaigns/bench/donations", {"amount_cents": 5_000, "currency": "USD"},
                             {"Idempotency-Key": "bench"}).json()
        cloud.http("POST", created["checkout_url"].removeprefix(cloud.public_base_url))
        cloud.drain()
        forgiven = cloud.http("GET", "/campaigns/bench").json()["accounts_forgiven"]
    return {"accounts": forgiven, "calls": dict(calls)}


def count_calls_fresh(donations: int, batch_size: int, named: bool = False) -> tuple[Counter, dict]:
    """count_calls in a fresh interpreter, so no client or cache carries over between runs."""
    out = subprocess.run([sys.executable, "-m", "bench.run", "--calls", str(donations), str(batch_size),
                          "named" if named else "anonymous"], cwd=ROOT, check=True, capture_output=True,
                         text=True).stdout
    data = json.loads(out.strip().splitlines()[-1])
    return Counter({tuple(k.split(" ", 1)): v for k, v in data["calls"].items()}), data["figures"]


HEAVY = ("cryptography", "stripe", "lob_python", "pydantic", "aws_lambda_powertools.utilities.idempotency",
         "functions.domain.planner", "functions.domain.offers", "functions.adapters.letters_pdf")


def import_cost(module: str) -> tuple[int, set[str]]:
    """Microseconds `python -X importtime` attributes to importing `module` in a fresh interpreter (the
    top-level imports after the interpreter's own start-up, summed), and which heavy packages it loaded.
    Without writing bytecode, as Lambda runs functions/ (its asset ships no `__pycache__`): our modules are
    compiled at each import, the installed packages read from their own."""
    marker = "-- import starts"
    err = subprocess.run([sys.executable, "-X", "importtime", "-c",
                          f"import sys; print({marker!r}, file=sys.stderr); import {module}"],
                         cwd=ROOT, check=True, capture_output=True, text=True,
                         env=os.environ | {"PYTHONDONTWRITEBYTECODE": "1"}).stderr.split(marker, 1)[1]
    rows = re.findall(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", err)
    return (sum(int(total) for total, indent, _ in rows if len(indent) == 1),
            {name for _, _, name in rows if name in HEAVY})


def import_ratios(modules: list[str], repeats: int = 7) -> tuple[dict[str, float], dict[str, set[str]]]:
    """Import cost of each module as a ratio to a bare `import boto3`: the fastest of `repeats` interleaved
    runs each (the least disturbed by busy neighbours, as for the ingestion CPU below)."""
    import shutil

    for cache in list((ROOT / "functions").rglob("__pycache__")):  # as `make test` leaves them; Lambda has none
        shutil.rmtree(cache)
    import_cost("functions.handlers.api")  # warm the file system's cache
    costs: dict[str, list[int]] = {m: [] for m in ["boto3", *modules]}
    loaded: dict[str, set[str]] = {}
    for _ in range(repeats):
        for module in costs:
            cost, loaded[module] = import_cost(module)
            costs[module].append(cost)
    return {m: min(c) / min(costs["boto3"]) for m, c in costs.items()}, loaded


PLANNER_KINDS = ("random", "correlated", "near-equal", "equal")


def planner_offers(kind: str, offers: int, seed: int) -> tuple[int, list]:
    """Offers of one shape, and a budget of half their total price. random: face value unrelated to
    price; correlated: face value 100x price plus a fixed 50,000,000 (strongly correlated, the classic
    hard knapsack); near-equal: 100x price within 0.1%; equal: exactly 100x (a subset-sum in disguise)."""
    import random

    from functions.domain.planner import Offer

    rng, made = random.Random(f"{kind}-{offers}-{seed}"), []
    for n in range(offers):
        price = rng.randrange(100_000, 5_000_000)
        if kind == "random":
            face = rng.randrange(5_000_000, 500_000_000)
        elif kind == "correlated":
            face = price * 100 + 50_000_000
        elif kind == "near-equal":
            face = price * 100 + rng.randrange(-price // 10, price // 10 + 1)
        else:
            face = price * 100
        made.append(Offer(f"o{n:04d}", "c", "s", price, face, 1, "k"))
    return sum(o.price_cents for o in made) // 2, made


def highs_value(budget: int, offers: list, seconds: float) -> tuple[int, bool]:
    """HiGHS (scipy's milp, no gap allowed) on the same offers: the value of its plan, checked in
    integers against the budget, and whether it proved that plan optimal within its time."""
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp

    values = np.array([o.value() for o in offers], dtype=float)
    prices = np.array([[o.price_cents for o in offers]], dtype=float)
    sys.stdout.flush()
    saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # HiGHS prints from C whatever its options say
    os.close(devnull)
    try:
        found = milp(-values, constraints=LinearConstraint(prices, -np.inf, budget),
                     integrality=np.ones(len(offers)), bounds=Bounds(0, 1),
                     options={"mip_rel_gap": 0, "time_limit": seconds})
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    picked = [o for o, x in zip(offers, np.round(found.x), strict=True) if x] if found.x is not None else []
    if sum(o.price_cents for o in picked) > budget:  # its tolerance is not ours: over by a cent is over
        return -1, False
    return sum(o.value() for o in picked), found.status == 0


def median_seconds(run, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def planner_section() -> list[str]:
    """Exactness against HiGHS and the time of a plan with its explanation, per shape and size."""
    from functions.domain.planner import greedy_plan, optimal_plan

    lines = ["## Purchase planner: exact, against HiGHS, and quick to explain", "",
             "Budget half the offers' total price. Goals: the plan is proven optimal (gap 0), worth at least "
             "what HiGHS finds (scipy `milp`, `mip_rel_gap` 0, 10 s limit; its plan checked in integers), and "
             "planned with every offer's explanation within a few seconds (the purchase function's timeout is "
             "60 s). Time as the median of 3, and as a ratio to greedy's in the same run. The proven gap is "
             "(upper bound - value) / value: where it is not 0 the search hit its limit and says so in the plan.",
             "", "| shape | offers | ours - HiGHS | HiGHS proved | exact (goal: yes) | proven gap | "
             "plan + explanation | ratio to greedy | vs greedy's value |", "|---|---|---|---|---|---|---|---|---|"]
    short: list[str] = []
    for offers in (100, 1_000):
        for kind in PLANNER_KINDS:
            budget, sample = planner_offers(kind, offers, 0)
            plan = optimal_plan(budget, sample)
            assert plan.spent_cents == sum(o.price_cents for o in plan.chosen) <= budget
            reference, proved = highs_value(budget, sample, 10.0)
            greedy_value = sum(o.value() for o in greedy_plan(budget, sample))
            ours = median_seconds(partial(optimal_plan, budget, sample), 3)
            greedy = median_seconds(partial(greedy_plan, budget, sample), 3)
            gap = (plan.upper_bound - plan.value) / plan.value
            lines.append(f"| {kind} | {offers:,} | {plan.value - reference:+,} | {'yes' if proved else 'no (time)'} | "
                         f"{'yes' if plan.exact else 'NO'} | {gap:.2e} | {ours:.2f} s | {ours / greedy:,.0f} | "
                         f"+{(plan.value - greedy_value) / greedy_value:.3%} |")
            if not plan.exact:
                short.append(f"{kind} at {offers:,} (proven within {plan.upper_bound - plan.value:,} cents of face "
                             f"value of the optimum, {gap:.1e} of it)")
    from functions.domain.planner import MAX_SETS, MAX_STATES

    lines += ["", "Every goal met." if not short else
              f"Not met: exactness on {'; '.join(short)}. What stands in the way: the best plan found misses "
              "the bounds, and ruling out every other plan takes more sets of changes than the pairing step's "
              f"limit of {MAX_SETS:,} and more partial plans than the search's limit of {MAX_STATES:,} (kept so "
              "that a plan takes seconds, not minutes, in pure Python). The plan is marked inexact, with its "
              "bound, in what approvers read, and is never worse than greedy's."]
    return lines


def ingestion_cpu(accounts: int = 300_000, repeats: int = 3) -> tuple[float, float, int]:
    """CPU seconds (process time, the fastest of `repeats` interleaved runs, which is the least
    disturbed by neighbours) of a bare csv.reader pass over a generated portfolio, and of the real
    ingestion's work on it (parse + validate + hash + seal + build DynamoDB items), chunk by chunk."""
    import csv
    import io

    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from functions.adapters.crypto import Sealer
    from functions.adapters.dynamo import batches
    from functions.adapters.forgiven_accounts import chunk_items
    from functions.adapters.forgiveness import CHUNK_ROWS
    from functions.adapters.storage import KEY_WIDTH
    from functions.domain.duplicates import keys_of
    from functions.domain.forgiveness import chunk_ranges
    from functions.domain.offers import read_accounts
    from local.sample_data import offer_csv

    data = offer_csv(accounts, 11)
    header, ranges = chunk_ranges(io.BytesIO(data), CHUNK_ROWS)
    public_key = X25519PrivateKey.generate().public_key().public_bytes_raw()
    # The duplicate keys `offers add` stores beside the file (storage.offer_keys): made there, not timed here.
    stored_keys = "".join(a + p for a, p in (keys_of(b"c" * 32, "bench", row) for row in read_accounts(
        data.decode().splitlines(keepends=True))))

    def bare() -> int:
        return sum(1 for _ in csv.reader(io.StringIO(data.decode())))

    def ours() -> int:
        items = 0
        for n, (first, begin, end) in enumerate(ranges):
            message = {"campaign_id": "bench", "plan_id": "bench.offer.0", "chunk": n, "first_row": first,
                       "header": header}
            # A sealer per chunk, as the handler makes one per invocation; its claim (a DynamoDB write, not
            # timed) given the stored keys, and the items taken 25 at a time as its writer takes them.
            built, *_ = chunk_items(message, data[begin:end].decode(), Sealer(public_key), b"k" * 32,
                                    "2026-11-28T00:00:00+00:00", b"c" * 32, lambda keys: set(),
                                    stored_keys[first * KEY_WIDTH:(first + CHUNK_ROWS) * KEY_WIDTH])
            items += sum(len(batch) for batch in batches(built))
        return items

    best = {bare: float("inf"), ours: float("inf")}
    for _ in range(repeats):
        for run in (bare, ours):
            start = time.process_time()
            counted = run()
            best[run] = min(best[run], time.process_time() - start)
    assert counted == accounts  # one item per account
    return best[bare], best[ours], accounts


def imports_section() -> list[str]:
    from infra.topology import FUNCTIONS

    modules = [fn.handler.rsplit(".", 1)[0] for fn in FUNCTIONS]
    parts = {name: f"{base}, {module}" for name, (base, module) in IMPORT_PARTS.items()}
    ratios, loaded = import_ratios(modules + list(parts.values()))
    lines = ["## Import time of each handler module (cold start share)", "",
              "`python -X importtime`: the top-level imports of a fresh interpreter importing the module, summed; "
              "fastest of 7 interleaved runs, as a ratio to a bare `import boto3` in the same run "
              f"(goal: at most {IMPORT_GOAL}x). Heavy packages it loads are named.", "",
              "| module | ratio to `import boto3` | goal met | heavy packages loaded |", "|---|---|---|---|",
              "| boto3 (baseline) | 1.00 | | |"]
    lines += [f"| {m} | {ratios[m]:.2f} | {'yes' if ratios[m] <= IMPORT_GOAL else 'NO'} | "
              f"{', '.join(sorted(loaded[m])) or '-'} |" for m in modules]
    over = [m for m in modules if ratios[m] > IMPORT_GOAL]
    lines += ["", "Every handler within its goal." if not over else
              f"Over the goal: {', '.join(f'{m.rsplit(chr(46), 1)[1]} ({ratios[m]:.2f}x)' for m in over)}. "
              + IMPORT_SHORT.format(**{name: ratios[both] - ratios[IMPORT_PARTS[name][0]]
                                                    for name, both in parts.items()})]
    return lines


def validation_cpu(accounts: int = 200_000, repeats: int = 3) -> tuple[float, float, int]:
    """CPU seconds of a bare csv.reader pass over a seller's file and of its validation (`offers check`:
    every row through the offer-row model), fastest of `repeats` interleaved runs each."""
    import csv
    import io

    from functions.domain.offers import check_file
    from local.sample_data import offer_csv

    text = offer_csv(accounts, 12).decode()

    def bare() -> int:
        return sum(1 for _ in csv.reader(io.StringIO(text)))

    def ours() -> int:
        return check_file(io.StringIO(text)).accounts

    best = {bare: float("inf"), ours: float("inf")}
    for _ in range(repeats):
        for run in (bare, ours):
            start = time.process_time()
            run()
            best[run] = min(best[run], time.process_time() - start)
    assert ours() == accounts
    return best[bare], best[ours], accounts


def offer_lookups(accounts: int) -> dict:
    """DynamoDB requests of `offers add` for a first (clean) offer, and for one added after a purchase was
    forgiven (its file gone, so its claims are read)."""
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    from functions.adapters.aws import client
    from functions.domain.campaigns import Campaign
    from local.emulator import LocalCloud
    from local.sample_data import offer_csv
    from ops import operations

    counted: dict[str, Counter] = {"clean": Counter(), "after a purchase": Counter()}
    with LocalCloud(app_secret="bench") as cloud:
        operations.create_campaign(Campaign("bench", "Bench", threshold_cents=1_000))
        now: list[Counter] = []
        client("dynamodb").meta.events.register("before-call", lambda model, **_: now[-1].update([model.name]))
        now.append(counted["clean"])
        start = time.perf_counter()
        operations.add_offer("bench", offer_csv(accounts, 21), "sandbox", 1_000, offer_id="first")
        clean_s = time.perf_counter() - start
        now.append(Counter())
        created = cloud.http("POST", "/campaigns/bench/donations", {"amount_cents": 5_000, "currency": "USD"},
                             {"Idempotency-Key": "bench"}).json()
        cloud.http("POST", created["checkout_url"].removeprefix(cloud.public_base_url))
        cloud.drain()
        now.append(counted["after a purchase"])
        operations.add_offer("bench", offer_csv(accounts, 22), "sandbox", 1_000, offer_id="second")
    return {"accounts": accounts, "clean_s": clean_s, "calls": {k: dict(v) for k, v in counted.items()}}


def serve_rates(donors: int = 100) -> dict:
    """`jubilee serve` (a real process, as a person runs it) taking `donors` concurrent donors, each pledging
    and paying at the sandbox checkout, until the pool counts every one; and, in the same run, as many
    threads putting items to the same moto endpoint (three puts each, a pledge's and a payment's writes)."""
    import threading

    import boto3

    from tests.serving import call, running, wait_until

    def together(work: Callable[[int], object]) -> tuple[float, list]:
        barrier, outcomes = threading.Barrier(donors + 1), [None] * donors

        def one(n: int) -> None:
            barrier.wait()
            try:
                outcomes[n] = work(n)  # type: ignore[call-overload]
            except OSError as error:  # a reset or refused connection
                outcomes[n] = type(error).__name__  # type: ignore[call-overload]

        threads = [threading.Thread(target=one, args=(n,)) for n in range(donors)]
        for thread in threads:
            thread.start()
        barrier.wait()
        start = time.perf_counter()
        for thread in threads:
            thread.join()
        return start, outcomes

    with running() as (base, endpoint):
        before = json.loads(call("GET", f"{base}/campaigns/demo")[1])["donations_confirmed"]

        def donor(n: int) -> tuple:
            status, body = call("POST", f"{base}/campaigns/demo/donations", {"amount_cents": 1_000 + n,
                                "currency": "USD"}, {"Idempotency-Key": f"bench-crowd-{n}"}, timeout=120)
            return status, call("POST", json.loads(body)["checkout_url"], timeout=120)[0] if status == 201 else None

        start, outcomes = together(donor)
        after = wait_until(base, "demo", lambda f: f["donations_confirmed"] >= before + donors, seconds=300)
        served_s = time.perf_counter() - start
        dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="local",
                                aws_secret_access_key="local")  # moto takes any
        dynamodb.create_table(TableName="bench-puts", BillingMode="PAY_PER_REQUEST",
                              KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])

        def puts(n: int) -> int:
            for k in range(3):
                dynamodb.put_item(TableName="bench-puts", Item={"pk": {"S": f"{n}-{k}"}, "v": {"N": str(n)}})
            return 3

        start, _ = together(puts)
        puts_s = time.perf_counter() - start
    return {"donors": donors, "failed": [o for o in outcomes if o != (201, 200)],
            "confirmed": after["donations_confirmed"] - before, "donations_per_s": donors / served_s,
            "puts_per_s": 3 * donors / puts_s}


CALLS_GOAL, UNITS_GOAL = 2.5, 10
PEAK, RATES = 200, (10, 100, 1_000)  # gifts a second: the viral model's, and the capacity table's
WRITE_PRICE = 0.625  # US$ per million on-demand write request units (us-east-1, from November 2024)
PARTITION_UNITS = 1_000  # write units a second one partition takes


def split(counted: Counter) -> tuple[Counter, Counter, Counter, Counter, Counter]:
    """(calls by (function, operation), calls by function, write units by function, writes by item,
    write units by partition) from count_calls' one Counter."""
    calls = Counter({k: v for k, v in counted.items() if k[0] not in ("item", "partition") and k[1] != "WCU"})
    by_function: Counter = Counter()
    for (function, _), n in calls.items():
        by_function[function] += n
    units = Counter({f: v for (f, op), v in counted.items() if op == "WCU"})
    items = Counter({k: v for (kind, k), v in counted.items() if kind == "item"})
    partitions = Counter({k: v for (kind, k), v in counted.items() if kind == "partition"})
    return calls, by_function, units, items, partitions


def _holds(pk: str) -> str:
    """What a partition key of the model holds, in a few words."""
    kinds = {"LEDGER#": "the ledger's entries, a transfer per gift", "CAMPAIGN#": "the campaign's balances and "
             "counters, once per pool transaction", "DONATIONS#": "donations: pledges and confirmations",
             "OUTBOX#": "one outbox item each"}
    return next((what for prefix, what in kinds.items() if pk.startswith(prefix)), pk.split("#")[0])


def calls_section() -> list[str]:
    """AWS calls and DynamoDB write units per confirmed donation, anonymous and with donor details; the
    viral model (200 gifts a second into one campaign) and the capacity table from the same counts."""
    runs = {"anonymous": count_calls_fresh(DONATIONS, 0), "with donor details": count_calls_fresh(DONATIONS, 0, True)}
    single, _ = count_calls_fresh(DONATIONS, 1)
    figures = runs["anonymous"][1]
    confirmed = figures["donations_confirmed"]
    lines = [f"## AWS calls and DynamoDB write units per confirmed donation ({confirmed} donations)", "",
             f"Each donor pledges, then the provider's signed webhook confirms (as Stripe's would); "
             f"{figures['purchases']} purchases, {figures['accounts_forgiven']} accounts forgiven and "
             f"{figures['letters_waiting']} letters printed along the way. Calls counted with a botocore hook by "
             "the function that made them, on the emulator. Write units computed from the sizes of the items "
             "written (an update's item read back after it; a transaction's items twice), as DynamoDB bills "
             "them: moto does not report ConsumedCapacity. "
             f"Goals: at most {CALLS_GOAL} calls and {UNITS_GOAL} write units per donation. "
             "The donation path (api, webhook, dispatcher, pool) is per gift; purchase, forgiveness and "
             "letters are per portfolio, and their share per gift depends on the offers' prices (here small "
             "sample portfolios, about one account per gift).", "",
             "| function | anonymous: calls | write units | with donor details: calls | write units | "
             "calls with pool batches of 1 |", "|---|---|---|---|---|---|"]
    parts = {name: split(counted) for name, (counted, _) in runs.items()}
    _, single_by, _, _, _ = split(single)
    (_, anon, anon_units, _, _), (_, named, named_units, items, partitions) = parts.values()
    for function in sorted(set(anon) | set(named)):
        lines.append(f"| {function} | {anon[function] / confirmed:.2f} | {anon_units[function] / confirmed:.2f} | "
                     f"{named[function] / confirmed:.2f} | {named_units[function] / confirmed:.2f} | "
                     f"{single_by[function] / confirmed:.2f} |")
    verdicts = []
    for label, functions in (("donation path", DONATION_PATH), ("whole chain", tuple(set(anon) | set(named)))):
        totals = [sum(c[f] for f in functions) / confirmed for c in (anon, anon_units, named, named_units)]
        lines.append(f"| **{label}** | {totals[0]:.2f} | {totals[1]:.2f} | {totals[2]:.2f} | {totals[3]:.2f} | "
                     f"{sum(single_by[f] for f in functions) / confirmed:.2f} |")
        verdicts.append((label, totals))
    for label, (calls, units, named_calls, named_u) in verdicts:
        lines += ["", f"{label.capitalize()}: calls {'met' if max(calls, named_calls) <= CALLS_GOAL else 'NOT met'} "
                  f"({calls:.2f} anonymous, {named_calls:.2f} with details, goal {CALLS_GOAL}); write units "
                  f"{'met' if max(units, named_u) <= UNITS_GOAL else 'NOT met'} ({units:.2f} and {named_u:.2f}, "
                  f"goal {UNITS_GOAL})."]
    lines += ["", UNITS_SHORT, "", CHAIN_SHORT, "", "Calls by operation (with donor details):", "",
              "| function | operation | calls |", "|---|---|---|"]
    lines += [f"| {f} | {op} | {n} |" for (f, op), n in sorted(parts["with donor details"][0].items())]
    # The viral model: the donation path's writes, scaled to PEAK gifts a second into one campaign.
    # Items shared by many gifts (a gift's own donation, key, transfer and outbox items are written once or twice).
    hottest, writes = max(((k, v) for k, v in items.items() if not k.startswith("?") and "don_" not in k),
                          key=lambda kv: kv[1])
    per_gift = {pk: v / confirmed for pk, v in partitions.items()}
    busiest = sorted(per_gift, key=lambda pk: -per_gift[pk])
    campaign = busiest[0]
    units_per_gift = sum(named_units[f] for f in DONATION_PATH) / confirmed
    from functions.adapters.keys import DONATION_SHARDS, DONATIONS_PREFIX
    from functions.handlers.pool import GIFTS_PER_TRANSACTION
    from infra.topology import QUEUES, STAGE_RATE_PER_S, WEBHOOK_RATE_PER_S
    [donations] = [q for q in QUEUES if q.stage == "donations"]
    shard = max((pk for pk in per_gift if pk.startswith(DONATIONS_PREFIX)), key=lambda pk: per_gift[pk])
    balances = max((pk for pk in per_gift if pk.startswith("CAMPAIGN#")), key=lambda pk: per_gift[pk])
    lines += ["", f"## Viral scale: {PEAK} gifts a second into one campaign for an hour (model)", "",
              "From the donation path's writes above (with donor details), scaled; pool batches as the wiring table "
              f"sets them (up to {donations.batch_size} messages of up to {GIFTS_PER_TRANSACTION} gifts, booked "
              f"{GIFTS_PER_TRANSACTION} a transaction, a {donations.batching_window_s} s window, "
              f"{donations.max_concurrency} concurrent invocations).", "",
              "| what | at 200 gifts/s | in the hour | limit |", "|---|---|---|---|",
              f"| write units, donation path | {units_per_gift * PEAK:,.0f}/s | {units_per_gift * PEAK * 3600:,.0f} | "
              "on-demand: none per table |",
              f"| most-written item (`{hottest.split(' ')[0].split('#')[0]}#…` `{hottest.split(' ', 1)[1][:20]}`) | "
              f"{writes / confirmed * PEAK:,.1f} writes/s | {writes / confirmed * PEAK * 3600:,.0f} | "
              f"{PARTITION_UNITS:,} units/s an item |",
              *(f"| partition key `{pk.split('#')[0]}#…` ({what}) | {per_gift[pk] * PEAK:,.0f} units/s | "
                f"{per_gift[pk] * PEAK * 3600:,.0f} | {PARTITION_UNITS:,} units/s a partition |"
                for pk, what in ((campaign, "the busiest: " + _holds(campaign)),
                                 (shard, f"the busiest of {DONATION_SHARDS} donations partitions"),
                                 (balances, _holds(balances))) if pk != campaign or what.startswith("the busiest")),
              f"| pool transactions | {PEAK / GIFTS_PER_TRANSACTION:,.1f}/s | "
              f"{PEAK / GIFTS_PER_TRANSACTION * 3600:,.0f} | "
              f"{donations.max_concurrency} invocations at once |",
              f"| API requests (pledge + webhook + a page read) | {3 * PEAK:,}/s | {3 * PEAK * 3600:,} | stage "
              f"{STAGE_RATE_PER_S:,}/s, webhooks {WEBHOOK_RATE_PER_S:,}/s of their own |", "",
              VIRAL_SHORT.format(shards=DONATION_SHARDS, load=per_gift[campaign] * PEAK / PARTITION_UNITS,
                                 ceiling=int(PARTITION_UNITS / per_gift[campaign])), "",
              "## Capacity: cost and limits by gifts a second", "",
              "| gifts/s | DynamoDB write units/s | DynamoDB writes, US$ an hour | busiest partition, share of its "
              "limit | API requests/s |", "|---|---|---|---|---|"]
    lines += [f"| {rate:,} | {units_per_gift * rate:,.0f} | {units_per_gift * rate * 3600 * WRITE_PRICE / 1e6:,.2f} | "
              f"{per_gift[campaign] * rate / PARTITION_UNITS:.0%} | {3 * rate:,} |" for rate in RATES]
    return lines


TRANSACTION_S = 0.03  # how long a transaction's items stay locked in DynamoDB (tens of milliseconds)


def conflict_run(donations: int = 2_000, rate: int = PEAK, seed: int = 0) -> dict:
    """Gifts pledged, confirmed by webhook and pooled on the emulator, with DynamoDB's TransactionConflict
    injected into each pool or webhook transaction that writes an item other gifts share (balances, counters),
    as often as concurrent writers would collide at `rate` gifts a second: another batch's transaction on the
    same items lands within TRANSACTION_S with probability batches/s x TRANSACTION_S. Counts the conflicts, the
    transactions sent again, and each shared item's writes."""
    import random

    import boto3

    from functions.adapters import aws
    from functions.handlers.pool import GIFTS_PER_TRANSACTION
    from local.emulator import LocalCloud, current_function
    from local.faults import _client_error
    from local.sample_data import seed_campaign
    chance = min(1.0, rate / GIFTS_PER_TRANSACTION * TRANSACTION_S)
    rng, counted, params_of = random.Random(seed), Counter(), {}

    def shared(op: dict) -> str | None:
        item = next(iter(op.values()))
        key = item.get("Item") or item.get("Key") or {}
        pk, sk = key.get("pk", {}).get("S", ""), key.get("sk", {}).get("S", "")
        return f"{pk} {sk}" if pk.startswith("CAMPAIGN#") and not sk.startswith(("DONATION#", "DONORKEY#")) else None

    def on_params(params: dict, **_: object) -> None:
        params_of["last"] = params

    def before(model, **_: object) -> None:
        function = current_function.get()
        if function not in ("pool", "webhook") or model.name != "TransactWriteItems":
            return
        items = params_of["last"]["TransactItems"]
        hot = [k for k in map(shared, items) if k]
        counted[f"{function} transactions sent"] += 1
        if hot and rng.random() < chance:
            counted[f"{function} conflicts"] += 1
            raise _client_error({"Error": {"Code": "TransactionCanceledException", "Message": "(injected)"},
                                 "CancellationReasons": [{"Code": "TransactionConflict"}]
                                 + [{"Code": "None"}] * (len(items) - 1)}, model.name)
        for key in hot:
            counted[f"item {key}"] += 1

    with LocalCloud(app_secret="bench") as cloud:
        boto3.setup_default_session()
        assert boto3.DEFAULT_SESSION is not None
        boto3.DEFAULT_SESSION.events.register("before-parameter-build.dynamodb", on_params)
        boto3.DEFAULT_SESSION.events.register("before-call.dynamodb", before)
        aws.reset()
        seed_campaign(cloud)
        before_figures = cloud.http("GET", "/campaigns/demo").json()
        for n in range(donations):
            created = cloud.http("POST", "/campaigns/demo/donations", {"amount_cents": 5_000, "currency": "USD"},
                                 {"Idempotency-Key": f"viral-{n}"}).json()
            cloud.http("POST", created["checkout_url"].removeprefix(cloud.public_base_url))
            if n % GIFTS_PER_TRANSACTION == GIFTS_PER_TRANSACTION - 1:
                cloud.drain()
        cloud.drain()
        after = cloud.http("GET", "/campaigns/demo").json()
        invocations = dict(cloud.invocations)
    shared_writes = {k.removeprefix("item "): v for k, v in counted.items() if k.startswith("item ")}
    return {"donations": donations, "rate": rate, "chance": chance, "counted": dict(counted),
            "confirmed": after["donations_confirmed"] - before_figures["donations_confirmed"],
            "raised": after["raised_cents"] - before_figures["raised_cents"], "pool_invocations": invocations["pool"],
            "hottest": max(shared_writes.values()) if shared_writes else 0}


def conflicts_section() -> list[str]:
    out = subprocess.run([sys.executable, "-m", "bench.run", "--conflicts"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    run = json.loads(out.strip().splitlines()[-1])
    n, counted = run["donations"], run["counted"]
    per = 1_000 / n
    lines = [f"## Viral scale on the emulator: conflicts injected ({n} gifts, as at {run['rate']} gifts/s)", "",
             "Each pool or webhook transaction that writes an item other gifts share (a balance, a counter) is "
             f"cancelled with `TransactionConflict`, as DynamoDB reports it, with probability {run['chance']:.2f} "
             f"(batches a second x {TRANSACTION_S} s a transaction holds its items). Webhook transactions write "
             "only their own donation and outbox item, so none conflict. The code retries a cancelled transaction "
             "(`dynamo.retrying`); what still fails goes back to SQS.", "",
             "| function | transactions sent per 1,000 gifts | conflicts per 1,000 gifts | retries per 1,000 gifts |",
             "|---|---|---|---|"]
    for function in ("webhook", "pool"):
        sent, conflicts = counted.get(f"{function} transactions sent", 0), counted.get(f"{function} conflicts", 0)
        lines.append(f"| {function} | {sent * per:,.1f} | {conflicts * per:,.1f} | {conflicts * per:,.1f} |")
    lines += ["", f"Every gift counted once: {'yes' if (run['confirmed'], run['raised']) == (n, n * 5_000) else 'NO'} "
              f"({run['confirmed']} confirmed, {run['raised']:,} cents raised; {run['pool_invocations']} pool "
              f"invocations). Most writes to one shared item: {run['hottest']} for {n} gifts, so "
              f"{run['hottest'] / n * run['rate']:,.1f} writes/s at {run['rate']} gifts/s (an item takes 1,000)."]
    return lines


def serve_section() -> list[str]:
    out = subprocess.run([sys.executable, "-m", "bench.run", "--serve"], cwd=ROOT, check=True, capture_output=True,
                         text=True).stdout
    run = json.loads(out.strip().splitlines()[-1])
    ok = not run["failed"] and run["confirmed"] == run["donors"]
    return [f"## `jubilee serve`: {run['donors']} concurrent donors (pledge, checkout, confirm)", "",
            "A real `jubilee serve` process; every donor starts at once. Donations a second until the pool counts "
            "every one, against bare DynamoDB puts to the same moto server by as many threads (three each) in the "
            "same run. Goal: none reset or lost.", "",
            "| what | per second | ratio to bare puts |", "|---|---|---|",
            f"| bare moto puts (baseline) | {run['puts_per_s']:,.1f} | 1.00 |",
            f"| donations, pledged to pooled | {run['donations_per_s']:,.1f} | "
            f"{run['donations_per_s'] / run['puts_per_s']:.3f} |", "",
            f"None reset or lost: {'yes' if ok else 'NO'} ({run['confirmed']} of {run['donors']} counted; failures: "
            f"{run['failed'] or 'none'}). A donation is about {run['puts_per_s'] / run['donations_per_s']:.0f} bare "
            "puts' worth of moto time: its pledge, checkout page, webhook, outbox relay and pooling, each an "
            "emulated Lambda invocation with Powertools' routing and validation, in one Python process."]


def ingestion_section() -> list[str]:
    bare, ingestion, rows = ingestion_cpu()
    lines = [f"## Forgiveness ingestion CPU ({rows:,} generated accounts, one process)", "",
             "Check every row, hash, seal (AES-GCM) and build the DynamoDB items of every account, chunk by chunk, "
             "against a bare `csv.reader` pass over the same file in the same run (goal: at most 4x). Rows are "
             "checked a column at a time, every row before any account is claimed; the accounts' duplicate keys "
             "are read as `offers add` stored them and handed to the claim (a DynamoDB write, not timed); the "
             "items are made as the writer takes them, 25 at a time. "
             "Process CPU time, fastest of 3 interleaved runs each.", "",
             "| pass | per account | ratio to bare parse | goal met |", "|---|---|---|---|",
             f"| bare csv.reader (baseline) | {bare / rows * 1e6:.2f} us | 1.00 | |",
             f"| ingestion | {ingestion / rows * 1e6:.2f} us | {ingestion / bare:.2f} | "
             f"{'yes' if ingestion / bare <= 4 else 'NO'} |"]
    if ingestion / bare > 4:
        lines += ["", INGESTION_SHORT.format(over=ingestion / bare - 4, extra=(ingestion - 4 * bare) / rows * 1e6)]
    return lines


def validation_section() -> list[str]:
    bare, checked, rows = validation_cpu()
    lines = [f"## Offer-file validation CPU ({rows:,} generated accounts, `offers check`)", "",
             "Every row through the offer-row model (what `offers add` reads it with), against a bare `csv.reader` "
             "pass over the same file in the same run (goal: at most 10x). Process CPU time, fastest of 3.", "",
             "| pass | per account | ratio to bare parse | goal met |", "|---|---|---|---|",
             f"| bare csv.reader (baseline) | {bare / rows * 1e6:.2f} us | 1.00 | |",
             f"| validation | {checked / rows * 1e6:.2f} us | {checked / bare:.2f} | "
             f"{'yes' if checked / bare <= 10 else 'NO'} |"]
    return lines


def main() -> None:
    lines = ["# Benchmark results", "",
             f"Command: `make bench` (`python -m bench.run`), {dt.date.today().isoformat()}, "
             f"Python {platform.python_version()}, {os.cpu_count()} cores. Regenerate rather than edit.", ""]
    lines += calls_section() + [""] + conflicts_section() + [""] + serve_section() + [""]
    lines += imports_section()
    # The planner's section takes minutes (HiGHS's 10 s limit, per shape and size); BENCH_PLANNER=keep carries
    # the last run's (its code unchanged since), `python -m bench.run --planner` makes it again alone.
    results = (ROOT / "bench" / "RESULTS.md").read_text()
    if os.environ.get("BENCH_PLANNER") == "keep" and "## Purchase planner" in results:
        start = results.index("## Purchase planner")
        end = results.find("\n## ", start + 1)
        lines += ["", results[start:end if end >= 0 else None].rstrip()]
    else:
        lines += [""] + planner_section()
    out = subprocess.run([sys.executable, "-m", "bench.run", "--forgiveness-calls", "10000"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    counted = json.loads(out.strip().splitlines()[-1])
    per = counted["accounts"]
    dynamodb = sum(n for k, n in counted["calls"].items() if k.startswith("dynamodb."))
    kms = sum(n for k, n in counted["calls"].items() if k.startswith("kms."))
    lines += ["", f"## Forgiveness: AWS requests per account ({per:,} accounts through the emulator, counted)", "",
              "Goal: at most 0.1 DynamoDB requests and no KMS request per account.", "",
              "| service.operation | requests | per account |", "|---|---|---|"]
    lines += [f"| {k} | {n} | {n / per:.4f} |" for k, n in sorted(counted["calls"].items())]
    lines += [f"| **DynamoDB, all** | {dynamodb} | {dynamodb / per:.4f} |",
              f"| **KMS, all** | {kms} | {kms / per:.4f} |"]
    lines += [""] + ingestion_section() + [""] + validation_section()
    out = subprocess.run([sys.executable, "-m", "bench.run", "--offer-lookups", "20000"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    looked = json.loads(out.strip().splitlines()[-1])
    lines += ["", f"## `offers add`: DynamoDB requests ({looked['accounts']:,} accounts through the emulator)", "",
              "Duplicate keys are made once here and stored beside the file. A campaign's claims are read only when "
              "a bought offer's file is gone (claims exist only for bought rows, which the files still there "
              f"show). The clean add took {looked['clean_s']:.1f} s on moto.", "",
              "| offer | operation | requests |", "|---|---|---|"]
    lines += [f"| {kind} | dynamodb.{op} | {n} |" for kind, ops in looked["calls"].items()
              for op, n in sorted(ops.items())]
    text = "\n".join(lines) + "\n"
    (ROOT / "bench" / "RESULTS.md").write_text(text)
    print(text)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--forgiveness-calls"]:
        print(json.dumps(forgiveness_calls(int(sys.argv[2]))))
    elif sys.argv[1:2] == ["--calls"]:
        counted, totals = count_calls(int(sys.argv[2]), int(sys.argv[3]) or None, sys.argv[4:5] == ["named"])
        print(json.dumps({"calls": {f"{f} {op}": n for (f, op), n in counted.items()}, "figures": totals}))
    elif sys.argv[1:2] == ["--offer-lookups"]:
        print(json.dumps(offer_lookups(int(sys.argv[2]))))
    elif sys.argv[1:2] == ["--serve"]:
        print(json.dumps(serve_rates()))
    elif sys.argv[1:2] == ["--calls-section"]:
        print("\n".join(calls_section()))
    elif sys.argv[1:2] == ["--conflicts"]:
        print(json.dumps(conflict_run()))
    elif sys.argv[1:2] == ["--conflicts-section"]:
        print("\n".join(conflicts_section()))
    elif sys.argv[1:2] == ["--imports"]:
        print("\n".join(imports_section()))
    elif sys.argv[1:2] == ["--ingestion"]:  # the two CPU sections, printed only
        print("\n".join(ingestion_section() + [""] + validation_section()))
    elif sys.argv[1:2] == ["--planner"]:  # the planner's section alone, replaced in RESULTS.md
        section, results = "\n".join(planner_section()) + "\n", ROOT / "bench" / "RESULTS.md"
        text = results.read_text()
        start = text.index("## Purchase planner")
        end = text.find("\n## ", start + 1)
        results.write_text(text[:start] + section + (text[end:] if end >= 0 else ""))
        print(section)
    else:
        main()
