"""Letters stage: tell each debtor of a forgiven chunk, with a code to check the letter by."""

from __future__ import annotations

from itertools import islice
from typing import Any

from aws_lambda_powertools import Logger

from functions.adapters import forgiveness, ledger, storage
from functions.adapters.secrets import derived_key
from functions.domain.forgiveness import account_hash, render_letter, verification_code
from functions.domain.offers import read_accounts
from functions.handlers.queue import each_message

logger = Logger()


def send(message: dict[str, Any]) -> None:
    campaign_id, plan_id, chunk_no = message["campaign_id"], message["plan_id"], message["chunk"]
    campaign = ledger.load_campaign(campaign_id)
    if campaign is None:
        raise LookupError(f"no campaign {campaign_id!r}")
    hash_key, code_key = derived_key("account-hash"), derived_key("letter-code")
    start = chunk_no * forgiveness.CHUNK_SIZE
    accounts = islice(read_accounts(storage.read_lines(message["portfolio_key"])), start,
                      start + forgiveness.CHUNK_SIZE)
    printer, sent = storage.S3LetterPrinter(), []
    for account in accounts:
        digest = account_hash(hash_key, campaign_id, account.account_ref)
        code = verification_code(code_key, campaign_id, plan_id, account.account_ref)
        text = render_letter(campaign.name, account, campaign.currency, code, campaign.contact or campaign.name)
        # Printing twice puts the same letter on the same key; the count below happens once.
        printer.send(f"{campaign_id}/{plan_id}/{digest}", text)
        sent.append(digest)
    counted = forgiveness.mark_letters_sent(campaign_id, plan_id, sent)
    logger.info("letters sent", extra={"campaign_id": campaign_id, "plan_id": plan_id, "chunk": chunk_no,
                                       "new_letters": len(counted)})


handler = logger.inject_lambda_context(each_message(send))
