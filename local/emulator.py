"""The deployed topology, emulated in one process on moto.

Resources come from the wiring table (infra/topology.py). Handlers are called in-process
with the event shapes Lambda gives them: API Gateway REST proxy events for HTTP, DynamoDB
stream batches for the dispatcher, SQS batches with partial-failure reporting for the
consumers. A failed SQS message is redelivered, and moves to its DLQ after the queue's
max receives, as on AWS (moto applies the redrive policy).
"""

from __future__ import annotations

import base64
import contextvars
import datetime as dt
import email
import email.policy
import importlib
import json
import logging
import os
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from functions.adapters import dynamo
from infra import topology
from infra.topology import FUNCTIONS, QUEUES, ROUTES
from local import moto_speedups

log = logging.getLogger("jubilee.emulator")
REGION = "us-east-1"
ACCOUNT = "123456789012"
# Which function is running now; benchmarks attribute AWS calls by it.
current_function: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_function", default=None)


def use_fake_aws(endpoint_url: str | None = None) -> None:
    """Credentials and region that can never reach a real account."""
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",  # moto's DynamoDB Streams need it
    })
    if endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = endpoint_url
    else:
        os.environ.pop("AWS_ENDPOINT_URL", None)


class InjectedFault(RuntimeError):
    """A crash a test or the demo asked for."""


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int
    timeout_s: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self.started)) * 1000))


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


def _route_pattern(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$")


class LocalCloud:
    """Create the topology on moto, then serve HTTP and pump the stream and queues."""

    def __init__(self, public_base_url: str = "http://127.0.0.1:3000", payments: str = "sandbox",
                 endpoint_url: str | None = None, app_secret: str | None = None,
                 batch_sizes: dict[str, int] | None = None, stripe_webhook_secret: str | None = None,
                 admin_tokens: dict[str, str] | None = None):
        self.public_base_url = public_base_url
        self.app_secret = app_secret or secrets.token_urlsafe(48)
        # Stripe locally: the signing secret of the endpoint that sends here (`stripe listen` prints one).
        self.stripe = {"api_key": os.environ.get("STRIPE_API_KEY", "sk_test_local"),
                       "webhook_secrets": [s for s in [stripe_webhook_secret or os.environ.get("STRIPE_WEBHOOK_SECRET")]
                                           if s]}
        # Overrides of the wiring table's batch sizes, for benchmarks that compare them.
        self.batch_sizes = {q.stage: q.batch_size for q in QUEUES} | (batch_sizes or {})
        self.payments = payments
        self.endpoint_url = endpoint_url
        self.queue_urls: dict[str, str] = {}
        self.dlq_urls: dict[str, str] = {}
        self.invocations: dict[str, int] = dict.fromkeys((f.name for f in FUNCTIONS), 0)
        self._faults: dict[str, list[BaseException]] = {}
        self._shard_iterators: dict[str, str] = {}
        self._stream_backlog: list[dict[str, Any]] = []
        self._stream_attempts = 0
        self._stream_read = 0  # records read so far from the table's one shard
        self._shard_id: str | None = None
        self._lock = threading.RLock()  # `jubilee serve` calls in from several threads; handlers share state
        self._handlers: dict[str, Callable[[dict, Any], Any]] = {}
        self._routes = [(r, _route_pattern(r.path)) for r in ROUTES if payments == "sandbox" or not r.sandbox_only]
        self._mock: Any = None  # moto's mock_aws(), unless an endpoint URL names a running moto
        # Stands in for API Gateway's IAM authorization on admin routes: bearer token -> user name.
        self.admin_tokens = admin_tokens or {}

    # --- set-up -------------------------------------------------------------------------

    def start(self) -> LocalCloud:
        use_fake_aws(self.endpoint_url)
        moto_speedups.install()
        if self.endpoint_url is None:
            from moto import mock_aws

            self._mock = mock_aws()
            self._mock.start()
        from functions.adapters import aws

        # What the functions use, made new for this run (clients on the mock, no secrets of a run before).
        aws.use(aws.Dependencies.from_env())
        self._create_resources()
        names = topology.LOCAL_NAMES
        for fn in FUNCTIONS:  # one process: every function's variables at once
            os.environ.update(topology.environment(fn, names, self.queue_urls, self.public_base_url, self.payments,
                                                   email=topology.LOCAL_EMAIL))
        os.environ["POWERTOOLS_SERVICE_NAME"] = "jubilee-local"
        self.dependencies = aws.use(aws.Dependencies.from_env())  # the deployment's, as a cold start makes them
        return self

    def stop(self) -> None:
        if self._mock is not None:
            self._mock.stop()
            self._mock = None

    def __enter__(self) -> LocalCloud:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def clients(self) -> Any:
        from functions.adapters.aws import client

        return client

    def _create_resources(self) -> None:
        client, names = self.clients, topology.LOCAL_NAMES
        ddb = client("dynamodb")
        ddb.create_table(
            TableName=names[topology.LEDGER], BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "S"},
                                  {"AttributeName": dynamo.OUTBOX_SHARD, "AttributeType": "S"},
                                  {"AttributeName": dynamo.OUTBOX_AT, "AttributeType": "N"}]
            + [{"AttributeName": index.sort_key, "AttributeType": "S"} for index in topology.LEDGER_INDEXES],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
            GlobalSecondaryIndexes=[{"IndexName": dynamo.OUTBOX_INDEX, "Projection": {"ProjectionType": "ALL"},
                                     "KeySchema": [{"AttributeName": dynamo.OUTBOX_SHARD, "KeyType": "HASH"},
                                                   {"AttributeName": dynamo.OUTBOX_AT, "KeyType": "RANGE"}]}]
            + [{"IndexName": index.name, "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                       {"AttributeName": index.sort_key, "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(index.projected)}}
               for index in topology.LEDGER_INDEXES],
        )
        for bucket in (topology.OFFERS, topology.LETTERS):
            client("s3").create_bucket(Bucket=names[bucket])
        client("secretsmanager").create_secret(Name=names[topology.APP_SECRET], SecretString=self.app_secret)
        client("secretsmanager").create_secret(Name=names[topology.STRIPE_SECRET], SecretString=json.dumps(self.stripe))
        # Lob locally: a test key (Lob mails nothing for it) and the webhook secret, from the environment.
        lob = {"api_key": os.environ.get("LOB_API_KEY", "test_local"), "webhook_secret": os.environ.get(
            "LOB_WEBHOOK_SECRET", "")}
        client("secretsmanager").create_secret(Name=names[topology.LOB_SECRET], SecretString=json.dumps(lob))
        for key, purpose in ((topology.PII_KEY, "debtor"), (topology.DONOR_KEY, "donor")):
            made = client("kms").create_key(Description=f"Jubilee {purpose} data (local)")["KeyMetadata"]["KeyId"]
            client("kms").create_alias(AliasName=names[key], TargetKeyId=made)
        # SES: the identity campaigns send from, verified (moto takes any); what is sent stays in moto.
        ses = client("sesv2")
        ses.create_configuration_set(ConfigurationSetName=topology.LOCAL_EMAIL[topology.EMAIL_CONFIGURATION_SET])
        ses.create_email_identity(EmailIdentity=topology.LOCAL_EMAIL[topology.EMAIL_IDENTITY])
        sqs = client("sqs")
        for queue in QUEUES:
            dlq = sqs.create_queue(QueueName=topology.local_queue_name(queue.stage, dead_letters=True))["QueueUrl"]
            dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": queue.max_receives})
            self.queue_urls[queue.stage] = sqs.create_queue(
                QueueName=topology.local_queue_name(queue.stage),
                Attributes={"RedrivePolicy": policy, "VisibilityTimeout": str(topology.visibility_timeout_s(queue))},
            )["QueueUrl"]
            self.dlq_urls[queue.stage] = dlq
        # The dispatcher's on-failure destination, as in the stack.
        self.dlq_urls["outbox"] = sqs.create_queue(QueueName=topology.local_queue_name("outbox", dead_letters=True))[
            "QueueUrl"]
        self.stream_arn = ddb.describe_table(TableName=names[topology.LEDGER])["Table"]["LatestStreamArn"]

    # --- invoking -----------------------------------------------------------------------

    def fail_next(self, function: str, times: int = 1, error: BaseException | None = None) -> None:
        """Make the next `times` invocations of `function` crash before its handler runs."""
        self._faults.setdefault(function, []).extend([error or InjectedFault(f"injected fault in {function}")] * times)

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        fn = topology.function(function)
        if function not in self._handlers:
            module, attribute = fn.handler.rsplit(".", 1)
            self._handlers[function] = getattr(importlib.import_module(module), attribute)
        with self._lock:
            self.invocations[function] += 1
            token = current_function.set(function)
            try:
                if self._faults.get(function):
                    raise self._faults[function].pop(0)
                return self._handlers[function](event, LambdaContext(function, fn.memory_mb, fn.timeout_s))
            finally:
                current_function.reset(token)

    # --- HTTP (API Gateway REST proxy events) -------------------------------------------

    def http(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
             query: dict[str, str] | None = None) -> HttpResponse:
        path, _, query_string = path.partition("?")
        query = {**dict(parse_qsl(query_string)), **(query or {})} or None
        raw = body if isinstance(body, (str, bytes)) or body is None else json.dumps(body)
        if isinstance(raw, bytes):
            raw = raw.decode()
        headers = {"Content-Type": "application/json", **(headers or {})}
        for route, pattern in self._routes:
            match = pattern.match(path)
            if match and route.method == method.upper():
                break
        else:
            allowed = sorted({r.method for r, p in self._routes if p.match(path)})
            status = 405 if allowed else 404
            message = "method not allowed" if allowed else "no such route"
            named = {"Allow": ", ".join(allowed)} if allowed else {}  # what a 405 must say (RFC 9110)
            return HttpResponse(status, {"Content-Type": "application/json", **named},
                                json.dumps({"error": "not_found" if status == 404 else "method_not_allowed",
                                            "message": message}))
        identity: dict[str, Any] = {"sourceIp": "127.0.0.1", "userAgent": headers.get("User-Agent", "local")}
        if route.iam_auth:
            denied = self._authorize(headers, identity)
            if denied:
                return denied
        event = {
            "resource": route.path, "path": path, "httpMethod": method.upper(),
            "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
            "pathParameters": match.groupdict() or None, "stageVariables": None,
            "requestContext": {
                "resourcePath": route.path, "httpMethod": method.upper(), "path": f"/prod{path}", "stage": "prod",
                "requestId": str(uuid.uuid4()), "accountId": ACCOUNT, "apiId": "local",
                "identity": identity,
                "requestTimeEpoch": int(time.time() * 1000),
            },
            "body": raw, "isBase64Encoded": False,
        }
        try:
            result = self.invoke(route.function, event)
        except Exception:
            log.exception("function %s failed on %s %s", route.function, method, route.path)
            # What API Gateway answers when the function itself fails.
            return HttpResponse(502, {"Content-Type": "application/json"},
                                json.dumps({"message": "Internal server error"}))
        out_headers = {k: v[-1] for k, v in (result.get("multiValueHeaders") or {}).items()}
        out_headers.update(result.get("headers") or {})
        text = result.get("body") or ""
        if result.get("isBase64Encoded"):
            text = base64.b64decode(text).decode()
        return HttpResponse(result["statusCode"], out_headers, text)

    def user_arn(self, name: str) -> str:
        return f"arn:aws:iam::{ACCOUNT}:user/{name}"

    def _authorize(self, headers: dict[str, str], identity: dict[str, Any]) -> HttpResponse | None:
        """401 without credentials, 403 with wrong ones: API Gateway's answers for IAM routes."""
        given = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        if not given.startswith("Bearer "):
            return HttpResponse(401, {"Content-Type": "application/json"}, json.dumps({"message": "Unauthorized"}))
        name = self.admin_tokens.get(given.removeprefix("Bearer ").strip())
        if name is None:
            return HttpResponse(403, {"Content-Type": "application/json"},
                                json.dumps({"message": "The security token included in the request is invalid"}))
        identity.update({"userArn": self.user_arn(name), "user": name, "caller": name})
        return None

    # --- the table's stream -------------------------------------------------------------

    def read_stream(self) -> list[dict[str, Any]]:
        """New records on the table's stream (moto runs in this process, served or mocked)."""
        direct = moto_speedups.stream_records(ACCOUNT, REGION, topology.LOCAL_NAMES[topology.LEDGER], self._stream_read)
        if direct is not None:
            self._stream_read += len(direct)
            return direct
        streams = self.clients("dynamodbstreams")
        shards = streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        records: list[dict[str, Any]] = []
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id not in self._shard_iterators:
                self._shard_iterators[shard_id] = streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            response = streams.get_records(ShardIterator=self._shard_iterators[shard_id], Limit=1000)
            self._shard_iterators[shard_id] = response["NextShardIterator"]
            records += response["Records"]
        return records

    @staticmethod
    def _passes_filter(record: dict[str, Any]) -> bool:
        image = record.get("dynamodb", {}).get("NewImage", {})
        wanted = topology.OUTBOX_FILTER
        return record.get("eventName") in wanted["eventName"] and \
            image.get("kind", {}).get("S") in wanted["dynamodb"]["NewImage"]["kind"]["S"]

    def pump_stream(self) -> int:
        """Deliver new outbox items to the dispatcher; a failed batch is retried from its failure."""
        self._stream_backlog += [dict(r, eventSourceARN=self.stream_arn)
                                 for r in self.read_stream() if self._passes_filter(r)]
        delivered = 0
        while self._stream_backlog:
            batch = self._stream_backlog[:topology.STREAM_BATCH_SIZE]
            crashed = False
            try:
                failed = [f["itemIdentifier"] for f in self.invoke(topology.STREAM_CONSUMER, {"Records": batch})
                          .get("batchItemFailures", [])]
            except Exception:
                failed, crashed = [batch[0]["dynamodb"]["SequenceNumber"]], True
            if failed:
                at = next(i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] == failed[0])
                delivered += at
                self._stream_backlog = self._stream_backlog[at:]
                self._stream_attempts += 1
                if self._stream_attempts > topology.STREAM_RETRIES:
                    # Lambda's on-failure destination: where the batch was, not its records.
                    self._discard(self._stream_backlog[:topology.STREAM_BATCH_SIZE], crashed)
                    self._stream_backlog = self._stream_backlog[topology.STREAM_BATCH_SIZE:]
                    self._stream_attempts = 0
                return delivered  # retried on the next pump, as Lambda retries the stream
            self._stream_attempts = 0
            delivered += len(batch)
            self._stream_backlog = self._stream_backlog[len(batch):]
        return delivered

    def _discard(self, batch: list[dict[str, Any]], crashed: bool) -> None:
        """What Lambda sends the on-failure destination of a stream mapping: metadata only."""
        if self._shard_id is None:
            shards = self.clients("dynamodbstreams").describe_stream(StreamArn=self.stream_arn)
            self._shard_id = shards["StreamDescription"]["Shards"][0]["ShardId"]

        def arrival(record: dict[str, Any]) -> str:
            at = record["dynamodb"]["ApproximateCreationDateTime"]
            at = at if isinstance(at, dt.datetime) else dt.datetime.fromtimestamp(float(at), dt.UTC)
            return at.strftime("%Y-%m-%dT%H:%M:%SZ")

        failure = {
            "requestContext": {"requestId": str(uuid.uuid4()), "condition": "RetryAttemptsExhausted",
                               "functionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{topology.STREAM_CONSUMER}",
                               "approximateInvokeCount": self._stream_attempts},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                                **({"functionError": "Unhandled"} if crashed else {})},
            "version": "1.0",
            "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "DDBStreamBatchInfo": {
                "shardId": self._shard_id, "startSequenceNumber": batch[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": batch[-1]["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": arrival(batch[0]),
                "approximateArrivalOfLastRecord": arrival(batch[-1]), "batchSize": len(batch),
                "streamArn": self.stream_arn},
        }
        self.clients("sqs").send_message(QueueUrl=self.dlq_urls["outbox"], MessageBody=json.dumps(failure))

    # --- queues -------------------------------------------------------------------------

    def pump_queue(self, stage: str) -> int:
        """One receive-invoke-acknowledge round on a stage queue; returns messages received."""
        queue = next(q for q in QUEUES if q.stage == stage)
        sqs, url = self.clients("sqs"), self.queue_urls[stage]
        messages: list[dict] = []
        while len(messages) < self.batch_sizes[stage]:  # as Lambda gathers a batch: SQS answers ten at most
            wanted = min(10, self.batch_sizes[stage] - len(messages))
            received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=wanted, WaitTimeSeconds=0,
                                           AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
            messages += received
            if not received:
                break
        if not messages:
            return 0
        arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{topology.local_queue_name(stage)}"
        records = [{
            "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
            "attributes": m.get("Attributes", {}),
            "messageAttributes": {k: {"stringValue": v.get("StringValue"), "dataType": v["DataType"],
                                      "stringListValues": [], "binaryListValues": []}
                                  for k, v in m.get("MessageAttributes", {}).items()},
            "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": REGION,
        } for m in messages]
        try:
            result = self.invoke(queue.consumer, {"Records": records}) or {}
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        except InjectedFault:
            log.info("injected fault: %s fails a batch of %d, which SQS redelivers", queue.consumer, len(messages))
            failed = {m["MessageId"] for m in messages}
        except Exception:
            log.warning("function %s failed a batch of %d; it will be redelivered", queue.consumer, len(messages),
                        exc_info=True)
            failed = {m["MessageId"] for m in messages}  # the whole batch comes back
        for m in messages:
            if m["MessageId"] in failed:
                # Visible again at once: locally we don't wait out the visibility timeout.
                sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
            else:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return len(messages)

    def drain(self, max_rounds: int = 10_000) -> int:
        """Run the pipeline until nothing moves: the stream and every queue are empty."""
        moved_total = 0
        for _ in range(max_rounds):
            moved = self.pump_stream() + sum(self.pump_queue(q.stage) for q in QUEUES)
            moved_total += moved
            if not moved and not self._stream_backlog:
                return moved_total
        raise RuntimeError("the pipeline did not settle")

    def run_schedule(self, function: str) -> Any:
        """Run a scheduled function once, with an EventBridge scheduled event."""
        return self.invoke(function, {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
                                      "source": "aws.events", "account": ACCOUNT, "region": REGION,
                                      "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                      "resources": [], "detail": {}})

    def sent_mail(self) -> list[email.message.EmailMessage]:
        """Every email SES took from this run (moto keeps them; it runs in this process, served or mocked)."""
        from moto.ses.models import ses_backends

        sent = ses_backends[ACCOUNT][REGION].sent_messages
        return [email.message_from_string(m.raw_data, policy=email.policy.default)
                for m in sent if hasattr(m, "raw_data")]

    def dlq_depths(self) -> dict[str, int]:
        sqs = self.clients("sqs")
        return {stage: int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
                           ["Attributes"]["ApproximateNumberOfMessages"]) for stage, url in self.dlq_urls.items()}
