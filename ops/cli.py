"""The `jubilee` command."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from types import ModuleType
from typing import TextIO, cast

import rich.progress
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.table import Table

from functions.domain.campaigns import MAILERS, PROVIDERS, Campaign, CampaignError, parse_address
from functions.domain.letter_text import ENTITY_TYPES, LANGUAGES
from functions.domain.money import format_cents
from functions.domain.offers import FileReport, OfferFileError, check_file
from functions.domain.offline import METHODS
from functions.wiring import STAGES

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


def _admin_where(parser: argparse.ArgumentParser) -> None:
    """A command that goes through the admin API (ops/plans.py), as an approver."""
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--stack", default="Jubilee", help="the stack whose admin API to call, signed with "
                                                           "your AWS credentials (default: Jubilee)")
    parser.add_argument("--endpoint", metavar="URL", help="call this API instead (jubilee serve's, e.g. "
                                                          "http://127.0.0.1:3000), with --token")
    parser.add_argument("--token", default=os.environ.get("JUBILEE_ADMIN_TOKEN"),
                        help="the local admin token jubilee serve printed (default: $JUBILEE_ADMIN_TOKEN)")


def _positive(text: str) -> int:
    return _whole(text, 1)


def _non_negative(text: str) -> int:
    return _whole(text, 0)


def _grant_id_prefix(text: str) -> str:
    from ops import giving360

    try:
        return giving360.check_prefix(text)
    except giving360.GrantPrefixError:
        raise argparse.ArgumentTypeError(giving360.PREFIX_RULE) from None


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="jubilee", description="Buy and forgive debt with pooled donations.")
    commands = top.add_subparsers(dest="command", required=True)

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
    create.add_argument("--objective", choices=("face_value", "people"), default="face_value",
                        help="what purchase plans maximise: eligible face value or eligible people")
    create.add_argument("--approver", action="append", default=[], metavar="ARN",
                        help="an IAM identity that may approve purchases (repeat for each of the M)")
    create.add_argument("--approvals-required", type=_non_negative, default=0, metavar="N")
    create.add_argument("--auto-approve-cents", type=_non_negative, default=0)
    create.add_argument("--plan-ttl-hours", type=_positive, default=72)
    create.add_argument("--debtor-data-days", type=_positive, default=Campaign.debtor_data_days,
                        help="shred debtors' sealed data this many days after their letters (default 30)")
    create.add_argument("--letters-after-days", type=_non_negative, default=0, metavar="N",
                        help="hold letters N days after a purchase settles, so a seller's scrub arrives first")
    create.add_argument("--policy", type=json.loads, default={},
                        help='eligibility as JSON, e.g. \'{"income_multiple_pct": 400, "debt_types": ["medical"]}\'')
    create.add_argument("--guidelines", type=Path, help="extra poverty guidelines CSV (e.g. Alaska, Hawaii)")
    create.add_argument("--mailer", choices=MAILERS, default="sandbox",
                        help="how letters leave: sandbox (the letters bucket) or lob (Lob prints and mails them)")
    create.add_argument("--legal-name", default="",
                        help="the organisation's legal name, on receipts and letterheads (required with --mailer lob)")
    create.add_argument("--ein", default="", help="the organisation's EIN (12-3456789), on receipts")
    address = create.add_mutually_exclusive_group()
    address.add_argument("--address", metavar="TEXT", help='the postal address as one line, "street, city, ST 12345": '
                                                          "the letters' return address (needed with --mailer lob)")
    address.add_argument("--postal-address", nargs=4, default=(), metavar=("STREET", "CITY", "STATE", "ZIP"),
                         help="the same, as four words")
    create.add_argument("--letter-language", action="append", choices=LANGUAGES, dest="letter_languages",
                        help="a language of the letters, one page each (repeat; default en)")
    create.add_argument("--entity-type", choices=ENTITY_TYPES, default="none",
                        help="501c3: receipts say gifts are tax-deductible (give --legal-name and --ein); "
                             "501c4, sponsored (a fiscally sponsored project), none: they say gifts are not")
    create.add_argument("--letter-tax-note", default="", help="the letter's tax note, instead of the default")
    create.add_argument("--generic-creditor", action="store_true",
                        help="print 'a medical provider' on letters instead of the provider's name")
    create.add_argument("--email-receipts", action="store_true",
                        help="email donors their receipts and year-end statements (through SES; needs --email-from)")
    create.add_argument("--email-from", default="", metavar="ADDRESS",
                        help="the sender: an address of a verified SES identity (the stack's -c email_identity)")
    _where(create)
    register = campaigns.add_parser("register", help="add campaigns created before the campaign registry to it "
                                                     "(once, after upgrading; the hourly schedules see only these)")
    _where(register)
    listing = campaigns.add_parser("list", help="every campaign, with its main settings")
    described = campaigns.add_parser("show", help="a campaign's settings and every change made to them")
    described.add_argument("campaign_id", metavar="ID")
    update = campaigns.add_parser("update", help="change a campaign's settings (checked whole; each change is "
                                                 "recorded, and public ones appended to the public log)")
    update.add_argument("campaign_id", metavar="ID")
    update.add_argument("--set", action="append", default=[], type=_setting, metavar="NAME=VALUE", dest="settings",
                        help="any setting (repeat): numbers as digits, true/false, JSON for policy and lists")
    update.add_argument("--name")
    update.add_argument("--contact", help="printed on debtors' letters")
    update.add_argument("--threshold-cents", type=_positive)
    update.add_argument("--reserve-bps", type=_non_negative)
    update.add_argument("--policy", type=json.loads, help="eligibility as JSON (replaces the policy)")
    update.add_argument("--approver", action="append", dest="approvers", metavar="ARN",
                        help="the approvers' IAM identities (repeat for each; replaces the list)")
    update.add_argument("--approvals-required", type=_non_negative, metavar="N")
    update.add_argument("--auto-approve-cents", type=_non_negative)
    update.add_argument("--plan-ttl-hours", type=_positive)
    update.add_argument("--debtor-data-days", type=_positive)
    update.add_argument("--letters-after-days", type=_non_negative, metavar="N",
                        help="hold letters N days after a purchase settles (portfolios forgiven from now on)")
    update.add_argument("--legal-name")
    update.add_argument("--ein", help="the organisation's EIN (12-3456789), on receipts")
    update.add_argument("--entity-type", choices=ENTITY_TYPES)
    update.add_argument("--address", metavar="TEXT", help='the postal address as one line, "street, city, ST 12345"')
    update.add_argument("--email-receipts", action=argparse.BooleanOptionalAction, default=None,
                        help="email donors their receipts (SES; the sender must be verified)")
    update.add_argument("--email-from", metavar="ADDRESS")
    for command in (listing, described, update):
        command.add_argument("--json", action="store_true")
        _where(command)

    offers = commands.add_parser("offers", help="manage debt offers").add_subparsers(dest="action", required=True)
    add = offers.add_parser("add", help="validate, upload and register an offer file (CSV)")
    add.add_argument("file", type=Path)
    add.add_argument("--campaign", required=True)
    add.add_argument("--seller", required=True)
    add.add_argument("--price-cents", type=_positive, required=True)
    add.add_argument("--expires", metavar="DATE", help="the seller's offer lapses after this day (YYYY-MM-DD)")
    add.add_argument("--skip-bad-rows", action="store_true", help="register the good rows of a file with bad ones")
    add.add_argument("--json", action="store_true")
    _where(add)
    check = offers.add_parser("check", help="validate an offer file as `offers add` would, without uploading it")
    check.add_argument("file", type=Path)
    check.add_argument("--json", action="store_true")
    for reading in (add, check):
        reading.add_argument("--columns", type=_column_map, metavar="MAP.json",
                             help='the file\'s headers for Jubilee\'s columns, e.g. {"account_ref": "Loan ID"}')
        reading.add_argument("--date-format", metavar="FORMAT",
                             help="dates laid out otherwise than YYYY-MM-DD or MM/DD/YYYY, e.g. %%d.%%m.%%Y")
    show = offers.add_parser("show", help="an offer's profile under the campaign's eligibility policy")
    show.add_argument("offer_id", metavar="ID")
    show.add_argument("--campaign", required=True)
    show.add_argument("--json", action="store_true")
    _where(show)
    counter = offers.add_parser("counter", help="write the accounts of an offer the campaign would buy as an offer "
                                                "file, and propose a proportional price, to send back to the seller")
    counter.add_argument("offer_id", metavar="ID")
    counter.add_argument("--campaign", required=True)
    counter.add_argument("--eligible-only", action="store_true", default=True,
                         help="keep the accounts eligible under the campaign's policy and not bought already "
                              "(the one kind of counter-offer, so the default)")
    counter.add_argument("--out", type=Path, required=True, metavar="FILE",
                         help="the counter-offer's file (it names debtors, as the seller's did)")
    counter.add_argument("--json", action="store_true")
    _where(counter)
    offers.add_parser("schema", help="print the offer file row's JSON Schema")
    purchases = commands.add_parser("purchases", help="purchases").add_subparsers(dest="action", required=True)
    confirm = purchases.add_parser("confirm", help="record that a manual seller was paid for an approved plan")
    confirm.add_argument("plan_id", metavar="PLAN")
    confirm.add_argument("--reference", required=True, help="the wire's reference")
    _where(confirm)
    scrub = purchases.add_parser("scrub", help="withhold letters from accounts found bankrupt, deceased or disputed "
                                               "(the seller's or a scrub vendor's CSV: account reference, reason)")
    scrub.add_argument("plan_id", metavar="PLAN")
    scrub.add_argument("file", type=Path, metavar="FILE")
    putback = purchases.add_parser("putback", help="book a seller's refund for accounts it took back (once per "
                                                   "reference): the money returns to the pool")
    putback.add_argument("plan_id", metavar="PLAN")
    putback.add_argument("--accounts", type=Path, required=True, metavar="FILE",
                         help="CSV of the accounts taken back (an account reference column)")
    putback.add_argument("--refund-cents", type=_positive, required=True)
    putback.add_argument("--reference", required=True, help="the seller's refund reference (published in the log)")
    for command in (scrub, putback):
        command.add_argument("--campaign", help="the plan's campaign (checked against the plan id)")
    checklist = purchases.add_parser("checklist", help="what the campaign still owes a bought plan's debtors; "
                                                       "--tick an item done")
    checklist.add_argument("plan_id", metavar="PLAN")
    checklist.add_argument("--tick", metavar="ITEM", help="credit-report-deletions, collectors-recalled or "
                                                         "judgments-satisfied")
    prove = purchases.add_parser("prove", help="show that accounts were in a purchase, from the hashes kept and the "
                                               "digest its public log entry holds")
    prove.add_argument("plan_id", metavar="PLAN")
    prove.add_argument("--account-file", type=Path, required=True, metavar="ROW.csv",
                       help="the accounts (original creditor and account reference columns, e.g. rows of the "
                            "seller's file with its header)")
    for command in (scrub, putback, checklist, prove):
        command.add_argument("--json", action="store_true")
        _where(command)

    gifts = commands.add_parser("gifts", help="gifts that did not pass through the processor").add_subparsers(
        dest="action", required=True)
    record = gifts.add_parser("record", help="record a check, cash or a wire: pooled like any gift, with no fee "
                                             "(the same reference twice records it once)")
    record.add_argument("--campaign", required=True)
    record.add_argument("--amount-cents", type=_positive, required=True)
    record.add_argument("--method", choices=METHODS, required=True)
    record.add_argument("--reference", required=True, help="the check number, or the wire's reference")
    record.add_argument("--donor-name", default="")
    record.add_argument("--donor-email", default="")
    record.add_argument("--date", metavar="YYYY-MM-DD", help="the day it was received (default today)")
    _where(record)

    expenses = commands.add_parser("expenses", help="the campaign's own costs, paid from the pool").add_subparsers(
        dest="action", required=True)
    spend = expenses.add_parser("add", help="hold an expense from the pool; paid once approved like a purchase")
    spend.add_argument("--campaign", required=True)
    spend.add_argument("--amount-cents", type=_positive, required=True)
    spend.add_argument("--payee", required=True, help="published in the public log")
    spend.add_argument("--purpose", required=True, help="published in the public log")
    spend.add_argument("--receipt", type=Path, required=True, metavar="FILE",
                       help="the invoice or receipt: its SHA-256 is published (the file stays with you)")
    _where(spend)
    for verb, text in (("approve", "approve a proposed expense as yourself (your IAM identity)"),
                       ("reject", "reject a proposed expense: its hold is voided and the funds return")):
        decide = expenses.add_parser(verb, help=text)
        decide.add_argument("expense_id", metavar="EXPENSE")
        _admin_where(decide)
    listing = expenses.add_parser("list", help="a campaign's expenses and their approvals")
    listing.add_argument("--campaign", required=True)
    _admin_where(listing)

    plans = commands.add_parser("plans", help="purchase plans: see, approve, reject (through the admin API)"
                                ).add_subparsers(dest="action", required=True)
    plans_list = plans.add_parser("list", help="a campaign's plans and their approvals")
    plans_list.add_argument("--campaign", required=True)
    plans_show = plans.add_parser("show", help="one plan, with the planner's last reasoning")
    approve = plans.add_parser("approve", help="approve a proposed plan as yourself (your IAM identity)")
    reject = plans.add_parser("reject", help="reject a proposed plan: its hold is voided and the funds return")
    for command in (plans_show, approve, reject):
        command.add_argument("plan_id", metavar="PLAN")
    for command in (plans_list, plans_show, approve, reject):
        _admin_where(command)

    receipts = commands.add_parser("receipts", help="a donor's year-end statement of gifts")
    receipts.add_argument("--donor", required=True, metavar="EMAIL")
    receipts.add_argument("--year", type=_positive, required=True)
    receipts.add_argument("--json", action="store_true")
    _where(receipts)

    reconcile = commands.add_parser("reconcile", help="compare Stripe's balance transactions with the ledger")
    reconcile.add_argument("--campaign", required=True)
    reconcile.add_argument("--since", metavar="DATE", help="only what happened on or after this day (YYYY-MM-DD)")
    _where(reconcile)

    verify_log = commands.add_parser("verify-log", help="recompute a campaign's public log and totals, and compare "
                                                       "them with what it publishes")
    verify_log.add_argument("source", metavar="URL_OR_DIR",
                            help="the campaign's public URL (https://.../campaigns/ID) or an export directory")
    verify_log.add_argument("--json", action="store_true")

    export = commands.add_parser("export", help="write a campaign's data in open formats (JSON Lines, CSV, 360Giving)")
    export.add_argument("--campaign", required=True)
    export.add_argument("--out", type=Path, required=True, metavar="DIR")
    export.add_argument("--include-personal-data", action="store_true",
                        help="include donors' names and emails (opened from their seals)")
    export.add_argument("--grant-id-prefix", metavar="360G-...", type=_grant_id_prefix,
                        help="the 360Giving prefix registered for you, in front of each grant's id "
                             "(default 360G-jubilee-ID, not a registered one)")
    _where(export)
    load = commands.add_parser("import", help="load an export into this (empty) deployment; twice changes nothing")
    load.add_argument("source", type=Path, metavar="DIR")
    load.add_argument("--campaign", required=True)
    _where(load)
    erase = commands.add_parser("erase-donor", help="erase a donor's personal data; their gifts stay counted")
    erase.add_argument("--campaign", required=True)
    erase.add_argument("--email", required=True)
    _where(erase)

    dlq = commands.add_parser("dlq", help="dead-letter queues").add_subparsers(dest="action", required=True)
    redrive = dlq.add_parser("redrive", help="move a stage's dead letters back onto its queue")
    redrive.add_argument("stage", choices=(*STAGES, "outbox"),
                         help="a stage, or outbox: announce again what the dispatcher could not relay")
    _where(redrive)
    from ops import mailroom

    mailroom.add_parsers(commands, _where)
    for plugin in _plugins():
        OFFLINE.update(plugin.add_parsers(commands, {"offers": offers}, _positive))
    return top


# Optional packages that add commands of their own, looked up by name (never imported by ops: they sit above
# it). local/commands.py: demo, serve and a sample offer file, on the emulator.
PLUGINS = ("local.commands",)


def _plugins() -> Iterator[ModuleType]:
    for name in PLUGINS:
        try:
            yield importlib.import_module(name)
        except ModuleNotFoundError as missing:
            if missing.name is None or not name.startswith(missing.name):
                raise  # the package is there but broken: say so


def _setting(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"{text!r}: write NAME=VALUE, e.g. contact=letters@example.org")
    return name.strip(), value


NAMED_SETTINGS = ("name", "contact", "threshold_cents", "reserve_bps", "policy", "approvers", "approvals_required",
                  "auto_approve_cents", "plan_ttl_hours", "debtor_data_days", "letters_after_days", "legal_name",
                  "ein", "entity_type", "email_receipts", "email_from")  # `campaigns update`'s own flags


def print_campaigns(listed: dict) -> None:
    table = Table(title="campaigns")
    for column in ("id", "name", "payments", "mailer", "threshold", "reserve", "approvals"):
        table.add_column(column)
    for c in listed["campaigns"]:
        table.add_row(c["campaign_id"], c["name"], c["payments"], c["mailer"], format_cents(c["threshold_cents"]),
                      f"{c['reserve_bps'] / 100:g}%", c["approvals"])
    console.print(table)


def print_campaign(shown: dict) -> None:
    table = Table(title=f"campaign {shown['campaign_id']}", show_header=False)
    for name, value in shown["settings"].items():
        table.add_row(name, json.dumps(value) if not isinstance(value, str) else value)
    console.print(table)
    print_changes(shown["changes"])


def print_changes(changes: list[dict]) -> None:
    for c in changes:
        who = f" by {c['by']}" if c.get("by") else ""
        at = f"{c['at']} " if c.get("at") else ""
        console.print(f"{at}{c['field']}: {json.dumps(c['old'])} → {json.dumps(c['new'])}{who}",
                      highlight=False, soft_wrap=True)


def print_counter(done: dict) -> None:
    console.print(f"wrote {done['kept_accounts']} of {done['accounts']} accounts of {done['offer_id']} to "
                  f"{done['out']}: {format_cents(done['kept_face_value_cents'])} of "
                  f"{format_cents(done['face_value_cents'])} face value", soft_wrap=True)
    console.print(f"  left out: {done['not_eligible']} not eligible under the campaign's policy, "
                  f"{done['already_bought']} bought already")
    if done["in_other_offers"]:
        console.print(f"  [yellow]{done['in_other_offers']} kept account(s) are in another open offer too[/yellow]")
    console.print(f"proposed price: {format_cents(done['proposed_price_cents'])} "
                  f"= {format_cents(done['price_cents'])} × {format_cents(done['kept_face_value_cents'])} / "
                  f"{format_cents(done['face_value_cents'])}, {done['rounding']}", soft_wrap=True)
    console.print("send the file back to the seller the way theirs came: it names debtors")


def print_plans(listed: dict) -> None:
    table = Table(title="plans")
    for column in ("plan", "status", "offer", "seller", "price", "face value", "approvals", "expires / why"):
        table.add_column(column)
    for p in listed["plans"]:
        table.add_row(p["plan_id"], p["status"], p["offer_id"], p["seller"], format_cents(p["price_cents"]),
                      format_cents(p["face_value_cents"]), f"{len(p['approvals'])} of {p['approvals_required']}",
                      p.get("void_reason") or p.get("expires_at") or "")
    console.print(table)


def print_plan(plan: dict) -> None:
    console.print(f"plan {plan['plan_id']} ({plan['status']}): offer {plan['offer_id']} from {plan['seller']}, "
                  f"{plan['accounts']} accounts, {format_cents(plan['face_value_cents'])} face value for "
                  f"{format_cents(plan['price_cents'])}", soft_wrap=True)
    needed = plan["approvals_required"]
    console.print(f"approvals: {len(plan['approvals'])} of {needed}" + (f" ({', '.join(plan['approvals'])})"
                                                                       if plan["approvals"] else ""), soft_wrap=True)
    if plan.get("void_reason"):
        console.print(f"voided: {plan['void_reason']}")
    elif plan.get("expires_at") and plan["status"] == "proposed":
        console.print(f"its hold is released at {plan['expires_at']} unless approved")
    for step in (plan.get("last_planning") or {}).get("explanation") or []:
        console.print(f"  planner: {json.dumps(step, sort_keys=True)}", highlight=False, soft_wrap=True)


def _column_map(path: str) -> dict[str, str]:
    try:
        mapping = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise argparse.ArgumentTypeError(f"cannot read {path} as JSON: {error}") from None
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        raise argparse.ArgumentTypeError('must be a JSON object of header names, e.g. {"account_ref": "Loan ID"}')
    return mapping


@contextmanager
def _opened(path: Path) -> Iterator[TextIO]:
    """An offer file's lines as read, with a progress bar on a terminal when it is big enough to wait for."""
    from ops.operations import OperationError

    try:
        if err.is_terminal and path.stat().st_size > 2_000_000:
            with rich.progress.open(path, "rt", encoding="utf-8-sig", newline="", description="reading",
                                    console=err, transient=True) as lines:
                yield cast(TextIO, lines)
        else:
            with path.open(encoding="utf-8-sig", newline="") as lines:
                yield lines
    except OSError as error:
        raise OperationError(f"FILE: cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise OperationError("FILE: is not UTF-8 text") from None


def _refused(report: FileReport, as_json: bool) -> int:
    if as_json:
        print(json.dumps({"refused": True, **report.to_dict()}, sort_keys=True))
    else:
        err.print(f"[red]error:[/red] {report.problem_count:,} problem(s) in {report.rows:,} row(s) of the file")
        for line in report.lines():
            err.print(f"  {line}", highlight=False, soft_wrap=True)
    return 2


def print_offer(shown: dict) -> None:
    plan = f", plan {shown['plan_id']}" if shown.get("plan_id") else ""
    console.print(f"offer {shown['offer_id']} from {shown['seller']} ({shown['status']}{plan}): "
                  f"{shown['accounts']} accounts, "
                  f"{format_cents(shown['face_value_cents'])} face value for {format_cents(shown['price_cents'])} "
                  f"= {shown['cents_per_dollar']} per dollar")
    console.print(f"eligible under the campaign's policy: {shown['eligible_accounts']} accounts, "
                  f"{format_cents(shown['eligible_face_value_cents'])} "
                  f"({shown['cents_per_eligible_dollar']} per eligible dollar)")
    print_duplicates(shown["duplicates"], shown["net_eligible_accounts"], shown["net_eligible_face_value_cents"])
    print_overlaps(shown.get("overlaps"))
    if shown["undetermined_accounts"]:
        console.print(f"[yellow]{shown['undetermined_accounts']} account(s) could not be judged[/yellow]: "
                      "load that region's poverty guidelines (campaigns create --guidelines)")
    for title, key in (("by state", "by_state"), ("by debt type", "by_debt_type"), ("by age of debt", "by_age")):
        table = Table(title=title)
        for column in ("", "accounts", "face value"):
            table.add_column(column)
        for name, entry in sorted(shown[key].items()):
            table.add_row(name, str(entry["accounts"]), format_cents(entry["face_value_cents"]))
        console.print(table)
    for reason, count in sorted(shown["reasons"].items()):
        console.print(f"  {count} x {reason}")


def print_overlaps(found: dict | None) -> None:
    """Where an offer's accounts are met now: other open (or held) offers, and purchases by plan."""
    if not found or not found["accounts"]:
        return
    console.print(f"[yellow]{found['accounts']} account(s), {format_cents(found['face_value_cents'])}, "
                  "are met elsewhere now[/yellow]" + (f" ({found['second_signal_only']} by name, address and "
                                                      "balance alone)" if found["second_signal_only"] else ""))
    for offer_id, share in sorted(found["offers"].items()):
        console.print(f"  {share['accounts']} in {share['status']} offer {offer_id} "
                      f"({format_cents(share['face_value_cents'])})")
    for plan_id, share in sorted(found["bought"].items()):
        console.print(f"  {share['accounts']} bought already, by plan {plan_id} "
                      f"({format_cents(share['face_value_cents'])})")


def print_duplicates(met: dict, net_accounts: int | None, net_face_cents: int | None) -> None:
    """An offer's accounts met before (bought already, or in another open offer): never paid for twice."""
    if not met["accounts"]:
        return
    where = [f"{met['already_bought']} bought already"] + [f"{share['accounts']} in {offer_id}"
                                                           for offer_id, share in sorted(met["offers"].items())]
    console.print(f"[yellow]{met['accounts']} account(s) met before[/yellow] ({', '.join(where)}; "
                  f"{met['second_signal_only']} by name, address and balance alone): "
                  f"valued without them at {net_accounts} eligible accounts, {format_cents(net_face_cents or 0)}")


def print_statement(result: dict) -> None:
    table = Table(title=f"Gifts from {result['donor']} in {result['year']}")
    for column in ("date", "campaign", "donation", "amount", "refunded", "net"):
        table.add_column(column)
    for gift in result["gifts"]:
        table.add_row(gift["date"], gift["campaign_id"], gift["donation_id"],
                      *(format_cents(gift[k], gift["currency"])
                        for k in ("amount_cents", "refunded_cents", "net_cents")))
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
        if isinstance(error, OfferFileError):
            return _refused(error.report, getattr(args, "json", False))
        err.print(f"[red]error:[/red] {error}")
        return 2


def _verified(source: str, as_json: bool) -> int:
    from ops import portability

    try:
        result = portability.verify_log(source)
    except portability.PortabilityError as error:
        err.print(f"[red]error:[/red] {error}")
        return 2
    if as_json:
        print(json.dumps(result, sort_keys=True))
    else:
        for problem in result["problems"]:
            console.print(f"[red]✗[/red] {problem}")
        for note in result["notes"]:
            console.print(f"[yellow]![/yellow] {note}")
        totals = result["totals"]
        verdict = "[green]verified[/green]" if result["ok"] else "[red]does not verify[/red]"
        console.print(f"{verdict}: {result['entries']} entries, head {result['head']}; {totals['purchases']} "
                      f"purchase(s) for {format_cents(totals['spent_cents'])}, {totals['accounts_forgiven']} accounts "
                      f"and {format_cents(totals['face_value_forgiven_cents'])} forgiven"
                      + (f"; {totals['accounts_withdrawn']} put back to sellers, who refunded "
                         f"{format_cents(totals['seller_refunds_cents'])}" if totals["accounts_withdrawn"] else ""))
    return 0 if result["ok"] else 1


# --- the commands: one function each, (command, action) -> function below --------------------------

Command = Callable[[argparse.Namespace], int]


def _offer_schema(args: argparse.Namespace) -> int:
    from functions.domain.offers import OfferAccount

    print(json.dumps(OfferAccount.model_json_schema(), indent=2))
    return 0


def _check_offer(args: argparse.Namespace) -> int:
    """`offers check`: the file as `offers add` would read it, uploading nothing (no deployment needed)."""
    with _opened(args.file) as lines:
        checked = check_file(lines, args.columns, args.date_format)
    if checked.counts:
        return _refused(checked, args.json)
    return _show(checked.to_dict(), args.json, lambda r: console.print(
        f"{args.file}: {r['accounts']:,} accounts, {format_cents(r['face_value_cents'])} face value: "
        "ready to add", soft_wrap=True))


def _verify_log(args: argparse.Namespace) -> int:
    return _verified(args.source, args.json)


def _register_campaigns(args: argparse.Namespace) -> int:
    from ops import operations

    added = operations.register_campaigns()
    console.print(f"registered {len(added)} campaign(s): {', '.join(added)}" if added
                  else "every campaign is registered already")
    return 0


def _create_campaign(args: argparse.Namespace) -> int:
    from ops import operations

    extra: tuple[tuple[int, str, int, int], ...] = ()
    if args.guidelines:
        from functions.domain.eligibility import read_guidelines

        table = read_guidelines(args.guidelines.read_text().splitlines(keepends=True)).table
        extra = tuple((y, r, n, cents // 100) for (y, r, n), cents in sorted(table.items()))
    campaign = Campaign(args.campaign_id, args.name, currency=args.currency,
                        threshold_cents=args.threshold_cents, reserve_bps=args.reserve_bps,
                        contact=args.contact, payments=args.payments, tax_statement=args.tax_statement,
                        objective=args.objective, policy=args.policy, extra_guidelines=extra,
                        approvers=tuple(args.approver), approvals_required=args.approvals_required,
                        auto_approve_cents=args.auto_approve_cents, plan_ttl_hours=args.plan_ttl_hours,
                        debtor_data_days=args.debtor_data_days, letters_after_days=args.letters_after_days,
                        mailer=args.mailer, legal_name=args.legal_name, ein=args.ein,
                        postal_address=parse_address(args.address) if args.address else tuple(args.postal_address),
                        letter_languages=tuple(args.letter_languages or ("en",)),
                        entity_type=args.entity_type, letter_tax_note=args.letter_tax_note,
                        generic_creditor=args.generic_creditor, email_receipts=args.email_receipts,
                        email_from=args.email_from)
    operations.create_campaign(campaign)
    console.print(f"created campaign {campaign.campaign_id!r}")
    return 0


def _list_campaigns(args: argparse.Namespace) -> int:
    from ops import operations

    return _show({"campaigns": operations.list_campaigns()}, args.json, print_campaigns)


def _describe_campaign(args: argparse.Namespace) -> int:
    from ops import operations

    return _show(operations.show_campaign(args.campaign_id), args.json, print_campaign)


def _update_campaign(args: argparse.Namespace) -> int:
    from functions.domain.campaigns import setting_value
    from ops import operations

    settings = {name: setting_value(name, text) for name, text in args.settings}
    named = {name: getattr(args, name) for name in NAMED_SETTINGS if getattr(args, name) is not None}
    if args.address is not None:
        named["postal_address"] = parse_address(args.address)
    twice = sorted(settings.keys() & named.keys())
    if twice:
        raise CampaignError(twice[0], "is given both by --set and by its own flag")
    changes = operations.update_campaign(args.campaign_id, settings | named)
    done = {"campaign_id": args.campaign_id, "changes": [asdict(c) for c in changes]}

    def said(result: dict) -> None:
        console.print(f"updated {result['campaign_id']}: {len(changes)} change(s)" if changes
                      else "nothing changed: the campaign has these values already")
        print_changes(result["changes"])

    return _show(done, args.json, said)


def _counter_offer(args: argparse.Namespace) -> int:
    from ops import operations

    return _show(operations.counter_offer(args.campaign, args.offer_id, args.out), args.json, print_counter)


def _plans(args: argparse.Namespace) -> int:
    from ops.plans import AdminApi

    api = AdminApi.of(args.stack, args.endpoint, args.token)
    if args.action == "list":
        return _show(api.plans(args.campaign), args.json, print_plans)
    if args.action == "show":
        return _show(api.plan(args.plan_id), args.json, print_plan)
    decided = api.decide(args.plan_id, args.action)
    return _show(decided, args.json, print_plan)


def _show_offer(args: argparse.Namespace) -> int:
    from ops import operations

    return _show(operations.show_offer(args.campaign, args.offer_id), args.json, print_offer)


def _add_offer(args: argparse.Namespace) -> int:
    from functions.adapters.purchases import load_offer
    from ops import operations

    with _opened(args.file) as lines:
        offer, skipped = operations.add_offer(args.campaign, lines, args.seller, args.price_cents,
                                              expires=args.expires, skip_bad_rows=args.skip_bad_rows,
                                              columns=args.columns, date_format=args.date_format)
    stored = load_offer(args.campaign, offer.offer_id)
    if stored is None:  # registered just now: only a concurrent removal gets here
        raise operations.OperationError(f"offer {offer.offer_id} is gone again")
    met = stored["duplicates"]
    if args.json:
        print(json.dumps({**asdict(offer), "duplicates": met, "skipped": skipped.to_dict()},
                         sort_keys=True, default=str))
        return 0
    for line in skipped.lines():
        err.print(f"  skipped {line}", highlight=False, soft_wrap=True)
    console.print(f"registered {offer.offer_id}: {offer.accounts} accounts, "
                  f"{format_cents(offer.face_value_cents)} face value "
                  f"({format_cents(offer.eligible_face_value_cents or 0)} eligible) "
                  f"for {format_cents(offer.price_cents)}")
    print_duplicates(met, offer.eligible_accounts, offer.eligible_face_value_cents)
    return 0


def _letters(args: argparse.Namespace) -> int:
    from ops import mailroom

    return mailroom.run(args, console.print)


def _confirm_purchase(args: argparse.Namespace) -> int:
    from ops import operations

    operations.confirm_purchase(args.plan_id, args.reference)
    console.print(f"confirmed {args.plan_id}: the hold is posted and its accounts go to forgiveness")
    return 0


def _read(path: Path, operation: Callable[[list[str]], dict]) -> dict:
    with _opened(path) as lines:
        return operation(list(lines))


def _scrub(args: argparse.Namespace) -> int:
    from ops import purchases

    done = _read(args.file, lambda lines: purchases.scrub(args.plan_id, lines, args.campaign))
    return _show(done, args.json, lambda d: console.print(
        f"{d['plan_id']}: {d['accounts']} account(s) withheld from letters ({d['recorded_now']} new; "
        + ", ".join(f"{n} {reason}" for reason, n in sorted(d["by_reason"].items())) + ")"
        + _sent_note(d)))


def _sent_note(done: dict) -> str:
    lines = done["letters_already_sent_lines"]
    return (f"; [yellow]the letter had left already for line(s) {', '.join(map(str, lines))}[/yellow]"
            if lines else "")


def _putback(args: argparse.Namespace) -> int:
    from ops import purchases

    done = _read(args.accounts, lambda lines: purchases.putback(args.plan_id, lines, args.refund_cents,
                                                                args.reference, args.campaign))
    return _show(done, args.json, lambda d: console.print(
        (f"booked {format_cents(d['refund_cents'])} back to the pool" if d["booked_now"]
         else f"{d['reference']!r} was booked before; nothing booked again")
        + f": {d['accounts']} account(s) of {d['plan_id']} withdrawn (transfer {d['transfer_id']})"
        + _sent_note(d)))


def _checklist(args: argparse.Namespace) -> int:
    from ops import purchases

    def show(d: dict) -> None:
        for item in d["items"]:
            mark = f"[green]✓[/green] {item['ticked_at']}" if item["ticked_at"] else "[yellow]open[/yellow]"
            console.print(f"  {item['item']:<26} {item['text']:<36} {mark}")
        console.print(f"{d['plan_id']}: {d['open']} open item(s)")

    return _show(purchases.checklist(args.plan_id, args.tick), args.json, show)


def _prove(args: argparse.Namespace) -> int:
    from ops import purchases

    done = _read(args.account_file, lambda lines: purchases.prove(args.plan_id, lines))

    def show(d: dict) -> None:
        console.print(f"{d['plan_id']}: {d['accounts_in_list']} hashes kept; their SHA-256 is the digest of "
                      f"public log entry {d['log_entry']} ({d['accounts_digest'][:16]}…)")
        for a in d["accounts"]:
            console.print(f"  line {a['line']}: " + (f"in the purchase (hash {a['position'] + 1} of the sorted list)"
                                                     if a["in_purchase"] else "[red]not in the purchase[/red]"))

    _show(done, args.json, show)
    return 0 if all(a["in_purchase"] for a in done["accounts"]) else 1


def _record_gift(args: argparse.Namespace) -> int:
    from ops import operations

    gift, new = operations.record_gift(args.campaign, args.amount_cents, args.method, args.reference, args.date,
                                       {"name": args.donor_name, "email": args.donor_email})
    amount = format_cents(gift.amount_cents, operations.campaign_currency(args.campaign))
    console.print(f"recorded {args.method} {gift.reference!r} of {amount} as {gift.donation_id}: pooled with no fee"
                  if new else f"{gift.reference!r} was recorded before ({gift.donation_id}); nothing was added")
    console.print(f"receipt: {operations.receipt_path(args.campaign, gift.donation_id)} (on the campaign's site)")
    return 0


def print_expenses(result: dict) -> None:
    table = Table(title="Expenses")
    for column in ("expense", "status", "amount", "payee", "purpose", "approvals"):
        table.add_column(column)
    for e in result["expenses"]:
        table.add_row(e["expense_id"], e["status"], format_cents(e["amount_cents"]), e["payee"], e["purpose"],
                      f"{len(e.get('approvals') or ())} of {e.get('approvals_required', 0)}")
    console.print(table)


def _expense_line(item: dict) -> str:
    approvals = item.get("approvals", item.get("approvers")) or ()
    return (f"expense {item['expense_id']} ({format_cents(item['amount_cents'])} to {item['payee']}): "
            f"{item['status']}" + (f", {len(approvals)} approval(s)" if item["status"] == "proposed" else ""))


def _add_expense(args: argparse.Namespace) -> int:
    from ops import operations

    try:
        receipt = args.receipt.read_bytes()
    except OSError as error:
        raise operations.OperationError(f"--receipt: cannot read {args.receipt}: {error.strerror}") from None
    item, new = operations.add_expense(args.campaign, args.amount_cents, args.payee, args.purpose, receipt)
    console.print(_expense_line(item) + ("" if new else " (this receipt was added before; nothing was held again)"),
                  soft_wrap=True)
    return 0


def _expenses_api(args: argparse.Namespace) -> int:
    """`expenses approve|reject|list`: through the admin API, as `plans` (one approval path)."""
    from urllib.parse import quote

    from ops.plans import AdminApi

    api = AdminApi.of(args.stack, args.endpoint, args.token)
    if args.action == "list":
        return _show(api.call("GET", f"/admin/campaigns/{quote(args.campaign, safe='')}/expenses"), args.json,
                     print_expenses)
    decided = api.call("POST", f"/admin/expenses/{quote(args.expense_id, safe='')}/{args.action}")
    return _show(decided, args.json, lambda item: console.print(_expense_line(item), soft_wrap=True))


def _receipts(args: argparse.Namespace) -> int:
    from ops import operations

    return _show(operations.statement(args.donor, args.year), args.json, print_statement)


def _reconcile(args: argparse.Namespace) -> int:
    from ops import operations

    found = operations.reconcile(args.campaign, args.since)
    for difference in found:
        console.print(str(difference))
    console.print(f"{len(found)} difference(s) between Stripe and the ledger of {args.campaign!r}")
    return 1 if found else 0


def _export(args: argparse.Namespace) -> int:
    from ops import portability

    manifest = portability.export_campaign(args.campaign, args.out, args.include_personal_data,
                                           args.grant_id_prefix)
    for entry in manifest["files"]:
        console.print(f"  {entry['path']}: {entry['rows']} row(s), sha256 {entry['sha256'][:16]}…")
    console.print(f"exported {args.campaign!r} to {args.out} (manifest.json lists every file's checksum)")
    return 0


def _import(args: argparse.Namespace) -> int:
    from ops import portability

    written = portability.import_campaign(args.source, args.campaign,
                                          warn=lambda note: err.print(f"[yellow]warning:[/yellow] {note}"))
    console.print(f"imported {sum(written.values())} new record(s) into {args.campaign!r}: " +
                  ", ".join(f"{name} {n}" for name, n in written.items() if n))
    return 0


def _erase_donor(args: argparse.Namespace) -> int:
    from functions.adapters import donors

    erased = donors.erase(args.campaign, args.email)
    console.print(f"erased: {erased} donation(s) of that donor kept their amounts; their name and email "
                  "can no longer be read" if erased else "no donation of that donor in this campaign")
    return 0


def _redrive(args: argparse.Namespace) -> int:
    from ops import operations

    if args.stage == "outbox":
        announced, cleared = operations.redrive_outbox(args.stack, args.endpoint_url)
        console.print(f"announced {announced} waiting outbox item(s) again; cleared {cleared} failure record(s) "
                      "from the outbox dead-letter queue")
        return 0
    moved = operations.redrive(*operations.queue_urls(args.stage, args.stack, args.endpoint_url))
    console.print(f"moved {moved} message(s) from the {args.stage} dead-letter queue back to its queue")
    return 0


# Commands that need no deployment, and those run against one (connected first: --stack/--endpoint-url).
OFFLINE: dict[tuple[str, str | None], Command] = {
    ("offers", "schema"): _offer_schema, ("offers", "check"): _check_offer, ("verify-log", None): _verify_log,
    # Through the admin API (signed with the operator's credentials, or serve's token), not the data.
    **{("plans", action): _plans for action in ("list", "show", "approve", "reject")},
    **{("expenses", action): _expenses_api for action in ("list", "approve", "reject")},
}  # and the plugins' (parser() adds them)
CONNECTED: dict[tuple[str, str | None], Command] = {
    ("campaigns", "create"): _create_campaign, ("campaigns", "register"): _register_campaigns,
    ("campaigns", "list"): _list_campaigns, ("campaigns", "show"): _describe_campaign,
    ("campaigns", "update"): _update_campaign, ("offers", "counter"): _counter_offer,
    ("offers", "add"): _add_offer, ("offers", "show"): _show_offer, ("purchases", "confirm"): _confirm_purchase,
    ("purchases", "scrub"): _scrub, ("purchases", "putback"): _putback, ("purchases", "checklist"): _checklist,
    ("purchases", "prove"): _prove,
    ("gifts", "record"): _record_gift, ("expenses", "add"): _add_expense,
    ("receipts", None): _receipts, ("reconcile", None): _reconcile, ("export", None): _export,
    ("import", None): _import, ("erase-donor", None): _erase_donor, ("dlq", "redrive"): _redrive,
    **{("letters", action): _letters for action in ("export", "mark-mailed", "resend")},
}


def run(args: argparse.Namespace) -> int:
    key = (args.command, getattr(args, "action", None))
    if key in OFFLINE:
        return OFFLINE[key](args)
    from ops import operations, portability

    try:
        operations.connect(args.stack, args.endpoint_url)
        return CONNECTED[key](args)
    except (operations.OperationError, portability.PortabilityError) as error:
        err.print(f"[red]error:[/red] {error}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
