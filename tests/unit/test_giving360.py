"""The 360Giving package against the standard's own package schema (vendored: ops/schemas/README.md),
validated with jsonschema; its spreadsheet form under the standard's column titles."""

import csv
import io
import json

import pytest

from functions.domain.impact import abolished_share_cents, split_cents
from ops import giving360
from tests.support import giving360_problems as problems

CAMPAIGN = {"campaign_id": "c1", "name": "Test Campaign", "currency": "USD"}
# Two portfolios: the first's accounts in two states, the second's in one.
EVENTS = [{"plan_id": "p1", "state": "NY", "face_value_cents": 60_000, "forgiven_at": "2026-01-05T10:00:00Z"},
          {"plan_id": "p1", "state": "NY", "face_value_cents": 30_001, "forgiven_at": "2026-01-05T10:00:01Z"},
          {"plan_id": "p1", "state": "TX", "face_value_cents": 10_000, "forgiven_at": "2026-01-05T10:00:02Z"},
          {"plan_id": "p2", "state": "CA", "face_value_cents": 55_555, "forgiven_at": "2026-02-01T09:00:00Z"}]
PLANS = [{"plan_id": "p1", "price_cents": 1_001}, {"plan_id": "p2", "price_cents": 500}]


def built(campaign=CAMPAIGN, events=EVENTS, prefix="360G-testfund"):
    package = giving360.package(campaign, events, PLANS, prefix=prefix, issued="2026-03-01")
    return json.loads(giving360.dumps(package))


def test_the_package_validates_against_the_standards_schema_with_its_metadata():
    package = built()
    assert problems(package) == []
    assert {"title", "issued", "license", "publisher", "version"} <= package.keys()
    assert package["publisher"] == {"identifier": "360G-testfund-c1", "name": "Test Campaign"}
    assert package["issued"] == "2026-03-01" and package["version"] == "1.4"
    assert problems({"grants": []}) != []  # (the schema asks for a grant: why no package is written for none)
    assert giving360.package(CAMPAIGN, [], PLANS, prefix="360G-x", issued="2026-03-01") is None


def test_amount_awarded_is_the_money_spent_and_the_face_value_forgiven_is_its_own_field():
    grants = {g["id"]: g for g in built()["grants"]}
    assert list(grants) == ["360G-testfund-p1-NY", "360G-testfund-p1-TX", "360G-testfund-p2-CA"]
    # p1's $10.01 split by face value: NY 90,001 of 100,001, TX 10,000 (to the cent, summing to the price).
    assert [g["amountAwarded"] for g in grants.values()] == [9.01, 1.0, 5.0]
    assert [g["faceValueForgiven"] for g in grants.values()] == [900.01, 100.0, 555.55]
    assert [g["accountsForgiven"] for g in grants.values()] == [2, 1, 1]
    assert grants["360G-testfund-p1-NY"]["awardDate"] == "2026-01-05"
    assert grants["360G-testfund-p2-CA"]["beneficiaryLocation"] == [
        {"name": "CA", "countryCode": "US", "geoCode": "US-CA", "geoCodeType": "ISO 3166-2"}]
    text = giving360.dumps(giving360.package(CAMPAIGN, EVENTS, PLANS, prefix="360G-x", issued="2026-03-01"))
    assert '"amountAwarded": 1.00,' in text  # written with the currency's two decimals, never through a float


def test_the_funder_is_identified_by_its_ein_and_otherwise_by_the_publisher_prefix():
    with_ein = built({**CAMPAIGN, "ein": "12-3456789", "legal_name": "Test Campaign Inc."})
    assert problems(with_ein) == []
    assert with_ein["publisher"] == {"identifier": "US-EIN-123456789", "name": "Test Campaign Inc."}
    assert {json.dumps(g["fundingOrganization"]) for g in with_ein["grants"]} == {
        json.dumps([{"id": "US-EIN-123456789", "name": "Test Campaign Inc."}])}
    assert giving360.organisation_id({**CAMPAIGN, "ein": "123"}, "360G-x") == "360G-x-c1"  # not an EIN


@pytest.mark.parametrize("prefix", ["XI-JUBILEE", "360G-", "360G-a/b", "360G-" + "x" * 61, ""])
def test_a_grant_id_prefix_must_be_a_360giving_one(prefix):
    with pytest.raises(giving360.GrantPrefixError, match="--grant-id-prefix"):
        giving360.check_prefix(prefix)


def test_the_spreadsheet_has_the_standards_column_titles_and_the_same_amounts():
    package = giving360.package(CAMPAIGN, EVENTS, PLANS, prefix="360G-testfund", issued="2026-03-01")
    rows = list(csv.DictReader(io.StringIO(giving360.to_csv(package))))
    # The ten required columns, as the standard's guidance names them.
    required = {"Identifier", "Title", "Description", "Currency", "Amount Awarded", "Award Date",
                "Recipient Ind:Identifier", "Recipient Ind:Name", "Funding Org:Identifier", "Funding Org:Name"}
    assert required <= rows[0].keys()
    assert {"Beneficiary Location:Geographic Code", "Beneficiary Location:Geographic Code Type",
            "Beneficiary Location:Country Code", "Location Scope", "Face Value Forgiven"} <= rows[0].keys()
    assert [(r["Identifier"], r["Amount Awarded"], r["Face Value Forgiven"]) for r in rows] == [
        ("360G-testfund-p1-NY", "9.01", "900.01"), ("360G-testfund-p1-TX", "1.00", "100.00"),
        ("360G-testfund-p2-CA", "5.00", "555.55")]
    assert rows[0]["Beneficiary Location:Geographic Code"] == "US-NY" and rows[0]["Funding Org:Name"] == "Test Campaign"


def test_a_donors_share_of_the_debt_abolished():
    assert abolished_share_cents(2_500, 100_000, 2_000_000) == 50_000  # a quarter of raised: a quarter abolished
    assert abolished_share_cents(1, 3, 100) == 33  # rounded down to the cent
    assert abolished_share_cents(2_500, 0, 0) == 0  # nothing raised, nothing abolished
    with pytest.raises(ValueError, match="gift_cents"):
        abolished_share_cents(-1, 100, 100)


def test_a_price_splits_by_weight_to_the_cent():
    assert split_cents(1_001, {"NY": 90_001, "TX": 10_000}) == {"NY": 901, "TX": 100}
    assert split_cents(2, {"a": 1, "b": 1, "c": 1}) == {"a": 1, "b": 1, "c": 0}
    assert sum(split_cents(99_999, {str(n): n + 1 for n in range(7)}).values()) == 99_999
