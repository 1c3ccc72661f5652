"""Cold starts: each function loads at import the heavy packages its invocations use, and no others.

Every function imports the ledger adapter and the shared domain, so one careless import there (a type
named at the top of a shared module, a re-export) puts the planner, pydantic or cryptography into every
cold start; `make bench` measures the cost (bench/run.py, "Import time of each handler module"). Each
handler is imported in an interpreter of its own; what it loads must be exactly what it uses: a use
listed here but deferred to the first invocation would hide the cost from the bench, not remove it.
"""

import json
import subprocess
import sys
from pathlib import Path

from infra.topology import FUNCTIONS

ROOT = Path(__file__).resolve().parents[2]

HEAVY = ("pydantic", "cryptography", "stripe", "functions.domain.planner", "functions.domain.offers",
         "functions.adapters.letters_pdf")
HTTP = {"pydantic"}  # Powertools' OpenAPI validation of paths, queries and bodies (handlers/http.py)
USES: dict[str, set[str]] = {
    "api": HTTP,
    "webhook": HTTP,  # Stripe's SDK only where the deployment takes Stripe (adapters/providers.py)
    "admin": HTTP,  # the planner's Offer only on the routes that approve or reject a plan
    "dispatcher": set(),
    "relay": set(),
    "pool": set(),
    "purchase": {"functions.domain.planner"},
    # Reads a portfolio's rows by the offer-row model's columns, seals each account.
    "forgiveness": {"functions.domain.offers", "pydantic", "cryptography"},
    # Opens debtors' data (the sandbox printer and Lob) and draws PDFs (the sandbox printer): per campaign.
    "letters": {"cryptography", "functions.adapters.letters_pdf"},
    "mail_webhook": HTTP,
    "reconcile": set(),
    "sweep": set(),
    "mail_out": set(),
    "unsubscribe": HTTP,
}
# One interpreter imports what every function shares but is not heavy (boto3, Powertools' core), then
# forks a child per handler: each child starts from that state, as a cold start would reach it, in a
# fraction of a fresh interpreter's time.
PROBE = """
import importlib, json, os, sys
import boto3, aws_lambda_powertools
modules, heavy = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert not set(heavy) & set(sys.modules)
children = {}
for name, module in modules.items():
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        importlib.import_module(module)
        os.write(write, json.dumps([m for m in heavy if m in sys.modules]).encode())
        os._exit(0)
    os.close(write)
    children[name] = (pid, read)
loaded = {}
for name, (pid, read) in children.items():
    with os.fdopen(read) as pipe:
        loaded[name] = json.loads(pipe.read() or "null")
    os.waitpid(pid, 0)
print(json.dumps(loaded))
"""


def test_each_function_loads_only_the_heavy_packages_it_uses():
    modules = {fn.name: fn.handler.rsplit(".", 1)[0] for fn in FUNCTIONS}
    assert set(USES) == set(modules), "a function was added or renamed: say here what it may load"
    run = subprocess.run([sys.executable, "-c", PROBE, json.dumps(modules), json.dumps(HEAVY)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    loaded = {name: set(found) for name, found in json.loads(run.stdout).items() if found is not None}
    assert set(loaded) == set(modules), run.stderr  # a child that failed to import its handler says why there
    wrong = [f"{name} loads {sorted(loaded[name] - uses)} without using them, defers {sorted(uses - loaded[name])}"
             for name, uses in USES.items() if loaded[name] != uses]
    assert not wrong, "\n".join(wrong)
