"""Letters stage: tell each debtor of a forgiven chunk, with a code to check the letter by
(functions/services/letters.py; letters are rendered and leave by functions/adapters/letters_out.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger

from functions.adapters import mail
from functions.adapters.letters_out import DynamoLettersStore, Post
from functions.handlers.queue import each_message
from functions.services import letters

logger = Logger()
STORE, POST = DynamoLettersStore(), Post()


def send(message: dict[str, Any]) -> None:
    outcome = letters.send(STORE, POST, message)
    if outcome is None:
        return
    where = {"campaign_id": message["campaign_id"], "plan_id": message["plan_id"], "chunk": message["chunk"]}
    if isinstance(outcome, letters.LettersContinue):
        logger.info("letters continue", extra=where | {"handed_over": outcome.handed_over})
    else:
        logger.info("letters sent", extra=where | {"letters": outcome.letters, "counted_now": outcome.counted_now})


_each = each_message(send)


@logger.inject_lambda_context
def handler(event: dict, context: Any) -> Mapping[str, object]:
    mail.start_budget(context.get_remaining_time_in_millis() / 1000)  # shared by every message of the batch
    return _each(event, context)
