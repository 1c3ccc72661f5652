"""The campaign ledger in DynamoDB: campaigns, balances, transfers, donations, counters."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from typing import Any

from functions.adapters import dynamo
from functions.adapters.dynamo import campaign_pk
from functions.domain.campaigns import Campaign
from functions.domain.gifts import PaymentConfirmed
from functions.domain.ledger import ACCOUNTS, EXTERNAL, POOL, Leg, Totals, Transfer, gift_transfer, net_deltas

META = "META"
COUNTERS = ("donations_confirmed", "purchases", "accounts_forgiven", "face_value_forgiven_cents", "letters_sent")


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def account_sk(account: str) -> str:
    return f"ACCOUNT#{account}"


# --- campaigns -------------------------------------------------------------------------

def create_campaign(campaign: Campaign) -> bool:
    """False if a campaign with that id exists already (it is left as it was)."""
    item = {"pk": campaign_pk(campaign.campaign_id), "sk": META, "kind": "campaign",
            "created_at": now_iso(), **campaign.to_dict(), **dict.fromkeys(COUNTERS, 0)}
    return dynamo.transact_once([dynamo.put(item)])


def load_campaign(campaign_id: str) -> Campaign | None:
    item = dynamo.get(campaign_pk(campaign_id), META)
    return Campaign.from_dict(item) if item else None


def campaign_ids() -> list[str]:
    """All campaigns. A scan, for the scheduled reconciler; a campaign has few META items."""
    paginator = dynamo.client("dynamodb").get_paginator("scan")
    ids = []
    for page in paginator.paginate(TableName=dynamo.settings().table, FilterExpression="sk = :meta",
                                   ExpressionAttributeValues={":meta": {"S": META}}):
        ids += [dynamo.from_item(i)["campaign_id"] for i in page["Items"]]
    return sorted(ids)


def snapshot(campaign_id: str) -> tuple[dict[str, Any] | None, dict[str, int]]:
    """The campaign item (settings and counters) and every cached balance, in one read."""
    pk = campaign_pk(campaign_id)
    items = dynamo.batch_get([(pk, META)] + [(pk, account_sk(a)) for a in ACCOUNTS])
    balances = {a: int(items.get((pk, account_sk(a)), {}).get("balance", 0)) for a in ACCOUNTS}
    return items.get((pk, META)), balances


def public_figures(campaign_id: str) -> dict[str, Any] | None:
    meta, balances = snapshot(campaign_id)
    if meta is None:
        return None
    totals = Totals.from_balances(balances)
    return {
        "campaign_id": campaign_id, "name": meta["name"], "currency": meta["currency"],
        "donations_confirmed": meta["donations_confirmed"],
        "raised_cents": totals.raised_cents, "fees_cents": totals.fees_cents,
        "refunded_cents": totals.refunded_cents, "reserve_cents": totals.reserve_cents,
        "pool_available_cents": totals.pool_available_cents, "held_cents": totals.held_cents,
        "spent_cents": totals.spent_cents, "purchases": meta["purchases"],
        "face_value_forgiven_cents": meta["face_value_forgiven_cents"],
        "accounts_forgiven": meta["accounts_forgiven"], "letters_sent": meta["letters_sent"],
        "ledger_balanced": totals.balanced,
    }


def count(campaign_id: str, **increments: int) -> dict[str, Any]:
    """An update adding to the campaign's public counters."""
    names = {f"#{k}": k for k in increments}
    expression = "ADD " + ", ".join(f"#{k} :{k}" for k in increments)
    return dynamo.update(campaign_pk(campaign_id), META, expression,
                         {f":{k}": v for k, v in increments.items()}, names=names)


# --- ledger postings -------------------------------------------------------------------

def transfer_put(transfer: Transfer, **extra: Any) -> dict[str, Any]:
    return dynamo.put({
        "pk": f"LEDGER#{transfer.campaign_id}", "sk": transfer.transfer_id, "kind": transfer.kind,
        "legs": {leg.account: leg.amount_cents for leg in transfer.legs}, "posted_at": now_iso(), **extra,
    })


def balance_updates(campaign_id: str, transfers: list[Transfer]) -> list[dict[str, Any]]:
    """One update per account for the batch; a decrease is refused if it would go below zero."""
    updates = []
    for account, delta in sorted(net_deltas(transfers).items()):
        guard = None if delta > 0 or account in EXTERNAL else "balance >= :need"
        values = {":d": delta} | ({":need": -delta} if guard else {})
        updates.append(dynamo.update(campaign_pk(campaign_id), account_sk(account), "ADD balance :d",
                                     values, condition=guard))
    return updates


def post_gifts(campaign: Campaign, gifts: list[PaymentConfirmed], pool_before: int) -> list[PaymentConfirmed]:
    """Book a batch of confirmed gifts in one transaction; returns the gifts not booked before.

    When the pool reaches the campaign's threshold a purchase check goes out through the
    outbox, in the same transaction.
    """
    cid = campaign.campaign_id

    def build(pending: list[PaymentConfirmed]) -> list[dict[str, Any]]:
        transfers = [gift_transfer(g.transfer_id, cid, g.amount_cents, g.fee_cents, campaign.reserve_bps)
                     for g in pending]
        items = [transfer_put(t, donation_id=g.donation_id) for t, g in zip(transfers, pending)]
        items += balance_updates(cid, transfers) + [count(cid, donations_confirmed=len(pending))]
        pool_after = pool_before + net_deltas(transfers).get(POOL, 0)
        if pool_after >= campaign.threshold_cents:
            batch_id = hashlib.sha256("|".join(t.transfer_id for t in transfers).encode()).hexdigest()[:24]
            items.append(dynamo.outbox("purchases", f"purchase-check#{cid}#{batch_id}",
                                       {"campaign_id": cid, "reason": "threshold"}))
        return items

    return dynamo.transact_new(gifts, build)


def transfers(campaign_id: str) -> Iterator[Transfer]:
    for item in dynamo.query(f"LEDGER#{campaign_id}"):
        legs = tuple(Leg(account, int(amount)) for account, amount in sorted(item["legs"].items()))
        yield Transfer(item["sk"], campaign_id, item["kind"], legs)


# --- donations -------------------------------------------------------------------------

def donation_sk(donation_id: str) -> str:
    return f"DONATION#{donation_id}"


def create_donation(campaign_id: str, donation_id: str, amount_cents: int, currency: str,
                    provider: str, checkout_url: str, donor: dict[str, Any], anonymous: bool) -> None:
    dynamo.transact([dynamo.put({
        "pk": campaign_pk(campaign_id), "sk": donation_sk(donation_id), "kind": "donation",
        "donation_id": donation_id, "campaign_id": campaign_id, "amount_cents": amount_cents,
        "currency": currency, "provider": provider, "status": "pending", "checkout_url": checkout_url,
        "donor": {k: v for k, v in donor.items() if v} or None, "anonymous": anonymous, "created_at": now_iso(),
    })])


def load_donation(campaign_id: str, donation_id: str) -> dict[str, Any] | None:
    return dynamo.get(campaign_pk(campaign_id), donation_sk(donation_id))


def confirm_donation(gift: PaymentConfirmed) -> str:
    """Mark a donation paid and announce it to the pool stage, once per provider event.

    Returns "confirmed", "duplicate" (this event or another already confirmed it),
    "unknown" (no such donation) or "mismatch" (amount or currency differ from the pledge).
    """
    marker = dynamo.put({"pk": f"EVENT#{gift.provider}#{gift.event_id}", "sk": "EVENT", "kind": "provider_event",
                         "donation_id": gift.donation_id, "received_at": now_iso()})
    confirm = dynamo.update(
        campaign_pk(gift.campaign_id), donation_sk(gift.donation_id),
        "SET #status = :confirmed, confirmed_at = :at, fee_cents = :fee",
        {":confirmed": "confirmed", ":pending": "pending", ":at": now_iso(), ":fee": gift.fee_cents,
         ":amount": gift.amount_cents, ":currency": gift.currency},
        condition="#status = :pending AND amount_cents = :amount AND currency = :currency",
        names={"#status": "status"},
    )
    message = dynamo.outbox("donations", gift.transfer_id, {"gift": gift.__dict__})
    if dynamo.transact_once([marker, confirm, message]):
        return "confirmed"
    donation = load_donation(gift.campaign_id, gift.donation_id)
    if donation is None:
        return "unknown"
    if donation["status"] != "pending":
        return "duplicate"
    return "mismatch"
