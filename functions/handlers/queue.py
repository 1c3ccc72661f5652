"""What the SQS consumers share: each message body is the JSON an outbox item carried."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse


def each_message(work: Callable[[dict[str, Any]], None]) -> Callable[[dict, Any], PartialItemFailureResponse]:
    """A handler that runs `work` per message and reports only the failed ones back to SQS,
    which redelivers them, and after the queue's max receives moves them to its DLQ."""
    # Imported here: the batch consumers that only need `failures` don't pay for it at cold start.
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    processor = BatchProcessor(event_type=EventType.SQS)

    def record_handler(record: SQSRecord) -> None:
        work(json.loads(record.body))

    def handler(event: dict, context: Any) -> PartialItemFailureResponse:
        return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                        context=context)

    return handler


def failures(ids: list[str]) -> dict[str, list[dict[str, str]]]:
    return {"batchItemFailures": [{"itemIdentifier": i} for i in ids]}
