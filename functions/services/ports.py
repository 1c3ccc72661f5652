"""What the services need from storage, in the domain's words.

The DynamoDB adapter (functions/adapters/ledger.py) and the tests' in-memory store
(tests/memory_store.py) implement these with the same conditional semantics: a transfer id is
written once, no internal balance goes below zero, a state changes only from the state it was
read in, and every announcement (outbox message) is written with the change it announces, once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from functions.domain.campaigns import Campaign
from functions.domain.gifts import PaymentAdjusted, PaymentConfirmed
from functions.domain.ledger import Transfer
from functions.domain.records import DonationRecord, PlanRecord

if TYPE_CHECKING:  # the planner is the purchase function's alone: the ledger's users never load it
    from functions.domain.planner import Offer
    from functions.domain.purchase import Plan

Donation = DonationRecord


class NotYetBookable(Exception):
    """An adjustment whose gift (or dispute opening) is not booked yet: retry after it is."""


class BalanceRefused(Exception):
    """A posting would drive an internal account below zero: nothing was written; retried with fresh balances."""


class DonationStore(Protocol):
    def load_donation(self, campaign_id: str, donation_id: str) -> Donation | None: ...

    def confirm_pledge(self, gift: PaymentConfirmed) -> bool:
        """The pledge goes pending → confirmed, if its amount, currency and provider are the gift's, and the gift
        is announced to the pool stage, in one write. False (nothing written) if the condition failed."""
        ...

    def add_installment(self, gift: PaymentConfirmed, pledge: Donation) -> bool:
        """A monthly installment becomes a confirmed donation of its own (donor and anonymity from its pledge),
        and the gift is announced, in one write. False if that donation exists already."""
        ...

    def fail_pledge(self, gift: PaymentConfirmed) -> bool:
        """The pledge goes pending → failed if it is the gift's provider's. False if the condition failed."""
        ...

    def end_pledge(self, gift: PaymentConfirmed, ended_at: int) -> bool:
        """A monthly pledge records when it ended, if it is the gift's provider's and had not ended. False if the
        condition failed."""
        ...

    def record_refunds(self, donation: Donation, refunded_cents: int, refunds_failed_cents: int,
                       adjustment: PaymentAdjusted) -> bool:
        """Set the donation's refund totals and announce the adjustment, in one write, if both totals are still
        as `donation` has them (a concurrent event's change is never overwritten). False otherwise."""
        ...

    def record_dispute(self, donation: Donation, dispute_id: str, status: str,
                       adjustments: list[PaymentAdjusted]) -> bool:
        """Set the dispute's status and announce the adjustments, in one write, if the dispute is still as
        `donation` has it (absent if it has none). False otherwise."""
        ...


@dataclass(frozen=True)
class GiftBatch:
    """What booking a batch of gifts writes besides them: their transfers (in the gifts' order) and, when the
    pool reaches the threshold, the id of the purchase check announced with them; `receipts`: the gifts'
    receipt emails are asked for with them, in one message (domain/email.py's receipts_message), the campaign
    emailing donors."""

    transfers: list[Transfer]
    purchase_check: str | None = None
    receipts: bool = False


class LedgerStore(Protocol):
    def snapshot(self, campaign_id: str) -> tuple[dict[str, Any] | None, dict[str, int]]:
        """The campaign item (settings and counters; None if there is no such campaign) and every cached
        balance, in one read."""
        ...

    def post_gifts(self, campaign_id: str, gifts: list[PaymentConfirmed],
                   plan: Callable[[list[PaymentConfirmed]], GiftBatch]) -> list[PaymentConfirmed]:
        """Book the gifts not booked before, in one write with `plan(those gifts)`'s balance changes, the
        campaign's confirmed count and purchase check (a check announced before is left out). Returns what it
        booked."""
        ...

    def post_adjustment(self, adjustment: PaymentAdjusted, transfer: Transfer) -> bool:
        """Book a refund or dispute step once, with its balances. False if booked before; NotYetBookable if what
        it requires is not booked; BalanceRefused if a balance would go below zero."""
        ...


class PaymentsStore(DonationStore, LedgerStore, Protocol):
    """Everything the payment use cases touch."""


class PurchaseStore(Protocol):
    def pool_available(self, campaign_id: str) -> int: ...
    def open_offers(self, campaign_id: str) -> list[Offer]: ...
    def retire_lapsed(self, campaign_id: str, today: str) -> list[str]: ...
    def plans(self, campaign_id: str, status: str) -> list[Plan]: ...
    # Each returns False when the step was already done or lost a race: nothing is written then.
    def propose(self, plan: Plan, approved: bool) -> bool: ...
    def settle(self, plan: Plan, portfolio_key: str, reference: str = "") -> bool: ...
    def void(self, plan: Plan, reason: str, reopen: bool) -> bool: ...


class ApprovalStore(Protocol):
    """A proposed plan, or an expense, that N of M approvers decide (one approval path for both)."""

    def load_plan(self, plan_id: str) -> Mapping[str, Any] | None: ...

    def add_approval(self, campaign_id: str, plan_id: str, approver: str) -> dict[str, Any] | None:
        """Count one approver once on a proposed plan: the plan as it is now, or None if it is not proposed."""
        ...

    def mark_approved(self, plan: dict[str, Any], approvers: list[str]) -> bool:
        """proposed → approved, announcing the purchase check that buys it, in one write; False if not proposed."""
        ...


class Seller(Protocol):
    def buy(self, plan: Plan) -> str | None:
        """Buy the plan's offer, idempotently per plan id: the portfolio's object key, or None
        when the purchase completes outside (a wire the operator confirms later)."""
        ...


class ForgivenessStore(Protocol):
    def load_plan(self, plan_id: str) -> PlanRecord | None: ...
    def debtor_key(self, campaign_id: str, plan_id: str) -> dict[str, Any] | None: ...

    def ensure_key_pair(self, campaign_id: str, plan_id: str) -> None:
        """The portfolio's key pair, made once however often this runs."""
        ...

    def chunk_ranges(self, portfolio_key: str) -> tuple[str, list[tuple[int, int, int]]]:
        """The portfolio's header line and (first row, start byte, end byte) of each chunk."""
        ...

    def announce_chunks(self, message: dict[str, Any], header: str, ranges: list[tuple[int, int, int]]) -> None:
        """One message per chunk, each once however often this runs."""
        ...

    def chunk_done(self, campaign_id: str, plan_id: str, chunk: int) -> bool: ...

    def write_events(self, message: dict[str, Any], public_key: bytes, forgiven_at: str) -> tuple[int, int, int]:
        """Write the chunk's events (its debtors' data sealed to `public_key`), the same on every delivery, leaving
        out accounts forgiven under another plan: (accounts, face value in cents, accounts left out)."""
        ...

    def finish_chunk(self, message: dict[str, Any], accounts: int, face_value_cents: int, forgiven_at: str,
                     already_forgiven: int = 0) -> bool:
        """Count the chunk once, log it and ask for its letters, in one write; False if done before."""
        ...

    def drop_plaintext_when_done(self, campaign_id: str, plan_id: str) -> bool:
        """Once every chunk is in, delete the files holding debtors' data in the clear; whether they were."""
        ...


class ChunkUnfinished(Exception):
    """The invocation's budget ran out with letters of the chunk left; `done` were handed over so far."""

    def __init__(self, batch_id: str, done: int):
        super().__init__(f"{batch_id}: time budget spent after {done} letter(s); a continuation goes on")
        self.done = done


class LettersStore(Protocol):
    def load_campaign(self, campaign_id: str) -> Campaign | None: ...
    def events_of_chunk(self, campaign_id: str, plan_id: str, chunk: int) -> list[dict[str, Any]]: ...

    def write_verifications(self, events: list[dict[str, Any]]) -> None:
        """What /verify answers from: each code's hash, never the code (the same on every delivery)."""
        ...

    def mailed(self, campaign_id: str, plan_id: str, chunk: int) -> bool: ...
    def record_mailing(self, campaign_id: str, plan_id: str, chunk: int, way_out: str) -> None: ...

    def continue_letters(self, message: dict[str, Any], handed_over: int) -> None:
        """The chunk's rest in a continuation message of its own."""
        ...

    def withheld(self, campaign_id: str, plan_id: str) -> set[str]:
        """The account hashes of the plan that get no letter (scrubbed, or put back to the seller)."""
        ...

    def finish_letters(self, campaign_id: str, plan_id: str, chunk: int, printed: int, keep_days: int,
                       expire: bool) -> bool:
        """Record the chunk's letters once, counting the `printed` ones waiting (False if done before); with
        `expire`, the debtor key's clock starts."""
        ...


class Post(Protocol):
    """How letters leave: each returns where the batch went (the printer's or the mail service's record)."""

    def print_batch(self, campaign: Campaign, plan_id: str, batch_id: str, events: list[dict[str, Any]]) -> str: ...

    def hand_over(self, campaign: Campaign, plan_id: str, chunk: int, batch_id: str,
                  events: list[dict[str, Any]]) -> str:
        """To a mail service, idempotently per letter; ChunkUnfinished when the budget runs out."""
        ...

    def resend(self, campaign_id: str, plan_id: str, account: str, attempt: int) -> None: ...
