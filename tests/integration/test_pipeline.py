"""The whole chain on the emulator: donation -> pool -> purchase -> forgiveness -> letters.

Nothing lost, nothing counted twice: redelivered messages, replayed stream records,
crashes between steps and dead letters are each tried here, not assumed.
"""

import json

import pytest

from functions.adapters.aws import client, settings
from functions.adapters.storage import SANDBOX_DECLINING_SELLER, SandboxSeller
from functions.domain.offers import read_accounts
from local.sample_data import offer_csv
from ops import operations
from tests.support import assert_books_balance, figures, give, items, letters_in_bucket, public


def add_offer(offer_id, accounts, price_cents, seller="sandbox", seed=1):
    body = offer_csv(accounts, seed, prefix=offer_id.upper())
    operations.add_offer("c1", body, seller, price_cents, offer_id=offer_id)
    return list(read_accounts(body.decode().splitlines(keepends=True)))


def test_gifts_buy_an_offer_whose_accounts_are_forgiven_and_told(cloud):
    accounts = add_offer("offer-a", 95, 3_000)  # 95 accounts: two forgiveness chunks
    add_offer("offer-b", 5, 1_000_000)  # more than the pool will ever hold
    give(cloud, [2_000, 1_500, 1_000])
    cloud.drain()
    f = figures(cloud)
    assert_books_balance(f)
    assert (f["purchases"], f["spent_cents"], f["held_cents"]) == (1, 3_000, 0)
    # The sandbox printer puts letters in a bucket, not in the post: printed and waiting, never mailed.
    assert f["letters_sent"] == 0
    assert f["accounts_forgiven"] == len(accounts) == f["letters_waiting"]
    assert f["face_value_forgiven_cents"] == sum(a.balance_cents for a in accounts)
    letters = letters_in_bucket()
    assert len(letters) == len(accounts)
    assert {a.debtor_name for a in accounts} <= {line for lines in letters for line in lines}
    assert all(any(line.startswith("Verification code: ") for line in lines) for lines in letters)
    # The public events name no one: no debtor name, street address or account reference.
    stored = json.dumps([public(i) for i in items("forgiveness")])
    assert not any(a.debtor_name in stored or a.address_line in stored or a.account_ref in stored for a in accounts)
    assert sum(cloud.dlq_depths().values()) == 0


def test_a_batch_whose_handler_fails_once_is_counted_once(cloud):
    cloud.fail_next("pool")
    give(cloud, [1_000, 2_000, 3_000])
    cloud.drain()
    f = figures(cloud)
    assert (f["donations_confirmed"], f["raised_cents"]) == (3, 6_000)
    assert cloud.invocations["pool"] == 2 and sum(cloud.dlq_depths().values()) == 0


def test_stream_records_relayed_twice_are_booked_once(cloud):
    give(cloud, [1_000, 2_000])
    records = [dict(r, eventSourceARN=cloud.stream_arn) for r in cloud.read_stream() if cloud._passes_filter(r)]
    for _ in range(2):  # the dispatcher is retried after it had already sent: every message goes out twice
        cloud.invoke("dispatcher", {"Records": records})
    cloud.drain()
    assert (figures(cloud)["donations_confirmed"], figures(cloud)["raised_cents"]) == (2, 3_000)
    assert len(items("gift")) == 2


def test_a_message_that_keeps_failing_goes_to_the_dlq_and_is_redriven_once(cloud):
    cloud.fail_next("pool", times=5)  # the donations queue's max receives
    give(cloud, [1_000])
    cloud.drain()
    assert cloud.dlq_depths()["donations"] == 1 and figures(cloud)["raised_cents"] == 0
    assert operations.redrive(cloud.queue_urls["donations"], cloud.dlq_urls["donations"]) == 1
    cloud.drain()
    assert figures(cloud)["raised_cents"] == 1_000 and cloud.dlq_depths()["donations"] == 0


def test_an_unreadable_message_fails_alone(cloud):
    client("sqs").send_message(QueueUrl=cloud.queue_urls["donations"], MessageBody="not json")
    give(cloud, [1_000])
    cloud.drain()
    assert figures(cloud)["raised_cents"] == 1_000
    assert cloud.dlq_depths()["donations"] == 1


def test_a_crash_between_hold_and_buy_is_finished_once(cloud, monkeypatch):
    accounts = add_offer("offer-a", 4, 1_500)
    real_buy, calls = SandboxSeller.buy, []

    def crash_once(self, plan):
        calls.append(plan.plan_id)
        if len(calls) == 1:
            raise RuntimeError("Lambda timed out mid-purchase")
        return real_buy(self, plan)

    monkeypatch.setattr(SandboxSeller, "buy", crash_once)
    give(cloud, [5_000])
    cloud.drain()
    f = figures(cloud)
    assert calls == ["c1.offer-a.0", "c1.offer-a.0"]  # the same plan, resumed, not a new one
    assert (f["purchases"], f["spent_cents"], f["held_cents"]) == (1, 1_500, 0)
    assert f["accounts_forgiven"] == len(accounts) == f["letters_waiting"]
    assert [t["sk"] for t in items("hold")] == ["c1.offer-a.0#hold"]
    assert_books_balance(f)


def test_a_declined_purchase_is_voided_and_the_funds_return(cloud):
    add_offer("offer-x", 3, 1_500, seller=SANDBOX_DECLINING_SELLER)
    give(cloud, [5_000])
    cloud.drain()
    f = figures(cloud)
    assert (f["purchases"], f["held_cents"], f["spent_cents"], f["accounts_forgiven"]) == (0, 0, 0, 0)
    assert [t["sk"] for t in items("void")] == ["c1.offer-x.0#void"]
    assert items("offer")[0]["status"] == "declined"
    assert_books_balance(f)
    # A retired offer is never bought: its file (debtors' data in the clear) is deleted with it.
    assert client("s3").list_objects_v2(Bucket=settings().offers_bucket).get("KeyCount") == 0


def test_redelivered_forgiveness_and_letters_change_no_total(cloud):
    accounts = add_offer("offer-a", 7, 1_500)
    give(cloud, [5_000])
    cloud.drain()
    before = figures(cloud)
    again = [o for o in items("outbox") if o["stage"] in ("forgiveness", "letters")]
    assert len(again) == 3  # the split, its one chunk, and that chunk's letters
    for message in again:
        client("sqs").send_message(QueueUrl=cloud.queue_urls[message["stage"]], MessageBody=message["body"])
    cloud.drain()
    after = figures(cloud)
    assert after == before and after["accounts_forgiven"] == len(accounts) == after["letters_waiting"]
    assert sum(cloud.dlq_depths().values()) == 0
    assert len(items("forgiveness")) == len(accounts) and len(letters_in_bucket()) == len(accounts)


def test_the_reconciler_finds_a_balance_that_drifted_from_its_entries(cloud):
    give(cloud, [1_000])
    cloud.drain()
    assert cloud.run_schedule("reconcile")["drifted_accounts"] == 0
    client("dynamodb").update_item(TableName=settings().table, Key={"pk": {"S": "CAMPAIGN#c1"},
                                                                    "sk": {"S": "ACCOUNT#pool"}},
                                   UpdateExpression="ADD balance :one", ExpressionAttributeValues={":one": {"N": "1"}})
    result = cloud.run_schedule("reconcile")
    assert result["drifted_accounts"] == 1
    net = 1_000 - (29 + 30)  # the sandbox fee: 2.9% + 30 cents
    pool = net - net // 10  # less the 10% reserve
    assert result["results"][0]["drift"] == {"pool": {"cached": pool + 1, "entries": pool}}


def test_the_sweep_asks_for_a_purchase_check_when_funds_wait(cloud):
    give(cloud, [5_000])
    cloud.drain()
    add_offer("offer-late", 2, 1_000)  # registered after the pool passed its threshold
    cloud.run_schedule("sweep")
    cloud.drain()
    assert figures(cloud)["purchases"] == 1


@pytest.mark.parametrize("count", [12])
def test_many_gifts_in_batches_add_up_to_the_cent(cloud, count):
    amounts = [101 * (n + 1) + n for n in range(count)]
    give(cloud, amounts)
    cloud.drain()
    f = figures(cloud)
    assert f["raised_cents"] == sum(amounts) and f["donations_confirmed"] == count
    assert_books_balance(f)
