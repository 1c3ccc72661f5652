"""The pure rules behind operators' commands: a counter-offer's price, settings given as text, changes checked whole."""

import pytest

from functions.domain.campaigns import Campaign, CampaignError, changed, setting_value
from functions.domain.counter import proportional_price
from functions.domain.public_log import campaign_change_body, next_entry, verify

CAMPAIGN = Campaign("c1", "Spring", contact="desk@example.org")


def test_a_proportional_price_is_rounded_down_to_the_cent_and_never_nothing_for_something():
    assert proportional_price(10_000, 1, 3) == 3_333  # 3,333.33… cents, rounded down
    assert proportional_price(7_777, 50_000, 100_000) == 3_888
    assert proportional_price(100, 1, 1_000_000) == 1  # at least a cent when something is kept
    assert proportional_price(10_000, 0, 100) == 0 and proportional_price(10_000, 5, 0) == 0
    assert proportional_price(10_000, 100, 100) == 10_000


@pytest.mark.parametrize("name, text, value", [
    ("threshold_cents", "250_000", 250_000), ("generic_creditor", "yes", True), ("contact", "a@b.org", "a@b.org"),
    ("policy", '{"debt_types": ["medical", "utility"]}', {"debt_types": ["medical", "utility"]}),
    ("approvers", '["arn:aws:iam::1:user/a"]', ["arn:aws:iam::1:user/a"]),
])
def test_a_setting_given_as_text_takes_its_field_s_type(name, text, value):
    assert setting_value(name, text) == value


@pytest.mark.parametrize("name, text, problem", [
    ("threshold_cents", "5k", "is not a whole number"), ("generic_creditor", "maybe", "true or false"),
    ("policy", "medical", "must be JSON"), ("letter_languages", '"en"', "must be a JSON list"),
    ("colour", "red", "is not a campaign setting"),
])
def test_a_setting_that_cannot_be_read_names_its_field(name, text, problem):
    with pytest.raises(CampaignError) as refused:
        setting_value(name, text)
    assert refused.value.field == name and problem in refused.value.problem


def test_changes_are_checked_as_a_whole_campaign_and_only_real_changes_are_listed():
    updated, changes = changed(CAMPAIGN, {"contact": "desk@example.org", "reserve_bps": 500,
                                          "approvers": ["a", "b"], "approvals_required": 2})
    assert updated.approvers == ("a", "b") and updated.reserve_bps == 500
    assert [(c.field, c.old, c.new) for c in changes] == [("reserve_bps", 1_000, 500), ("approvers", [], ["a", "b"]),
                                                          ("approvals_required", 0, 2)]
    for settings, field in (({"approvals_required": 1}, "approvals_required"),  # more than the approvers
                            ({"payments": "stripe"}, "payments"), ({"campaign_id": "c2"}, "campaign_id"),
                            ({"policy": {"debt_types": ["boats"]}}, "policy")):
        with pytest.raises(CampaignError) as refused:
            changed(CAMPAIGN, settings)
        assert refused.value.field == field


def test_the_public_log_counts_a_settings_change_and_refuses_a_malformed_one():
    _, changes = changed(CAMPAIGN, {"threshold_cents": 9_000})
    good = next_entry("0" * 64, 1, campaign_change_body("c1", changes) | {"at": "2026-01-01T00:00:00+00:00"})
    assert verify([good]).ok and verify([good]).totals.entries == 1
    bad = next_entry("0" * 64, 1, {"type": "campaign-change", "campaign_id": "c1", "changes": [{"field": "x"}]})
    assert "malformed" in verify([bad]).problems[0]
