"""The outbox: nothing announced is lost when the stream gives up, nothing is announced or booked twice.

A dispatcher batch that runs out of stream retries leaves only metadata in its failure queue
(as Lambda does); the items it carried wait in a sparse index until the relay, or an operator's
`jubilee dlq redrive outbox`, announces them again. A donations batch delivered twice is a no-op.
"""

import datetime as dt
import json
import uuid

import pytest
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamLambdaOnFailureDestinationModel

from functions.adapters import clock, outbox
from functions.adapters.aws import client
from infra import topology
from ops import cli, operations
from tests.support import assert_books_balance, figures, give, items

EXHAUSTED = topology.STREAM_RETRIES + 1  # the first try and every retry


def later(monkeypatch, minutes: int) -> None:
    monkeypatch.setattr(clock, "now", lambda: dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes))


def outbox_failures(cloud) -> list[dict]:
    sqs, url, found = client("sqs"), cloud.dlq_urls["outbox"], []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", []):
        found += [json.loads(m["Body"]) for m in batch]
        if len(found) >= cloud.dlq_depths()["outbox"]:
            break
    return found


def test_a_stream_batch_out_of_retries_leaves_metadata_and_the_relay_announces_its_gift_again(cloud, monkeypatch):
    cloud.fail_next("dispatcher", times=EXHAUSTED)
    [donation] = give(cloud, [1_000])
    cloud.drain()
    assert figures(cloud)["raised_cents"] == 0 and items("donation")[0]["status"] == "confirmed"
    # What Lambda sends a stream mapping's on-failure destination: where the batch was, never its records.
    [failure] = outbox_failures(cloud)
    parsed = parse(event=failure, model=DynamoDBStreamLambdaOnFailureDestinationModel)
    assert parsed.request_context.condition == "RetryAttemptsExhausted"
    assert parsed.request_context.approximate_invoke_count == EXHAUSTED
    info = parsed.ddb_stream_batch_info
    assert info.stream_arn == cloud.stream_arn and info.batch_size == 1 and info.shard_id
    assert info.start_sequence_number == info.end_sequence_number
    assert donation["donation_id"] not in json.dumps(failure)
    # Fresh items are the stream's to relay; after a few minutes the relay announces them again.
    assert cloud.run_schedule("relay") == {"announced": 0}
    later(monkeypatch, 6)
    assert cloud.run_schedule("relay") == {"announced": 1}
    cloud.drain()
    f = figures(cloud)
    assert (f["raised_cents"], f["donations_confirmed"]) == (1_000, 1) and f["pool_available_cents"] > 0
    assert_books_balance(f)
    assert cloud.run_schedule("relay") == {"announced": 0}  # announced once it left the waiting index
    assert sum(depth for stage, depth in cloud.dlq_depths().items() if stage != "outbox") == 0


def test_relayed_items_leave_the_waiting_index_and_keep_guarding_their_ids(cloud):
    give(cloud, [1_000, 1_500])
    assert len(list(outbox.waiting(before=2**40))) == 2  # the two gifts, not relayed yet
    cloud.drain()
    assert list(outbox.waiting(before=2**40)) == []
    stored = items("outbox")  # each still there until its TTL: a replay of its change can't announce it again
    assert {o["stage"] for o in stored} >= {"donations", "purchases"}
    assert not any("outbox_shard" in o or "outbox_at" in o for o in stored)


def redrive_case(cloud) -> None:
    cloud.fail_next("dispatcher", times=EXHAUSTED)
    give(cloud, [1_000])
    cloud.drain()
    assert cloud.dlq_depths()["outbox"] == 1 and figures(cloud)["raised_cents"] == 0


def test_jubilee_dlq_redrive_outbox_on_a_local_deployment(served_cloud, capsys):
    cloud, url = served_cloud
    redrive_case(cloud)
    assert cli.main(["dlq", "redrive", "outbox", "--endpoint-url", url]) == 0
    out = capsys.readouterr().out
    assert "announced 1 waiting outbox item" in out and "cleared 1 failure record" in out
    cloud.drain()
    assert figures(cloud)["raised_cents"] == 1_000 and cloud.dlq_depths()["outbox"] == 0


def test_dlq_redrive_outbox_on_a_deployed_stack_finds_its_queues_in_the_outputs(cloud, monkeypatch):
    outputs = {f"{stage.title()}QueueUrl": url for stage, url in cloud.queue_urls.items()}
    outputs |= {f"{stage.title()}DlqUrl": url for stage, url in cloud.dlq_urls.items()}
    monkeypatch.setattr(operations, "stack_outputs", lambda stack: outputs if stack == "Jubilee" else {})
    redrive_case(cloud)
    assert operations.redrive_outbox("Jubilee") == (1, 1)
    cloud.drain()
    assert figures(cloud)["raised_cents"] == 1_000 and cloud.dlq_depths()["outbox"] == 0
    assert operations.redrive_outbox("Jubilee") == (0, 0)


def sqs_event(bodies: list[str]) -> dict:
    """A donations batch as Lambda hands it to the pool function."""
    return {"Records": [{"messageId": str(uuid.uuid4()), "receiptHandle": "r", "body": body, "attributes": {},
                         "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs", "awsRegion": "us-east-1",
                         "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:jubilee-donations"} for body in bodies]}


def gift_bodies() -> list[str]:
    return sorted(o["body"] for o in items("outbox") if o["stage"] == "donations")


@pytest.mark.parametrize("again", ["same", "subset", "superset"])
def test_a_donations_batch_delivered_again_is_a_no_op(cloud, again):
    give(cloud, [1_000, 2_000])  # past the threshold: the batch also announces a purchase check
    first = gift_bodies()
    assert cloud.invoke("pool", sqs_event(first)) == {"batchItemFailures": []}
    before, checks = figures(cloud), len([o for o in items("outbox") if o["stage"] == "purchases"])
    assert checks == 1
    extra = 0
    if again == "superset":
        give(cloud, [500], prefix="more")
        extra = 500
    batch = {"same": first, "subset": first[:1], "superset": gift_bodies()}[again]
    # A crash after the pool's write, or SQS's own duplicate: the same messages come again.
    assert cloud.invoke("pool", sqs_event(batch)) == {"batchItemFailures": []}
    after = figures(cloud)
    assert after["raised_cents"] == before["raised_cents"] + extra
    assert after["donations_confirmed"] == before["donations_confirmed"] + (again == "superset")
    cloud.drain()  # the stream relays every gift once more: booked once
    f = figures(cloud)
    assert f["raised_cents"] == 3_000 + extra and len(items("gift")) == 2 + (again == "superset")
    assert_books_balance(f)
    assert sum(cloud.dlq_depths().values()) == 0


def test_each_emulated_run_makes_the_functions_dependencies_anew_nothing_kept_from_the_run_before():
    """What `jubilee serve`, `demo` and the tests rely on when they start one run after another in one process."""
    from functions.adapters import aws
    from functions.adapters.secrets import derived_key
    from local.emulator import LocalCloud

    keys = []
    for secret in ("first-run", "second-run"):
        with LocalCloud(app_secret=secret) as run:
            assert aws.dependencies() is run.dependencies
            keys.append(derived_key("sandbox-webhook"))  # read warm from this run's secret, not the last one's
    assert keys[0] != keys[1]
