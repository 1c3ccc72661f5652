"""POST /campaigns/{id}/donations and GET /campaigns/{id}, through API Gateway-shaped events."""

import pytest

from tests.support import donate, figures, idempotency_records, items


def test_a_pledge_is_stored_pending_with_a_checkout_link(cloud):
    response = donate(cloud, 2_500, donor={"name": "Ada Donor", "email": "ada@example.org"})
    assert response.status == 201
    body = response.json()
    assert body["status"] == "pending"
    assert body["checkout_url"] == f"http://jubilee.test/sandbox/checkout/c1/{body['donation_id']}"
    [stored] = items("donation")
    assert (stored["donation_id"], stored["amount_cents"], stored["status"]) == (body["donation_id"], 2_500, "pending")


def test_the_same_key_and_body_replays_the_first_answer_and_stores_one_donation(cloud):
    first, second = donate(cloud, key="same"), donate(cloud, key="same")
    assert second.status == 201 and second.json() == first.json()
    assert len(items("donation")) == 1


def test_the_same_key_with_another_body_is_refused(cloud):
    donate(cloud, 2_500, key="same")
    response = donate(cloud, 9_900, key="same")
    assert response.status == 422
    assert response.json()["problems"] == [{"field": "header.Idempotency-Key",
                                            "problem": "this Idempotency-Key was used with a different body"}]
    assert len(items("donation")) == 1


def test_the_key_is_per_campaign(cloud):
    from functions.domain.campaigns import Campaign
    from infra import operations

    operations.create_campaign(Campaign("c2", "Other"))
    assert donate(cloud, key="k").json() != donate(cloud, key="k", campaign="c2").json()


BAD = [
    ("zero", {"amount_cents": 0, "currency": "USD"}, 422, "body.amount_cents"),
    ("negative", {"amount_cents": -5, "currency": "USD"}, 422, "body.amount_cents"),
    ("fractional", {"amount_cents": 10.5, "currency": "USD"}, 422, "body.amount_cents"),
    ("float that looks whole", {"amount_cents": 100.0, "currency": "USD"}, 422, "body.amount_cents"),
    ("string", {"amount_cents": "100", "currency": "USD"}, 422, "body.amount_cents"),
    ("boolean", {"amount_cents": True, "currency": "USD"}, 422, "body.amount_cents"),
    ("above the maximum", {"amount_cents": 10_000_001, "currency": "USD"}, 422, "body.amount_cents"),
    ("below the campaign minimum", {"amount_cents": 99, "currency": "USD"}, 422, "body.amount_cents"),
    ("unknown currency", {"amount_cents": 100, "currency": "XYZ"}, 422, "body.currency"),
    ("another currency than the campaign's", {"amount_cents": 100, "currency": "EUR"}, 422, "body.currency"),
    ("missing amount", {"currency": "USD"}, 422, "body.amount_cents"),
    ("unexpected field", {"amount_cents": 100, "currency": "USD", "tip": 5}, 422, "body.tip"),
    ("bad email", {"amount_cents": 100, "currency": "USD", "donor": {"email": "nope"}}, 422, "body.donor.email"),
]


@pytest.mark.parametrize("case,body,status,field", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_a_4xx_naming_the_field_and_writes_nothing(cloud, case, body, status, field):
    response = cloud.http("POST", "/campaigns/c1/donations", body, {"Idempotency-Key": "k"})
    assert response.status == status, response.body
    assert field in [p["field"] for p in response.json()["problems"]]
    assert items("donation") == [] and idempotency_records() == 0


def test_a_missing_idempotency_key_is_named(cloud):
    response = cloud.http("POST", "/campaigns/c1/donations", {"amount_cents": 100, "currency": "USD"})
    assert response.status == 422
    assert response.json()["problems"][0]["field"].lower() == "header.idempotency-key"
    assert items("donation") == []


def test_malformed_json_is_a_400(cloud):
    response = cloud.http("POST", "/campaigns/c1/donations", '{"amount_cents": 1', {"Idempotency-Key": "k"})
    assert response.status == 400 and response.json()["error"] == "malformed_json"
    assert items("donation") == [] and idempotency_records() == 0


def test_an_unknown_campaign_is_a_404_and_writes_nothing(cloud):
    response = donate(cloud, campaign="nobody")
    assert response.status == 404 and response.json()["problems"][0]["field"] == "path.campaign_id"
    assert items("donation") == [] and idempotency_records() == 0


def test_public_totals_start_at_zero_and_unknown_campaigns_are_404(cloud):
    f = figures(cloud)
    assert f["raised_cents"] == 0 and f["ledger_balanced"] is True and f["name"] == "Test Campaign"
    assert cloud.http("GET", "/campaigns/nobody").status == 404


def test_openapi_describes_every_public_route_from_the_code(cloud):
    spec = cloud.http("GET", "/openapi.json").json()
    assert {"/campaigns/{campaign_id}/donations", "/campaigns/{campaign_id}", "/webhooks/{provider}"} <= set(spec["paths"])
    schema = spec["components"]["schemas"]["DonationRequest"]
    assert schema["properties"]["amount_cents"]["exclusiveMinimum"] == 0


def test_a_body_that_is_not_json_is_a_415_naming_the_header(cloud):
    response = cloud.http("POST", "/campaigns/c1/donations", "amount_cents=100",
                          {"Idempotency-Key": "k", "Content-Type": "text/plain"})
    assert response.status == 415
    assert response.json()["problems"] == [{"field": "header.Content-Type", "problem": "must be application/json"}]
    assert items("donation") == [] and idempotency_records() == 0
