"""POST /campaigns/{id}/donations and GET /campaigns/{id}, through API Gateway-shaped events."""

import pytest

from tests.support import donate, figures, items


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


def test_a_campaign_in_pounds_takes_pounds_and_a_gift_that_names_no_currency_is_in_the_campaigns(cloud):
    from functions.domain.campaigns import Campaign
    from ops import operations

    operations.create_campaign(Campaign("gbp", "Pounds", currency="GBP"))
    named = cloud.http("POST", "/campaigns/gbp/donations", {"amount_cents": 1_250, "currency": "GBP"},
                       {"Idempotency-Key": "named"})
    unnamed = cloud.http("POST", "/campaigns/gbp/donations", {"amount_cents": 4_000}, {"Idempotency-Key": "unnamed"})
    assert (named.status, unnamed.status) == (201, 201)
    assert sorted(d["currency"] for d in items("donation")) == ["GBP", "GBP"]
    checkout = cloud.http("GET", unnamed.json()["checkout_url"].removeprefix(cloud.public_base_url), None,
                          {"Accept": "text/html"}).body
    assert "Pay £40.00" in checkout
    refused = cloud.http("POST", "/campaigns/gbp/donations", {"amount_cents": 100, "currency": "USD"},
                         {"Idempotency-Key": "dollars"})
    assert refused.status == 422 and refused.json()["problems"] == [
        {"field": "body.currency", "problem": "campaign 'gbp' takes GBP only"}]


def test_the_sandbox_checkout_and_thank_you_pages_are_the_sites_pages(cloud):
    checkout_url = donate(cloud, 2_500).json()["checkout_url"].removeprefix(cloud.public_base_url)
    for page in (cloud.http("GET", checkout_url).body,
                 cloud.http("POST", checkout_url, None, {"Accept": "text/html"}).body):
        assert '<html lang="en">' in page and page.count("<h1>") == 1
        assert all(landmark in page for landmark in ('<header class="top">', "<main", "<footer"))
        assert '<link rel="stylesheet" href="http://jubilee.test/assets/site.css">' in page


def test_the_key_is_per_campaign(cloud):
    from functions.domain.campaigns import Campaign
    from ops import operations

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
    ("unexpected field", {"amount_cents": 100, "currency": "USD", "tip": 5}, 422, "body"),  # its name is input
    ("unexpected donor field", {"amount_cents": 100, "currency": "USD", "donor": {"phone": "1"}}, 422, "body.donor"),
    ("bad email", {"amount_cents": 100, "currency": "USD", "donor": {"email": "nope"}}, 422, "body.donor.email"),
]


@pytest.mark.parametrize("case,body,status,field", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_a_4xx_naming_the_field_and_writes_nothing(cloud, case, body, status, field):
    response = cloud.http("POST", "/campaigns/c1/donations", body, {"Idempotency-Key": "k"})
    assert response.status == status, response.body
    assert field in [p["field"] for p in response.json()["problems"]]
    assert items("donation") == []


def test_a_missing_idempotency_key_is_named(cloud):
    response = cloud.http("POST", "/campaigns/c1/donations", {"amount_cents": 100, "currency": "USD"})
    assert response.status == 422
    assert response.json()["problems"][0]["field"].lower() == "header.idempotency-key"
    assert items("donation") == []


def test_malformed_json_is_a_400(cloud):
    response = cloud.http("POST", "/campaigns/c1/donations", '{"amount_cents": 1', {"Idempotency-Key": "k"})
    assert response.status == 400 and response.json()["error"] == "malformed_json"
    assert items("donation") == []


def test_an_unknown_campaign_is_a_404_and_writes_nothing(cloud):
    response = donate(cloud, campaign="nobody")
    assert response.status == 404 and response.json()["problems"][0]["field"] == "path.campaign_id"
    assert items("donation") == []


def test_public_totals_start_at_zero_and_unknown_campaigns_are_404(cloud):
    f = figures(cloud)
    assert f["raised_cents"] == 0 and f["ledger_balanced"] is True and f["name"] == "Test Campaign"
    assert cloud.http("GET", "/campaigns/nobody").status == 404


def test_openapi_describes_every_public_route_from_the_code(cloud):
    spec = cloud.http("GET", "/openapi.json").json()
    public = {"/campaigns/{campaign_id}/donations", "/campaigns/{campaign_id}", "/webhooks/{provider}"}
    assert public <= set(spec["paths"])
    schema = spec["components"]["schemas"]["DonationRequest"]
    assert schema["properties"]["amount_cents"]["exclusiveMinimum"] == 0


def test_a_body_that_is_not_json_is_a_415_naming_the_header(cloud):
    response = cloud.http("POST", "/campaigns/c1/donations", "amount_cents=100",
                          {"Idempotency-Key": "k", "Content-Type": "text/plain"})
    assert response.status == 415
    assert response.json()["problems"] == [{"field": "header.Content-Type", "problem": "must be application/json"}]
    assert items("donation") == []


PERSONAL = ("Ada Lovelace", "ada@example.org")
HOSTILE = [  # (case, raw body, Content-Type, status, what the problem says): each a 5xx or an echo once
    ("nested 50,000 deep", "[" * 50_000 + "]" * 50_000, "application/json", 400, "nested too deeply"),
    ("an object nested 50,000 deep", '{"a":' * 50_000 + "1" + "}" * 50_000, "application/json", 400,
     "nested too deeply"),
    ("a 5,001-digit amount", '{"amount_cents": ' + "9" * 5_001 + ', "currency": "USD"}', "application/json", 400,
     "more than 30 digits"),
    ("NaN", '{"amount_cents": NaN, "currency": "USD"}', "application/json", 400, "NaN is not a JSON number"),
    ("Infinity", '{"amount_cents": -Infinity, "currency": "USD"}', "application/json", 400, "is not a JSON number"),
    ("multipart without a boundary", "--x\r\n", "multipart/form-data", 415, "must be application/json"),
    ("multipart", '--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nAda Lovelace\r\n--b--\r\n',
     "multipart/form-data; boundary=b", 415, "must be application/json"),
    ("form-encoded", "amount_cents=100&currency=USD&name=Ada+Lovelace&email=ada%40example.org",
     "application/x-www-form-urlencoded", 415, "must be application/json"),
    ("form-encoded text", "Ada Lovelace ada@example.org", "application/x-www-form-urlencoded", 415,
     "must be application/json"),
    ("personal data as field names", '{"amount_cents": 100, "currency": "USD", "Ada Lovelace": "ada@example.org"}',
     "application/json", 422, "has a field it does not take"),
    ("personal data in the wrong field", '{"amount_cents": "Ada Lovelace", "currency": "ada@example.org"}',
     "application/json", 422, "Input should be"),
    ("a list", '["Ada Lovelace", "ada@example.org"]', "application/json", 422, "valid dictionary"),
    ("a string", '"Ada Lovelace ada@example.org"', "application/json", 422, "valid dictionary"),
]


@pytest.mark.parametrize("case,raw,content_type,status,problem", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_bodies_are_a_4xx_naming_the_problem_without_echoing_them(cloud, case, raw, content_type, status,
                                                                         problem):
    response = cloud.http("POST", "/campaigns/c1/donations", raw,
                          {"Idempotency-Key": "k", "Content-Type": content_type})
    assert response.status == status, response.body
    assert problem in " ".join(p["problem"] for p in response.json()["problems"])
    assert not [text for text in PERSONAL if text in response.body]
    assert items("donation") == []


def test_a_receipt_link_or_a_webhook_signature_with_non_ascii_characters_is_refused_not_a_5xx(cloud):
    assert cloud.http("GET", "/receipts/c1/don_x", query={"sig": "é" * 32}).status == 403
    for provider, header in (("sandbox", "Jubilee-Sandbox-Signature"), ("stripe", "Stripe-Signature")):
        response = cloud.http("POST", f"/webhooks/{provider}", "{}", {header: "t=1,v1=é"})
        assert response.status == 400, response.body
        assert response.json()["problems"] == [{"field": f"header.{header}",
                                                "problem": "the signature header is not ASCII"}]


def test_a_warm_pledge_is_one_aws_call_even_with_donor_details(cloud):
    """The pending donation is the key's record (one conditional put); the campaign is cached per container;
    a donor's details are sealed without a KMS request per gift, their key wrapped in the donation itself."""
    from collections import Counter

    from functions.adapters.aws import client

    donate(cloud, key="warm-up", donor={"name": "Ada Donor", "email": "ada@example.org"})  # a cold container
    calls: Counter = Counter()
    for service in ("dynamodb", "kms", "secretsmanager"):
        client(service).meta.events.register("before-call", lambda model, **_: calls.update([model.name]))
    assert donate(cloud, key="anonymous").status == 201
    assert donate(cloud, key="named", donor={"name": "Grace Donor", "email": "grace@example.org"}).status == 201
    assert donate(cloud, key="named").status == 422  # another body: refused by the same one call
    assert calls == Counter({"PutItem": 3})
    assert donate(cloud, key="named", donor={"name": "Grace Donor", "email": "grace@example.org"}).status == 201
    assert len(items("donation")) == 3 and items("donor-key") == []


def test_a_pledge_stores_nothing_of_the_key_or_the_donor_in_its_record(cloud):
    donate(cloud, key="my-own-key", donor={"name": "Ada Donor", "email": "ada@example.org"})
    [record] = items("donation")
    assert "my-own-key" not in str(record) and "ada" not in str(record).lower()


def test_a_pledge_retried_after_the_campaigns_fee_estimate_changed_is_charged_as_it_was_pledged(cloud, monkeypatch):
    from functions.handlers import api
    from ops import operations

    first = donate(cloud, 10_000, key="fees", cover_fees=True).json()
    operations.update_campaign("c1", {"fee_estimate_bps": 500})
    monkeypatch.setattr(api, "_campaigns", {})  # past the container's 30 s
    again = donate(cloud, 10_000, key="fees", cover_fees=True).json()
    assert again == first and len(items("donation")) == 1


def test_a_campaign_whose_provider_this_deployment_lacks_is_a_503_and_stores_no_pledge():
    """A sandbox campaign on a Stripe deployment (one whose sandbox is off)."""
    from functions.domain.campaigns import Campaign
    from local.emulator import LocalCloud
    from ops import operations

    with LocalCloud(public_base_url="http://jubilee.test", app_secret="s", payments="stripe") as stripe_only:
        operations.create_campaign(Campaign("trial", "Trial", payments="sandbox"))
        response = donate(stripe_only, campaign="trial", key="k")
        assert response.status == 503 and items("donation") == []
