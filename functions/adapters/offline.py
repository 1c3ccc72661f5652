"""Offline gifts and expenses in DynamoDB (the rules are functions/domain/offline.py).

An offline gift is a confirmed donation of provider `offline` written with its gift's outbox message
in one transaction, keyed by its reference: the pool stage books it as it books any gift. An expense
is an item beside the campaign's plans; each of its steps (hold, pay, void) is one transaction whose
conditions let it happen once, with its ledger transfer and, when paid, its public log entry.
"""

from __future__ import annotations

from typing import Any, Literal

from functions.adapters import donors, dynamo, ledger, public_log, purchases
from functions.adapters.keys import campaign_pk, expense_sk
from functions.domain.gifts import PaymentConfirmed
from functions.domain.offline import OFFLINE, Expense, OfflineGift
from functions.domain.public_log import expense_body
from functions.domain.purchase import campaign_of

# --- offline gifts ------------------------------------------------------------------------------


def record_gift(gift: OfflineGift, currency: str, donor: dict[str, Any], anonymous: bool) -> bool:
    """Write the gift and announce it to the pool stage, once; False if its reference was recorded before."""
    cid, donation_id = gift.campaign_id, gift.donation_id
    # The donation's item as the ledger adapter shapes every donation (the store contract test uses it too).
    item = ledger._donation_item(cid, donation_id, gift.amount_cents, currency, OFFLINE, "confirmed",
                                 donors.seal(cid, donation_id, donor), anonymous,
                                 confirmed_at=f"{gift.received_on}T00:00:00+00:00", posted_at=ledger.now_iso(),
                                 fee_cents=0, payment_id=donation_id, method=gift.method, reference=gift.reference,
                                 received_on=gift.received_on)
    fact = PaymentConfirmed(f"offline#{donation_id}", OFFLINE, donation_id, cid, donation_id, gift.amount_cents,
                            currency, 0)
    return dynamo.transact_once([dynamo.put(item), dynamo.outbox("donations", fact.transfer_id, fact.to_message())])


# --- expenses -----------------------------------------------------------------------------------

LIVE = ("proposed", "approved")  # an expense whose funds are held


def load(campaign_id: str, expense_id: str) -> dict[str, Any] | None:
    return dynamo.get(campaign_pk(campaign_id), expense_sk(expense_id))


def all_expenses(campaign_id: str) -> list[dict[str, Any]]:
    return list(dynamo.query(campaign_pk(campaign_id), expense_sk("")))


def _set_status(expense: Expense, status: str, allowed: tuple[str, ...], **fields: Any) -> dict[str, Any]:
    return purchases.finish(expense.campaign_id, expense_sk(expense.expense_id), status, allowed, **fields)


def _moved(expense: Expense, transfer: Any) -> list[dict[str, Any]]:
    return [ledger.transfer_put(transfer, expense_id=expense.expense_id),
            *ledger.balance_updates(expense.campaign_id, [transfer])]


Held = Literal["held", "exists", "short"]


def hold(expense: Expense, approved: bool) -> Held:
    """Hold the expense's amount (pool -> held) with its item: "held", "exists" (added before: nothing
    written) or "short" (the pool holds less: the balance's condition refused it, nothing written)."""
    item = {"pk": campaign_pk(expense.campaign_id), "sk": expense_sk(expense.expense_id), "kind": "expense",
            **expense.to_dict(), "status": "approved" if approved else "proposed", "held_at": ledger.now_iso()}
    try:
        dynamo.transact([dynamo.put(item), *_moved(expense, expense.hold())])
    except dynamo.TransactionCancelled as cancelled:
        if 0 in cancelled.failed() or 1 in cancelled.failed():
            return "exists"
        if cancelled.failed():
            return "short"
        raise
    return "held"


def pay(expense: Expense, approved_by: list[str]) -> bool:
    """Post the hold to `expenses` and log it publicly, once (False: paid or voided before)."""
    body = expense_body(expense.campaign_id, expense.expense_id, expense.payee, expense.purpose,
                        expense.amount_cents, expense.receipt_sha256, ledger.now_iso())
    return public_log.transact_logged(expense.campaign_id, [
        _set_status(expense, "paid", LIVE, approved_by=approved_by), *_moved(expense, expense.post())], body)


def void(expense: Expense, reason: str) -> bool:
    """Release the hold back to the pool, once (False: paid or voided before)."""
    return dynamo.transact_once([_set_status(expense, "voided", LIVE, void_reason=reason[:500]),
                                 *_moved(expense, expense.void())])


class ExpenseApprovalStore:
    """The approvals' port (functions/services/ports.py) for expenses: the purchases' approval use case counts
    each approver once, by the same rule; at N the expense is paid (there is no seller to wait for)."""

    def load_plan(self, expense_id: str) -> dict[str, Any] | None:
        return load(campaign_of(expense_id), expense_id)

    def add_approval(self, campaign_id: str, expense_id: str, approver: str) -> dict[str, Any] | None:
        return purchases.count_approver(campaign_id, expense_sk(expense_id), approver)

    def mark_approved(self, item: dict[str, Any], approvers: list[str]) -> bool:
        return pay(Expense.from_dict(item), approvers)
