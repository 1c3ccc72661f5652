"""The mailing port's print-and-mail service: Lob, through its official SDK (`lob-python`).

Each letter is one Lob letter, created with an Idempotency-Key that is the same on every retry of
its chunk, so a chunk that crashed after Lob accepted a letter asks again and gets the letter
already made: one debtor, one envelope. Addresses are verified first (Lob's US verification); one
USPS would not deliver to is held as `undeliverable` for the operator to correct and resend.

Each letter has a status record (domain/letters.py moves it forward only), updated from Lob's
tracking webhooks, which are checked against the webhook's secret: `Lob-Signature` is the hex
HMAC-SHA256 of "<Lob-Signature-Timestamp>.<raw body>". The API key and webhook secret live in a
Secrets Manager secret like Stripe's; `LOB_API_BASE` points the SDK elsewhere (tests: a local fake).
A Lob test key (`test_...`) makes letters that are never printed or mailed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from collections.abc import Iterable
from html import escape
from typing import TYPE_CHECKING, Any

from functions.adapters import clock, dynamo, ledger
from functions.adapters.forgiveness import debtor_key_sk
from functions.adapters.keys import campaign_pk, mail_pk
from functions.adapters.secrets import secret_json
from functions.domain import letters as rules
from functions.domain.campaigns import Campaign
from functions.domain.letter_text import Letter as LetterText
from functions.services.ports import ChunkUnfinished

if TYPE_CHECKING:
    from functions.adapters.letter_facts import Rendered

DEFAULT_BASE = "https://api.lob.com/v1"
TOLERANCE_SECONDS = 300  # a signed webhook older (or newer) than this is refused: a replay
# Lob takes a letter in about a second: a chunk of 2,000 cannot be mailed within one invocation (300 s).
# An invocation hands letters over until its budget is spent (at most BUDGET_SECONDS, and never within
# MARGIN_SECONDS of its timeout, whatever message of its batch it is on); the chunk then goes on in a
# continuation message of its own (services/letters.py), so no receive is spent and nothing dead-letters.
BUDGET_SECONDS = 200.0
MARGIN_SECONDS = 60.0
_deadline = [float("inf")]  # monotonic time; one invocation at a time per container


def start_budget(remaining_seconds: float) -> None:
    """Called as each invocation starts, with the time it has left."""
    _deadline[0] = time.monotonic() + min(BUDGET_SECONDS, remaining_seconds - MARGIN_SECONDS)
SIGNATURE, TIMESTAMP = "Lob-Signature", "Lob-Signature-Timestamp"


class MailRefused(Exception):
    """The mail service refused a request (bad key, bad letter): the chunk fails and is retried."""


class WebhookRejected(Exception):
    """A tracking webhook that is not Lob's, or is too old: answered with a 400, nothing recorded."""


def lob_secret() -> dict[str, Any]:
    """{"api_key", "webhook_secret"}: the operator puts the values in (the stack makes it empty)."""
    return secret_json(os.environ["LOB_SECRET_ID"])


class LobMailer:
    """One Lob account, reached through the SDK at `base_url`."""

    def __init__(self, api_key: str, base_url: str | None = None):
        import lob_python  # imported here: only campaigns that mail through Lob pay for loading it

        config = lob_python.Configuration(host=base_url or DEFAULT_BASE, username=api_key, password="")
        self._client = lob_python.ApiClient(config)

    @classmethod
    def from_secret(cls) -> LobMailer:
        secret = lob_secret()
        if not secret.get("api_key"):
            raise MailRefused("the Lob secret has no api_key: put the campaign's key in it")
        return cls(secret["api_key"], os.environ.get("LOB_API_BASE") or None)

    def deliverable(self, address: list[str]) -> bool:
        """Whether USPS (through Lob's US verification) would deliver to [name, line, city, state, zip]."""
        from lob_python.api.us_verifications_api import UsVerificationsApi
        from lob_python.exceptions import ApiException
        from lob_python.model.us_verifications_writable import UsVerificationsWritable

        name, line, city, state, zip_code = address
        try:
            found = UsVerificationsApi(self._client).verifySingle(UsVerificationsWritable(
                recipient=name, primary_line=line, city=city, state=state, zip_code=zip_code))
        except ApiException as error:
            raise MailRefused(f"Lob refused the verification ({error.status})") from None
        return str(found.get("deliverability", "")) != "undeliverable"

    def send(self, key: str, to: list[str], sender: tuple[str, ...], html: str, metadata: dict[str, str]) -> str:
        """Create (or, for a key used before, find) one letter; returns Lob's letter id."""
        from lob_python.api.letters_api import LettersApi
        from lob_python.exceptions import ApiException
        from lob_python.model.address_editable import AddressEditable
        from lob_python.model.letter_editable import LetterEditable
        from lob_python.model.ltr_use_type import LtrUseType
        from lob_python.model.mail_type import MailType
        from lob_python.model.metadata_model import MetadataModel

        def address(name: str, line: str, city: str, state: str, zip_code: str) -> AddressEditable:
            return AddressEditable(name=name, address_line1=line, address_city=city, address_state=state,
                                   address_zip=zip_code)

        letter = LetterEditable(
            to=address(*to), _from=address(*sender), file=html, color=False, use_type=LtrUseType("operational"),
            # The address goes in the envelope's window (a #10 double-window envelope), over blank space.
            address_placement="top_first_page", mail_type=MailType("usps_first_class"),
            double_sided=False, metadata=MetadataModel(**metadata), description="Debt forgiveness letter")
        try:
            created = LettersApi(self._client).create(letter, idempotency_key=key)
        except ApiException as error:
            raise MailRefused(f"Lob refused the letter ({error.status})") from None
        return str(created["id"])


def letter_html(letter: LetterText) -> str:
    """The letter as Lob renders it (its own fonts: any accent prints): the sender's block and each
    language's page, under the space Lob keeps on the first page for the recipient's address."""

    def paragraphs(lines: list[str]) -> str:
        return "".join(f"<p>{escape(line)}</p>" if line else "<br>" for line in lines)

    pages = "<div style='page-break-before:always'></div>".join(paragraphs(page) for page in letter.pages)
    return ("<html><head><meta charset='utf-8'><style>body{font-family:sans-serif;font-size:10pt;"
            "margin:0 0.75in}p{margin:0 0 3pt}</style></head>"
            f"<body><div style='height:3.3in'></div>{paragraphs(letter.sender)}<br>{pages}</body></html>")


def verify_webhook(headers: dict[str, str], body: bytes, secret: str, now: float | None = None) -> dict[str, Any]:
    """The event, if Lob signed it with `secret` within the tolerance; else WebhookRejected."""
    lower = {k.lower(): v for k, v in headers.items()}
    signature, stamp = lower.get(SIGNATURE.lower(), ""), lower.get(TIMESTAMP.lower(), "")
    if not secret:
        raise WebhookRejected("no webhook secret is set for the mail service")
    if not signature or not (stamp.isascii() and stamp.isdigit()) or not signature.isascii():
        raise WebhookRejected(f"{SIGNATURE} and {TIMESTAMP} headers are required (ASCII hex and digits)")
    # Lob's timestamp is in milliseconds; seconds are taken too.
    seconds = int(stamp) / 1000 if len(stamp) > 11 else int(stamp)
    if abs((clock.now().timestamp() if now is None else now) - seconds) > TOLERANCE_SECONDS:
        raise WebhookRejected("the signature's timestamp is too old")
    expected = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise WebhookRejected("the signature does not match")
    try:
        event = json.loads(body)
    except ValueError:
        raise WebhookRejected("the body is not JSON") from None
    if not isinstance(event, dict):
        raise WebhookRejected("the body is not an event")
    return event


# --- each letter's status --------------------------------------------------------------------------

def letter(campaign_id: str, plan_id: str, account_hash: str) -> dict[str, Any] | None:
    return dynamo.get(mail_pk(campaign_id, plan_id), account_hash)


def letters(campaign_id: str, plan_id: str) -> list[dict[str, Any]]:
    return list(dynamo.query(mail_pk(campaign_id, plan_id)))


def _unsettle(campaign_id: str, plan_id: str, n: int) -> dict[str, Any]:
    """The portfolio's key gains letters still to mail, and loses any expiry: never shredded under them."""
    return dynamo.update(campaign_pk(campaign_id), debtor_key_sk(plan_id), "ADD unsettled :n REMOVE expires_at",
                         {":n": n}, condition="attribute_exists(pk)")


def record_sent(campaign_id: str, plan_id: str, account_hash: str, chunk: int, status: str, service_id: str,
                attempt: int = 1) -> bool:
    """A letter handed to the service (`printed`) or refused for its address (`undeliverable`), once per
    attempt: it is unsettled until mailed. False if this attempt was recorded before."""
    item = {"pk": mail_pk(campaign_id, plan_id), "sk": account_hash, "kind": "letter", "campaign_id": campaign_id,
            "plan_id": plan_id, "chunk": chunk, "status": status, "service_id": service_id, "attempt": attempt,
            "updated_at": ledger.now_iso()}
    put = (dynamo.put(item) if attempt == 1 else
           dynamo.put(item, new=False, condition="attempt = :previous", values={":previous": attempt - 1}))
    effect = rules.prepared(status, attempt == 1)
    counts = effect.counters()
    return dynamo.transact_once([put] + ([_unsettle(campaign_id, plan_id, effect.unsettled)] if effect.unsettled
                                         else []) + ([ledger.count(campaign_id, **counts)] if counts else []))


def advance(campaign_id: str, plan_id: str, account_hash: str, service_id: str, new: str) -> bool:
    """Move a letter to `new` if the rules allow it from where it is (a late or repeated event changes
    nothing), counting it and settling the portfolio's key in the same transaction. Two events of one
    letter at once: the one that loses the race reads the letter again and moves it on from there."""
    for _ in range(5):
        moved = _advance_once(campaign_id, plan_id, account_hash, service_id, new)
        if moved is not None:
            return moved
    raise RuntimeError("the letter kept changing under this event; the service will deliver it again")


def _advance_once(campaign_id: str, plan_id: str, account_hash: str, service_id: str, new: str) -> bool | None:
    """True if moved, False if it must not move, None if it changed meanwhile (read again)."""
    found = letter(campaign_id, plan_id, account_hash)
    if found is None or found.get("service_id") != service_id:
        return False  # not ours, or an earlier mailing of a letter since resent
    effect = rules.move(found["status"], new)
    if effect is None:
        return False
    ops = [dynamo.update(found["pk"], found["sk"], "SET #s = :new, updated_at = :at",
                         {":new": new, ":at": ledger.now_iso(), ":was": found["status"], ":id": service_id},
                         condition="#s = :was AND service_id = :id", names={"#s": "status"})]
    counts = effect.counters()
    if counts:
        ops.append(ledger.count(campaign_id, **counts))
    if effect.unsettled > 0:
        ops.append(_unsettle(campaign_id, plan_id, effect.unsettled))
    elif effect.unsettled < 0:
        ops.append(dynamo.update(campaign_pk(campaign_id), debtor_key_sk(plan_id), "ADD unsettled :n",
                                 {":n": effect.unsettled}, condition="attribute_exists(pk)"))
    return True if dynamo.transact_once(ops) else None


def settle_key(campaign_id: str, plan_id: str, keep_days: int) -> bool:
    """Once no letter of the portfolio is left to mail, its key expires `keep_days` later (DynamoDB's TTL
    then shreds the debtors' data). Conditional, so a letter made unsettled meanwhile wins."""
    op = dynamo.update(campaign_pk(campaign_id), debtor_key_sk(plan_id), "SET expires_at = :at",
                       {":at": int(clock.now().timestamp()) + keep_days * 86_400, ":zero": 0},
                       condition="attribute_exists(pk) AND unsettled = :zero")
    return dynamo.transact_once([op])


def hand_over(campaign: Campaign, plan_id: str, chunk: int, batch_id: str, events: list[dict[str, Any]]) -> str:
    """A chunk's letters to the campaign's way out: Lob, or the operator's next print bundle."""
    if campaign.mailer == "lob":
        # Opening debtors' data (cryptography) is the letters function's: the mail webhook only tracks.
        from functions.adapters.letter_facts import rendered

        return mail_chunk(campaign, plan_id, chunk, batch_id, rendered(campaign, plan_id, events))
    cid = campaign.campaign_id
    for event in events:  # printed by the operator: `jubilee letters export` takes every letter waiting
        if letter(cid, plan_id, event["account_hash"]) is None:
            record_sent(cid, plan_id, event["account_hash"], chunk, rules.PRINTED, f"bundle:{batch_id}")
    return f"bundle:{batch_id}"


def mail_chunk(campaign: Campaign, plan_id: str, chunk: int, batch_id: str, rendered: Iterable[Rendered]) -> str:
    """Hand each letter of a chunk to Lob, once per letter, ever: one recorded already is skipped, and one
    Lob accepted before a crash (not yet recorded) is asked for again under the same Idempotency-Key,
    which Lob answers with the letter it made. Returns the batch's name for the chunk's record."""
    cid = campaign.campaign_id
    mailer: LobMailer | None = None
    done = 0
    for account_hash, address, text in rendered:
        if letter(cid, plan_id, account_hash) is not None:
            done += 1
            continue
        if mailer is not None and time.monotonic() > _deadline[0]:  # at least one letter per message: progress
            raise ChunkUnfinished(batch_id, done)
        done += 1
        mailer = mailer or LobMailer.from_secret()
        if not mailer.deliverable(address):
            record_sent(cid, plan_id, account_hash, chunk, rules.UNDELIVERABLE, "")
            continue
        metadata = {"campaign_id": cid, "plan_id": plan_id, "account": account_hash}
        service_id = mailer.send(rules.idempotency_key(batch_id, account_hash, 1), address,
                                 (campaign.legal_name, *campaign.postal_address),
                                 letter_html(text), metadata)
        record_sent(cid, plan_id, account_hash, chunk, rules.PRINTED, service_id)
    return f"lob:{batch_id}"


def queue_resend(campaign_id: str, plan_id: str, account_hash: str, sealed_address: bytes) -> int:
    """A returned (or undeliverable) letter, to be sent again to a corrected address (sealed like the
    debtor data): its next attempt, queued for the letters function in the same transaction."""
    found = letter(campaign_id, plan_id, account_hash)
    if found is None:
        raise LookupError(f"--account: no letter {account_hash} in plan {plan_id}")
    if not rules.can_resend(found["status"]):
        raise ValueError(f"--account: the letter is {found['status']}; only a returned or undeliverable one is resent")
    attempt = int(found["attempt"]) + 1
    ops = [dynamo.update(found["pk"], found["sk"], "SET #s = :queued, attempt = :next, sealed_address = :address, "
                         "service_id = :none, updated_at = :at",
                         {":queued": rules.QUEUED, ":next": attempt, ":address": sealed_address, ":none": "",
                          ":at": ledger.now_iso(), ":was": found["status"], ":attempt": attempt - 1},
                         condition="#s = :was AND attempt = :attempt", names={"#s": "status"}),
           dynamo.outbox("letters", f"resend#{plan_id}#{account_hash}#{attempt}",
                         {"kind": "resend", "campaign_id": campaign_id, "plan_id": plan_id, "account": account_hash,
                          "attempt": attempt})]
    if not dynamo.transact_once(ops):
        raise ValueError("--account: the letter changed meanwhile; look again")
    return attempt


def resend(campaign_id: str, plan_id: str, account_hash: str, attempt: int) -> None:
    """The letters function's part of a resend: the letter again, to its corrected address, by the
    campaign's way out, under an Idempotency-Key of its own attempt (a retry mails it once)."""
    found = letter(campaign_id, plan_id, account_hash)
    campaign = ledger.load_campaign(campaign_id)
    if found is None or campaign is None or found["status"] != rules.QUEUED or int(found["attempt"]) != attempt:
        return  # done already (or superseded by a later resend)
    batch_id = f"{campaign_id}/{plan_id}/resend"
    service_id = f"bundle:{batch_id}"
    if campaign.mailer == "lob":
        event = dynamo.get(f"FORGIVEN#{campaign_id}#{plan_id}", f"{int(found['chunk']):06d}#{account_hash}")
        if event is None:
            raise LookupError(f"no forgiveness event for letter {account_hash}")
        from functions.adapters.letter_facts import rendered  # as in hand_over

        [(_, address, text)] = list(rendered(campaign, plan_id, [event],
                                             addresses={account_hash: bytes(found["sealed_address"])}))
        mailer = LobMailer.from_secret()
        if not mailer.deliverable(address):
            service_id = ""
        else:
            service_id = mailer.send(rules.idempotency_key(batch_id, account_hash, attempt), address,
                                     (campaign.legal_name, *campaign.postal_address), letter_html(text),
                                     {"campaign_id": campaign_id, "plan_id": plan_id, "account": account_hash})
    status = rules.PRINTED if service_id else rules.UNDELIVERABLE
    counts = rules.prepared(status, first_attempt=False).counters()
    dynamo.transact_once([dynamo.update(found["pk"], found["sk"], "SET #s = :new, service_id = :id, updated_at = :at",
                                        {":new": status, ":id": service_id, ":at": ledger.now_iso(),
                                         ":queued": rules.QUEUED, ":attempt": attempt},
                                        condition="#s = :queued AND attempt = :attempt", names={"#s": "status"})]
                         + ([ledger.count(campaign_id, **counts)] if counts else []))


def waiting(campaign_id: str, plan_id: str) -> list[dict[str, Any]]:
    """The letters an operator's print bundle is to hold: printed for the bundle, not yet posted."""
    return [i for i in letters(campaign_id, plan_id)
            if i["status"] == rules.PRINTED and str(i.get("service_id", "")).startswith("bundle:")]
