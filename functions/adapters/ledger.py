"""The campaign ledger in DynamoDB: campaigns, balances, transfers, donations, counters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from itertools import chain
from typing import Any, cast

from functions.adapters import clock, donation_items, donors, dynamo, public_log
from functions.adapters.aws import client, settings
from functions.adapters.email import receipts_outbox
from functions.adapters.keys import (
    CHECKPOINT,
    LOG_HEAD,
    META,
    REGISTRY,
    account_sk,
    campaign_pk,
    change_sk,
    donation_partitions,
    ledger_pk,
    plan_sk,
)
from functions.domain.after_purchase import open_checklist
from functions.domain.campaigns import Campaign, Change
from functions.domain.gifts import PaymentAdjusted, PaymentConfirmed
from functions.domain.ledger import ACCOUNTS, EXTERNAL, Leg, Totals, Transfer, net_deltas
from functions.domain.records import DonationRecord
from functions.services.ports import BalanceRefused, GiftBatch, NotYetBookable
from functions.wiring import BY_POSTING

# letters_sent: letters mailed (domain/letters.py); letters_waiting: prepared, not (yet) mailed.
COUNTERS = ("donations_confirmed", "purchases", "accounts_forgiven", "face_value_forgiven_cents", "letters_sent",
            "letters_returned", "letters_waiting", "accounts_withdrawn", "seller_refunds_cents")


def now_iso() -> str:
    return clock.now().astimezone(dt.UTC).isoformat(timespec="seconds")


# --- campaigns -------------------------------------------------------------------------

def _registered(campaign_id: str) -> dict[str, Any]:
    """The campaign's entry in the registry: one partition listing every campaign, for the schedules."""
    return {"pk": REGISTRY, "sk": campaign_id, "kind": "campaign-registry", "campaign_id": campaign_id}


def create_campaign(campaign: Campaign) -> bool:
    """False if a campaign with that id exists already (it is left as it was)."""
    item = {"pk": campaign_pk(campaign.campaign_id), "sk": META, "kind": "campaign",
            "created_at": now_iso(), **campaign.to_dict(), **dict.fromkeys(COUNTERS, 0)}
    return dynamo.transact_once([dynamo.put(item), dynamo.put(_registered(campaign.campaign_id))])


def register_campaign(campaign_id: str) -> bool:
    """Add a campaign made without a registry entry (imported, or created before there was a registry)."""
    return dynamo.put_new(_registered(campaign_id))


def campaign_settings(campaign_id: str) -> tuple[Campaign, int] | None:
    """The campaign and the version of its settings (0 until first changed), to change them from."""
    item = dynamo.get(campaign_pk(campaign_id), META)
    return (Campaign.from_dict(item), int(item.get("settings_version", 0))) if item else None


def update_campaign(campaign_id: str, version: int, changes: list[Change], by: str,
                    public_body: dict[str, Any] | None) -> bool:
    """Apply `changes` to the campaign's settings and record each as an append-only change item (who,
    when, old and new), in one transaction guarded by the settings' `version` as read: False if they
    changed meanwhile, and nothing is written. With `public_body`, appended to the public log as well."""
    at, following = now_iso(), version + 1
    names = {f"#f{n}": c.field for n, c in enumerate(changes)}
    values: dict[str, Any] = {f":f{n}": c.new for n, c in enumerate(changes)} | {":next": following}
    if version:
        values[":version"] = version
    guard = "attribute_exists(pk) AND " + ("settings_version = :version" if version
                                           else "attribute_not_exists(settings_version)")
    sets = "".join(f"#f{n} = :f{n}, " for n in range(len(changes)))
    items = [dynamo.update(campaign_pk(campaign_id), META, f"SET {sets}settings_version = :next", values,
                           condition=guard, names=names)]
    items += [dynamo.put({"pk": campaign_pk(campaign_id), "sk": change_sk(f"{following:06d}#{c.field}"),
                          "kind": "campaign-change", "version": following, "field": c.field, "old": c.old,
                          "new": c.new, "by": by, "at": at}) for c in changes]
    if public_body is not None:
        return public_log.transact_logged(campaign_id, items, public_body | {"at": at})
    return dynamo.transact_once(items)


def campaign_changes(campaign_id: str) -> list[dict[str, Any]]:
    """Every change of the campaign's settings, oldest first."""
    return list(dynamo.query(campaign_pk(campaign_id), change_sk("")))


def load_campaign(campaign_id: str) -> Campaign | None:
    item = dynamo.get(campaign_pk(campaign_id), META)
    return Campaign.from_dict(item) if item else None


def campaign_ids() -> list[str]:
    """All campaigns, from the registry (a query, in id order)."""
    return [item["sk"] for item in dynamo.query(REGISTRY)]


def unregistered_campaign_ids() -> list[str]:
    """Campaigns missing from the registry: a scan, for the operator's one-off `jubilee campaigns register`."""
    registered = set(campaign_ids())
    return sorted(i["campaign_id"] for i in dynamo.scan("campaign") if i["campaign_id"] not in registered)


def snapshot(campaign_id: str) -> tuple[dict[str, Any] | None, dict[str, int]]:
    """The campaign item (settings and counters) and every cached balance, in one read."""
    items, balances = _campaign_items(campaign_id, dynamo.batch_get)
    return items.get(META), balances


def _campaign_items(campaign_id: str, read: Any, *extra_sks: str) -> tuple[dict[str, Any], dict[str, int]]:
    """The campaign's items (META, `extra_sks`) by sort key, and every cached balance, in one `read`."""
    pk = campaign_pk(campaign_id)
    found = read([(pk, sk) for sk in (META, *extra_sks)] + [(pk, account_sk(a)) for a in ACCOUNTS])
    balances = {a: int(found.get((pk, account_sk(a)), {}).get("balance", 0)) for a in ACCOUNTS}
    return {sk: item for (_, sk), item in found.items()}, balances


def public_figures(campaign_id: str) -> dict[str, Any] | None:
    # One TransactGetItems: the figures and the log head are of the same moment (a BatchGetItem's
    # reads are each consistent, but a transaction may land between them).
    items, balances = _campaign_items(campaign_id, dynamo.transact_get, LOG_HEAD)
    meta, log = items.get(META), public_log.head_of(items.get(LOG_HEAD))
    if meta is None:
        return None
    totals = Totals.from_balances(balances)
    return {
        "campaign_id": campaign_id, "name": meta["name"], "currency": meta["currency"],
        "donations_confirmed": meta["donations_confirmed"],
        **{k: v for k, v in asdict(totals).items() if k.endswith("_cents")},
        "purchases": meta["purchases"],
        "face_value_forgiven_cents": meta["face_value_forgiven_cents"],
        "accounts_forgiven": meta["accounts_forgiven"], "letters_sent": meta["letters_sent"],
        "letters_returned": meta.get("letters_returned", 0),  # (campaigns made before it was counted)
        "letters_waiting": meta.get("letters_waiting", 0),
        # Put-backs: accounts the sellers took back (no longer in accounts_forgiven), and their refunds (back
        # in the pool: spent_cents is net of them).
        "accounts_withdrawn": meta.get("accounts_withdrawn", 0),
        "seller_refunds_cents": meta.get("seller_refunds_cents", 0),
        "ledger_balanced": totals.balanced, "log_head": log["hash"], "log_entries": log["seq"],
        "checklist_open": open_checklist(dynamo.query(campaign_pk(campaign_id), plan_sk(""))),
    }


def count(campaign_id: str, **increments: int) -> dict[str, Any]:
    """An update adding to the campaign's public counters."""
    names = {f"#{k}": k for k in increments}
    expression = "ADD " + ", ".join(f"#{k} :{k}" for k in increments)
    return dynamo.update(campaign_pk(campaign_id), META, expression,
                         {f":{k}": v for k, v in increments.items()}, names=names)


# --- ledger postings -------------------------------------------------------------------

def transfer_item(transfer: Transfer, posted_at: str, **extra: Any) -> dict[str, Any]:
    return {"pk": ledger_pk(transfer.campaign_id), "sk": transfer.transfer_id, "kind": transfer.kind,
            "legs": {leg.account: leg.amount_cents for leg in transfer.legs}, "posted_at": posted_at, **extra}


def transfer_put(transfer: Transfer, posted_at: str | None = None, **extra: Any) -> dict[str, Any]:
    return dynamo.put(transfer_item(transfer, posted_at or now_iso(), **extra))


def balance_updates(campaign_id: str, transfers: list[Transfer]) -> list[dict[str, Any]]:
    """One update per account for the batch; a decrease is refused if it would go below zero."""
    updates = []
    for account, delta in sorted(net_deltas(transfers).items()):
        guard = None if delta > 0 or account in EXTERNAL else "balance >= :need"
        values = {":d": delta} | ({":need": -delta} if guard else {})
        updates.append(dynamo.update(campaign_pk(campaign_id), account_sk(account), "ADD balance :d",
                                     values, condition=guard))
    return updates


def transfer_items(campaign_id: str) -> Iterator[dict[str, Any]]:
    return iter(dynamo.query(ledger_pk(campaign_id)))


def posted_since(campaign_id: str, since: str) -> Iterator[dict[str, Any]]:
    """Ledger entries posted at `since` or later (posted_at, legs), from the posting index."""
    return iter(dynamo.query_index(BY_POSTING, ledger_pk(campaign_id), since))


def confirmed_since(campaign_id: str, since: str = "") -> Iterator[dict[str, Any]]:
    """Donations confirmed at `since` or later (posted_at, provider, payment_id), from the posting index;
    without `since`, every confirmed donation, from the table (ones confirmed before the index included)."""
    if since:  # each partition donations are in (those of before the shards were in the campaign's)
        partitions = (*donation_partitions(campaign_id), campaign_pk(campaign_id))
        return chain.from_iterable(dynamo.query_index(BY_POSTING, pk, since) for pk in partitions)
    return (dict(d, posted_at=d["confirmed_at"]) for d in donation_items.listed(campaign_id)
            if d.get("confirmed_at"))


def transfers_exist(campaign_id: str, transfer_ids: Iterable[str]) -> set[str]:
    """Which of these transfers are booked."""
    found = dynamo.batch_get((ledger_pk(campaign_id), t) for t in transfer_ids)
    return {sk for _, sk in found}


def load_checkpoint(campaign_id: str) -> dict[str, Any] | None:
    return dynamo.get(campaign_pk(campaign_id), CHECKPOINT)


def save_checkpoint(campaign_id: str, checkpoint: dict[str, Any], previous: str | None) -> bool:
    """Write the reconciler's checkpoint unless another run moved it on from `previous` meanwhile
    (None: whatever is there; a full recomputation replaces it)."""
    item = {"pk": campaign_pk(campaign_id), "sk": CHECKPOINT, "kind": "reconcile-checkpoint", **checkpoint}
    guard = None if previous is None else "attribute_not_exists(pk) OR settled_before = :previous"
    return dynamo.transact_once([dynamo.put(item, new=False, condition=guard,
                                            values={":previous": previous} if guard else None)])


def forget_checkpoint(campaign_id: str) -> None:
    """The next reconcile recomputes from every entry (after an import added entries of the past)."""
    client("dynamodb").delete_item(TableName=settings().table, Key=dynamo.key(campaign_pk(campaign_id), CHECKPOINT))


def transfers(campaign_id: str) -> Iterator[Transfer]:
    for item in transfer_items(campaign_id):
        legs = tuple(Leg(account, int(amount)) for account, amount in sorted(item["legs"].items()))
        yield Transfer(item["sk"], campaign_id, item["kind"], legs)


# --- donations -------------------------------------------------------------------------

def create_donation(campaign_id: str, donation_id: str, amount_cents: int, currency: str, provider: str,
                    donor: dict[str, Any], anonymous: bool, frequency: str = "once", covered_cents: int = 0,
                    request: str = "", created_at: str | None = None) -> dict[str, Any] | None:
    """The pending donation, with its donor sealed under a key of its own, in one conditional put: the
    pledge's whole write (its id is the pledge's idempotency key, `request` the keyed hash of its body).
    None if it was written; the donation stored before under this id if there is one (nothing written)."""
    sealed = donors.seal(campaign_id, donation_id, donor)
    item = _donation_item(campaign_id, donation_id, amount_cents, currency, provider, "pending", sealed, anonymous,
                          frequency=frequency, covered_cents=covered_cents, request=request,
                          created_at=created_at or now_iso())
    return dynamo.put_or_existing(item)


def load_donation(campaign_id: str, donation_id: str) -> dict[str, Any] | None:
    return donation_items.get(campaign_id, donation_id)


def installments(campaign_id: str, pledge_id: str) -> list[dict[str, Any]]:
    """A monthly pledge's later payments: their ids extend the pledge's."""
    return list(donation_items.listed(campaign_id, f"{pledge_id}-"))


def all_donations() -> list[dict[str, Any]]:
    """Every donation of every campaign: a scan, for operators' statements, never on a request path."""
    return list(dynamo.scan("donation"))


def _donation_item(campaign_id: str, donation_id: str, amount_cents: int, currency: str, provider: str,
                   status: str, donor: dict[str, Any], anonymous: bool, **extra: Any) -> dict[str, Any]:
    """`donor`: the donor's sealed attributes (donors.seal), never their name or email."""
    pk, sk = donation_items.key(campaign_id, donation_id)
    return {"pk": pk, "sk": sk, "kind": "donation",
            "donation_id": donation_id, "campaign_id": campaign_id, "amount_cents": amount_cents,
            "currency": currency, "provider": provider, "status": status, **donor,
            "anonymous": anonymous, "created_at": now_iso(), "refunded_cents": 0, "disputes": {}, **extra}


class DynamoStore:
    """The payment services' store (functions/services/ports.py) on the ledger table: each port's condition
    is a condition expression, each write one transaction with its outbox items."""

    def load_donation(self, campaign_id: str, donation_id: str) -> DonationRecord | None:
        return cast(DonationRecord | None, load_donation(campaign_id, donation_id))

    def snapshot(self, campaign_id: str) -> tuple[dict[str, Any] | None, dict[str, int]]:
        return snapshot(campaign_id)

    def confirm_pledge(self, gift: PaymentConfirmed) -> bool:
        return _on_donation(gift.campaign_id, gift.donation_id, lambda pk, sk: [dynamo.update(
            pk, sk,
            "SET #status = :confirmed, confirmed_at = :at, posted_at = :at, fee_cents = :fee, payment_id = :payment",
            {":confirmed": "confirmed", ":pending": "pending", ":at": now_iso(), ":fee": gift.fee_cents,
             ":amount": gift.amount_cents, ":currency": gift.currency, ":payment": gift.payment_id,
             ":provider": gift.provider},
            condition="#status = :pending AND amount_cents = :amount AND currency = :currency AND provider = :provider",
            names={"#status": "status"},
        ), _announce_gift(gift)])

    def add_installment(self, gift: PaymentConfirmed, pledge: DonationRecord) -> bool:
        item = _donation_item(gift.campaign_id, gift.donation_id, gift.amount_cents, gift.currency, gift.provider,
                              "confirmed", {k: v for k, v in pledge.items() if k in donors.SEALED},
                              pledge["anonymous"], pledge_id=gift.pledge_id,
                              confirmed_at=(at := now_iso()), posted_at=at, fee_cents=gift.fee_cents,
                              payment_id=gift.payment_id, covered_cents=gift.covered_cents)
        return dynamo.transact_once([dynamo.put(item), _announce_gift(gift)])

    def fail_pledge(self, gift: PaymentConfirmed) -> bool:
        return _on_donation(gift.campaign_id, gift.donation_id, lambda pk, sk: [dynamo.update(
            pk, sk, "SET #status = :failed", {":failed": "failed", ":pending": "pending", ":provider": gift.provider},
            condition="#status = :pending AND provider = :provider", names={"#status": "status"})])

    def end_pledge(self, gift: PaymentConfirmed, ended_at: int) -> bool:
        return _on_donation(gift.campaign_id, gift.donation_id, lambda pk, sk: [dynamo.update(
            pk, sk, "SET ended_at = :at", {":at": ended_at, ":provider": gift.provider},
            condition="attribute_exists(pk) AND provider = :provider AND attribute_not_exists(ended_at)")])

    def record_refunds(self, donation: DonationRecord, refunded_cents: int, refunds_failed_cents: int,
                       adjustment: PaymentAdjusted) -> bool:
        had_failures = "refunds_failed_cents" in donation
        unchanged = "refunds_failed_cents = :failed_before" if had_failures \
            else "attribute_not_exists(refunds_failed_cents)"
        values = {":total": refunded_cents, ":before": int(donation.get("refunded_cents", 0)),
                  ":failed": refunds_failed_cents}
        values |= {":failed_before": int(donation["refunds_failed_cents"])} if had_failures else {}
        return _change(donation, "SET refunded_cents = :total, refunds_failed_cents = :failed", values,
                       f"refunded_cents = :before AND {unchanged}", None, [adjustment])

    def record_dispute(self, donation: DonationRecord, dispute_id: str, status: str,
                       adjustments: list[PaymentAdjusted]) -> bool:
        known = (donation.get("disputes") or {}).get(dispute_id)
        condition = "attribute_not_exists(disputes.#d)" if known is None else "disputes.#d = :known"
        values = {":status": status} | ({":known": known} if known else {})
        return _change(donation, "SET disputes.#d = :status", values, condition, {"#d": dispute_id}, adjustments)

    def post_gifts(self, campaign_id: str, gifts: list[PaymentConfirmed],
                   plan: Callable[[list[PaymentConfirmed]], GiftBatch]) -> list[PaymentConfirmed]:
        def build(pending: list[PaymentConfirmed]) -> list[dict[str, Any]]:
            batch = plan(pending)
            items = [transfer_put(t, donation_id=g.donation_id)
                     for t, g in zip(batch.transfers, pending, strict=True)]
            items += balance_updates(campaign_id, batch.transfers)
            items.append(count(campaign_id, donations_confirmed=len(pending)))
            if batch.purchase_check:
                items.append(dynamo.outbox("purchases", batch.purchase_check,
                                           {"campaign_id": campaign_id, "reason": "threshold"}))
            if batch.receipts:  # the gifts' receipt emails, asked for at once (the campaign emails its donors)
                items.append(receipts_outbox(campaign_id, pending))
            return items

        return dynamo.transact_new(gifts, build)

    def post_adjustment(self, adjustment: PaymentAdjusted, transfer: Transfer) -> bool:
        cid = adjustment.campaign_id
        requirement = {"ConditionCheck": {"TableName": dynamo.settings().table,
                                          "Key": dynamo.key(ledger_pk(cid), adjustment.requires),
                                          "ConditionExpression": "attribute_exists(pk)"}}
        items = [transfer_put(transfer, donation_id=adjustment.donation_id), requirement,
                 *balance_updates(cid, [transfer])]
        try:
            dynamo.transact(items)
        except dynamo.TransactionCancelled as cancelled:
            if 0 in cancelled.failed():
                return False
            if 1 in cancelled.failed():
                raise NotYetBookable(f"{adjustment.transfer_id} waits for {adjustment.requires}") from None
            if cancelled.failed():
                raise BalanceRefused(f"{adjustment.transfer_id} would drive a balance below zero") from cancelled
            raise
        return True


def _on_donation(campaign_id: str, donation_id: str, change: Callable[[str, str], list[dict[str, Any]]]) -> bool:
    """Run `change(pk, sk)` (a transaction whose first item updates the donation under a condition) on the
    donation's key; False if a condition failed. Where no donation is at its key, it may be one stored
    before donations had partitions of their own: the change is tried there too (only then a second call)."""
    items = change(*donation_items.key(campaign_id, donation_id))
    items[0]["Update"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    try:
        dynamo.transact(items)
        return True
    except dynamo.TransactionCancelled as cancelled:
        if not cancelled.failed():
            raise
        if cancelled.failed() != [0] or cancelled.old[0] is not None:
            return False
    return dynamo.transact_once(change(*donation_items.unsharded_key(campaign_id, donation_id)))


def _announce_gift(gift: PaymentConfirmed) -> dict[str, Any]:
    return dynamo.outbox("donations", gift.transfer_id, gift.to_message())


def _change(donation: DonationRecord, expression: str, values: dict[str, Any], condition: str,
            names: dict[str, str] | None, adjustments: list[PaymentAdjusted]) -> bool:
    """Change the donation under `condition` and announce the adjustments, in one transaction."""
    update = dynamo.update(donation["pk"], donation["sk"], expression, values, condition=condition, names=names)
    return dynamo.transact_once([update] + [dynamo.outbox("donations", f"adjust#{a.transfer_id}", a.to_message())
                                             for a in adjustments])


STORE = DynamoStore()
