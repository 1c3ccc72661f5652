"""Money an operator records by hand, on moto: checks, cash and wires pooled like gifts with no fee, and
expenses held from the pool, approved N-of-M like purchases, then paid once or voided once."""

import datetime as dt
import hashlib
import json
from contextlib import contextmanager

import pytest

from functions.adapters import clock, offline, public_log
from functions.domain.campaigns import Campaign
from functions.domain.ledger import gift_transfer
from functions.domain.public_log import compare, verify
from functions.services import purchases as purchase_service
from local.emulator import LocalCloud
from ops import cli, operations, portability
from tests.support import assert_books_balance, figures, give, items, public

TOKENS = {"tok-alice": "alice", "tok-bob": "bob", "tok-carol": "carol"}
RECEIPT = b"%PDF-1.4 invoice 7 from the print shop\n"


def test_a_check_is_pooled_like_a_gift_with_no_fee_and_recorded_once(cloud):
    gift, new = operations.record_gift("c1", 10_001, "check", "CHK 1001", "2026-01-15",
                                       {"name": "Ada Donor", "email": "ada@example.org"})
    assert new
    again, new_again = operations.record_gift("c1", 10_001, "check", "CHK 1001", "2026-01-15")
    assert (again.donation_id, new_again) == (gift.donation_id, False)  # the same reference records once
    with pytest.raises(operations.OperationError, match="--amount-cents: reference 'CHK 1001' was recorded with "
                                                        "amount cents 10001, not 10002"):
        operations.record_gift("c1", 10_002, "check", "CHK 1001", "2026-01-15")
    cloud.drain()
    f = figures(cloud)
    split = gift_transfer("t", "c1", 10_001, 0, 1_000).deltas()  # the card gifts' split, with no fee
    assert (f["raised_cents"], f["fees_cents"], f["reserve_cents"], f["donations_confirmed"]) == (
        10_001, 0, split["reserve"], 1)
    assert f["pool_available_cents"] + f["held_cents"] + f["spent_cents"] == split["pool"]
    assert_books_balance(f)
    assert len(items("gift")) == 1 and len(items("donation")) == 1
    [donation] = items("donation")
    stored = json.dumps(public(donation))
    assert "Ada" not in stored and "ada@" not in stored and donation["donor_sealed"]  # sealed as card donors are
    # The donor's receipt, by the signed link the command prints; and their year-end statement.
    link = operations.receipt_path("c1", gift.donation_id).removeprefix(cloud.public_base_url)
    receipt = cloud.http("GET", link, headers={"Accept": "application/json"}).json()
    assert (receipt["amount_cents"], receipt["date"], receipt["method"], receipt["donor_name"]) == (
        10_001, "2026-01-15", "check", "Ada Donor")
    page = cloud.http("GET", link, headers={"Accept": "text/html"}).body
    assert "Paid by" in page and "check, reference CHK 1001" in page
    statement = operations.statement("ada@example.org", 2026)
    assert [g["amount_cents"] for g in statement["gifts"]] == [10_001]
    # The hourly reconcile finds it booked (no unpooled gift), and a Stripe comparison would not count it.
    assert cloud.run_schedule("reconcile")["drifted_accounts"] == 0


def test_bad_offline_gifts_are_refused_naming_the_option(cloud):
    for args, option in ((("c1", 0, "check", "R1"), "--amount-cents"), (("c1", 100, "barter", "R1"), "--method"),
                         (("c1", 100, "cash", " "), "--reference"), (("c1", 100, "cash", "R1", "2099-01-01"), "--date"),
                         (("c1", 100, "cash", "R1", "15/01/2026"), "--date")):
        with pytest.raises(ValueError, match=option):
            operations.record_gift(*args)
    assert items("donation") == [] and items("outbox") == []


@contextmanager
def approvals_deployment():
    """A campaign whose purchases and expenses need 2 of 3 approvers, with $45 in its pool."""
    with LocalCloud(public_base_url="http://jubilee.test", app_secret="s", admin_tokens=TOKENS) as cloud:
        approvers = tuple(cloud.user_arn(name) for name in ("alice", "bob", "carol"))
        operations.create_campaign(Campaign("c1", "Approved Costs", threshold_cents=10_000_000, approvers=approvers,
                                            approvals_required=2, plan_ttl_hours=24))
        give(cloud, [5_000])
        cloud.drain()
        yield cloud


@pytest.fixture
def approvals_cloud():
    with approvals_deployment() as cloud:
        yield cloud


def approve(campaign, expense_id, approver):
    """As `jubilee expenses approve` does: the purchases' approval use case, on the expenses' store."""
    return purchase_service.approve(offline.ExpenseApprovalStore(), campaign, expense_id, approver)


def admin(cloud, method, path, who):
    return cloud.http(method, path, headers={"Authorization": f"Bearer tok-{who}"})


def test_an_expense_is_held_then_paid_once_at_two_approvals_and_logged(approvals_cloud):
    cloud = approvals_cloud
    pool = figures(cloud)["pool_available_cents"]
    item, new = operations.add_expense("c1", 1_234, "Print Shop", "letters: printing and postage", RECEIPT)
    expense_id = item["expense_id"]
    assert new and item["status"] == "proposed"
    f = figures(cloud)
    assert (f["pool_available_cents"], f["held_cents"], f["expenses_cents"]) == (pool - 1_234, 1_234, 0)
    # The same receipt again holds nothing more.
    assert operations.add_expense("c1", 1_234, "Print Shop", "letters: printing and postage", RECEIPT)[1] is False
    with pytest.raises(operations.OperationError, match="--payee"):
        operations.add_expense("c1", 1_234, "Other Shop", "letters: printing and postage", RECEIPT)
    path = f"/admin/expenses/{expense_id}/approve"
    for _ in range(2):  # the same approver twice counts once
        assert admin(cloud, "POST", path, "alice").json()["status"] == "proposed"
    assert admin(cloud, "POST", path, "bob").json()["status"] == "paid"
    assert admin(cloud, "POST", path, "carol").status == 409  # closed
    assert approve(operations._campaign("c1"), expense_id, cloud.user_arn("carol"))["status"] == "paid"
    f = figures(cloud)
    assert (f["pool_available_cents"], f["held_cents"], f["expenses_cents"]) == (pool - 1_234, 0, 1_234)
    assert_books_balance(f)
    assert [t["kind"] for t in items() if t.get("expense_id") == expense_id and "legs" in t] == ["hold", "post"]
    [entry] = [e for e in public_log.entries("c1") if e["type"] == "expense"]
    assert (entry["payee"], entry["purpose"], entry["amount_cents"], entry["receipt_sha256"]) == (
        "Print Shop", "letters: printing and postage", 1_234, hashlib.sha256(RECEIPT).hexdigest())
    checked = verify(public_log.entries("c1"))
    assert checked.ok and checked.totals.expenses_cents == 1_234 and compare(checked, f) == []
    # The sweep finds nothing left to finish.
    assert cloud.run_schedule("sweep")["results"][0]["expenses"] == {"paid": 0, "voided": 0}


def test_an_expense_above_the_pool_is_refused_with_nothing_held(approvals_cloud):
    cloud = approvals_cloud
    before, pool = items(), figures(cloud)["pool_available_cents"]
    with pytest.raises(operations.OperationError, match=r"--amount-cents: the pool has \$.* available; an expense of "
                                                        r"\$.* is above it \(nothing was held\)"):
        operations.add_expense("c1", pool + 1, "Lawyer", "advice", RECEIPT)
    assert items() == before
    # Held against a pool that moved since it was read, the balance's own condition refuses it whole.
    assert offline.hold(operations.make_expense("c1", pool + 1, "Lawyer", "advice", RECEIPT, clock.now(), 1),
                        approved=True) == "short"
    assert items() == before


def test_a_rejected_or_expired_expense_returns_its_hold_once(approvals_cloud, monkeypatch):
    cloud = approvals_cloud
    pool = figures(cloud)["pool_available_cents"]
    rejected, _ = operations.add_expense("c1", 500, "A", "one", b"receipt one")
    expiring, _ = operations.add_expense("c1", 700, "B", "two", b"receipt two")
    voided = admin(cloud, "POST", f"/admin/expenses/{rejected['expense_id']}/reject", "carol").json()
    assert voided["status"] == "voided" and "rejected by" in voided["void_reason"]
    assert admin(cloud, "POST", f"/admin/expenses/{rejected['expense_id']}/reject", "carol").status == 409
    monkeypatch.setattr(clock, "now", lambda: dt.datetime.now(dt.UTC) + dt.timedelta(hours=25))
    assert cloud.run_schedule("sweep")["results"][0]["expenses"] == {"paid": 0, "voided": 1}
    assert cloud.run_schedule("sweep")["results"][0]["expenses"] == {"paid": 0, "voided": 0}
    f = figures(cloud)
    assert (f["pool_available_cents"], f["held_cents"], f["expenses_cents"]) == (pool, 0, 0)
    assert len(items("void")) == 2 and items("post") == []
    assert {e["expense_id"]: e["status"] for e in offline.all_expenses("c1")} == {
        rejected["expense_id"]: "voided", expiring["expense_id"]: "voided"}
    assert_books_balance(f)


def test_an_approval_interrupted_before_payment_is_paid_by_the_sweep_once(approvals_cloud, monkeypatch):
    cloud = approvals_cloud
    item, _ = operations.add_expense("c1", 900, "Mailer", "postage", RECEIPT)
    monkeypatch.setattr(offline, "pay", lambda *a: (_ for _ in ()).throw(RuntimeError("crash")))
    campaign = operations._campaign("c1")
    approve(campaign, item["expense_id"], cloud.user_arn("alice"))
    with pytest.raises(RuntimeError):  # the second approval is counted, then the function dies
        approve(campaign, item["expense_id"], cloud.user_arn("bob"))
    monkeypatch.undo()
    assert figures(cloud)["expenses_cents"] == 0
    for _ in range(2):
        cloud.run_schedule("sweep")
    f = figures(cloud)
    assert (f["held_cents"], f["expenses_cents"]) == (0, 900) and len(items("post")) == 1
    assert_books_balance(f)


def test_offline_gifts_and_expenses_survive_an_export_and_import(tmp_path):
    with approvals_deployment() as cloud:
        operations.record_gift("c1", 20_000, "wire", "FT-2026-77", donor={"name": "Wire Giver"})
        cloud.drain()
        item, _ = operations.add_expense("c1", 1_500, "Print Shop", "letters", RECEIPT)
        for who in ("alice", "bob"):
            admin(cloud, "POST", f"/admin/expenses/{item['expense_id']}/approve", who)
        operations.add_expense("c1", 300, "Held", "still waiting", b"another receipt")
        published = figures(cloud)
        portability.export_campaign("c1", tmp_path / "out", include_personal_data=True)
    exported = portability.read_jsonl(tmp_path / "out", "expenses")
    assert sorted(e["status"] for e in exported) == ["paid", "proposed"]
    assert portability.verify_log(str(tmp_path / "out"))["ok"]
    with LocalCloud(public_base_url="http://jubilee.test", app_secret="other", admin_tokens=TOKENS) as fresh:
        portability.import_campaign(tmp_path / "out", "c1")
        assert figures(fresh) == published
        assert {e["expense_id"]: e["status"] for e in offline.all_expenses("c1")} == {
            e["expense_id"]: e["status"] for e in exported}
        [wire] = [d for d in items("donation") if d.get("method") == "wire"]
        assert (wire["reference"], wire["amount_cents"], wire["fee_cents"]) == ("FT-2026-77", 20_000, 0)
        assert portability.import_campaign(tmp_path / "out", "c1") == dict.fromkeys(portability.DATASETS, 0)


def test_the_commands_on_a_local_endpoint(served_cloud, tmp_path, capsys):
    cloud, url = served_cloud
    endpoint = ["--endpoint-url", url]
    receipt = tmp_path / "invoice.pdf"
    receipt.write_bytes(RECEIPT)
    record = ["gifts", "record", "--campaign", "c1", "--amount-cents", "5000", "--method", "cash",
              "--reference", "BOX-3", *endpoint]
    assert cli.main(record) == 0
    out = capsys.readouterr().out
    assert "recorded cash 'BOX-3' of $50.00" in out and "/receipts/c1/offline-" in out
    assert cli.main(record) == 0 and "was recorded before" in capsys.readouterr().out
    assert cli.main([*record[:5], "5001", *record[6:]]) == 2
    assert "--amount-cents: reference 'BOX-3' was recorded with" in capsys.readouterr().err
    cloud.drain()
    spend = ["expenses", "add", "--campaign", "c1", "--payee", "Print Shop", "--purpose", "letters",
             "--receipt", str(receipt), *endpoint]
    assert cli.main([*spend, "--amount-cents", "999999"]) == 2
    assert "(nothing was held)" in capsys.readouterr().err
    assert cli.main([*spend, "--amount-cents", "700"]) == 0  # c1 needs no approval: paid at once
    assert ": paid" in capsys.readouterr().out
    [listed] = offline.all_expenses("c1")
    assert (listed["status"], listed["amount_cents"]) == ("paid", 700)
    f = figures(cloud)
    assert (f["raised_cents"], f["expenses_cents"]) == (5_000, 700)
    assert_books_balance(f)
