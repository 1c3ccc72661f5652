"""The hourly reconcile (registry, checkpoint, gifts never booked) and the hourly sweep (purchase checks,
offer files nothing will read again), on the emulator."""

import datetime as dt
import json
import random

import pytest

from functions.adapters import clock, dynamo, keys, ledger, storage
from functions.adapters.aws import client, settings
from functions.domain.gifts import PaymentConfirmed
from functions.domain.ledger import POOL, balances_from, gift_transfer, hold_transfer
from functions.domain.planner import Offer
from functions.handlers import reconcile
from functions.services import payments
from local.sample_data import offer_csv
from ops import operations
from tests.support import give, items


def offer_files() -> set[str]:
    """The offers bucket's files; the keys beside one (storage.KEYS_SUFFIX) count as that file, left or not."""
    listed = client("s3").list_objects_v2(Bucket=settings().offers_bucket).get("Contents", [])
    return {o["Key"].removesuffix(storage.KEYS_SUFFIX) for o in listed}


def fail_once(service: str, operation: str) -> list[str]:
    """The next `operation` call fails, as a network fault would; returns the failures seen."""
    failures: list[str] = []

    def fault(**_):
        if not failures:
            failures.append(operation)
            raise ConnectionError(f"injected: {operation} failed")

    client(service).meta.events.register(f"before-call.{service}.{operation}", fault)
    return failures


def later(monkeypatch, **delta) -> dt.datetime:
    moment = dt.datetime.now(dt.UTC) + dt.timedelta(**delta)
    monkeypatch.setattr(clock, "now", lambda: moment)
    return moment


# --- the reconcile -------------------------------------------------------------------------------

def test_the_reconcile_finds_campaigns_in_the_registry_and_never_scans(cloud):
    scans = []
    client("dynamodb").meta.events.register("before-call.dynamodb.Scan", lambda **kw: scans.append(kw))
    give(cloud, [1_500])
    cloud.drain()
    runs = [cloud.run_schedule("reconcile") for _ in range(2)]  # from the table, then from its checkpoint
    assert scans == []
    assert [(r["campaigns"], r["drifted_accounts"], r["unpooled_gifts"]) for r in runs] == [(1, 0, 0)] * 2
    assert [r["results"][0]["full"] for r in runs] == [True, False]
    cloud.run_schedule("sweep")
    assert scans == []


def test_a_campaign_from_before_the_registry_is_checked_once_registered(cloud):
    client("dynamodb").delete_item(TableName=settings().table, Key=dynamo.key(keys.REGISTRY, "c1"))
    assert cloud.run_schedule("reconcile")["campaigns"] == 0
    assert operations.register_campaigns() == ["c1"] and operations.register_campaigns() == []
    assert cloud.run_schedule("reconcile")["campaigns"] == 1


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_summing_on_from_the_checkpoint_equals_summing_every_entry(cloud, monkeypatch, seed):
    """Entries land at random times, some posted before the last run but committed after it (within
    the margin): each run's balances are those of every entry so far, counted once."""
    rng, start = random.Random(seed), dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    written, pool = [], 0
    for run in range(1, 6):
        now, before = start + dt.timedelta(hours=run), start + dt.timedelta(hours=run - 1)
        for n in range(rng.randrange(1, 5)):
            if pool > 500 and rng.random() < 0.3:
                transfer = hold_transfer("c1", f"plan-{run}-{n}", rng.randrange(1, 400))
            else:
                transfer = gift_transfer(f"gift#sandbox#{run}-{n}", "c1", rng.randrange(100, 5_000), 30, 1_000)
            # posted up to 14 minutes before the last run (a write that committed after it), or since
            seconds = rng.randrange(-14 * 60, int((now - before).total_seconds()) + 1)
            posted_at = reconcile._iso(before + dt.timedelta(seconds=seconds))
            dynamo.transact([ledger.transfer_put(transfer, posted_at=posted_at),
                             *ledger.balance_updates("c1", [transfer])])
            written.append(transfer)
            pool = balances_from(written)[POOL]
        for again in (False, True):  # a run repeated (EventBridge delivers at least once) counts nothing twice
            result = reconcile.reconcile("c1", now)
            assert result["balances"] == balances_from(written) == balances_from(ledger.transfers("c1"))
            assert (result["drift"], result["full"]) == ({}, run == 1 and not again)
    assert reconcile.reconcile("c1", now, full=True)["balances"] == balances_from(written)


def test_a_confirmed_donation_whose_gift_was_lost_is_reported_until_it_is_booked(cloud, monkeypatch, capsys,
                                                                                   caplog):
    reconcile.reconcile("c1", dt.datetime.now(dt.UTC))  # a checkpoint from before the gifts
    give(cloud, [1_200], prefix="kept")
    cloud.drain()
    [lost] = give(cloud, [2_000], prefix="lost")
    # The relay loses the gift's announcement: the donation is confirmed, the pool never hears of it.
    [announcement] = [json.loads(r["dynamodb"]["NewImage"]["body"]["S"]) for r in cloud.read_stream()
                      if r["dynamodb"]["NewImage"].get("stage", {}).get("S") == "donations"]
    cloud.drain()
    later(monkeypatch, hours=1)
    for _ in range(2):  # reported, and again next hour while it stays unbooked
        result = cloud.run_schedule("reconcile")
        assert result["unpooled_gifts"] == 1 and result["results"][0]["unpooled"] == [lost["donation_id"]]
    assert '"UnpooledGifts":[1.0]' in capsys.readouterr().out  # the metric its alarm watches
    assert "confirmed donations without a gift transfer" in caplog.messages
    gift = PaymentConfirmed(**announcement["gift"])
    payments.book_gifts(ledger.STORE, "c1", [gift])  # re-announced and booked at last
    assert cloud.run_schedule("reconcile")["unpooled_gifts"] == 0


# --- the sweep -----------------------------------------------------------------------------------

def test_a_delete_failing_after_the_last_chunk_is_retried_by_the_redelivered_chunk(cloud):
    operations.add_offer("c1", offer_csv(3, 1), "sandbox", 1_000, offer_id="bought")
    failures = fail_once("s3", "DeleteObject")
    give(cloud, [2_000])
    cloud.drain()
    assert failures and items("plan")[0]["status"] == "settled"
    assert offer_files() == set()  # neither the offer file nor the portfolio is left


def test_a_delete_failing_after_a_refused_sale_is_caught_by_the_sweep(cloud):
    operations.add_offer("c1", offer_csv(3, 2), storage.SANDBOX_DECLINING_SELLER, 1_000, offer_id="refused")
    failures = fail_once("s3", "DeleteObject")
    give(cloud, [2_000])
    cloud.drain()
    assert failures and items("offer")[0]["status"] == "declined"
    cloud.run_schedule("sweep")
    assert offer_files() == set()


def test_the_sweep_deletes_finished_offers_files_and_keeps_open_held_and_unforgiven_ones(cloud, monkeypatch):
    def add(offer_id, seller, price, **extra):
        body = offer_csv(3, len(offer_id), prefix=offer_id.upper())
        operations.add_offer("c1", body, seller, price, offer_id=offer_id, **extra)
        return body

    def left_behind(offer_id, body):  # as a deletion that failed would leave it
        storage.upload_offer("c1", offer_id, body)

    bodies = {"open": add("open", "sandbox", 900_000), "manual": add("manual", "acme-debt", 1_000),
              "refused": add("refused", storage.SANDBOX_DECLINING_SELLER, 1_000),
              "lapsing": add("lapsing", "sandbox", 800_000, expires=dt.date.today().isoformat())}
    give(cloud, [5_000])
    cloud.drain()
    statuses = {o["offer_id"]: o["status"] for o in items("offer")}
    assert statuses == {"open": "open", "manual": "held", "refused": "declined", "lapsing": "open"}
    left_behind("refused", bodies["refused"])
    cloud.run_schedule("sweep")
    assert offer_files() == {storage.offer_key("c1", o) for o in ("open", "manual", "lapsing")}

    plan_id = f"c1.manual.{Offer.__dataclass_fields__['attempt'].default}"
    operations.confirm_purchase(plan_id, "wire-1")  # sold: its file is the portfolio, forgiven next
    cloud.run_schedule("sweep")
    assert storage.offer_key("c1", "manual") in offer_files()
    cloud.drain()
    left_behind("manual", bodies["manual"])
    later(monkeypatch, days=1)  # the lapsing offer is past its seller's date
    cloud.run_schedule("sweep")
    cloud.drain()
    left_behind("lapsing", bodies["lapsing"])
    cloud.run_schedule("sweep")
    assert {o["offer_id"]: o["status"] for o in items("offer")}["lapsing"] == "lapsed"
    assert offer_files() == {storage.offer_key("c1", "open")}
