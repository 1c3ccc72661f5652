"""The same debt offered twice (re-sent, or by another seller): flagged at add, never paid for or forgiven twice."""

import csv
import io

from functions.adapters.aws import client
from functions.domain.offers import read_accounts
from functions.domain.public_log import verify
from local.sample_data import offer_csv
from ops import operations
from ops.cli import print_offer
from tests.support import figures, give, items, letters_in_bucket

OTHER_SELLER = "sandbox"  # the sandbox seller sells at once; matching never looks at who sells


def rows(body):
    return list(csv.DictReader(io.StringIO(body.decode())))


def as_file(records):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue().encode()


def respelled(body, **changes):
    """The same accounts as another seller writes them: creditor and reference in other case and spacing."""
    return as_file([r | {"original_creditor": "  ".join(r["original_creditor"].upper().split()),
                         "account_ref": r["account_ref"].lower().replace("-", " - ")} | changes for r in rows(body)])


def balances(body):
    return sum(a.balance_cents for a in read_accounts(body.decode().splitlines(keepends=True)))


def forgiven_once(cloud, bodies):
    """Every distinct account forgiven, counted and lettered exactly once; the public log still verifies."""
    f = figures(cloud)
    assert sum(cloud.dlq_depths().values()) == 0
    expected = sum(len(rows(b)) for b in bodies)
    assert f["accounts_forgiven"] == expected == len(items("forgiveness")) == f["letters_waiting"]
    assert len(letters_in_bucket()) == expected
    assert f["face_value_forgiven_cents"] == sum(balances(b) for b in bodies)
    log = cloud.http("GET", "/campaigns/c1/log").json()["entries"]
    assert verify(log).ok, verify(log).problems
    return log


def test_the_same_file_offered_again_is_flagged_and_valued_without_those_accounts(cloud, capsys):
    body = offer_csv(5, 1)
    first, _ = operations.add_offer("c1", body, "sandbox", 1_500, offer_id="first")
    resent, _ = operations.add_offer("c1", body, "sandbox", 1_500, offer_id="resent")
    other, _ = operations.add_offer("c1", respelled(body), OTHER_SELLER, 900, offer_id="other")
    for offer in (resent, other):
        shown = operations.show_offer("c1", offer.offer_id)
        assert shown["duplicates"]["accounts"] == 5 and shown["duplicates"]["already_bought"] == 0
        assert shown["duplicates"]["offers"]["first"]["accounts"] == 5  # the first registered keeps them
        assert shown["duplicates"]["eligible_accounts"] == first.eligible_accounts > 0
        assert (offer.eligible_accounts, offer.eligible_face_value_cents) == (0, 0)  # what the planner sees
        assert shown["net_eligible_face_value_cents"] == 0 < shown["eligible_face_value_cents"]
    assert operations.show_offer("c1", "first")["duplicates"]["accounts"] == 0
    print_offer(operations.show_offer("c1", "other"))  # what `jubilee offers show` prints
    assert "5 account(s) met before (0 bought already, 5 in first" in " ".join(capsys.readouterr().out.split())
    give(cloud, [5_000])  # enough for all three: only the first is bought, once
    cloud.drain()
    assert figures(cloud)["purchases"] == 1 and figures(cloud)["spent_cents"] == 1_500
    forgiven_once(cloud, [body])
    again, _ = operations.add_offer("c1", body, "sandbox", 1_500, offer_id="again")  # re-sent after it was forgiven
    shown = operations.show_offer("c1", "again")["duplicates"]
    assert (shown["accounts"], shown["already_bought"], again.eligible_accounts) == (5, 5, 0)


def test_two_offers_sharing_accounts_bought_in_one_round_forgive_each_account_once(cloud):
    body, extra = offer_csv(5, 1), offer_csv(3, 2)
    operations.add_offer("c1", body, "sandbox", 1_500, offer_id="first")
    # Another seller's file: the same five accounts spelled its way, and three of its own.
    second = as_file(rows(respelled(body)) + rows(extra))
    offer, _ = operations.add_offer("c1", second, OTHER_SELLER, 1_500, offer_id="second")
    assert offer.eligible_accounts > 0  # worth buying for its own accounts
    give(cloud, [5_000])
    cloud.drain()
    assert figures(cloud)["purchases"] == 2 and figures(cloud)["spent_cents"] == 3_000
    log = forgiven_once(cloud, [body, extra])
    assert sum(e.get("already_forgiven", 0) for e in log) == 5  # the log says how many were skipped


def test_an_account_bought_again_later_is_not_forgiven_again_even_when_its_chunk_is_redelivered(cloud):
    body, extra = offer_csv(5, 1), offer_csv(3, 2)
    operations.add_offer("c1", body, "sandbox", 1_500, offer_id="first")
    give(cloud, [2_000])
    cloud.drain()
    assert figures(cloud)["accounts_forgiven"] == 5
    second = as_file(rows(extra) + rows(respelled(body)))
    operations.add_offer("c1", second, OTHER_SELLER, 1_500, offer_id="second")
    give(cloud, [2_000], prefix="more")
    cloud.drain()
    assert figures(cloud)["purchases"] == 2
    for message in [o for o in items("outbox") if o["stage"] in ("forgiveness", "letters")]:  # all delivered again
        client("sqs").send_message(QueueUrl=cloud.queue_urls[message["stage"]], MessageBody=message["body"])
    cloud.drain()
    log = forgiven_once(cloud, [body, extra])
    [entry] = [e for e in log if e["type"] == "forgiveness" and e["plan_id"].startswith("c1.second")]
    assert (entry["accounts"], entry.get("already_forgiven")) == (3, 5)
    assert operations.show_offer("c1", "second")["duplicates"]["already_bought"] == 5  # flagged when added


def test_an_open_offer_is_not_bought_for_accounts_a_later_offer_bought_meanwhile(cloud):
    body = offer_csv(5, 1)
    operations.add_offer("c1", body, "sandbox", 3_000, offer_id="dear")  # more than the pool holds at first
    operations.add_offer("c1", as_file(rows(respelled(body)) + rows(offer_csv(2, 2))), OTHER_SELLER, 1_500,
                         offer_id="cheap")
    give(cloud, [2_000])
    cloud.drain()
    assert figures(cloud)["purchases"] == 1
    give(cloud, [5_000], prefix="more")  # now the first could be afforded: all of it is bought already
    cloud.drain()
    f = figures(cloud)
    assert (f["purchases"], f["spent_cents"], f["accounts_forgiven"]) == (1, 1_500, 7)
    assert operations.show_offer("c1", "dear")["status"] == "open"


def test_a_match_by_name_address_and_balance_alone_is_flagged_yet_forgiven(cloud):
    body = offer_csv(4, 1)
    operations.add_offer("c1", body, "sandbox", 1_500, offer_id="first")
    # Other references, same people, addresses and balances: maybe the same debts resold, maybe two equal bills.
    renumbered = as_file([r | {"account_ref": f"OTHER-{n}"} for n, r in enumerate(rows(body))] + rows(offer_csv(3, 2)))
    operations.add_offer("c1", renumbered, OTHER_SELLER, 1_500, offer_id="renumbered")
    shown = operations.show_offer("c1", "renumbered")["duplicates"]
    assert (shown["accounts"], shown["second_signal_only"]) == (4, 4)
    give(cloud, [5_000])
    cloud.drain()
    assert figures(cloud)["purchases"] == 2
    forgiven_once(cloud, [body, renumbered])  # a bought debt is never left unforgiven on a second signal


def test_claims_hold_across_plans_and_a_redelivery_reclaims_its_own(cloud):
    from functions.adapters import duplicates

    a, b, c = (("a" * 32, "p" * 32), ("b" * 32, "q" * 32), ("c" * 32, "p" * 32))
    assert duplicates.claim("c1", "plan-1#0", [a, b]) == set()
    assert duplicates.claim("c1", "plan-2#0", [b, c, b]) == {0, 2}  # b is plan 1's; a second b in one chunk too
    assert duplicates.claim("c1", "plan-2#0", [b, c]) == {0}  # redelivered: the same answer
    assert duplicates.claim("c1", "plan-1#0", [a, b]) == set()  # its own, again
    assert duplicates.claim("c1", "plan-1#1", [a]) == {0}  # another chunk of the same plan is another owner
    assert {i["claimed_by"] for i in items("account-claim")} == {"plan-1#0", "plan-2#0"}


def test_an_offers_keys_are_made_once_at_add_read_by_forgiveness_and_deleted_with_its_file(cloud):
    """Forgiveness claims accounts by the keys `offers add` stored beside the file, not by hashing each again."""
    from functions.adapters import storage
    from functions.adapters.aws import settings
    from functions.adapters.secrets import derived_key
    from functions.domain.duplicates import keys_of

    body = offer_csv(4, 3)
    offer, _ = operations.add_offer("c1", body, "sandbox", 1_000, offer_id="keyed")
    stored = storage.offer_keys(offer.object_key, 0, 100)
    accounts = list(read_accounts(body.decode().splitlines(keepends=True)))
    assert stored == "".join(a + p for a, p in (keys_of(derived_key("account-claim"), "c1", x) for x in accounts))
    # Stand-in keys for the first account (a file's keys are the claims' truth): forgiveness claims by them.
    planted = "ab" * 32 + stored[storage.KEY_WIDTH:]
    client("s3").put_object(Bucket=settings().offers_bucket, Key=offer.object_key + storage.KEYS_SUFFIX,
                            Body=planted.encode())
    give(cloud, [5_000])
    cloud.drain()
    claims = {i["pk"].rsplit("#", 1)[1] for i in items("account-claim")}
    assert "ab" * 16 in claims and len(claims) == 4
    left = client("s3").list_objects_v2(Bucket=settings().offers_bucket).get("Contents", [])
    assert not [o["Key"] for o in left if o["Key"].endswith(storage.KEYS_SUFFIX)]


def test_claims_are_looked_up_only_when_a_bought_offers_file_is_gone(cloud):
    """Claims are made only for sold offers' rows: while every such file is there, reading them is enough."""
    from collections import Counter

    calls: Counter = Counter()
    client("dynamodb").meta.events.register("before-call", lambda model, **_: calls.update([model.name]))
    operations.add_offer("c1", offer_csv(4, 3), "sandbox", 1_000, offer_id="first")
    assert calls["BatchGetItem"] == 0
    give(cloud, [5_000])
    cloud.drain()  # bought and forgiven: its file is deleted, its claims remain
    offer, _ = operations.add_offer("c1", offer_csv(4, 3), OTHER_SELLER, 1_000, offer_id="again")
    assert calls["BatchGetItem"] >= 1 and offer.eligible_accounts == 0
