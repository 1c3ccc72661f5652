"""What operators do to a deployment: find its resources, create campaigns, register offers.

The same adapters the Lambda functions use do the work; this module only points them at a
deployment, found from its CloudFormation stack outputs or at an endpoint like the AWS CLI's
--endpoint-url (a local `jubilee serve`).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

from functions import wiring
from functions.adapters import after_purchase, aws, clock, duplicates, offline, purchases, storage
from functions.adapters import ledger as ledger_store
from functions.adapters.reference_data import poverty_guidelines
from functions.adapters.secrets import derived_key
from functions.domain import duplicates as dup_rules
from functions.domain.after_purchase import accounts_digest, hash_list
from functions.domain.campaigns import PUBLIC_SETTINGS, Campaign, Change, UnknownCampaign, changed
from functions.domain.counter import CounterOffer, kept
from functions.domain.duplicates import Overlap, Place, keys_of, overlap
from functions.domain.eligibility import OfferProfile, assess, profile
from functions.domain.offers import FileReport, OfferAccount, OfferFileError, normalised, read_accounts, write_accounts
from functions.domain.offline import OfflineGift, above_pool, expense_conflict, gift_conflict, offline_gift
from functions.domain.offline import expense as make_expense
from functions.domain.planner import Offer
from functions.domain.public_log import campaign_change_body
from functions.domain.purchase import cents_per_dollar, plan_id_for
from infra import topology

# Stack output name -> environment variable the adapters read.
OUTPUTS = {r.output: r.variable for r in wiring.RESOURCES}


class OperationError(Exception):
    """A clear, user-facing reason an operation did not happen; nothing was written."""


def stack_outputs(stack: str) -> dict[str, str]:
    found = aws.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
    return {o["OutputKey"]: o["OutputValue"] for o in found}


def connect(stack: str = "Jubilee", endpoint_url: str | None = None) -> None:
    if endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = endpoint_url
        for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            os.environ.setdefault(variable, "testing")  # a local endpoint takes any credentials
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        names = topology.LOCAL_NAMES
        os.environ.update({r.variable: names[r.name] for r in wiring.RESOURCES})
    else:
        outputs = stack_outputs(stack)
        missing = [k for k in OUTPUTS if k not in outputs]
        if missing:
            raise OperationError(f"stack {stack!r} has no output(s) {', '.join(missing)}: is it a Jubilee stack?")
        os.environ.update({variable: outputs[key] for key, variable in OUTPUTS.items()})
    aws.use(aws.Dependencies.from_env())  # the operator's commands act on this deployment from here on


def create_campaign(campaign: Campaign) -> None:
    if campaign.email_receipts:
        check_sender(campaign.email_from)
    if not ledger_store.create_campaign(campaign):
        raise OperationError(f"campaign {campaign.campaign_id!r} exists already; it was left as it was")


def check_sender(address: str) -> None:
    """SES sends only from a verified identity: the address itself, or its domain."""
    ses = aws.client("sesv2")
    for identity in (address, address.rsplit("@", 1)[-1]):
        try:
            found = ses.get_email_identity(EmailIdentity=identity)
        except ses.exceptions.NotFoundException:
            continue
        if found.get("VerifiedForSendingStatus") or found.get("VerificationStatus") == "SUCCESS":
            return
    raise OperationError(f"--email-from: neither {address} nor its domain is a verified SES identity here; deploy "
                         "with -c email_identity=DOMAIN and publish its DNS records first (README: Email to donors)")


def caller() -> str:
    """Who the operator's credentials are (their IAM ARN): recorded with what they change."""
    return aws.client("sts").get_caller_identity()["Arn"]


def list_campaigns() -> list[dict]:
    """Every registered campaign's main settings (`campaigns register` adds older ones)."""
    found = (ledger_store.load_campaign(cid) for cid in ledger_store.campaign_ids())
    return [{"campaign_id": c.campaign_id, "name": c.name, "payments": c.payments, "mailer": c.mailer,
             "threshold_cents": c.threshold_cents, "reserve_bps": c.reserve_bps,
             "approvals": f"{c.approvals_required} of {len(c.approvers)}"} for c in found if c is not None]


def show_campaign(campaign_id: str) -> dict:
    """A campaign's settings and every change made to them (who, when, old -> new)."""
    return {"campaign_id": campaign_id, "settings": _campaign(campaign_id).to_dict(),
            "changes": [{k: change[k] for k in ("version", "field", "old", "new", "by", "at")}
                        for change in ledger_store.campaign_changes(campaign_id)]}


def update_campaign(campaign_id: str, settings: Mapping[str, object]) -> list[Change]:
    """Change settings of a campaign, checked together as a whole Campaign (a bad value names its field
    and nothing changes), recorded one change item per field, and appended to the public log when a
    public setting (domain.campaigns.PUBLIC_SETTINGS) is among them. Returns what changed."""
    if not settings:
        raise OperationError("give at least one setting to change (--set NAME=VALUE, or a named flag)")
    found = ledger_store.campaign_settings(campaign_id)
    if found is None:
        raise OperationError(f"ID: {UnknownCampaign(campaign_id)}")
    campaign, version = found
    updated, changes = changed(campaign, dict(settings))
    if not changes:
        return []
    if updated.email_receipts and any(c.field in ("email_from", "email_receipts") for c in changes):
        check_sender(updated.email_from)  # as at create: SES sends only from a verified identity
    public = [c for c in changes if c.field in PUBLIC_SETTINGS]
    body = campaign_change_body(campaign_id, public) if public else None
    if not ledger_store.update_campaign(campaign_id, version, changes, caller(), body):
        raise OperationError(f"ID: campaign {campaign_id!r} was changed meanwhile; nothing was changed, look again")
    return changes


def register_campaigns() -> list[str]:
    """Add campaigns created before the registry to it (once, after upgrading): the schedules see
    only registered campaigns. Returns those added."""
    return [cid for cid in ledger_store.unregistered_campaign_ids() if ledger_store.register_campaign(cid)]


def _campaign(campaign_id: str) -> Campaign:
    campaign = ledger_store.load_campaign(campaign_id)
    if campaign is None:
        raise OperationError(f"--campaign: {UnknownCampaign(campaign_id)}")
    return campaign


def _profile(campaign: Campaign, accounts: Iterable[OfferAccount]) -> OfferProfile:
    return profile(accounts, campaign.eligibility(), campaign.guidelines(poverty_guidelines()))


def _overlap(campaign: Campaign, offer_id: str, key: bytes, keys: list[tuple[str, str]],
             accounts: Callable[[], Iterable[OfferAccount]]) -> Overlap:
    """The accounts of an offer the campaign bought already, or that another open offer holds
    (`accounts` reads them again, in the order of their `keys`, only if some were met)."""
    seen = duplicates.seen(campaign.campaign_id, offer_id, key, keys)
    if not seen:
        return Overlap()
    policy, guidelines, today = campaign.eligibility(), campaign.guidelines(poverty_guidelines()), clock.now().date()
    return overlap(((a, k, assess(a, policy, guidelines, today).eligible) for a, k in zip(accounts(), keys, strict=True)
                    if k[0] in seen or k[1] in seen), seen)


def _keyed(accounts: Iterable[OfferAccount], key: bytes, campaign_id: str,
           keys: list[tuple[str, str]]) -> Iterator[OfferAccount]:
    for account in accounts:
        keys.append(keys_of(key, campaign_id, account))
        yield account


def add_offer(campaign_id: str, body: bytes | Iterable[str], seller: str, price_cents: int,
              offer_id: str | None = None, expires: str | None = None, skip_bad_rows: bool = False,
              columns: Mapping[str, str] | None = None, date_format: str | None = None
              ) -> tuple[Offer, FileReport]:
    """Validate a seller's offer file (bytes, or its lines as they are read), store it in Jubilee's own
    layout, and register it as open for purchase, profiled under the campaign's eligibility policy. It is
    read once, as it streams, into a temporary file: memory does not grow with it. A file with bad rows is
    refused whole unless skip_bad_rows: then only its good rows are stored, and the report says what was
    left out. Accounts the campaign bought already, or that another open offer holds, are flagged (the
    offer's `duplicates`) and left out of its eligible value."""
    if price_cents <= 0:
        raise OperationError("--price-cents: must be a positive whole number of cents")
    if not seller.strip():
        raise OperationError("--seller: must not be empty")
    if expires:
        try:
            if dt.date.fromisoformat(expires) < clock.now().date():
                raise OperationError(f"--expires: {expires} is in the past")
        except ValueError:
            raise OperationError(f"--expires: {expires!r} is not a date like 2026-12-31") from None
    campaign = _campaign(campaign_id)
    offer_id = offer_id or f"offer-{uuid.uuid4().hex[:12]}"
    if purchases.load_offer(campaign_id, offer_id) is not None:
        raise OperationError(f"offer {offer_id!r} exists already")
    lines = io.StringIO(body.decode("utf-8-sig"), newline="") if isinstance(body, bytes) else body
    key, report = derived_key("account-claim"), FileReport()
    keys: list[tuple[str, str]] = []
    with tempfile.TemporaryFile() as stored:
        canonical = io.TextIOWrapper(stored, encoding="utf-8", newline="")
        accounts = normalised(lines, report, canonical, columns, date_format)
        shape = _profile(campaign, _keyed(accounts, key, campaign_id, keys))
        canonical.detach()  # flushed; the file stays open
        if report.counts and (not skip_bad_rows or not report.accounts):
            raise OfferFileError(report)

        def again() -> Iterator[OfferAccount]:
            stored.seek(0)
            text = io.TextIOWrapper(stored, encoding="utf-8", newline="")
            yield from read_accounts(text)
            text.detach()

        met = _overlap(campaign, offer_id, key, keys, again)
        stored.seek(0)
        object_key = storage.upload_offer(campaign_id, offer_id, stored, "".join(a + p for a, p in keys))
    # Proof of what is bought: the accounts' keyed hashes kept, and their digest logged if the offer is bought.
    listing = hash_list(ref for ref, _ in keys)
    after_purchase.keep_hashes(campaign_id, offer_id, listing)
    offer = Offer(offer_id, campaign_id, seller, price_cents, shape.face_value_cents, shape.accounts, object_key,
                  eligible_face_value_cents=shape.eligible_face_value_cents - met.eligible_face_value_cents,
                  eligible_accounts=shape.eligible_accounts - met.eligible_accounts,
                  accounts_digest=accounts_digest(listing))
    if not purchases.register_offer(offer, shape.to_dict(), expires, met.to_dict()):
        raise OperationError(f"offer {offer_id!r} exists already")
    return offer, report


def show_offer(campaign_id: str, offer_id: str) -> dict:
    """An offer's profile under the campaign's policy as it stands now, read from the stored file, and
    where its accounts are met now: in other open (or held) offers, or bought (by which plan)."""
    campaign = _campaign(campaign_id)
    item = _offer_item(campaign_id, offer_id)
    overlaps = None
    if item["status"] in ("sold", "declined", "lapsed", "withdrawn"):  # its file (debtors' data) is deleted
        shape = OfferProfile.from_dict(item["profile"])
    else:
        accounts = list(read_accounts(storage.read_lines(item["object_key"])))
        shape = _profile(campaign, accounts)
        keys, found = _met(campaign_id, offer_id, accounts)
        overlaps = dup_rules.overlaps(zip(accounts, keys, strict=True), found).to_dict()
    # A held offer's plan waits for approval; a sold one's bought it.
    plan_id = plan_id_for(purchases.offer_from_item(item)) if item["status"] in ("held", "sold") else None
    return {"offer_id": offer_id, "seller": item["seller"], "status": item["status"], "plan_id": plan_id,
            "price_cents": item["price_cents"], "expires": item.get("expires"),
            "cents_per_dollar": cents_per_dollar(item["price_cents"], shape.face_value_cents),
            "cents_per_eligible_dollar": cents_per_dollar(item["price_cents"], shape.eligible_face_value_cents),
            "policy": campaign.eligibility().to_dict(), **shape.to_dict(),
            # Met before (as found when it was added): the planner values the offer without them.
            "duplicates": item.get("duplicates") or Overlap().to_dict(),
            # Met now, by offer and by plan (None once its file is gone).
            "overlaps": overlaps,
            "net_eligible_accounts": item.get("eligible_accounts"),
            "net_eligible_face_value_cents": item.get("eligible_face_value_cents")}


def _offer_item(campaign_id: str, offer_id: str) -> dict:
    item = purchases.load_offer(campaign_id, offer_id)
    if item is None:
        raise OperationError(f"ID: no offer {offer_id!r} in campaign {campaign_id!r}")
    return item


def _met(campaign_id: str, offer_id: str, accounts: list[OfferAccount]
         ) -> tuple[list[tuple[str, str]], dict[str, Place]]:
    """Each account's keyed hashes, and where each key was met before (other offers, purchases)."""
    key = derived_key("account-claim")
    keys = [keys_of(key, campaign_id, account) for account in accounts]
    return keys, duplicates.places(campaign_id, offer_id, key, keys)


def counter_offer(campaign_id: str, offer_id: str, out: Path) -> dict:
    """Write the accounts of an open offer that the campaign would buy (eligible under its policy, not
    bought already) to `out` as an offer file in Jubilee's layout, which `offers add` takes as it is, and
    propose a price in proportion to their face value (domain/counter.py). The file names debtors, as
    the seller's did: it is created readable by the operator alone."""
    campaign = _campaign(campaign_id)
    item = _offer_item(campaign_id, offer_id)
    if item["status"] != "open":
        raise OperationError(f"ID: offer {offer_id} is {item['status']}; only an open offer can be countered")
    accounts = list(read_accounts(storage.read_lines(item["object_key"])))
    keys, found = _met(campaign_id, offer_id, accounts)
    policy, guidelines, today = campaign.eligibility(), campaign.guidelines(poverty_guidelines()), clock.now().date()
    tally = CounterOffer(offer_id, item["price_cents"])
    subset = list(kept(((a, k, assess(a, policy, guidelines, today).eligible)
                        for a, k in zip(accounts, keys, strict=True)), found, tally))
    if not subset:
        raise OperationError(f"ID: no account of offer {offer_id} qualifies ({tally.not_eligible} not eligible, "
                             f"{tally.already_bought} bought already): there is nothing to counter with")
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as file:
            file.write(write_accounts(subset))
    except OSError as error:
        raise OperationError(f"--out: cannot write {out}: {error.strerror}") from None
    return tally.to_dict() | {"seller": item["seller"], "out": str(out)}


def confirm_purchase(plan_id: str, reference: str) -> None:
    """A manual seller was paid (wire reference given): the hold is posted and forgiveness begins."""
    if not reference.strip():
        raise OperationError("--reference: give the wire's reference")
    item = purchases.load_plan(plan_id)
    if item is None:
        raise OperationError(f"PLAN: no plan {plan_id!r}")
    if item["status"] != "approved":
        raise OperationError(f"PLAN: {plan_id} is {item['status']}; only an approved plan can be confirmed")
    plan = purchases.plan_from_item(item)
    if not purchases.DynamoPurchaseStore().settle(plan, plan.offer.object_key, reference.strip()):
        raise OperationError(f"PLAN: {plan_id} changed meanwhile; look again")


def queue_urls(stage: str, stack: str = "Jubilee", endpoint_url: str | None = None) -> tuple[str, str]:
    """(queue, dead-letter queue) URLs of a stage: by stack output, or by local name on an endpoint."""
    if endpoint_url:
        sqs = aws.client("sqs")
        return (sqs.get_queue_url(QueueName=topology.local_queue_name(stage))["QueueUrl"],
                sqs.get_queue_url(QueueName=topology.local_queue_name(stage, dead_letters=True))["QueueUrl"])
    outputs = stack_outputs(stack)
    try:
        return outputs[f"{stage.title()}QueueUrl"], outputs[f"{stage.title()}DlqUrl"]
    except KeyError:
        raise OperationError(f"STAGE: stack {stack!r} has no queue for stage {stage!r}") from None


def redrive(queue_url: str, dlq_url: str, limit: int = 10_000) -> int:
    """Move dead letters back to their queue: send a copy first, then delete, so none is lost.

    (SQS's own StartMessageMoveTask does this on AWS; moto lacks it, and this works on both.)
    """
    sqs, moved = aws.client("sqs"), 0
    while moved < limit:
        messages = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                       MessageAttributeNames=["All"]).get("Messages", [])
        if not messages:
            break
        for message in messages:
            sqs.send_message(QueueUrl=queue_url, MessageBody=message["Body"],
                             MessageAttributes=message.get("MessageAttributes", {}))
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return moved


def redrive_outbox(stack: str = "Jubilee", endpoint_url: str | None = None) -> tuple[int, int]:
    """The dispatcher's failure queue holds where failed stream batches were, not their items: announce
    every outbox item still waiting (what the scheduled relay does, without waiting), then clear the
    failure records read before. Returns (items announced, failure records cleared)."""
    from functions.adapters import outbox

    os.environ.update({wiring.queue_variable(stage): queue_urls(stage, stack, endpoint_url)[0]
                       for stage in wiring.STAGES})
    aws.reset()  # the queue URLs just set
    if endpoint_url:
        dlq_url = aws.client("sqs").get_queue_url(QueueName=topology.local_queue_name("outbox", dead_letters=True))[
            "QueueUrl"]
    else:
        dlq_url = stack_outputs(stack)["OutboxDlqUrl"]
    sqs, records = aws.client("sqs"), []
    while batch := sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                       VisibilityTimeout=300).get("Messages", []):
        records += batch  # hidden meanwhile; a record written after this read waits for the next redrive
    announced, refused = outbox.relay(before=int(clock.now().timestamp()) + 1)
    if refused:
        raise OperationError(f"SQS refused {refused} outbox item(s); run the redrive again")
    for record in records:
        sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=record["ReceiptHandle"])
    return announced, len(records)


def statement(email: str, year: int) -> dict:
    """A donor's year-end statement across campaigns: each confirmed gift, net of refunds."""
    from functions.adapters.donors import donor_ref
    from functions.domain.receipts import year_end_statement

    theirs = [d for d in ledger_store.all_donations() if d.get("donor_ref") == donor_ref(d["campaign_id"], email)]
    result = year_end_statement(theirs, email, year)
    campaigns = {line.campaign_id for line in result.lines}
    statements = {cid: c.tax_statement for cid in sorted(campaigns)
                  if (c := ledger_store.load_campaign(cid)) is not None and c.tax_statement}
    return {"donor": email, "year": year, "gifts": [line.__dict__ | {"net_cents": line.net_cents}
                                                    for line in result.lines],
            "totals": result.totals(), "tax_statements": statements}


def reconcile(campaign_id: str, since: str | None = None) -> list:
    """Stripe's balance transactions against the ledger for one campaign: every difference."""
    import datetime as dt

    from functions.adapters.stripe_payments import StripePayments
    from functions.domain.reconciliation import differences, ledger_side

    if _campaign(campaign_id).payments != "stripe":
        raise OperationError(f"--campaign: {campaign_id!r} does not take Stripe payments; "
                             "there is nothing to reconcile")
    start = None
    if since:
        try:
            start = dt.datetime.fromisoformat(since).replace(tzinfo=dt.UTC)
        except ValueError:
            raise OperationError(f"--since: {since!r} is not a date like 2026-01-31") from None
    items = [i for i in ledger_store.transfer_items(campaign_id)
             if start is None or i["posted_at"] >= start.isoformat(timespec="seconds")]
    processor = StripePayments.configured().processor_side(campaign_id, int(start.timestamp()) if start else None)
    return differences(processor, ledger_side(items))


# --- money recorded by hand: offline gifts and expenses ---------------------------------------------

def record_gift(campaign_id: str, amount_cents: int, method: str, reference: str, received_on: str | None = None,
                donor: dict[str, str] | None = None) -> tuple[OfflineGift, bool]:
    """A check, cash or a wire, pooled like any gift with no processor fee. (gift, False) when its reference
    was recorded before with the same facts: nothing is written again. Refused, naming the option, when
    the same reference was recorded with other facts."""
    campaign = _campaign(campaign_id)
    gift = offline_gift(campaign_id, amount_cents, method, reference, received_on, clock.now().date())
    for _ in range(2):  # a recording racing ours: read what it wrote
        stored = ledger_store.load_donation(campaign_id, gift.donation_id)
        if stored is not None:
            if conflict := gift_conflict(stored, gift):
                raise OperationError(conflict)
            return gift, False
        donor = {k: v for k, v in (donor or {}).items() if v}
        if offline.record_gift(gift, campaign.currency, donor, anonymous=not donor):
            return gift, True
    raise OperationError("--reference: the gift changed while it was recorded; run the command again")


def campaign_currency(campaign_id: str) -> str:
    return _campaign(campaign_id).currency


def receipt_path(campaign_id: str, donation_id: str) -> str:
    """The donor's signed receipt link, as the donation API gives card donors (a path on the campaign's site
    when the operator's environment does not name it)."""
    from functions.adapters import receipt_links

    return receipt_links.receipt_url(campaign_id, donation_id)


def add_expense(campaign_id: str, amount_cents: int, payee: str, purpose: str, receipt: bytes
                ) -> tuple[dict, bool]:
    """Hold an expense from the pool; paid at once when the campaign needs no approval for it. (item, False)
    when this receipt was added before with the same facts. Refused, nothing held, above the pool."""
    campaign = _campaign(campaign_id)
    expense = make_expense(campaign_id, amount_cents, payee, purpose, receipt, clock.now(), campaign.plan_ttl_hours)
    for _ in range(2):
        stored = offline.load(campaign_id, expense.expense_id)
        if stored is not None:
            if conflict := expense_conflict(stored, expense):
                raise OperationError(conflict)
            return stored, False
        approved = not campaign.needs_approval(expense.amount_cents)
        if short := above_pool(expense.amount_cents, purchases.DynamoPurchaseStore().pool_available(campaign_id),
                               campaign.currency):
            raise OperationError(short)
        held = offline.hold(expense, approved)
        if held == "short":  # the pool moved since it was read: refused by the balance's own condition
            continue
        if held == "held" and approved:
            offline.pay(expense, [])
        if held == "held":
            return offline.load(campaign_id, expense.expense_id) or {}, True
    raise OperationError(above_pool(expense.amount_cents, purchases.DynamoPurchaseStore().pool_available(campaign_id),
                                    campaign.currency) or "--amount-cents: the pool changed meanwhile; try again")
