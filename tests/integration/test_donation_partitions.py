"""Donations in partitions of their own: spread by pledge, and those stored before (in the campaign's partition)
still confirmed, paid monthly, refunded, listed, erased and reconciled where they are."""

from __future__ import annotations

from collections import Counter

from functions.adapters import donation_items, donors, dynamo, keys
from functions.adapters import ledger as ledger_store
from functions.adapters.payments import SandboxPayments
from functions.adapters.secrets import derived_key
from tests.support import donate, figures, items, pay


def test_a_campaigns_pledges_spread_over_its_donation_partitions_never_its_own(cloud):
    for n in range(48):
        assert donate(cloud, 1_000 + n, key=f"spread-{n}").status == 201
    partitions = Counter(d["pk"] for d in items("donation"))
    assert all(pk.startswith("DONATIONS#c1#") for pk in partitions)
    assert len(partitions) >= 12 and max(partitions.values()) <= 8  # 48 pledges over 16 partitions
    assert len(list(donation_items.listed("c1"))) == 48


def _stored_before_shards(cloud, donation_id: str, amount_cents: int, **extra) -> dict:
    """A pending donation as a deployment before the shards wrote it: in the campaign's partition."""
    item = {"pk": keys.campaign_pk("c1"), "sk": keys.donation_sk(donation_id), "kind": "donation",
            "donation_id": donation_id, "campaign_id": "c1", "amount_cents": amount_cents, "currency": "USD",
            "provider": "sandbox", "status": "pending", "anonymous": False, "created_at": ledger_store.now_iso(),
            "refunded_cents": 0, "disputes": {}, **extra}
    assert dynamo.put_new(item)
    return item


def test_a_donation_stored_before_the_shards_is_confirmed_refunded_and_paid_monthly_where_it_is(cloud):
    sandbox = SandboxPayments(derived_key("sandbox-webhook"), cloud.public_base_url)
    old = _stored_before_shards(cloud, "don_0123456789abcdef0123", 3_000, frequency="monthly")
    assert pay(cloud, {"checkout_url": f"{cloud.public_base_url}/sandbox/checkout/c1/{old['donation_id']}"}
               ).status == 200
    headers, body = sandbox.installment_paid(old, 2)
    assert cloud.http("POST", "/webhooks/sandbox", body, headers).json()["status"] == "confirmed"
    headers, body = sandbox.refunded(old, 1_000)
    assert cloud.http("POST", "/webhooks/sandbox", body, headers).json()["status"] == "refunded"
    cloud.drain()
    [confirmed] = [d for d in items("donation") if d["donation_id"] == old["donation_id"]]
    assert (confirmed["pk"], confirmed["status"], confirmed["refunded_cents"]) == (old["pk"], "confirmed", 1_000)
    assert donation_items.get("c1", old["donation_id"])["status"] == "confirmed"
    [installment] = ledger_store.installments("c1", old["donation_id"])
    assert installment["pk"].startswith("DONATIONS#c1#")  # new writes go to the shards, found beside the old
    f = figures(cloud)
    assert (f["donations_confirmed"], f["raised_cents"], f["refunded_cents"]) == (2, 6_000, 1_000)
    assert cloud.run_schedule("reconcile")["unpooled_gifts"] == 0
    assert {d["donation_id"] for d in donation_items.listed("c1")} == {old["donation_id"],
                                                                        installment["donation_id"]}
    assert sum(cloud.dlq_depths().values()) == 0


def test_a_donor_of_before_the_shards_with_a_key_item_of_their_own_is_opened_then_erased_with_it(cloud):
    """As that deployment stored them: the donation in the campaign's partition, its gift key in an item beside."""
    donation_id = "don_aaaaaaaaaaaaaaaaaaaa"
    sealed = donors.seal("c1", donation_id, {"name": "Ada", "email": "ada@example.org"})
    key_sk = keys.donor_key_sk(f"{sealed['donor_ref']}#{donation_id}")
    assert dynamo.put_new({"pk": keys.campaign_pk("c1"), "sk": key_sk, "kind": "donor-key", "campaign_id": "c1",
                           "donor_ref": sealed["donor_ref"], "key": sealed.pop("donor_key"),
                           "wrapped_by": sealed.pop("donor_key_wrapped_by")})
    old = _stored_before_shards(cloud, donation_id, 2_000, **sealed)
    assert donors.opened(dynamo.get(old["pk"], old["sk"])) == {"name": "Ada", "email": "ada@example.org"}
    assert donors.erase("c1", "ada@example.org") == 1
    [erased] = items("donation")
    assert erased["donor_erased"] is True and not set(donors.ERASED) & set(erased) and items("donor-key") == []


def test_a_pledge_retried_stays_one_donation_and_erasure_leaves_no_hash_of_its_body(cloud):
    body = {"donor": {"name": "Grace", "email": "grace@example.org"}}
    first, again = donate(cloud, key="same", **body), donate(cloud, key="same", **body)
    assert (first.status, again.status) == (201, 201) and first.json() == again.json()
    [stored] = items("donation")
    assert stored["request"] and donors.erase("c1", "grace@example.org") == 1
    [erased] = items("donation")
    assert "request" not in erased and not set(donors.ERASED) & set(erased)
