"""A letter's life after it is rendered: printed -> mailed -> delivered, or returned.

Pure rules, no I/O: which status a mail service's tracking event means, which moves are allowed
(a status only moves forward, so events that arrive late or twice change nothing), and what each
move adds to the public counters and to the portfolio's count of letters still to be mailed (the
debtor key is kept while that count is above zero).

The public counters say what happened in the post: `letters_sent` counts letters *mailed* (the mail
service's first scan of a mailing, or the operator's `letters mark-mailed` for a print bundle) and
`letters_returned` those that came back. A letter prepared but not (yet) reported mailed (handed to
the mail service, waiting in a print bundle, or put in the bucket by the sandbox printer, which
mails nothing) counts in `letters_waiting` instead, and leaves it when it is mailed.
"""

from __future__ import annotations

from dataclasses import dataclass

PRINTED, MAILED, DELIVERED, RETURNED, UNDELIVERABLE = "printed", "mailed", "delivered", "returned", "undeliverable"
QUEUED = "queued"  # to be sent again, to a corrected address (then printed again)
WITHHELD = "withheld"  # never to be posted: its account was scrubbed or put back after it was printed
STATUSES = (PRINTED, MAILED, DELIVERED, RETURNED, UNDELIVERABLE, QUEUED, WITHHELD)
_RANK = {PRINTED: 0, UNDELIVERABLE: 0, QUEUED: 0, MAILED: 1, DELIVERED: 2, RETURNED: 2}

# Lob's letter tracking events (https://docs.lob.com/#tag/Tracking-Events): every scan in the mail
# stream means the letter was mailed; the last two are the ends of its journey.
LOB_EVENTS = {
    "letter.mailed": MAILED, "letter.in_transit": MAILED, "letter.in_local_area": MAILED,
    "letter.processed_for_delivery": MAILED, "letter.re-routed": MAILED,
    "letter.delivered": DELIVERED, "letter.returned_to_sender": RETURNED,
}


@dataclass(frozen=True)
class Move:
    """What a status change adds: to the public counters, and to the letters still to be mailed."""

    letters_sent: int = 0  # mailed
    letters_returned: int = 0
    letters_waiting: int = 0  # prepared, not reported mailed
    unsettled: int = 0

    def counters(self) -> dict[str, int]:
        """The public counters this move changes (none of them by zero)."""
        counts = (("letters_sent", self.letters_sent), ("letters_returned", self.letters_returned),
                  ("letters_waiting", self.letters_waiting))
        return {name: n for name, n in counts if n}


def move(current: str, new: str) -> Move | None:
    """The effect of moving a letter from `current` to `new`, or None if it must not move (a status
    never goes back, and one end of the journey never becomes the other)."""
    if new == WITHHELD:
        return withhold(current)
    if new not in _RANK or current not in _RANK or _RANK[new] <= _RANK[current] or current == QUEUED:
        return None  # (a queued letter is printed again by the letters function, then tracked anew)
    mailed_now = _RANK[current] == 0  # first scan of this mailing: it counts as sent, whatever the scan
    waiting = -1 if current == PRINTED else 0  # (an undeliverable one was never waiting to be mailed)
    if new == RETURNED:
        # Returned: it was mailed (sent), and it is unsettled again until it is resent.
        return Move(letters_sent=int(mailed_now), letters_returned=1, letters_waiting=waiting,
                    unsettled=0 if mailed_now else 1)
    return Move(letters_sent=int(mailed_now), letters_waiting=waiting, unsettled=-1 if mailed_now else 0)


def withhold(current: str) -> Move | None:
    """A letter not yet in the post whose account was scrubbed or put back: it ends here, no longer waiting
    nor unsettled. One in the post already (mailed, or with the mail service) cannot be withheld: None."""
    if current == PRINTED:
        return Move(letters_waiting=-1, unsettled=-1)
    if current in (UNDELIVERABLE, RETURNED):
        return Move(unsettled=-1)
    return None


def prepared(status: str, first_attempt: bool) -> Move:
    """What recording a letter handed over (`printed`) or refused for its address (`undeliverable`) adds:
    a printed one waits to be mailed; either is unsettled, once per letter (a resend replaces a returned
    letter that was unsettled already)."""
    return Move(letters_waiting=int(status == PRINTED), unsettled=int(first_attempt))


def predecessors(new: str) -> tuple[str, ...]:
    """The statuses a letter may move to `new` from (for a conditional write)."""
    return tuple(s for s in STATUSES if move(s, new) is not None)


def can_resend(status: str) -> bool:
    """A letter that came back, or whose address the service refused, may go again to a corrected address."""
    return status in (RETURNED, UNDELIVERABLE)


def idempotency_key(batch_id: str, account_hash: str, attempt: int) -> str:
    """The mail service's Idempotency-Key for one mailing of one letter: the same on every retry of the
    chunk, a new one only for a deliberate resend (Lob takes up to 256 characters)."""
    return f"{batch_id}/{account_hash}/{attempt}"


@dataclass(frozen=True)
class Tracked:
    """A tracking event of one of our letters: which letter (by the metadata it was sent with), the
    service's id for this mailing of it, and the status the event means."""

    campaign_id: str
    plan_id: str
    account: str
    service_id: str
    status: str


def lob_tracking(event: dict) -> Tracked | str:
    """What a Lob event says of one of our letters, or why it says nothing to us."""
    kind = event.get("event_type")
    status = LOB_EVENTS.get(str(kind.get("id"))) if isinstance(kind, dict) else None
    if status is None:
        return "not a letter tracking event"
    letter = event.get("body")
    meta = letter.get("metadata") if isinstance(letter, dict) else None
    if not isinstance(letter, dict) or not isinstance(meta, dict):
        return "not a letter of this deployment"
    found = Tracked(str(meta.get("campaign_id") or ""), str(meta.get("plan_id") or ""),
                    str(meta.get("account") or ""), str(event.get("reference_id") or letter.get("id") or ""), status)
    if not all((found.campaign_id, found.plan_id, found.account, found.service_id)):
        return "not a letter of this deployment"
    return found
