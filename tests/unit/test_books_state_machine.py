"""A state machine over everything that moves a campaign's money, checked after every step.

Donations (one-off and monthly), full and partial refunds, refunds that fail, disputes won and lost,
purchases holding and spending the pool, expenses held then paid or voided (approvals replayed),
provider events delivered twice and out of order, and queue messages applied but not acknowledged
(a crash after the ledger write): whatever happens, the books must hold. The store here is in memory; the decisions are
the domain's own (functions/domain/gifts.py and ledger.py), as the DynamoDB adapters use them.
"""

from __future__ import annotations

from dataclasses import asdict, replace

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from functions.domain.gifts import (
    DisputeUpdate,
    PaymentAdjusted,
    PaymentConfirmed,
    PaymentEvent,
    dispute_adjustments,
    refund_adjustment,
)
from functions.domain.ledger import (
    ACCOUNTS,
    DISPUTES_LOST,
    DONORS,
    EXPENSES,
    FEES,
    FROZEN,
    HELD,
    POOL,
    REFUNDED,
    RESERVE,
    SHORTFALL,
    SPENT,
    Totals,
    Transfer,
    balances_from,
    gift_transfer,
    hold_transfer,
    identity_holds,
    negative_accounts,
    post_transfer,
)
from functions.domain.offline import Expense


class MemoryBooks:
    """Donations, the ledger and the pool stage's queue, with the adapters' exactly-once rules."""

    def __init__(self) -> None:
        self.donations: dict[str, dict] = {}
        self.transfers: dict[str, Transfer] = {}
        self.cached = dict.fromkeys(ACCOUNTS, 0)  # what the balance items would hold
        self.queue: list[PaymentConfirmed | PaymentAdjusted] = []
        self.announced: set[str] = set()  # outbox ids: one announcement per fact

    def announce(self, fact: PaymentConfirmed | PaymentAdjusted) -> None:
        if fact.transfer_id not in self.announced:
            self.announced.add(fact.transfer_id)
            self.queue.append(fact)

    def apply_event(self, event: PaymentEvent) -> None:  # the webhook
        gift = event.gift
        donation = self.donations[gift.donation_id]
        if donation["status"] == "pending":
            donation["status"] = "confirmed"
            self.announce(gift)
        if event.refunded_total_cents is not None:
            adjustment = refund_adjustment(event, donation["refunded"], donation["failed"])
            if adjustment:
                donation["refunded"] = event.refunded_total_cents
                donation["failed"] += adjustment.amount_cents if adjustment.kind == "refund_failed" else 0
                self.announce(adjustment)
        if event.dispute:
            for adjustment in dispute_adjustments(event, donation["disputes"].get(event.dispute.dispute_id)):
                self.announce(adjustment)
            donation["disputes"][event.dispute.dispute_id] = event.dispute.status

    def post(self, transfer: Transfer, refused_below_zero: bool = False) -> bool:
        """False if booked before; with `refused_below_zero`, also if it would drive an account below zero
        (the balance items' conditions refuse it, and the message is retried)."""
        if transfer.transfer_id in self.transfers:
            return False
        after = {a: self.cached[a] + transfer.deltas().get(a, 0) for a in ACCOUNTS}
        if refused_below_zero and negative_accounts(after):
            return False
        assert not negative_accounts(after), f"{transfer.transfer_id} would drive {negative_accounts(after)} negative"
        self.transfers[transfer.transfer_id] = transfer
        self.cached = after
        return True

    def book(self, fact: PaymentConfirmed | PaymentAdjusted) -> bool:
        """The pool stage; False when the fact must wait (its gift or dispute opening not booked yet)."""
        if isinstance(fact, PaymentConfirmed):
            self.post(gift_transfer(fact.transfer_id, "c", fact.amount_cents, fact.fee_cents, 1_000))
            return True
        if fact.requires not in self.transfers:
            return False
        if fact.kind == "refund_failed":  # it may overtake its refund: waits until the refund is booked
            return fact.transfer_id in self.transfers or self.post(fact.transfer(self.cached), refused_below_zero=True)
        if fact.transfer_id not in self.transfers:
            self.post(fact.transfer(self.cached))
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
        self.expenses = 0

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
        donation_id = f"don_{len(self.books.donations)}"
        self.books.donations[donation_id] = {"status": "pending", "refunded": 0, "failed": 0, "disputes": {}}
        self._pay(donation_id, amount, prompt=prompt)

    @precondition(lambda self: self.payments)
    @rule(data=st.data())
    def monthly_installment(self, data: st.DataObject) -> None:
        pledge = data.draw(st.sampled_from(self.payments))
        installment = f"{pledge.donation_id}-m{len(self.payments)}"
        self.books.donations[installment] = {"status": "pending", "refunded": 0, "failed": 0, "disputes": {}}
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
            self.books.post(hold_transfer("c", plan, price))
            self.books.post(post_transfer("c", plan, price))

    @rule(share=st.integers(1, 150), paid=st.booleans(), replays=st.integers(1, 3))
    def expense(self, share: int, paid: bool, replays: int) -> None:
        """An expense holds part of the pool (one above it is refused whole), then is paid or voided;
        the approval or rejection delivered again books nothing more."""
        amount = self.books.cached[POOL] * share // 100
        if amount <= 0:
            return
        expense = Expense(f"c.exp-{self.expenses:016x}", "c", amount, "Print Shop", "postage", "0" * 64)
        self.expenses += 1
        before = dict(self.books.cached)
        if not self.books.post(expense.hold(), refused_below_zero=True):
            assert share > 100 and self.books.cached == before  # no partial state
            return
        for _ in range(replays):
            self.books.post(expense.post() if paid else expense.void())
        assert self.books.cached[EXPENSES] - before[EXPENSES] == (amount if paid else 0)

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
                                         + b[FROZEN] + b[HELD] + b[SPENT] + b[EXPENSES])
        assert identity_holds(asdict(Totals.from_balances(b)))  # as published, term by term

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
            assert booked + queued == self.books.donations[gift.donation_id]["refunded"]
            assert 0 <= booked + queued <= gift.amount_cents


# Runs under the loaded profile (tests/conftest.py): 200 examples in `make test`, 2,000 nightly.
TestBooks = Books.TestCase
TestBooks.settings = settings(settings.default, stateful_step_count=40)
