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
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DONATIONS = 100


def count_calls(donations: int, batch_size: int) -> tuple[Counter, dict]:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    import boto3

    from functions.adapters import aws
    from local.emulator import LocalCloud, current_function
    from local.sample_data import seed_campaign

    calls: Counter = Counter()

    def on_call(model, **_: object) -> None:
        function = current_function.get()
        if function:
            calls[(function, f"{model.service_model.service_name}.{model.name}")] += 1

    with LocalCloud(app_secret="bench", batch_sizes={"donations": batch_size}) as cloud:
        # After the mock starts (it resets boto3's default session), before any handler makes a client.
        boto3.setup_default_session()
        boto3.DEFAULT_SESSION.events.register("before-call", on_call)
        aws.reset()
        seed_campaign(cloud)
        for n in range(donations):
            created = cloud.http("POST", "/campaigns/demo/donations", {"amount_cents": 5_000 + n, "currency": "USD"},
                                 {"Idempotency-Key": f"bench-{n}"}).json()
            cloud.http("POST", created["checkout_url"].removeprefix(cloud.public_base_url))
            if n % 10 == 9:
                cloud.drain()
        cloud.drain()
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


def count_calls_fresh(donations: int, batch_size: int) -> tuple[Counter, dict]:
    """count_calls in a fresh interpreter, so no client or cache carries over between runs."""
    out = subprocess.run([sys.executable, "-m", "bench.run", "--calls", str(donations), str(batch_size)], cwd=ROOT,
                         check=True, capture_output=True, text=True).stdout
    data = json.loads(out.strip().splitlines()[-1])
    return Counter({tuple(k.split(" ", 1)): v for k, v in data["calls"].items()}), data["figures"]


def import_seconds(statement: str, repeats: int = 7) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="0")
    subprocess.run([sys.executable, "-c", statement], cwd=ROOT, env=env, check=True)  # warm the .pyc cache
    return statistics.median(float(subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                                                  capture_output=True, text=True).stdout) for _ in range(repeats))


def planner_timing(offers: int = 100, repeats: int = 5) -> tuple[float, float, int, int]:
    """Median seconds of the exact planner and of greedy on the same random offers, and their values."""
    import random

    from functions.domain.planner import Offer, greedy_plan, optimal_plan

    rng = random.Random(42)
    sample = [Offer(f"o{n:03d}", "c", "s", rng.randrange(100_000, 5_000_000), rng.randrange(5_000_000, 500_000_000),
                    rng.randrange(5, 500), "k", eligible_face_value_cents=None) for n in range(offers)]
    budget = sum(o.price_cents for o in sample) // 3

    def timed(run) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    exact, greedy = timed(lambda: optimal_plan(budget, sample)), timed(lambda: greedy_plan(budget, sample))
    return exact, greedy, optimal_plan(budget, sample).value, sum(o.value() for o in greedy_plan(budget, sample))


def ingestion_cpu(accounts: int = 1_000_000, repeats: int = 3) -> tuple[float, float, int]:
    """CPU seconds (process time, the fastest of `repeats` interleaved runs, which is the least
    disturbed by neighbours) of a bare csv.reader pass over a generated portfolio, and of the real
    ingestion's work on it (parse + validate + hash + seal + build DynamoDB items), chunk by chunk."""
    import csv
    import io

    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from functions.adapters.crypto import Sealer
    from functions.adapters.forgiveness import CHUNK_ROWS
    from functions.domain.forgiveness import chunk_ranges
    from functions.handlers.forgiveness import chunk_items
    from local.sample_data import offer_csv

    data = offer_csv(accounts, 11)
    header, ranges = chunk_ranges(io.BytesIO(data), CHUNK_ROWS)
    public_key = X25519PrivateKey.generate().public_key().public_bytes_raw()

    def bare() -> int:
        return sum(1 for _ in csv.reader(io.StringIO(data.decode())))

    def ours() -> int:
        items = 0
        for n, (first, begin, end) in enumerate(ranges):
            message = {"campaign_id": "bench", "plan_id": "bench.offer.0", "chunk": n, "first_row": first,
                       "header": header}
            # A sealer per chunk, as the handler makes one per invocation.
            built, *_ = chunk_items(message, data[begin:end].decode(), Sealer(public_key), b"k" * 32,
                                    "2026-11-28T00:00:00+00:00", b"c" * 32)
            items += len(built)
        return items

    best = {bare: float("inf"), ours: float("inf")}
    for _ in range(repeats):
        for run in (bare, ours):
            start = time.process_time()
            counted = run()
            best[run] = min(best[run], time.process_time() - start)
    assert counted == accounts  # one item per account
    return best[bare], best[ours], accounts


def main() -> None:
    batched, figures = count_calls_fresh(DONATIONS, batch_size=10)
    single, _ = count_calls_fresh(DONATIONS, batch_size=1)
    confirmed = figures["donations_confirmed"]
    lines = [
        "# Benchmark results", "",
        f"Command: `make bench` (`python -m bench.run`), {dt.date.today().isoformat()}, "
        f"Python {platform.python_version()}, {os.cpu_count()} cores. Regenerate rather than edit.", "",
        f"## AWS SDK calls per confirmed donation ({confirmed} donations, whole chain)", "",
        f"{figures['purchases']} purchases, {figures['accounts_forgiven']} accounts forgiven and "
        f"{figures['letters_sent']} letters along the way; calls by the function that made them.", "",
        "| function | calls | per donation | with donations batch 1 | ratio to batch 1 |", "|---|---|---|---|---|",
    ]
    for function in sorted({f for f, _ in batched} | {f for f, _ in single}):
        ours = sum(v for (f, _), v in batched.items() if f == function)
        base = sum(v for (f, _), v in single.items() if f == function)
        lines.append(f"| {function} | {ours} | {ours / confirmed:.2f} | {base / confirmed:.2f} | "
                     f"{ours / base:.2f} |" if base else f"| {function} | {ours} | {ours / confirmed:.2f} | - | - |")
    total, total_single = sum(batched.values()), sum(single.values())
    lines += [f"| **all** | {total} | {total / confirmed:.2f} | {total_single / confirmed:.2f} | "
              f"{total / total_single:.2f} |", "", "Calls by operation (donations batch 10):", "",
              "| function | operation | calls |", "|---|---|---|"]
    lines += [f"| {f} | {op} | {n} |" for (f, op), n in sorted(batched.items())]
    baseline = import_seconds("import boto3")
    lines += ["", "## Import time of each handler module (cold start share)", "",
              "Median of 7 fresh interpreters, as a ratio to `import boto3` measured in the same run.", "",
              "| module | ratio to `import boto3` |", "|---|---|", "| boto3 (baseline) | 1.00 |"]
    from infra.topology import FUNCTIONS

    for fn in FUNCTIONS:
        module = fn.handler.rsplit(".", 1)[0]
        lines.append(f"| {module} | {import_seconds(f'import {module}') / baseline:.2f} |")
    exact, greedy, exact_value, greedy_value = planner_timing()
    lines += ["", "## Purchase planner (100 random offers, budget a third of their total price)", "",
              "| planner | median time | ratio to greedy | value found |", "|---|---|---|---|",
              f"| greedy by ratio (baseline) | {greedy * 1000:.2f} ms | 1.00 | {greedy_value} |",
              f"| exact (with its explanation) | {exact * 1000:.1f} ms | {exact / greedy:.0f} | {exact_value} |"]
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
    bare, ours, rows = ingestion_cpu()
    lines += ["", f"## Forgiveness ingestion CPU ({rows:,} generated accounts, one process)", "",
              "Parse, validate, hash, seal (AES-GCM) and build the DynamoDB items of every account, chunk by chunk, "
              "against a bare `csv.reader` pass over the same file in the same run (goal: at most 5x). "
              "Process CPU time, fastest of 3 interleaved runs each.", "",
              "| pass | per account | ratio to bare parse |", "|---|---|---|",
              f"| bare csv.reader (baseline) | {bare / rows * 1e6:.2f} us | 1.00 |",
              f"| ingestion | {ours / rows * 1e6:.2f} us | {ours / bare:.2f} |"]
    text = "\n".join(lines) + "\n"
    (ROOT / "bench" / "RESULTS.md").write_text(text)
    print(text)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--forgiveness-calls"]:
        print(json.dumps(forgiveness_calls(int(sys.argv[2]))))
    elif sys.argv[1:2] == ["--calls"]:
        counted, totals = count_calls(int(sys.argv[2]), int(sys.argv[3]))
        print(json.dumps({"calls": {f"{f} {op}": n for (f, op), n in counted.items()}, "figures": totals}))
    else:
        main()
