"""Concurrency the emulator never produces by itself: writes that meet a write in flight, and letters
whose chunk is retried after the printer took it.

moto never cancels a transaction for a conflict, so DynamoDB's refusal is injected in its real shape
(a botocore before-call hook answering as DynamoDB does); the printer is watched through the S3 calls
that reach it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from botocore.awsrequest import AWSResponse

from functions.adapters import aws, dynamo
from functions.adapters import forgiveness as store
from functions.adapters.aws import client
from functions.adapters.dynamo import TransactionCancelled
from functions.adapters.storage import S3LetterPrinter
from tests.integration.test_pipeline import add_offer
from tests.support import assert_books_balance, figures, give, items, letters_in_bucket


@contextmanager
def refused(operation: str, times: int, code: str = "TransactionCanceledException",
            reasons: tuple[str, ...] = ("TransactionConflict",), touching: str | None = None) -> Iterator[list[int]]:
    """DynamoDB refuses the next `times` calls of `operation`, as it does when a write is in flight on one
    of their items: the first items get `reasons`, the rest "None" (with `touching`, only calls naming that
    key are refused, and its item is the one in conflict). Yields the refusable calls seen so far."""
    calls: list[int] = []

    def refuse(params: dict, **_: object) -> tuple[AWSResponse, dict] | None:
        transact_items = json.loads(params["body"] or b"{}").get("TransactItems", [])
        if touching is None:
            codes = (list(reasons) + ["None"] * len(transact_items))[:len(transact_items)]
        elif any(touching in json.dumps(i) for i in transact_items):
            codes = ["TransactionConflict" if touching in json.dumps(i) else "None" for i in transact_items]
        else:
            return None
        calls.append(1)
        if len(calls) > times:
            return None
        parsed = {"Error": {"Code": code, "Message": f"Transaction cancelled [{', '.join(codes)}]"},
                  "ResponseMetadata": {"HTTPStatusCode": 400}}
        if code == "TransactionCanceledException":
            parsed["CancellationReasons"] = [{"Code": c} for c in codes]
        return AWSResponse("https://dynamodb.us-east-1.amazonaws.com/", 400, {}, None), parsed

    event = f"before-call.dynamodb.{operation}"
    client("dynamodb").meta.events.register(event, refuse)
    try:
        yield calls
    finally:
        client("dynamodb").meta.events.unregister(event, refuse)


# --- writes and reads meeting a write in flight -------------------------------------------------

def test_a_gift_batch_meeting_a_write_in_flight_is_retried_in_place_and_counted_once(cloud):
    give(cloud, [1_000, 2_000])
    with refused("TransactWriteItems", times=2) as calls:  # the pool's posting, twice
        cloud.drain()
    f = figures(cloud)
    assert len(calls) >= 3 and cloud.invocations["pool"] == 1  # not failed back to SQS
    assert (f["donations_confirmed"], f["raised_cents"]) == (2, 3_000)
    assert len(items("gift")) == 2 and sum(cloud.dlq_depths().values()) == 0
    assert_books_balance(f)


def test_a_write_still_refused_after_its_attempts_fails_its_batch_which_is_redelivered(cloud):
    give(cloud, [1_000])
    with refused("TransactWriteItems", times=dynamo.CONFLICT_ATTEMPTS):
        cloud.drain()
    f = figures(cloud)
    assert cloud.invocations["pool"] == 2 and (f["donations_confirmed"], f["raised_cents"]) == (1, 1_000)
    assert_books_balance(f)


def test_a_payment_webhook_meeting_a_write_in_flight_confirms_the_gift(cloud):
    created = cloud.http("POST", "/campaigns/c1/donations", {"amount_cents": 1_500, "currency": "USD"},
                         {"Idempotency-Key": "k"}).json()
    with refused("TransactWriteItems", times=1):
        paid = cloud.http("POST", created["checkout_url"].removeprefix(cloud.public_base_url))
    assert paid.status == 200, paid.body
    cloud.drain()
    assert figures(cloud)["raised_cents"] == 1_500


def test_a_log_append_meeting_a_write_in_flight_is_appended_once(cloud):
    add_offer("offer-a", 3, 1_500)
    give(cloud, [5_000])
    with refused("TransactWriteItems", times=3, touching="LOGHEAD") as calls:  # the log head, in flight
        cloud.drain()
    f = figures(cloud)
    assert len(calls) >= 4 and f["log_entries"] == 2  # the purchase and its one chunk, once each
    assert f["accounts_forgiven"] == 3 and sum(cloud.dlq_depths().values()) == 0
    assert_books_balance(f)


def test_public_figures_meeting_a_write_in_flight_are_answered_not_a_502(cloud):
    give(cloud, [1_000])
    cloud.drain()
    with refused("TransactGetItems", times=2) as calls:
        response = cloud.http("GET", "/campaigns/c1")
    assert response.status == 200, response.body
    assert len(calls) == 3 and response.json()["raised_cents"] == 1_000


def test_a_single_put_meeting_a_transaction_in_flight_is_retried(cloud):
    with refused("PutItem", times=1, code="TransactionConflictException"):
        assert dynamo.put_new({"pk": "TEST#1", "sk": "X"}) is True
    assert dynamo.put_new({"pk": "TEST#1", "sk": "X"}) is False


def test_a_failed_condition_is_an_answer_even_beside_a_conflict(cloud):
    """A condition that failed says the change happened already (or cannot): that is not retried."""
    with refused("TransactWriteItems", times=1, reasons=("ConditionalCheckFailed", "TransactionConflict")) as calls:
        with pytest.raises(TransactionCancelled) as cancelled:
            dynamo.transact([dynamo.put({"pk": "TEST#2", "sk": "X"}), dynamo.put({"pk": "TEST#3", "sk": "X"})])
    assert len(calls) == 1 and cancelled.value.failed() == [0]


# --- letters: printed once, ever -----------------------------------------------------------------

@contextmanager
def mail_room() -> Iterator[dict[str, int]]:
    """What reached the sandbox printer: batches handed to it ("sent") and batches it took ("mailed")."""
    seen = {"sent": 0, "mailed": 0}

    def note(params: dict, context: dict, **_: object) -> None:
        context["letters"] = params["Key"].startswith("letters/")

    def count(http_response: AWSResponse, context: dict, **_: object) -> None:
        if context.get("letters"):
            seen["sent"] += 1
            seen["mailed"] += http_response.status_code == 200

    events = client("s3").meta.events
    events.register("provide-client-params.s3.PutObject", note)
    events.register("after-call.s3.PutObject", count)
    try:
        yield seen
    finally:
        events.unregister("provide-client-params.s3.PutObject", note)
        events.unregister("after-call.s3.PutObject", count)


def crash_once_after(monkeypatch, owner: object, name: str) -> list[int]:
    """`owner.name` runs, then the letters function dies (once): SQS redelivers the chunk."""
    real, crashes = getattr(owner, name), []

    def crashing(*args: object, **kwargs: object) -> object:
        result = real(*args, **kwargs)
        if not crashes and (name != "write_items" or any(i["pk"]["S"].startswith("VERIFY#") for i in args[-1])):
            crashes.append(1)
            raise RuntimeError(f"the letters function died after {name}")
        return result

    monkeypatch.setattr(owner, name, crashing)
    return crashes


@pytest.mark.parametrize("after", ["the printer took the batch", "the verification items were written"])
def test_a_chunk_retried_after_its_batch_was_handed_over_is_mailed_once(cloud, monkeypatch, after):
    owner, name = (S3LetterPrinter, "send_batch") if after.startswith("the printer") else (store, "write_items")
    crashes = crash_once_after(monkeypatch, owner, name)
    add_offer("offer-a", 3, 1_500)
    with mail_room() as mail:
        give(cloud, [5_000])
        cloud.drain()
    f = figures(cloud)
    assert crashes == [1] and cloud.invocations["letters"] == 2
    assert mail["mailed"] == 1  # the printer took one batch: every debtor gets one letter
    if name == "write_items":  # the send was recorded: the retry did not even ask the printer
        assert mail["sent"] == 1
    assert f["letters_waiting"] == f["accounts_forgiven"] == 3 and len(letters_in_bucket()) == 3
    assert len(items("letter-mailing")) == 1 and len(items("verification")) == 3
    assert sum(cloud.dlq_depths().values()) == 0


def test_a_letters_message_delivered_again_sends_nothing(cloud):
    add_offer("offer-a", 3, 1_500)
    give(cloud, [5_000])
    cloud.drain()
    before = figures(cloud)
    [message] = [o for o in items("outbox") if o["stage"] == "letters"]
    with mail_room() as mail:
        for _ in range(2):
            client("sqs").send_message(QueueUrl=cloud.queue_urls["letters"], MessageBody=message["body"])
        cloud.drain()
    assert mail == {"sent": 0, "mailed": 0}
    assert figures(cloud) == before and before["letters_waiting"] == 3


# --- letters link to the campaign's site -------------------------------------------------------

def test_a_letter_links_to_the_campaigns_site_not_the_api(cloud, monkeypatch):
    """Deployed, the site (CloudFront) and the API have different addresses: letters name the site."""
    monkeypatch.setenv("SITE_URL", "https://campaign.example/")
    aws.reset()
    add_offer("offer-a", 2, 1_500)
    give(cloud, [5_000])
    cloud.drain()
    letters = letters_in_bucket()
    assert len(letters) == 2
    assert all(any("https://campaign.example/verify/" in line for line in lines) for lines in letters)
    assert not any("jubilee.test" in line for lines in letters for line in lines)


def test_a_full_pool_batch_with_receipt_emails_and_a_purchase_check_is_one_transaction(cloud):
    """The wiring table's largest donations batch fits DynamoDB's 100 items a transaction, whatever rides it."""
    from functions.adapters.ledger import DynamoStore
    from functions.domain.gifts import PaymentConfirmed
    from functions.domain.ledger import gift_transfer
    from functions.handlers.pool import GIFTS_PER_TRANSACTION
    from functions.services.ports import GiftBatch

    gifts = [PaymentConfirmed(f"evt-{n}", "sandbox", f"pay-{n}", "c1", f"don-{n}", 1_000, "USD", 30)
             for n in range(GIFTS_PER_TRANSACTION)]
    booked = DynamoStore().post_gifts("c1", gifts, lambda pending: GiftBatch(
        [gift_transfer(g.transfer_id, "c1", g.amount_cents, g.fee_cents, 1_000) for g in pending],
        "purchase-check#c1#full", receipts=True))
    assert len(booked) == GIFTS_PER_TRANSACTION


def test_the_relay_packs_gifts_into_few_queue_messages_and_a_packed_message_redelivered_counts_none_twice(cloud):
    """50 confirmations leave the outbox as 2 queue messages (40 gifts each at most) in one SendMessageBatch; the
    pool books them 40 a transaction, and the same packed message delivered again books nothing."""
    from functions.wiring import PACKED_STAGES

    sent: list[dict] = []
    donations_queue = cloud.queue_urls["donations"]

    def seen(params: dict, **_: object) -> None:
        if params["QueueUrl"] == donations_queue:
            sent.append(params)

    client("sqs").meta.events.register("provide-client-params.sqs.SendMessageBatch", seen)
    give(cloud, [1_000 + n for n in range(50)])
    cloud.drain()
    bodies = [json.loads(entry["MessageBody"]) for request in sent for entry in request["Entries"]]
    assert len(sent) == 1 and [len(b["packed"]) for b in bodies] == [40, 10]
    assert PACKED_STAGES["donations"] == 40
    before = figures(cloud)
    assert before["donations_confirmed"] == 50 and before["raised_cents"] == sum(1_000 + n for n in range(50))
    client("sqs").send_message(QueueUrl=donations_queue, MessageBody=json.dumps(bodies[0]))
    cloud.drain()
    assert figures(cloud) == before and sum(cloud.dlq_depths().values()) == 0
    assert_books_balance(before)


def test_an_unreadable_item_in_a_packed_message_holds_back_only_itself(cloud):
    """The pack's other gifts are booked; the message goes on to the DLQ for the operator (and books nothing twice
    on each redelivery)."""
    from functions.adapters.outbox import packed
    from functions.domain.gifts import PaymentConfirmed

    before = figures(cloud)
    gifts = [PaymentConfirmed(f"evt-{n}", "sandbox", f"pay-{n}", "c1", f"don_{n:020x}", 1_000, "USD", 30)
             for n in range(3)]
    body = packed([json.dumps(g.to_message()) for g in gifts[:2]] + ['{"gift": {"amount_cents": "x"}}']
                  + [json.dumps(gifts[2].to_message())])
    client("sqs").send_message(QueueUrl=cloud.queue_urls["donations"], MessageBody=body)
    cloud.drain()
    after = figures(cloud)
    assert after["donations_confirmed"] - before["donations_confirmed"] == 3
    assert after["raised_cents"] - before["raised_cents"] == 3_000
    assert cloud.dlq_depths()["donations"] == 1
    assert_books_balance(after)
