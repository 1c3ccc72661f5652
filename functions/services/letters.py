"""Letters: tell each debtor of a forgiven chunk, with a code to check the letter by; printed once, ever,
over the letters store's and the post's ports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from functions.domain.campaigns import UnknownCampaign
from functions.services.ports import ChunkUnfinished, LettersStore, Post


@dataclass(frozen=True)
class LettersSent:
    letters: int  # counted as sent now (a mail service's are counted as each is reported mailed)
    counted_now: bool


@dataclass(frozen=True)
class LettersContinue:
    handed_over: int  # the budget ran out: the rest goes on in a continuation message


def send(store: LettersStore, post: Post, message: dict[str, Any]) -> LettersSent | LettersContinue | None:
    """A chunk's letters (None: one returned letter, sent again to the address an operator corrected)."""
    if message.get("kind") == "resend":
        post.resend(message["campaign_id"], message["plan_id"], message["account"], int(message["attempt"]))
        return None
    cid, plan_id, chunk = message["campaign_id"], message["plan_id"], message["chunk"]
    campaign = store.load_campaign(cid)
    if campaign is None:
        raise UnknownCampaign(cid)
    events = store.events_of_chunk(cid, plan_id, chunk)
    # Printed once, ever: a redelivered chunk (after the printer, the proofs, or the count) finds the
    # record and sends nothing; a crash between the printer's accept and the record is caught by
    # the printer itself, which takes the batch id as its idempotency key.
    by_service = campaign.mailer != "sandbox"  # counted and settled as each one is reported mailed
    if "after" not in message:  # a continuation's chunk wrote them before its first letter left
        store.write_verifications(events)  # what /verify answers from (the code's hash, never the code)
    if not store.mailed(cid, plan_id, chunk):
        batch_id = f"{cid}/{plan_id}/{chunk:06d}"
        try:
            way_out = (post.print_batch(campaign, plan_id, batch_id, events) if not by_service
                       else post.hand_over(campaign, plan_id, chunk, batch_id, events))
        except ChunkUnfinished as unfinished:  # the rest in a message of its own: no receive is spent
            store.continue_letters(message, unfinished.done)
            return LettersContinue(unfinished.done)
        store.record_mailing(cid, plan_id, chunk, way_out)
    sent = 0 if by_service else len(events)
    counted = store.finish_letters(cid, plan_id, chunk, sent, campaign.debtor_data_days, expire=not by_service)
    return LettersSent(sent, counted)
