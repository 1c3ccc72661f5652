"""The `jubilee` command."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.table import Table

from functions.adapters.aws import STAGES
from functions.domain.campaigns import PROVIDERS, Campaign, CampaignError
from functions.domain.money import format_cents
from functions.domain.offers import OfferFileError

console = Console()
err = Console(stderr=True)


def _where(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", default="Jubilee", help="CloudFormation stack to act on (default: Jubilee)")
    parser.add_argument("--endpoint-url", help="act on this AWS-compatible endpoint instead (e.g. jubilee serve's)")


def _whole(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"{text!r} must be {'above zero' if minimum else 'zero or more'}")
    return value


def _positive(text: str) -> int:
    return _whole(text, 1)


def _non_negative(text: str) -> int:
    return _whole(text, 0)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="jubilee", description="Buy and forgive debt with pooled donations.")
    commands = top.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="run a sample campaign end to end on a local emulator")
    demo.add_argument("--donations", type=_positive, default=60)
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--json", action="store_true", help="print one JSON object")

    serve = commands.add_parser("serve", help="serve the API and run the workers locally, on moto")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_positive, default=3000)
    serve.add_argument("--aws-port", type=_positive, default=None, help="moto endpoint port (default: port + 1)")
    serve.add_argument("--payments", choices=PROVIDERS, default="sandbox",
                       help="the demo campaign's provider; stripe reads STRIPE_WEBHOOK_SECRET (and STRIPE_API_BASE, "
                            "STRIPE_API_KEY when set)")

    campaigns = commands.add_parser("campaigns", help="manage campaigns").add_subparsers(dest="action", required=True)
    create = campaigns.add_parser("create", help="create a campaign")
    create.add_argument("campaign_id")
    create.add_argument("--name", required=True)
    create.add_argument("--threshold-cents", type=_positive, default=Campaign.threshold_cents)
    create.add_argument("--reserve-bps", type=_non_negative, default=Campaign.reserve_bps)
    create.add_argument("--currency", default="USD")
    create.add_argument("--contact", default="", help="printed on debtors' letters")
    create.add_argument("--payments", choices=PROVIDERS, default="sandbox", help="the provider donors pay through")
    create.add_argument("--tax-statement", default="", help="printed on donors' receipts")
    _where(create)

    offers = commands.add_parser("offers", help="manage debt offers").add_subparsers(dest="action", required=True)
    add = offers.add_parser("add", help="validate, upload and register an offer file (CSV)")
    add.add_argument("file", type=Path)
    add.add_argument("--campaign", required=True)
    add.add_argument("--seller", required=True)
    add.add_argument("--price-cents", type=_positive, required=True)
    _where(add)
    sample = offers.add_parser("sample", help="write a sample offer file of fictional people")
    sample.add_argument("--out", type=Path, required=True)
    sample.add_argument("--accounts", type=_positive, default=25)
    sample.add_argument("--seed", type=int, default=1)

    receipts = commands.add_parser("receipts", help="a donor's year-end statement of gifts")
    receipts.add_argument("--donor", required=True, metavar="EMAIL")
    receipts.add_argument("--year", type=_positive, required=True)
    receipts.add_argument("--json", action="store_true")
    _where(receipts)

    reconcile = commands.add_parser("reconcile", help="compare Stripe's balance transactions with the ledger")
    reconcile.add_argument("--campaign", required=True)
    reconcile.add_argument("--since", metavar="DATE", help="only what happened on or after this day (YYYY-MM-DD)")
    _where(reconcile)

    dlq = commands.add_parser("dlq", help="dead-letter queues").add_subparsers(dest="action", required=True)
    redrive = dlq.add_parser("redrive", help="move a stage's dead letters back onto its queue")
    redrive.add_argument("stage", choices=STAGES)
    _where(redrive)
    return top


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


def print_statement(result: dict) -> None:
    table = Table(title=f"Gifts from {result['donor']} in {result['year']}")
    for column in ("date", "campaign", "donation", "amount", "refunded", "net"):
        table.add_column(column)
    for gift in result["gifts"]:
        table.add_row(gift["date"], gift["campaign_id"], gift["donation_id"],
                      *(format_cents(gift[k], gift["currency"]) for k in ("amount_cents", "refunded_cents", "net_cents")))
    console.print(table)
    for currency, total in result["totals"].items():
        console.print(f"Total given: {format_cents(total, currency)}")
    for campaign_id, text in result["tax_statements"].items():
        console.print(f"{campaign_id}: {text}")


def _show(result: dict, as_json: bool, printer: Callable[[dict], None]) -> int:
    """One JSON object on stdout for scripts, or a readable report for people."""
    if as_json:
        print(json.dumps(result, sort_keys=True))
    else:
        printer(result)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return run(args)
    except (BotoCoreError, ClientError) as error:
        err.print(f"[red]error:[/red] AWS said: {error}")
        return 1
    except (CampaignError, OfferFileError, ValueError, LookupError) as error:
        problems = getattr(error, "problems", None)
        err.print(f"[red]error:[/red] {error if not problems else f'{len(problems)} problem(s) in the file'}")
        for problem in problems or []:
            err.print(f"  {problem}")
        return 2


def run(args: argparse.Namespace) -> int:
    from infra import operations

    if args.command == "demo":
        from infra import demo

        # The functions log (and emit metrics) to stdout, as in Lambda: here that goes to stderr,
        # so stdout carries only the report. Set before the handler modules bind their loggers.
        stdout, sys.stdout = sys.stdout, sys.stderr
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # no EMF lines in a local report
        try:
            report = demo.run(donations=args.donations, seed=args.seed)
        finally:
            sys.stdout = stdout
        return _show(report, args.json, print_report)
    if args.command == "serve":
        from infra.local import server

        if args.payments == "stripe" and not os.environ.get("STRIPE_WEBHOOK_SECRET"):
            err.print("[red]error:[/red] --payments stripe: set STRIPE_WEBHOOK_SECRET to your endpoint's signing secret")
            return 2
        return server.serve(args.host, args.port, args.aws_port or args.port + 1, args.payments)
    if args.command == "offers" and args.action == "sample":
        from infra.sample_data import offer_csv

        args.out.write_bytes(offer_csv(args.accounts, args.seed))
        console.print(f"wrote {args.accounts} fictional accounts to {args.out}")
        return 0
    try:
        operations.connect(args.stack, args.endpoint_url)
        if args.command == "campaigns":
            campaign = Campaign(args.campaign_id, args.name, currency=args.currency,
                                threshold_cents=args.threshold_cents, reserve_bps=args.reserve_bps,
                                contact=args.contact, payments=args.payments, tax_statement=args.tax_statement)
            operations.create_campaign(campaign)
            console.print(f"created campaign {campaign.campaign_id!r}")
            return 0
        if args.command == "offers":
            try:
                body = args.file.read_bytes()
            except OSError as error:
                raise operations.OperationError(f"FILE: cannot read {args.file}: {error.strerror}") from None
            try:
                offer = operations.add_offer(args.campaign, body, args.seller, args.price_cents)
            except UnicodeDecodeError:
                raise operations.OperationError("FILE: is not UTF-8 text") from None
            console.print(f"registered {offer.offer_id}: {offer.accounts} accounts, "
                          f"{format_cents(offer.face_value_cents)} face value for {format_cents(offer.price_cents)}")
            return 0
        if args.command == "receipts":
            return _show(operations.statement(args.donor, args.year), args.json, print_statement)
        if args.command == "reconcile":
            found = operations.reconcile(args.campaign, args.since)
            for difference in found:
                console.print(str(difference))
            console.print(f"{len(found)} difference(s) between Stripe and the ledger of {args.campaign!r}")
            return 1 if found else 0
        if args.command == "dlq":
            moved = operations.redrive(*operations.queue_urls(args.stage, args.stack, args.endpoint_url))
            console.print(f"moved {moved} message(s) from the {args.stage} dead-letter queue back to its queue")
            return 0
    except operations.OperationError as error:
        err.print(f"[red]error:[/red] {error}")
        return 2
    raise AssertionError(f"unhandled command {args.command}")


if __name__ == "__main__":
    sys.exit(main())
