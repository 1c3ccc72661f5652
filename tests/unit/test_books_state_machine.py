"""A state machine over everything that moves a campaign's money, checked after every step.

Donations (one-off and monthly), full and partial refunds, refunds that fail, disputes won and lost,
purchases holding and spending the pool, provider events delivered twice and out of
order, and queue messages applied but not acknowledged (a crash after the ledger write):
whatever happens, the books must hold. The use cases are the shipped ones (functions/services/
payments.py), on the in-memory store of the ports (tests/memory_store.py); the DynamoDB adapter
passes the same scenarios (tests/integration/test_store_contract.py).
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from functions.domain.campaigns import Campaign
from functions.domain.gifts import DisputeUpdate, PaymentAdjusted, PaymentConfirmed, PaymentEvent
from functions.domain.ledger import (
    DISPUTES_LOST,
    DONORS,
    FEES,
    FROZEN,
    HELD,
    POOL,
    REFUNDED,
    RESERVE,
    SHORTFALL,
    SPENT,
    Transfer,
    balances_from,
    hold_transfer,
    negative_accounts,
    post_transfer,
)
from functions.services import payments
from functions.services.ports import BalanceRefused, NotYetBookable
from tests.memory_store import MemoryStore


class MemoryBooks:
    """One campaign's books in the in-memory store, the payment services over them, and the pool stage's queue."""

    def __init__(self) -> None:
        self.store = MemoryStore()
        self.store.add_campaign(Campaign("c", "C", reserve_bps=1_000))
        self.queue: list[PaymentConfirmed | PaymentAdjusted] = []  # announced, not yet acknowledged

    @property
    def transfers(self) -> dict[str, Transfer]:
        return self.store.ledger["c"]

    @property
    def cached(self) -> dict[str, int]:  # what the balance items hold
        return self.store.balances["c"]

    def refunded(self, donation_id: str) -> int:
        donation = self.store.load_donation("c", donation_id)  # an installment not confirmed yet: none
        return donation["refunded_cents"] if donation else 0

    def apply_event(self, event: PaymentEvent) -> None:  # the webhook
        announced = len(self.store.messages("donations"))
        payments.apply_payment_event(self.store, event)
        self.queue += self.store.messages("donations")[announced:]

    def book(self, fact: PaymentConfirmed | PaymentAdjusted) -> bool:
        """The pool stage; False when the fact must wait (its gift or dispute opening not booked yet)."""
        if isinstance(fact, PaymentConfirmed):
            payments.book_gifts(self.store, "c", [fact])
            return True
        try:
            payments.book_adjustment(self.store, fact)
        except NotYetBookable:
            return False
        except BalanceRefused:
            # Only a failed refund may wait on balances (it may overtake its refund: it waits until the refund
            # is booked); anything else driving an account below zero is a bug.
            assert fact.kind == "refund_failed", f"{fact.transfer_id} would drive an account negative"
            return False
        return True


amounts = st.integers(min_value=100, max_value=50_000)


class Books(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.books = MemoryBooks()
        self.events: list[PaymentEvent] = []  # everything the provider ever sent; any may come again
        self.payments: list[PaymentConfirmed] = []
        self.refunded: dict[str, int] = {}  # each payment's refunds as the provider has them now
        self.failures: set[str] = set()  # payments with a failed refund: their events read the total afresh
        self.plans = 0

    def _send(self, event: PaymentEvent, prompt: bool) -> None:
        """The provider sends an event; most arrive at once, any may come again later."""
        self.events.append(event)
        if prompt:
            self._deliver(event)

    def _deliver(self, event: PaymentEvent) -> None:
        if event.refunded_total_cents is not None and event.gift.payment_id in self.failures:
            # Where refunds can fail (Stripe), the total is read from the provider when the event is handled.
            event = replace(event, refunded_total_cents=self.refunded[event.gift.payment_id])
        self.books.apply_event(event)

    def _pay(self, donation_id: str, amount: int, pledge_id: str | None = None, prompt: bool = False) -> None:
        gift = PaymentConfirmed(f"evt_{len(self.events)}", "sandbox", f"pay_{donation_id}", "c", donation_id,
                                amount, "USD", min(amount, amount * 290 // 10_000 + 30), pledge_id)
        self.payments.append(gift)
        self._send(PaymentEvent(gift), prompt)

    @rule(amount=amounts, prompt=st.booleans())
    def donate(self, amount: int, prompt: bool) -> None:
        donation_id = f"don_{len(self.books.store.donations)}"
        self.books.store.add_pledge("c", donation_id, amount)
        self._pay(donation_id, amount, prompt=prompt)

    @precondition(lambda self: self.payments)
    @rule(data=st.data())
    def monthly_installment(self, data: st.DataObject) -> None:
        # (the service makes the installment's donation from its pledge, a one-off donation)
        pledge = data.draw(st.sampled_from([p for p in self.payments if p.pledge_id is None]))
        installment = f"{pledge.donation_id}-m{len(self.payments)}"
        self._pay(installment, pledge.amount_cents, pledge_id=pledge.donation_id)

    @precondition(lambda self: self.payments)
    @rule(data=st.data(), prompt=st.booleans())
    def refund(self, data: st.DataObject, prompt: bool) -> None:
        gift = data.draw(st.sampled_from(self.payments))
        already = self.refunded.get(gift.payment_id, 0)
        if already < gift.amount_cents:  # full or partial, never above the charge
            total = data.draw(st.one_of(st.just(gift.amount_cents), st.integers(already + 1, gift.amount_cents)))
            self.refunded[gift.payment_id] = total
            self._send(PaymentEvent(gift, refunded_total_cents=total), prompt)

    @precondition(lambda self: any(self.refunded.values()))
    @rule(data=st.data(), prompt=st.booleans())
    def refund_fails(self, data: st.DataObject, prompt: bool) -> None:
        """The donor's bank refuses some of the refunds: the provider's total comes back down."""
        gift = data.draw(st.sampled_from([g for g in self.payments if self.refunded.get(g.payment_id)]))
        lower = st.integers(0, self.refunded[gift.payment_id] - 1)
        self.refunded[gift.payment_id] = data.draw(st.one_of(st.just(0), lower))
        self.failures.add(gift.payment_id)
        self._send(PaymentEvent(gift, refunded_total_cents=self.refunded[gift.payment_id], refund_failed=True), prompt)

    @precondition(lambda self: self.payments)
    @rule(data=st.data(), outcome=st.sampled_from(["won", "lost"]), fee=st.sampled_from([0, 1_500]))
    def dispute(self, data: st.DataObject, outcome: str, fee: int) -> None:
        gift = data.draw(st.sampled_from(self.payments))
        dispute_id = f"dp_{len(self.events)}"
        self.events.append(PaymentEvent(gift, dispute=DisputeUpdate(dispute_id, gift.amount_cents, "open")))
        self.events.append(PaymentEvent(gift, dispute=DisputeUpdate(
            dispute_id, gift.amount_cents, outcome, fee if outcome == "lost" else 0)))

    @precondition(lambda self: self.events)
    @rule(data=st.data())
    def deliver_event(self, data: st.DataObject) -> None:
        """Any event, any order, any number of times."""
        self._deliver(data.draw(st.sampled_from(self.events)))

    @precondition(lambda self: self.books.queue)
    @rule(data=st.data(), acknowledged=st.booleans())
    def deliver_message(self, data: st.DataObject, acknowledged: bool) -> None:
        """Book a queued fact; unacknowledged (a crash after the write) it stays queued and comes again."""
        fact = data.draw(st.sampled_from(self.books.queue))
        if self.books.book(fact) and acknowledged:
            self.books.queue.remove(fact)

    @rule(share=st.integers(1, 100))
    def buy(self, share: int) -> None:
        """A purchase holds part of the pool, then posts it: money leaves the reserve's reach."""
        price = self.books.cached[POOL] * share // 100
        if price > 0:
            plan = f"plan-{self.plans}"
            self.plans += 1
            self.books.store.post(hold_transfer("c", plan, price))
            self.books.store.post(post_transfer("c", plan, price))

    @invariant()
    def every_transfer_sums_to_zero(self) -> None:
        assert all(sum(t.deltas().values()) == 0 for t in self.books.transfers.values())

    @invariant()
    def every_balance_is_the_sum_of_its_entries(self) -> None:
        assert balances_from(self.books.transfers.values()) == self.books.cached

    @invariant()
    def no_internal_account_is_below_zero(self) -> None:
        assert negative_accounts(self.books.cached) == []
        assert self.books.cached[SHORTFALL] <= 0

    @invariant()
    def gross_confirmed_is_accounted_for_to_the_cent(self) -> None:
        b = self.books.cached
        booked_gifts = [t for t in self.books.transfers.values() if t.kind == "gift"]
        gross = -b[DONORS]
        assert gross == sum(-t.deltas()[DONORS] for t in booked_gifts)
        assert gross + -b[SHORTFALL] == (b[FEES] + b[REFUNDED] + b[DISPUTES_LOST] + b[RESERVE] + b[POOL]
                                         + b[FROZEN] + b[HELD] + b[SPENT])

    @invariant()
    def each_payment_s_refunds_are_booked_or_on_their_way_exactly_and_never_exceed_it(self) -> None:
        """What a donation records as refunded is what its refund transfers add up to, counting those still
        queued: never lost to a key reused after a failed refund, never counted twice, never above the gift.
        (Booked alone, refunds may run ahead of a failure's reversal still in the queue.)"""
        def net(kind: str, amount: int) -> int:
            return amount if kind == "refund" else -amount

        for gift in self.payments:
            mine = f"{gift.payment_id}@"
            booked = sum(t.deltas()[REFUNDED] for t in self.books.transfers.values()
                         if t.kind in ("refund", "refund_failed") and t.transfer_id.split("#", 2)[2].startswith(mine))
            queued = sum(net(f.kind, f.amount_cents) for f in self.books.queue if isinstance(f, PaymentAdjusted)
                         and f.kind in ("refund", "refund_failed") and f.key.startswith(mine)
                         and f.transfer_id not in self.books.transfers)
            assert booked + queued == self.books.refunded(gift.donation_id)
            assert 0 <= booked + queued <= gift.amount_cents


# Runs under the loaded profile (tests/conftest.py): 200 examples in `make test`, 2,000 nightly.
TestBooks = Books.TestCase
TestBooks.settings = settings(settings.default, stateful_step_count=40)
