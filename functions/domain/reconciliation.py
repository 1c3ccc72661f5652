"""The books checked: the processor's record against the ledger's, payment by payment, every difference
named; and the ledger's balances summed on from a checkpoint, with the gifts confirmed but never booked."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from functions.domain.gifts import gift_transfer_id
from functions.domain.ledger import ACCOUNTS
from functions.domain.offline import OFFLINE


@dataclass
class PaymentTotals:
    """One payment as one side saw it: the charge and all its refunds so far."""

    charged_cents: int = 0
    refunded_cents: int = 0
    charged: bool = False


@dataclass(frozen=True)
class Difference:
    problem: str  # "missing in ledger" | "missing at processor" | "amount mismatch"
    payment_id: str
    what: str  # "charge" | "refunds"
    processor_cents: int
    ledger_cents: int

    def __str__(self) -> str:
        return (f"{self.problem}: {self.what} of {self.payment_id} "
                f"(processor {self.processor_cents}, ledger {self.ledger_cents})")


@dataclass
class Side:
    payments: dict[str, PaymentTotals] = field(default_factory=dict)

    def charge(self, payment_id: str, amount: int) -> None:
        totals = self.payments.setdefault(payment_id, PaymentTotals())
        totals.charged, totals.charged_cents = True, totals.charged_cents + amount

    def refund(self, payment_id: str, amount: int) -> None:
        self.payments.setdefault(payment_id, PaymentTotals()).refunded_cents += amount


def _compare(payment_id: str, what: str, processor: int, ledger: int, at_processor: bool,
             in_ledger: bool) -> Difference | None:
    if at_processor and not in_ledger:
        return Difference("missing in ledger", payment_id, what, processor, ledger)
    if in_ledger and not at_processor:
        return Difference("missing at processor", payment_id, what, processor, ledger)
    if processor != ledger:
        return Difference("amount mismatch", payment_id, what, processor, ledger)
    return None


def differences(processor: Side, ledger: Side) -> list[Difference]:
    found = []
    for payment_id in sorted(set(processor.payments) | set(ledger.payments)):
        p = processor.payments.get(payment_id, PaymentTotals())
        led = ledger.payments.get(payment_id, PaymentTotals())
        for difference in (
            _compare(payment_id, "charge", p.charged_cents, led.charged_cents, p.charged, led.charged),
            _compare(payment_id, "refunds", p.refunded_cents, led.refunded_cents, p.refunded_cents > 0,
                     led.refunded_cents > 0),
        ):
            if difference:
                found.append(difference)
    return found


def ledger_side(transfers: Iterable[Mapping]) -> Side:
    """A campaign's gifts and refunds, from ledger transfer items (id, kind, legs), whichever provider's
    id they carry: in a Stripe campaign, a gift Stripe never charged must show as a difference. Gifts an
    operator recorded (checks, cash, wires) never passed through a processor: they are not compared."""
    side = Side()
    for item in transfers:
        kind, parts = item["kind"], item["sk"].split("#", 2)
        if kind not in ("gift", "refund", "refund_failed") or len(parts) < 3 or parts[1] == OFFLINE:
            continue
        key = parts[2]  # "<kind>#<provider>#<payment>[@<running total>]"
        if kind == "gift":
            side.charge(key, -int(item["legs"]["donors"]))
        else:  # a failed refund's leg on `refunded` is negative: it comes off the payment's refunds
            side.refund(key.split("@", 1)[0], int(item["legs"]["refunded"]))
    return side


def sum_on(balances: Mapping[str, int], entries: Iterable[Mapping], settled_before: str) -> tuple[dict[str, int],
                                                                                                  dict[str, int]]:
    """Add ledger entries (their `posted_at` and `legs`) to a checkpoint's balances.

    An entry posted before `settled_before` is settled: no write that took an earlier time can still
    commit, so it joins the next checkpoint. Later ones count only in the balances of now. Returns
    (the next checkpoint's balances, the balances of now).
    """
    settled, recent = dict.fromkeys(ACCOUNTS, 0) | dict(balances), dict.fromkeys(ACCOUNTS, 0)
    for entry in entries:
        target = settled if entry["posted_at"] < settled_before else recent
        for account, amount in entry["legs"].items():
            target[account] += int(amount)
    return settled, {account: settled[account] + recent[account] for account in settled}


def gifts_due(confirmations: Iterable[Mapping], settled_before: str) -> dict[str, str]:
    """The gift transfer (by donation id) each settled confirmation must have booked by now."""
    return {c["sk"].removeprefix("DONATION#"): gift_transfer_id(c["provider"], c["payment_id"])
            for c in confirmations if c["posted_at"] < settled_before}
