"""Forgiveness in chunks: every account once, debtor data sealed, letters checkable, nothing in the clear."""

import json
from collections import Counter

import boto3
import pytest
from cryptography.exceptions import InvalidTag

from functions.adapters import crypto
from functions.adapters import forgiveness as store
from functions.adapters.aws import client, settings
from functions.domain.forgiveness import read_private
from functions.domain.offers import read_accounts
from local.emulator import current_function
from local.sample_data import offer_csv
from ops import operations
from tests.support import figures, give, items, letters_in_bucket, opener, public


def buy(cloud, accounts, seed=1, price=1_500):
    body = offer_csv(accounts, seed, prefix="SCALE")
    operations.add_offer("c1", body, "sandbox", price, offer_id="big")
    give(cloud, [5_000])
    return list(read_accounts(body.decode().splitlines(keepends=True)))


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(store, "CHUNK_ROWS", 40)


def test_chunks_delivered_twice_and_a_chunk_crashing_mid_batch_forgive_each_account_once(cloud, small_chunks,
                                                                                         monkeypatch):
    real_finish, crashes = store.finish_chunk, []

    def crash_once(message, *counted):  # events written, not yet counted: then the process dies
        if message["chunk"] == 2 and not crashes:
            crashes.append(message["chunk"])
            raise RuntimeError("out of time mid-chunk")
        return real_finish(message, *counted)

    monkeypatch.setattr(store, "finish_chunk", crash_once)
    accounts = buy(cloud, 230)  # 6 chunks of up to 40
    cloud.drain()
    for message in [o for o in items("outbox") if o["stage"] in ("forgiveness", "letters")]:
        client("sqs").send_message(QueueUrl=cloud.queue_urls[message["stage"]], MessageBody=message["body"])
    cloud.drain()
    f = figures(cloud)
    assert crashes == [2] and sum(cloud.dlq_depths().values()) == 0
    assert len(items("chunk")) == 6
    assert f["accounts_forgiven"] == len(accounts) == len(items("forgiveness")) == f["letters_waiting"]
    assert f["face_value_forgiven_cents"] == sum(a.balance_cents for a in accounts)
    assert len(letters_in_bucket()) == len(accounts)
    log = cloud.http("GET", "/campaigns/c1/log").json()["entries"]  # one purchase, one entry per chunk, once each
    assert sorted((e["type"], e.get("chunk")) for e in log) == [("forgiveness", n) for n in range(6)] + \
        [("purchase", None)]
    assert f["log_entries"] == 7 and f["log_head"] == log[-1]["hash"]


def test_no_debtor_data_is_left_in_the_clear_anywhere(cloud, small_chunks, capsys):
    accounts = buy(cloud, 90)
    cloud.drain()
    secrets_ = [a.debtor_name for a in accounts] + [a.address_line for a in accounts] + \
        [a.account_ref for a in accounts]
    table = json.dumps([public(i) for i in items()], default=str)
    s3 = client("s3")
    stored = b"".join(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
                      for bucket in (settings().offers_bucket, settings().letters_bucket)
                      for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))
    logs = capsys.readouterr()
    for text in secrets_:
        assert text not in table and text.encode() not in stored and text not in logs.out + logs.err
    assert s3.list_objects_v2(Bucket=settings().offers_bucket).get("KeyCount") == 0  # the seller's file is gone


def test_sealed_data_opens_only_for_its_own_account(cloud, small_chunks):
    buy(cloud, 3)
    cloud.drain()
    first, second = items("forgiveness")[:2]
    portfolio = opener("c1", first["plan_id"])
    name = read_private(portfolio.open(bytes(first["sealed"]), crypto.aad("c1", first["plan_id"],
                                                                          first["account_hash"])))[1][0]
    assert name.split()[-1] in ("Example", "Sample", "Placeholder", "Fictional", "Madeup", "Testperson")
    with pytest.raises(InvalidTag):  # moved onto another account, it no longer opens
        portfolio.open(bytes(first["sealed"]), crypto.aad("c1", first["plan_id"], second["account_hash"]))


def test_a_letters_code_verifies_and_nothing_else_does(cloud, small_chunks):
    buy(cloud, 5)
    cloud.drain()
    letter = letters_in_bucket()[0]
    code = next(line for line in letter if line.startswith("Verification code: ")).split(": ")[1]
    found = cloud.http("GET", f"/verify/{code.lower()}")  # people type codes any which way
    assert found.status == 200
    body = found.json()
    assert set(body) == {"creditor", "amount_forgiven_cents", "forgiven_on", "campaign_id"}
    assert f"${body['amount_forgiven_cents'] // 100:,}." in " ".join(letter)
    flipped = ("A" if code[0] != "A" else "B") + code[1:]
    misses = [cloud.http("GET", f"/verify/{candidate}") for candidate in (flipped, "not-a-code", "A" * 16)]
    assert {(r.status, r.body) for r in misses} == {(404, misses[0].body)}


def test_a_miss_costs_the_same_lookups_as_a_hit(cloud, small_chunks):
    buy(cloud, 2)
    cloud.drain()
    code = next(line for line in letters_in_bucket()[0] if line.startswith("Verification")).split(": ")[1]
    calls: Counter = Counter()

    def count(model, **_):
        if current_function.get() == "api":
            calls[model.name] += 1

    boto3.setup_default_session()
    from functions.adapters import aws

    aws.reset()
    boto3.DEFAULT_SESSION.events.register("before-call", count)
    per_request = []
    for candidate in (code, "ZZZZ-ZZZZ-ZZZZ-ZZZZ", "malformed!"):
        calls.clear()
        cloud.http("GET", f"/verify/{candidate}")
        per_request.append(dict(calls))
    assert per_request[0] == per_request[1] == per_request[2] == {"GetItem": 1}


def test_kms_is_asked_once_per_portfolio_and_dynamodb_well_under_once_per_account(cloud, monkeypatch):
    monkeypatch.setattr(store, "CHUNK_ROWS", 300)
    calls: Counter = Counter()

    def count(model, **_):
        if current_function.get() == "forgiveness":
            calls[f"{model.service_model.service_name}.{model.name}"] += 1

    boto3.setup_default_session()
    from functions.adapters import aws

    aws.reset()
    boto3.DEFAULT_SESSION.events.register("before-call", count)
    accounts = buy(cloud, 600)
    cloud.drain()
    dynamodb = sum(n for k, n in calls.items() if k.startswith("dynamodb."))
    kms = sum(n for k, n in calls.items() if k.startswith("kms."))
    assert calls["kms.Encrypt"] == 1 and kms == 1  # one key pair wrapped per portfolio; it never unwraps
    assert dynamodb / len(accounts) <= 0.1, calls


@pytest.mark.slow
def test_a_100000_account_portfolio_is_forgiven_exactly_once_each(cloud, monkeypatch):
    """`make test-slow`: the issue's full-size run, a chunk crashing once and ten chunks delivered twice."""
    announced = []
    real_announce = store.announce_chunks
    monkeypatch.setattr(store, "announce_chunks",
                        lambda message, header, ranges: (announced.append((message, header, ranges)),
                                                         real_announce(message, header, ranges))[1])
    accounts = buy(cloud, 100_000, price=2_000)
    cloud.fail_next("forgiveness", times=2)  # the split's first delivery, then a chunk's
    cloud.drain()
    [(message, header, ranges)] = announced
    for n, (first, start, end) in enumerate(ranges[:10]):  # the same chunk messages again, as SQS may
        body = {"kind": "chunk", "campaign_id": "c1", "plan_id": message["plan_id"],
                "portfolio_key": message["portfolio_key"], "chunk": n, "first_row": first, "start": start,
                "end": end, "header": header}
        client("sqs").send_message(QueueUrl=cloud.queue_urls["forgiveness"], MessageBody=json.dumps(body))
    cloud.drain()
    f = figures(cloud)
    assert f["accounts_forgiven"] == 100_000 == f["letters_waiting"] and sum(cloud.dlq_depths().values()) == 0
    assert f["face_value_forgiven_cents"] == sum(a.balance_cents for a in accounts)
    pages = client("dynamodb").get_paginator("query").paginate(
        TableName=settings().table, KeyConditionExpression="pk = :pk", Select="COUNT",
        ExpressionAttributeValues={":pk": {"S": f"FORGIVEN#c1#{message['plan_id']}"}})
    assert sum(page["Count"] for page in pages) == 100_000
