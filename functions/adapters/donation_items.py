"""Where a campaign's donations are stored: DONATION_SHARDS partitions of their own (keys.donation_pk), so
a campaign's pledges and confirmations spread over many partitions instead of meeting in its own.

Donations stored before that (in the campaign's partition, with the same sort key) are read where they
are: a lookup that misses the sharded key tries the campaign's, and listings read both. Nothing has
to be moved for an upgrade, and a new donation is never written there.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import chain
from typing import Any

from functions.adapters import dynamo
from functions.adapters.keys import campaign_pk, donation_partitions, donation_pk, donation_sk


def key(campaign_id: str, donation_id: str) -> tuple[str, str]:
    """The (pk, sk) a donation is written at."""
    return donation_pk(campaign_id, donation_id), donation_sk(donation_id)


def unsharded_key(campaign_id: str, donation_id: str) -> tuple[str, str]:
    """Where a donation stored before donations had partitions of their own is."""
    return campaign_pk(campaign_id), donation_sk(donation_id)


def get(campaign_id: str, donation_id: str) -> dict[str, Any] | None:
    return dynamo.get(*key(campaign_id, donation_id)) or dynamo.get(*unsharded_key(campaign_id, donation_id))


def get_many(campaign_id: str, donation_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Donations by id (those found): one batch read, and one more for any stored before the shards."""
    ids = list(dict.fromkeys(donation_ids))
    found = {item["donation_id"]: item for item in dynamo.batch_get(key(campaign_id, d) for d in ids).values()}
    if missing := [d for d in ids if d not in found]:
        found |= {item["donation_id"]: item
                  for item in dynamo.batch_get(unsharded_key(campaign_id, d) for d in missing).values()}
    return found


def listed(campaign_id: str, id_prefix: str = "") -> Iterator[dict[str, Any]]:
    """Every donation of the campaign whose id starts with `id_prefix` (one Query a partition): for
    statements, erasure, exports and the reconciler, never for a request. A pledge's installments
    share its partition, so with a pledge's id as the prefix only that partition (and the old one) is read."""
    pledge = id_prefix.startswith("don_") and "-" in id_prefix
    partitions = [donation_pk(campaign_id, id_prefix)] if pledge else donation_partitions(campaign_id)
    return chain.from_iterable(dynamo.query(pk, donation_sk(id_prefix))
                               for pk in (*partitions, campaign_pk(campaign_id)))
