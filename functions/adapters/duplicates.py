"""Accounts a campaign has met, in DynamoDB: claimed when forgiven, looked up when an offer is added.

A forgiven account leaves two items under its keyed hashes (domain/duplicates.py): its claim
(ACCOUNT#<campaign>#<account key>, "ACCOUNT"), written only if no other plan's chunk holds it, and
a marker of its person key ("PERSON"). Each item has its own partition: no hot key.
"""

from __future__ import annotations

from typing import Any

from functions.adapters import dynamo, purchases, storage
from functions.adapters.aws import client, settings
from functions.adapters.keys import claim_pk
from functions.domain.duplicates import BOUGHT_BY, IN_OFFER, Place, keys_of
from functions.domain.offers import read_accounts
from functions.domain.purchase import plan_id_for

GROUP = dynamo.MAX_TRANSACTION_ITEMS // 2  # accounts per transaction: a claim and a marker each
OFFERED = ("open", "held")  # offers whose accounts another offer may not count again; "sold" ones are bought


def claim(campaign_id: str, owner: str, keys: list[tuple[str, str]]) -> set[int]:
    """Claim each (account key, person key) for `owner` (a plan's chunk); return the positions refused,
    claimed already by another owner (or earlier in `keys`). A redelivered chunk claims its own again."""
    table, refused, first = settings().table, set(), {}
    for n, (ref, _) in enumerate(keys):
        if ref in first:  # listed twice (files registered before references were compared without case)
            refused.add(n)
        else:
            first[ref] = n
    me = {"S": owner}

    def claims(pending: list[int]) -> list[dict[str, Any]]:
        # Built in DynamoDB's wire format: this runs once per account forgiven.
        persons = dict.fromkeys(keys[n][1] for n in pending)  # one write per item in a transaction
        return [{"Put": {"TableName": table, "Item": {
            "pk": {"S": claim_pk(campaign_id, keys[n][0])}, "sk": {"S": "ACCOUNT"}, "kind": {"S": "account-claim"},
            "claimed_by": me}, "ConditionExpression": "attribute_not_exists(pk) OR claimed_by = :me",
            "ExpressionAttributeValues": {":me": me}}} for n in pending] + [{"Put": {"TableName": table, "Item": {
                "pk": {"S": claim_pk(campaign_id, person)}, "sk": {"S": "PERSON"}, "kind": {"S": "account-seen"},
                "claimed_by": me}}} for person in persons]

    positions = list(first.values())
    for start in range(0, len(positions), GROUP):
        group = positions[start:start + GROUP]
        refused.update(set(group) - set(dynamo.transact_new(group, claims)))
    return refused


def places(campaign_id: str, offer_id: str, key: bytes, keys: list[tuple[str, str]]) -> dict[str, Place]:
    """Where each of `keys` was met before: bought under a plan (forgiven, or in a sold offer being
    forgiven), or in another open or held offer. Reads those offers' files and the claims of these keys."""
    wanted = {k for pair in keys for k in pair}
    found: dict[str, Place] = {}
    unread = False  # a sold offer whose file is gone (forgiven in full): only its claims say what it bought
    # Oldest first: an account in several open offers is counted against the one registered first.
    for item in sorted(purchases.offers(campaign_id), key=lambda o: (o.get("registered_at", ""), o["offer_id"])):
        if item["offer_id"] == offer_id or item["status"] not in (*OFFERED, "sold"):
            continue
        try:
            accounts = read_accounts(storage.read_lines(item["object_key"]))
        except client("s3").exceptions.NoSuchKey:
            unread = unread or item["status"] == "sold"
            continue  # forgiven in full (the file goes last): its accounts' claims are read below
        if item["status"] in OFFERED:
            where = Place(IN_OFFER, item["offer_id"], item["status"])
        else:  # sold: bought by the plan named after its last attempt
            where = Place(BOUGHT_BY, plan_id_for(purchases.offer_from_item(item)))
        for account in accounts:
            for k in keys_of(key, campaign_id, account):
                if k in wanted and (k not in found or where.kind == BOUGHT_BY):
                    found[k] = where
    if not unread:  # claims are made only for sold offers' rows, each of which was just read from its file
        return found
    claimed = dynamo.batch_get((claim_pk(campaign_id, k), sk) for ref, person in keys
                               for k, sk in ((ref, "ACCOUNT"), (person, "PERSON")))
    # A claim's owner is a plan's chunk, "<plan id>#<chunk>".
    found.update({pk.rsplit("#", 1)[1]: Place(BOUGHT_BY, str(item.get("claimed_by", "")).rsplit("#", 1)[0])
                  for (pk, _), item in claimed.items()})
    return found


def seen(campaign_id: str, offer_id: str, key: bytes, keys: list[tuple[str, str]]) -> dict[str, str]:
    """Where each of `keys` was met before, as domain.duplicates.overlap reads it: BOUGHT or an offer id."""
    return {k: place.where for k, place in places(campaign_id, offer_id, key, keys).items()}
