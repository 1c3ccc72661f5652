"""What operators see and do about offers and campaigns: overlaps by offer and plan, counter-offers,
campaign settings changed and recorded."""

import json
import os

import pytest

from functions.adapters import ledger
from functions.domain.campaigns import CampaignError
from functions.domain.public_log import verify
from local.sample_data import offer_csv
from ops import operations
from ops.cli import print_counter, print_offer
from tests.integration.test_duplicates import as_file, respelled, rows
from tests.support import figures, give, items


def plain(body, **changes):
    """The sample's accounts with no household income (so the default policy takes every medical one)."""
    return [r | {"household_income_cents": "", "household_size": ""} | changes for r in rows(body)]


def test_offers_show_names_the_open_offers_and_the_plans_that_hold_its_accounts(cloud, capsys):
    body = as_file(plain(offer_csv(5, 1)))
    operations.add_offer("c1", body, "sandbox", 1_500, offer_id="first")
    # Another seller: the same five accounts spelled its way, and two of its own; dearer than the pool holds.
    shared = as_file(rows(respelled(body)) + plain(offer_csv(2, 2)))
    operations.add_offer("c1", shared, "sandbox", 9_000, offer_id="second")
    face = sum(int(r["balance_cents"]) for r in rows(body))
    # Each now names the other, whichever was registered first (at add, only the later one was flagged).
    first = operations.show_offer("c1", "first")
    assert first["duplicates"]["accounts"] == 0
    assert first["overlaps"]["offers"] == {"second": {"status": "open", "accounts": 5, "face_value_cents": face}}
    assert first["overlaps"]["bought"] == {}
    assert operations.show_offer("c1", "second")["overlaps"]["offers"]["first"]["accounts"] == 5
    give(cloud, [2_000])  # enough for the first only
    cloud.drain()
    assert figures(cloud)["purchases"] == 1
    second = operations.show_offer("c1", "second")
    assert second["overlaps"]["offers"] == {}
    assert second["overlaps"]["bought"] == {"c1.first.0": {"accounts": 5, "face_value_cents": face}}
    assert json.loads(json.dumps(second))["overlaps"] == second["overlaps"]  # what --json prints
    print_offer(second)
    said = " ".join(capsys.readouterr().out.split())
    assert "5 bought already, by plan c1.first.0" in said
    sold = operations.show_offer("c1", "first")
    assert sold["overlaps"] is None and sold["plan_id"] == "c1.first.0"  # its file is gone; its plan is named
    print_offer(sold)
    assert "(sold, plan c1.first.0)" in capsys.readouterr().out


def test_a_counter_offer_keeps_what_qualifies_at_a_proportional_price_and_registers_again(cloud, tmp_path, capsys):
    bought = as_file(plain(offer_csv(3, 1)))
    operations.add_offer("c1", bought, "sandbox", 1_500, offer_id="bought")
    give(cloud, [2_000])
    cloud.drain()
    assert figures(cloud)["accounts_forgiven"] == 3
    fresh = plain(offer_csv(4, 2))
    for row in fresh[:2]:
        row["debt_type"] = "credit_card"  # not bought under the campaign's (default, medical) policy
    mixed = rows(respelled(bought))[:2] + fresh
    operations.add_offer("c1", as_file(mixed), "seller-x", 7_777, offer_id="mixed")
    out = tmp_path / "counter.csv"
    done = operations.counter_offer("c1", "mixed", out)
    total = sum(int(r["balance_cents"]) for r in mixed)
    kept = sum(int(r["balance_cents"]) for r in fresh[2:])
    assert (done["accounts"], done["face_value_cents"]) == (6, total)
    assert (done["kept_accounts"], done["kept_face_value_cents"]) == (2, kept)
    assert (done["not_eligible"], done["already_bought"], done["in_other_offers"]) == (2, 2, 0)
    assert done["proposed_price_cents"] == 7_777 * kept // total  # rounded down to the cent
    assert os.stat(out).st_mode & 0o777 == 0o600  # it names debtors
    print_counter(done)
    assert f"proposed price: ${done['proposed_price_cents'] // 100:,}." in capsys.readouterr().out
    # The seller takes it: the file registers as it is, with exactly the accounts kept.
    again, skipped = operations.add_offer("c1", out.read_bytes(), "seller-x", done["proposed_price_cents"],
                                          offer_id="accepted")
    assert (again.accounts, again.face_value_cents, skipped.problem_count) == (2, kept, 0)
    assert {r["account_ref"] for r in rows(out.read_bytes())} == {r["account_ref"] for r in fresh[2:]}
    assert operations.show_offer("c1", "accepted")["overlaps"]["offers"] == {
        "mixed": {"status": "open", "accounts": 2, "face_value_cents": kept}}  # until the first is withdrawn
    with pytest.raises(operations.OperationError, match="only an open offer"):
        operations.counter_offer("c1", "bought", out)


def test_a_counter_offer_with_nothing_to_keep_writes_nothing(cloud, tmp_path):
    operations.add_offer("c1", as_file(plain(offer_csv(2, 3), debt_type="auto")), "s", 500, offer_id="cars")
    with pytest.raises(operations.OperationError, match="no account of offer cars qualifies"):
        operations.counter_offer("c1", "cars", tmp_path / "none.csv")
    assert not (tmp_path / "none.csv").exists()


def test_campaign_settings_change_whole_recorded_and_public_ones_logged(cloud):
    changes = operations.update_campaign("c1", {"contact": "new@test.example", "threshold_cents": 2_500,
                                                "generic_creditor": True})
    assert {c.field: (c.old, c.new) for c in changes} == {
        "contact": ("team@test.example", "new@test.example"), "threshold_cents": (1_000, 2_500),
        "generic_creditor": (False, True)}
    campaign = ledger.load_campaign("c1")
    assert (campaign.contact, campaign.threshold_cents, campaign.generic_creditor) == (
        "new@test.example", 2_500, True)
    shown = operations.show_campaign("c1")
    assert [(c["field"], c["old"], c["new"]) for c in shown["changes"]] == [
        ("contact", "team@test.example", "new@test.example"), ("generic_creditor", False, True),
        ("threshold_cents", 1_000, 2_500)]
    assert all(c["by"].startswith("arn:aws:") and c["at"] and c["version"] == 1 for c in shown["changes"])
    log = cloud.http("GET", "/campaigns/c1/log").json()["entries"]
    [entry] = [e for e in log if e["type"] == "campaign-change"]  # the threshold is public; the contact is not
    assert entry["changes"] == [{"field": "threshold_cents", "old": 1_000, "new": 2_500}] and "by" not in entry
    assert verify(log).ok, verify(log).problems
    # A bad value names its field, and nothing of the update happens; so does a setting that is fixed.
    for settings, field in (({"contact": "x", "reserve_bps": 20_000}, "reserve_bps"),
                            ({"approvals_required": 3}, "approvals_required"),
                            ({"currency": "EUR"}, "currency"), ({"colour": "red"}, "colour")):
        with pytest.raises(CampaignError) as refused:
            operations.update_campaign("c1", settings)
        assert refused.value.field == field
    assert ledger.load_campaign("c1") == campaign and len(items("campaign-change")) == 3
    assert operations.update_campaign("c1", {"contact": "new@test.example"}) == []  # the same value: no change
    # Two operators at once: the one who read an older version changes nothing.
    _, version = ledger.campaign_settings("c1")
    assert operations.update_campaign("c1", {"reserve_bps": 500})[0].new == 500
    assert not ledger.update_campaign("c1", version, changes[:1], "someone", None)
    assert ledger.load_campaign("c1").reserve_bps == 500 and len(items("campaign-change")) == 4


def test_campaigns_list_show_and_update_from_the_command_line(served_cloud, capsys):
    from ops import cli

    _, url = served_cloud
    endpoint = ["--endpoint-url", url]
    assert cli.main(["campaigns", "update", "c1", "--set", "letter_tax_note=Not taxable.", "--approver",
                     "arn:aws:iam::123456789012:user/ana", "--approvals-required", "1", "--json", *endpoint]) == 0
    said = json.loads(capsys.readouterr().out)
    assert {c["field"] for c in said["changes"]} == {"letter_tax_note", "approvers", "approvals_required"}
    assert cli.main(["campaigns", "update", "c1", "--set", "reserve_bps=lots", *endpoint]) == 2
    assert "reserve_bps: 'lots' is not a whole number" in capsys.readouterr().err
    assert cli.main(["campaigns", "update", "c1", "--set", "policy=[1]", *endpoint]) == 2
    assert "policy: must be a JSON object" in capsys.readouterr().err
    assert cli.main(["campaigns", "list", "--json", *endpoint]) == 0
    [listed] = json.loads(capsys.readouterr().out)["campaigns"]
    assert (listed["campaign_id"], listed["approvals"]) == ("c1", "1 of 1")
    assert cli.main(["campaigns", "show", "c1", *endpoint]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert 'letter_tax_note: "" → "Not taxable."' in shown and "approvals_required: 0 → 1 by arn:aws:" in shown
    identity_and_email_change_through_campaigns_update(endpoint, capsys)


def identity_and_email_change_through_campaigns_update(endpoint: list[str], capsys) -> None:
    from ops import cli

    assert cli.main(["campaigns", "update", "c1", "--legal-name", "Spring Fund Inc", "--ein", "12-3456789",
                     "--entity-type", "501c3", "--address", "1 Main St, Suite 2, Springfield, IL 62701", "--json",
                     *endpoint]) == 0
    said = json.loads(capsys.readouterr().out)
    assert {c["field"] for c in said["changes"]} == {"legal_name", "ein", "entity_type", "postal_address"}
    assert cli.main(["campaigns", "update", "c1", "--ein", "123456789", *endpoint]) == 2
    assert "ein: must be two digits, a dash" in capsys.readouterr().err
    # SES sends only from a verified identity: turning email on from an unverified sender changes nothing.
    assert cli.main(["campaigns", "update", "c1", "--email-receipts", "--email-from", "gifts@unverified.example",
                     *endpoint]) == 2
    assert "--email-from: neither gifts@unverified.example" in capsys.readouterr().err
    assert cli.main(["campaigns", "show", "c1", "--json", *endpoint]) == 0
    settings = json.loads(capsys.readouterr().out)["settings"]
    assert (settings["ein"], settings["email_receipts"]) == ("12-3456789", False)
