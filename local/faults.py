"""One injected AWS failure at a chosen position, for the fault sweep (tests/integration/test_fault_sweep.py).

Every AWS call a function makes on the emulator is numbered in the order it is made (the
emulator runs one invocation at a time, so a scenario numbers its calls the same way on every
run). A `FaultPlan` makes the call at one position fail in one of the ways AWS fails:

- `throttle`: the call is refused with a throttling error, as when the SDK's own retries ran out;
- `crash`: the call succeeds, then the function dies at once (a timeout, an out-of-memory, a
  lost container) — nothing after it runs, no `except Exception` sees it, no batch response is
  returned, and whatever it had written stays written;
- `conflict`: a DynamoDB transaction is cancelled with `TransactionConflict`, as when another
  invocation wrote one of its items at the same moment (moto never does this by itself).

Calls made outside a function (the operator's commands, the test's own reads) are not numbered.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from local.emulator import InjectedFault, LocalCloud, current_function

KINDS = ("throttle", "crash", "conflict")
TRANSACTIONS = ("dynamodb.TransactWriteItems", "dynamodb.TransactGetItems")


class LambdaCrash(BaseException):
    """The function's process died mid-call: a BaseException, so no `except Exception` in it catches it."""



def _client_error(response: dict[str, Any], operation: str) -> ClientError:
    """A service's 400 as botocore raises it (its response type wants metadata no caller reads)."""
    full: Any = {**response, "ResponseMetadata": {"HTTPStatusCode": 400}}
    return ClientError(full, operation)


@dataclass(frozen=True)
class Call:
    function: str
    operation: str  # "<service>.<Operation>"

    @property
    def transactional(self) -> bool:
        return self.operation in TRANSACTIONS


@dataclass
class FaultPlan:
    """Fail the call at `position` (0-based, over every function's calls) in the way `kind` says; with no
    position, only number the calls (a fault-free run that tells the sweep which positions exist)."""

    position: int | None = None
    kind: str = "throttle"
    calls: list[Call] = field(default_factory=list)
    fired: Call | None = None
    written: list[tuple[str, str, str]] = field(default_factory=list)  # (operation, bucket, key) of S3 writes
    refused: set[int] = field(default_factory=set)  # positions of calls AWS answered with an error
    _current: int | None = None
    _params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind: one of {KINDS}, not {self.kind!r}")

    def _parameters(self, params: dict[str, Any], **_: Any) -> None:
        self._params = params  # the call's own parameters (before-call sees the serialized request)

    def _before(self, model: Any, **_: Any) -> None:
        function = current_function.get()
        if function is None:
            self._current = None
            return
        self._current = len(self.calls)
        call = Call(function, f"{model.service_model.service_name}.{model.name}")
        self.calls.append(call)
        if self._current != self.position or self.fired:
            return
        if self.kind == "throttle":
            self.fired = call
            raise _client_error({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded (injected)"}},
                                model.name)
        if self.kind == "conflict" and call.transactional:
            self.fired = call
            items = self._params.get("TransactItems") or [None]
            raise _client_error({"Error": {"Code": "TransactionCanceledException",
                                         "Message": "Transaction cancelled, please refer cancellation reasons for "
                                                    "specific reasons [TransactionConflict] (injected)"},
                                 "CancellationReasons": [{"Code": "TransactionConflict"}]
                                 + [{"Code": "None"}] * (len(items) - 1)}, model.name)

    def _after(self, http_response: Any, model: Any, **_: Any) -> None:
        ok = http_response is not None and http_response.status_code < 300
        if not ok and self._current is not None:
            self.refused.add(self._current)  # e.g. a failed condition: no success to crash after
        if ok and model.service_model.service_name == "s3" and model.name in ("PutObject", "CopyObject"):
            self.written.append((model.name, self._params.get("Bucket", ""), self._params.get("Key", "")))
        if self.kind != "crash" or self._current is None or self._current != self.position or self.fired:
            return
        if ok:  # it succeeded: then the crash
            self.fired = self.calls[self._current]
            raise LambdaCrash(f"crashed right after {self.fired.operation} in {self.fired.function}")


@contextmanager
def injected(cloud: LocalCloud, plan: FaultPlan) -> Iterator[FaultPlan]:
    """Number (and fail, per `plan`) every call the functions of a started `cloud` make from now on.

    A crash ends the invocation as Lambda ends a dead one: an SQS batch comes back whole, a
    stream batch is retried, an HTTP caller gets API Gateway's 502, a schedule waits for its next run.
    """
    import boto3

    from functions.adapters import aws

    boto3.setup_default_session()  # after the mock started (it resets the default session)
    assert boto3.DEFAULT_SESSION is not None  # set up just now
    events = boto3.DEFAULT_SESSION.events
    events.register("before-parameter-build", plan._parameters)
    events.register("before-call", plan._before)
    events.register("after-call", plan._after)
    aws.reset()  # the functions' clients are made again, on this session, with the hooks
    invoke = cloud.invoke

    def invoke_until_crash(function: str, event: dict[str, Any]) -> Any:
        try:
            return invoke(function, event)
        except LambdaCrash as crash:
            raise InjectedFault(str(crash)) from None

    cloud.invoke = invoke_until_crash  # type: ignore[method-assign]
    try:
        yield plan
    finally:
        cloud.invoke = invoke  # type: ignore[method-assign]
        events.unregister("before-parameter-build", plan._parameters)
        events.unregister("before-call", plan._before)
        events.unregister("after-call", plan._after)
        aws.reset()
