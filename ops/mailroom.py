"""Operator commands for letters: the print bundle (`jubilee letters export`), what was posted
(`mark-mailed`), and letters sent again to a corrected address (`resend`).

The bundle is opened on the operator's machine: reading a portfolio's sealed debtor data needs
kms:Decrypt on the debtor-data key, which the stack grants only to the letters function and to the
role it outputs as LetterOperatorRoleArn (assume it to export). The public log records that a
bundle of N letters was exported, never what it holds.
"""

from __future__ import annotations

import csv
import os
import uuid
from pathlib import Path
from typing import Any

from functions.adapters import crypto, dynamo, ledger, mail, public_log
from functions.adapters import forgiveness as store
from functions.adapters.letter_facts import opener_of, rendered
from functions.adapters.letters_pdf import letter_pages, render_pages
from functions.adapters.pdf_font import TrueTypeFont, find_font
from functions.domain import letters as rules
from functions.domain.campaigns import Campaign
from functions.domain.forgiveness import SEPARATOR
from functions.domain.offers import STATES


class MailroomError(ValueError):
    """A clear reason nothing happened (names the argument at fault)."""


def _campaign(campaign_id: str, mailer: str | None = None) -> Campaign:
    campaign = ledger.load_campaign(campaign_id)
    if campaign is None:
        raise MailroomError(f"--campaign: no campaign {campaign_id!r}")
    if mailer and campaign.mailer != mailer:
        raise MailroomError(f"--campaign: {campaign_id!r} mails through {campaign.mailer}, not print bundles")
    return campaign


def export(campaign_id: str, plan_id: str, out: Path) -> dict[str, Any]:
    """Every letter of the plan waiting to be posted, as one print-ready PDF (each letter from a new page,
    the addresses placed for a #10 double-window envelope) and a mailing list CSV, written into `out`."""
    campaign = _campaign(campaign_id, "bundle")
    waiting = {item["sk"]: item for item in mail.waiting(campaign_id, plan_id)}
    if not waiting:
        raise MailroomError(f"--plan: no letter of plan {plan_id!r} is waiting to be printed")
    events = [e for e in store.events(campaign_id, plan_id) if e["account_hash"] in waiting]
    resent = {k: bytes(i["sealed_address"]) for k, i in waiting.items() if "sealed_address" in i}
    found = find_font()
    if found is None:
        raise MailroomError("no TrueType font to embed: install fonts-dejavu-core, or set JUBILEE_LETTER_FONT")
    font = TrueTypeFont(found.read_bytes())  # embedded once: every name prints as written
    pages: list[bytes] = []
    rows = []
    for account, address, letter in rendered(campaign, plan_id, events, opener_of(campaign_id, plan_id), resent):
        pages += letter_pages(letter.sender, letter.recipient, letter.pages, font)
        rows.append([account, *address])
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{campaign_id}-{plan_id}-letters"
    pdf, listing = out / f"{stem}.pdf", out / f"{stem}.csv"
    # Created readable by the operator alone: they name debtors.
    fd = os.open(pdf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(render_pages(pages, f"Letters from {campaign.name}", font))
    fd = os.open(listing, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["account", "name", "address_line", "city", "state", "zip"])
        writer.writerows(rows)
    bundle_id = uuid.uuid4().hex
    public_log.transact_logged(campaign_id, [dynamo.put({
        "pk": f"BUNDLE#{campaign_id}#{plan_id}", "sk": bundle_id, "kind": "letter-bundle", "letters": len(rows),
        "exported_at": ledger.now_iso()})],
        {"type": "letter-bundle", "campaign_id": campaign_id, "plan_id": plan_id, "letters": len(rows),
         "at": ledger.now_iso()})
    return {"letters": len(rows), "pages": len(pages), "pdf": str(pdf), "mailing_list": str(listing)}


def mark_mailed(campaign_id: str, plan_id: str, returned: list[str] | tuple[str, ...] = ()) -> dict[str, int]:
    """Record the bundle's letters as posted (counted, and the debtor key set to expire once none is left
    to send); `returned`: account hashes whose envelopes came back (then kept, for `resend`)."""
    campaign = _campaign(campaign_id, "bundle")
    mailed = sum(mail.advance(campaign_id, plan_id, item["sk"], item["service_id"], rules.MAILED)
                 for item in mail.waiting(campaign_id, plan_id))
    back = 0
    for account in returned:
        found = mail.letter(campaign_id, plan_id, account)
        if found is None:
            raise MailroomError(f"--returned: no letter {account} in plan {plan_id}")
        back += mail.advance(campaign_id, plan_id, account, found["service_id"], rules.RETURNED)
    settled = mail.settle_key(campaign_id, plan_id, campaign.debtor_data_days)
    return {"mailed": mailed, "returned": back, "debtor_key_expires": int(settled)}


def resend(campaign_id: str, plan_id: str, account: str, address: list[str]) -> int:
    """Send a returned letter again to a corrected [street, city, state, ZIP]: sealed to the portfolio's
    key at once (never stored in the clear), and queued for the letters function. Returns the attempt."""
    _campaign(campaign_id)
    street, city, state, zip_code = (part.strip() for part in address)
    if not (street and city) or state not in STATES or not (zip_code.isdigit() and len(zip_code) == 5):
        raise MailroomError("--address: give STREET CITY STATE ZIP (a US state code, a 5-digit ZIP)")
    if any(SEPARATOR in part for part in address):
        raise MailroomError("--address: holds a control character")
    key = store.debtor_key(campaign_id, plan_id)
    if key is None:
        raise MailroomError(f"--plan: plan {plan_id!r} has no debtor key (or it was shredded)")
    sealer = crypto.Sealer(bytes(key["public_key"]))
    sealed = sealer.seal(os.urandom(crypto.NONCE_BYTES), SEPARATOR.join((street, city, state, zip_code)).encode(),
                         crypto.aad(campaign_id, plan_id, account))
    try:
        return mail.queue_resend(campaign_id, plan_id, account, sealed)
    except (LookupError, ValueError) as refused:
        raise MailroomError(str(refused)) from None


# --- the `jubilee letters` commands ------------------------------------------------------------------

def add_parsers(commands: Any, where: Any) -> None:
    letters = commands.add_parser("letters", help="print bundles, what was posted, resends").add_subparsers(
        dest="action", required=True)
    export_cmd = letters.add_parser("export", help="the plan's letters waiting to be posted, as one PDF to print "
                                                   "and a mailing list (needs the LetterOperatorRole)")
    mark = letters.add_parser("mark-mailed", help="record the exported letters as posted (and returned envelopes)")
    again = letters.add_parser("resend", help="send a returned letter again, to a corrected address")
    for command in (export_cmd, mark, again):
        command.add_argument("--campaign", required=True)
        command.add_argument("--plan", required=True)
        where(command)
    export_cmd.add_argument("--out", type=Path, required=True, help="a folder (the files name debtors: keep it safe)")
    mark.add_argument("--returned", action="append", default=[], metavar="ACCOUNT",
                      help="an account (its hash, from the mailing list) whose envelope came back (repeat)")
    again.add_argument("--account", required=True, help="the letter's account hash (from the mailing list)")
    again.add_argument("--address", nargs=4, required=True, metavar=("STREET", "CITY", "STATE", "ZIP"))


def run(args: Any, say: Any) -> int:
    if args.action == "export":
        done = export(args.campaign, args.plan, args.out)
        say(f"wrote {done['letters']} letter(s), {done['pages']} page(s): {done['pdf']} and {done['mailing_list']}")
    elif args.action == "mark-mailed":
        done = mark_mailed(args.campaign, args.plan, args.returned)
        say(f"recorded {done['mailed']} letter(s) posted, {done['returned']} returned")
    else:
        attempt = resend(args.campaign, args.plan, args.account, args.address)
        say(f"queued the letter again (attempt {attempt}); the letters function sends it")
    return 0
