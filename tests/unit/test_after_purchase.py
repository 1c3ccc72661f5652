"""The rules that follow a purchase, without AWS: seller files, refunds, the checklist, the proof."""

from __future__ import annotations

import pytest

from functions.domain import after_purchase as rules
from functions.domain import letters


def test_a_sellers_list_is_read_by_its_own_headers_and_refused_whole_naming_lines():
    found = rules.read_accounts_file(["Acct #,Reason\n", "A-1,Deceased\n", "\n", "A-2,not owned\n", "A-1,other\n"],
                                     "FILE", reason_required=True)
    assert [(r.line, r.account_ref, r.reason) for r in found] == [(2, "A-1", "deceased"), (4, "A-2", "not_owned")]
    with pytest.raises(rules.AfterPurchaseError, match=r"FILE: line 2: reason 'gone' .*; line 3: account_ref is empty"):
        rules.read_accounts_file(["account_ref,reason\n", "A-1,gone\n", ",deceased\n"], "FILE", True)
    assert rules.read_accounts_file(["Account Number\n", "A-1\n"], "--accounts", False)[0].reason == "other"


def test_refunds_never_pass_the_price_and_references_name_one_transfer():
    rules.check_refund(500, 1_500, 1_000)
    with pytest.raises(rules.AfterPurchaseError, match="501 is more than the plan's price left"):
        rules.check_refund(501, 1_500, 1_000)
    with pytest.raises(rules.AfterPurchaseError, match="positive"):
        rules.check_refund(0, 1_500, 0)
    assert rules.putback_id("p", "CM-1") == rules.putback_id("p", "CM-1") != rules.putback_id("p", "CM-2")
    with pytest.raises(rules.AfterPurchaseError, match="--reference"):
        rules.check_reference("é" * 3)


def test_letters_are_due_days_after_settlement_and_a_withheld_letter_ends_its_wait():
    assert rules.letters_due_at("2026-01-30T10:00:00+00:00", 3) == "2026-02-02T10:00:00+00:00"
    assert letters.withhold("printed") == letters.Move(letters_waiting=-1, unsettled=-1)
    assert letters.withhold("returned") == letters.Move(unsettled=-1)
    assert letters.withhold("mailed") is None and letters.move("withheld", "mailed") is None


def test_the_checklist_counts_open_items_of_settled_plans_only():
    plans = [{"plan_id": "a", "status": "settled", "ticked_collectors_recalled": "2026-01-01"},
             {"plan_id": "b", "status": "voided"}, {"plan_id": "c", "status": "settled",
                                                     **{rules.ticked_attribute(i): "t" for i in rules.CHECKLIST}}]
    assert rules.open_checklist(plans) == {"a": 2}
    assert rules.checklist_item("Judgments satisfied") == "judgments-satisfied"


def test_the_digest_covers_the_sorted_hashes_and_membership_is_a_lookup():
    listing = rules.hash_list(["b" * 32, "a" * 32, "b" * 32])
    assert listing == f"{'a' * 32}\n{'b' * 32}\n".encode()
    assert rules.accounts_digest(listing) == rules.accounts_digest(rules.hash_list(["a" * 32, "b" * 32]))
    hashes = listing.decode().split()
    assert rules.position_in(hashes, "b" * 32) == 1 and rules.position_in(hashes, "c" * 32) is None
