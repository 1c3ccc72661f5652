"""Double-entry ledger rules.

A transfer is a set of legs on a campaign's accounts whose amounts sum to zero. Transfers
are immutable and carry an id chosen by their producer, so a redelivery is a no-op.
Account balances are the sum of their legs. Only `donors`, the mirror of the outside
world that gives, may go below zero.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from functions.domain.money import is_cents, share_bps

DONORS = "donors"  # external: -(gross confirmed gifts)
FEES = "fees"  # paid to the payment processor, dispute fees included
REFUNDED = "refunded"  # returned to donors
DISPUTES_LOST = "disputes_lost"  # taken back by card networks after a lost dispute
RESERVE = "reserve"  # held back against refunds, disputes and fees
POOL = "pool"  # available to buy debt
FROZEN = "frozen"  # a disputed gift's funds: not spendable until the dispute closes
HELD = "held"  # pending purchases (two-phase: pool -> held -> spent | pool)
SPENT = "spent"  # paid to debt sellers
SHORTFALL = "shortfall"  # external: what refunds and losses took beyond reserve and pool

ACCOUNTS: tuple[str, ...] = (DONORS, FEES, REFUNDED, DISPUTES_LOST, RESERVE, POOL, FROZEN, HELD, SPENT, SHORTFALL)
EXTERNAL: frozenset[str] = frozenset({DONORS, SHORTFALL})
# Money going back out is taken from the reserve first, then from what the pool has left.
FUNDING_ORDER: tuple[str, ...] = (RESERVE, POOL)


class LedgerError(ValueError):
    """A transfer that breaks a ledger rule; nothing of it may be written."""


@dataclass(frozen=True)
class Leg:
    account: str
    amount_cents: int  # positive: the account grows; negative: it shrinks


@dataclass(frozen=True)
class Transfer:
    transfer_id: str
    campaign_id: str
    kind: str
    legs: tuple[Leg, ...]

    def __post_init__(self) -> None:
        if not self.transfer_id:
            raise LedgerError("a transfer needs an id")
        if len(self.legs) < 2:
            raise LedgerError(f"transfer {self.transfer_id}: needs at least two legs")
        seen: set[str] = set()
        for leg in self.legs:
            if leg.account not in ACCOUNTS:
                raise LedgerError(f"transfer {self.transfer_id}: unknown account {leg.account!r}")
            if leg.account in seen:
                raise LedgerError(f"transfer {self.transfer_id}: account {leg.account} twice")
            seen.add(leg.account)
            if not is_cents(leg.amount_cents):
                raise LedgerError(f"transfer {self.transfer_id}: amounts are integer cents")
        if sum(leg.amount_cents for leg in self.legs) != 0:
            raise LedgerError(f"transfer {self.transfer_id}: legs do not sum to zero")

    def deltas(self) -> dict[str, int]:
        return {leg.account: leg.amount_cents for leg in self.legs if leg.amount_cents}


def move(transfer_id: str, campaign_id: str, kind: str, source: str, dest: str, amount: int) -> Transfer:
    if not is_cents(amount) or amount <= 0:
        raise LedgerError(f"transfer {transfer_id}: amount must be positive integer cents")
    return Transfer(transfer_id, campaign_id, kind, (Leg(source, -amount), Leg(dest, amount)))


@dataclass(frozen=True)
class GiftSplit:
    fee_cents: int
    reserve_cents: int
    pool_cents: int


def split_gift(gross_cents: int, fee_cents: int, reserve_bps: int, covered_cents: int = 0) -> GiftSplit:
    """Gross -> processor fee, then the reserve's share of what is left, the rest to the pool.

    `covered_cents` of the gross is what the donor added to cover the fee: it pays the fee first, and
    what the fee leaves of it goes to the pool whole (the reserve's share is of the gift they meant)."""
    if not (is_cents(gross_cents) and gross_cents > 0):
        raise LedgerError("a gift is a positive amount of integer cents")
    if not (is_cents(fee_cents) and 0 <= fee_cents <= gross_cents):
        raise LedgerError("the processor fee must be between 0 and the gift")
    if not (is_cents(covered_cents) and 0 <= covered_cents <= gross_cents):
        raise LedgerError("what covers the fee must be between 0 and the gift")
    net = gross_cents - fee_cents
    reserve = share_bps(net - max(covered_cents - fee_cents, 0), reserve_bps)
    return GiftSplit(fee_cents, reserve, net - reserve)


def gift_transfer(transfer_id: str, campaign_id: str, gross_cents: int, fee_cents: int, reserve_bps: int,
                  covered_cents: int = 0) -> Transfer:
    split = split_gift(gross_cents, fee_cents, reserve_bps, covered_cents)
    legs = [Leg(DONORS, -gross_cents)]
    legs += [Leg(account, amount) for account, amount in
             ((FEES, split.fee_cents), (RESERVE, split.reserve_cents), (POOL, split.pool_cents)) if amount]
    return Transfer(transfer_id, campaign_id, "gift", tuple(legs))


# Two-phase purchase transfers, one id each per plan, so each happens at most once.
def hold_transfer(campaign_id: str, plan_id: str, amount: int) -> Transfer:
    return move(f"{plan_id}#hold", campaign_id, "hold", POOL, HELD, amount)


def post_transfer(campaign_id: str, plan_id: str, amount: int) -> Transfer:
    return move(f"{plan_id}#post", campaign_id, "post", HELD, SPENT, amount)


def void_transfer(campaign_id: str, plan_id: str, amount: int) -> Transfer:
    return move(f"{plan_id}#void", campaign_id, "void", HELD, POOL, amount)


def funded(transfer_id: str, campaign_id: str, kind: str, dest: str, amount: int,
           balances: Mapping[str, int]) -> Transfer:
    """Move `amount` to `dest`, reserve first, then pool; what neither holds is booked as shortfall.

    No balance ever goes silently negative: the shortfall account says, in the open, how
    much was paid out that the campaign did not have.
    """
    if not is_cents(amount) or amount <= 0:
        raise LedgerError(f"transfer {transfer_id}: amount must be positive integer cents")
    legs, left = [], amount
    for account in FUNDING_ORDER:
        take = min(left, max(int(balances.get(account, 0)), 0))
        if take:
            legs.append(Leg(account, -take))
            left -= take
    if left:
        legs.append(Leg(SHORTFALL, -left))
    return Transfer(transfer_id, campaign_id, kind, (*legs, Leg(dest, amount)))


def refund_transfer(transfer_id: str, campaign_id: str, amount: int, balances: Mapping[str, int]) -> Transfer:
    return funded(transfer_id, campaign_id, "refund", REFUNDED, amount, balances)


def dispute_opened_transfer(transfer_id: str, campaign_id: str, amount: int, balances: Mapping[str, int]) -> Transfer:
    return funded(transfer_id, campaign_id, "dispute_opened", FROZEN, amount, balances)


def returned(transfer_id: str, campaign_id: str, kind: str, source: str, amount: int,
             balances: Mapping[str, int]) -> Transfer:
    """Money that went out of `source` comes back: first to make good any shortfall outstanding,
    then to the pool, spendable again."""
    repay = min(amount, max(-int(balances.get(SHORTFALL, 0)), 0))
    legs = [Leg(source, -amount)] + [Leg(a, v) for a, v in ((SHORTFALL, repay), (POOL, amount - repay)) if v]
    return Transfer(transfer_id, campaign_id, kind, tuple(legs))


def dispute_won_transfer(transfer_id: str, campaign_id: str, amount: int, balances: Mapping[str, int]) -> Transfer:
    """The card network sided with the campaign: the frozen funds come back."""
    return returned(transfer_id, campaign_id, "dispute_won", FROZEN, amount, balances)


def refund_failed_transfer(transfer_id: str, campaign_id: str, amount: int, balances: Mapping[str, int]) -> Transfer:
    """A refund the donor's bank could not take: the processor returned it, so it is no longer refunded.
    A new transfer reversing the refund's effect, never an edit of it."""
    return returned(transfer_id, campaign_id, "refund_failed", REFUNDED, amount, balances)


def dispute_lost_transfer(transfer_id: str, campaign_id: str, amount: int, fee_cents: int,
                          balances: Mapping[str, int]) -> Transfer:
    """The frozen funds are gone for good, and the dispute fee is paid like a refund."""
    legs = [Leg(FROZEN, -amount), Leg(DISPUTES_LOST, amount)]
    if fee_cents:
        legs += funded(f"{transfer_id}#fee", campaign_id, "fee", FEES, fee_cents, balances).legs
    return Transfer(transfer_id, campaign_id, "dispute_lost", tuple(legs))


def net_deltas(transfers: Iterable[Transfer]) -> dict[str, int]:
    """One delta per account for a batch, so each balance item is written once per batch."""
    totals: dict[str, int] = defaultdict(int)
    for transfer in transfers:
        for account, amount in transfer.deltas().items():
            totals[account] += amount
    return {account: amount for account, amount in totals.items() if amount}


def balances_from(transfers: Iterable[Transfer]) -> dict[str, int]:
    balances = dict.fromkeys(ACCOUNTS, 0)
    for account, amount in net_deltas(transfers).items():
        balances[account] += amount
    return balances


def negative_accounts(balances: Mapping[str, int]) -> list[str]:
    return [a for a, v in balances.items() if v < 0 and a not in EXTERNAL]


@dataclass(frozen=True)
class Totals:
    """The public figures. raised + shortfall =
    fees + refunded + disputes lost + reserve + pool + frozen + held + spent."""

    raised_cents: int
    fees_cents: int
    refunded_cents: int
    disputes_lost_cents: int
    reserve_cents: int
    pool_available_cents: int
    frozen_cents: int
    held_cents: int
    spent_cents: int
    shortfall_cents: int
    balanced: bool

    @classmethod
    def from_balances(cls, balances: Mapping[str, int]) -> Totals:
        b = {account: int(balances.get(account, 0)) for account in ACCOUNTS}
        return cls(
            raised_cents=-b[DONORS],
            fees_cents=b[FEES],
            refunded_cents=b[REFUNDED],
            disputes_lost_cents=b[DISPUTES_LOST],
            reserve_cents=b[RESERVE],
            pool_available_cents=b[POOL],
            frozen_cents=b[FROZEN],
            held_cents=b[HELD],
            spent_cents=b[SPENT],
            shortfall_cents=-b[SHORTFALL],
            balanced=sum(b.values()) == 0 and not negative_accounts(b) and b[SHORTFALL] <= 0,
        )
