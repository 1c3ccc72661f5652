"""The `jubilee` commands that run on the local emulator: `demo`, `serve` and `offers sample`.

ops/cli.py finds this module by name (its PLUGINS) and lets it add its commands: the operator's CLI
never imports the emulator, and a light install (`pip install .`, no moto) still lists them and
says what to install.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from rich.table import Table

from functions.domain.campaigns import PROVIDERS
from functions.domain.money import format_cents
from ops.cli import Command, _show, console, err


def add_parsers(commands: Any, groups: dict[str, Any], positive: Any) -> dict[tuple[str, str | None], Command]:
    """Add the emulator's commands to the parser (`groups`: the commands' own sub-commands, by name); returns
    them, each needing no deployment."""
    demo = commands.add_parser("demo", help="run a sample campaign end to end on a local emulator")
    demo.add_argument("--donations", type=positive, default=60)
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--json", action="store_true", help="print one JSON object")
    demo.add_argument("--report", type=Path, metavar="FILE",
                      help="also write the campaign's dashboard as one self-contained HTML file")

    serve = commands.add_parser("serve", help="serve the API and run the workers locally, on moto")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=positive, default=3000)
    serve.add_argument("--aws-port", type=positive, default=None, help="moto endpoint port (default: port + 1)")
    serve.add_argument("--payments", choices=PROVIDERS, default="sandbox",
                       help="the demo campaign's provider; stripe reads STRIPE_WEBHOOK_SECRET (and STRIPE_API_BASE, "
                            "STRIPE_API_KEY when set)")
    serve.add_argument("--no-sample", action="store_true",
                       help="start with no campaign (to import one, or create your own) instead of the sample 'demo'")

    sample = groups["offers"].add_parser("sample", help="write a sample offer file of fictional people")
    sample.add_argument("--out", type=Path, required=True)
    sample.add_argument("--accounts", type=positive, default=25)
    sample.add_argument("--seed", type=int, default=1)
    return {("demo", None): _demo, ("serve", None): _serve, ("offers", "sample"): _offer_sample}


def print_report(report: dict) -> None:
    table = Table(title="Jubilee demo — campaign 'demo'", show_header=False)
    for key, value in report.items():
        if isinstance(value, dict):
            continue
        label = key.removesuffix("_cents").replace("_", " ")
        table.add_row(label, format_cents(value) if key.endswith("_cents") else str(value))
    console.print(table)
    raised, spent = report["raised_cents"], report["spent_cents"]
    if spent:
        console.print(f"Every $1 spent abolished {format_cents(report['face_value_forgiven_cents'] * 100 // spent)} "
                      f"of debt for {report['accounts_forgiven']} people; "
                      f"{format_cents(raised)} raised in {report['donations_confirmed']} gifts.")
    console.print("Played: a monthly gift's second month, a partial refund, a dispute won and one lost.")
    console.print(f"Checked: a repeated request, a repeated webhook and a crashed batch were each counted once; "
                  f"ledger balanced: {report['ledger_balanced']}.")
    if report.get("report"):
        console.print(f"The campaign's dashboard, as one file: {report['report']}")


def _local() -> bool:
    """Whether the emulator's extra is installed: serve and demo run on moto."""
    try:
        import moto  # noqa: F401
    except ImportError:
        err.print("[red]error:[/red] this command runs on the local emulator: pip install 'jubilee\\[local]'")
        return False
    return True


def _demo(args: argparse.Namespace) -> int:
    if not _local():
        return 2
    from local import demo

    # The functions log (and emit metrics) to stdout, as in Lambda: here that goes to stderr,
    # so stdout carries only the report. Set before the handler modules bind their loggers.
    stdout, sys.stdout = sys.stdout, sys.stderr
    # Quiet (no EMF lines in a local report) unless asked otherwise; put back after, for a caller in-process.
    quiet = {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}
    unset = [name for name in quiet if name not in os.environ]
    os.environ.update({name: quiet[name] for name in unset})
    try:
        report = demo.run(donations=args.donations, seed=args.seed, report_path=args.report)
    finally:
        sys.stdout = stdout
        for name in unset:
            os.environ.pop(name, None)
    return _show(report, args.json, print_report)


def _serve(args: argparse.Namespace) -> int:
    if not _local():
        return 2
    from local import server

    if args.payments == "stripe" and not os.environ.get("STRIPE_WEBHOOK_SECRET"):
        err.print("[red]error:[/red] --payments stripe: "
                  "set STRIPE_WEBHOOK_SECRET to your endpoint's signing secret")
        return 2
    return server.serve(args.host, args.port, args.aws_port or args.port + 1, args.payments, not args.no_sample)


def _offer_sample(args: argparse.Namespace) -> int:
    from local.sample_data import offer_csv

    args.out.write_bytes(offer_csv(args.accounts, args.seed))
    console.print(f"wrote {args.accounts} fictional accounts to {args.out}")
    return 0
