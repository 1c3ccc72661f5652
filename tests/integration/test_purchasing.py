"""Purchases with approvals, through the admin API (bearer tokens locally, IAM on AWS), on moto."""

import pytest

from functions.domain.campaigns import Campaign
from local.emulator import LocalCloud
from local.sample_data import offer_csv
from ops import operations
from tests.support import assert_books_balance, figures, give, items

TOKENS = {"tok-alice": "alice", "tok-bob": "bob", "tok-carol": "carol", "tok-mallory": "mallory"}


@pytest.fixture
def approvals_cloud():
    with LocalCloud(public_base_url="http://jubilee.test", app_secret="s", admin_tokens=TOKENS) as cloud:
        approvers = tuple(cloud.user_arn(name) for name in ("alice", "bob", "carol"))
        operations.create_campaign(Campaign("c1", "Approved Buys", threshold_cents=1_000, approvers=approvers,
                                            approvals_required=2, plan_ttl_hours=24))
        yield cloud


def admin(cloud, method, path, who=None):
    headers = {"Authorization": f"Bearer tok-{who}"} if who else {}
    return cloud.http(method, path, headers=headers)


def funded_plan(cloud):
    operations.add_offer("c1", offer_csv(3, 1), "sandbox", 1_500, offer_id="offer-a")
    give(cloud, [5_000])
    cloud.drain()
    [plan] = admin(cloud, "GET", "/admin/campaigns/c1/plans", "alice").json()["plans"]
    return plan


def test_two_of_three_distinct_approvals_buy_and_one_twice_does_not(approvals_cloud):
    cloud = approvals_cloud
    plan = funded_plan(cloud)
    assert (plan["plan_id"], plan["status"], plan["approvals_required"]) == ("c1.offer-a.0", "proposed", 2)
    assert figures(cloud)["held_cents"] == 1_500 and figures(cloud)["purchases"] == 0
    path = f"/admin/plans/{plan['plan_id']}/approve"
    for _ in range(2):  # the same approver twice counts once
        assert admin(cloud, "POST", path, "alice").json()["status"] == "proposed"
    cloud.drain()
    assert figures(cloud)["purchases"] == 0
    approved = admin(cloud, "POST", path, "bob").json()
    assert approved["status"] == "approved" and len(approved["approvals"]) == 2
    cloud.drain()
    f = figures(cloud)
    assert (f["purchases"], f["held_cents"], f["spent_cents"], f["accounts_forgiven"]) == (1, 0, 1_500, 3)
    assert admin(cloud, "POST", path, "carol").status == 409  # closed: nothing more to approve
    assert len(items("hold")) == len(items("post")) == 1 and items("void") == []
    assert_books_balance(f)


def test_a_rejected_plan_releases_its_hold_once(approvals_cloud):
    cloud = approvals_cloud
    plan = funded_plan(cloud)
    rejected = admin(cloud, "POST", f"/admin/plans/{plan['plan_id']}/reject", "carol").json()
    assert rejected["status"] == "voided" and "rejected by" in rejected["void_reason"]
    assert admin(cloud, "POST", f"/admin/plans/{plan['plan_id']}/reject", "carol").status == 409
    f = figures(cloud)
    assert (f["held_cents"], f["spent_cents"]) == (0, 0) and len(items("void")) == 1
    assert_books_balance(f)


def test_an_expired_plan_releases_its_hold_and_the_offer_is_planned_anew(approvals_cloud, monkeypatch):
    import datetime as dt

    from functions.adapters import clock

    cloud = approvals_cloud
    plan = funded_plan(cloud)
    monkeypatch.setattr(clock, "now", lambda: dt.datetime.now(dt.UTC) + dt.timedelta(hours=25))
    cloud.run_schedule("sweep")  # the hourly sweep asks for a purchase check
    cloud.drain()
    statuses = {p["plan_id"]: p["status"] for p in admin(cloud, "GET", "/admin/campaigns/c1/plans", "bob")
                .json()["plans"]}
    assert statuses == {plan["plan_id"]: "voided", "c1.offer-a.1": "proposed"}
    f = figures(cloud)
    assert f["held_cents"] == 1_500 and len(items("void")) == 1  # held once, by the new plan only
    assert_books_balance(f)


def test_an_offer_past_its_sellers_date_is_retired_and_its_file_deleted(cloud, monkeypatch):
    import datetime as dt

    from functions.adapters import clock
    from functions.adapters.aws import client, settings

    today = dt.date.today().isoformat()
    operations.add_offer("c1", offer_csv(2, 8), "sandbox", 900_000, offer_id="lapsing", expires=today)
    assert items("offer")[0]["status"] == "open"  # (and plannable all of today)
    monkeypatch.setattr(clock, "now", lambda: dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    # No money pooled, no plan live: the hourly sweep asks for a purchase check for the lapsing offer alone.
    cloud.run_schedule("sweep")
    cloud.drain()
    assert items("offer")[0]["status"] == "lapsed"
    assert client("s3").list_objects_v2(Bucket=settings().offers_bucket).get("KeyCount") == 0
    assert operations.show_offer("c1", "lapsing")["status"] == "lapsed"  # still described, from its profile


def test_admin_routes_refuse_the_unauthenticated_and_non_approvers(approvals_cloud):
    cloud = approvals_cloud
    plan = funded_plan(cloud)
    assert admin(cloud, "GET", "/admin/campaigns/c1/plans").status == 401
    assert cloud.http("GET", "/admin/campaigns/c1/plans", headers={"Authorization": "Bearer nope"}).status == 403
    assert admin(cloud, "POST", f"/admin/plans/{plan['plan_id']}/approve", "mallory").status == 403
    assert admin(cloud, "GET", "/admin/campaigns/c1/plans", "mallory").status == 403


def test_the_public_sees_a_redacted_record_of_each_purchase(cloud):
    operations.add_offer("c1", offer_csv(4, 2), "sandbox", 1_500, offer_id="offer-a")
    give(cloud, [5_000])
    cloud.drain()
    [record] = cloud.http("GET", "/campaigns/c1/purchases").json()["purchases"]
    assert (record["seller"], record["price_cents"], record["accounts"]) == ("sandbox", 1_500, 4)
    assert sum(s["accounts"] for s in record["by_state"].values()) == 4
    assert record["by_debt_type"] == {"medical": {"accounts": 4, "face_value_cents": record["face_value_cents"]}}
    body = cloud.http("GET", "/campaigns/c1/purchases").body
    assert "Example" not in body and "Imaginary" not in body  # no debtor, no address


def test_a_manual_seller_is_paid_by_wire_and_confirmed_by_the_operator(cloud, capsys):
    operations.add_offer("c1", offer_csv(2, 3), "Acme Recovery LLC", 1_500, offer_id="offer-m")
    give(cloud, [5_000])
    cloud.drain()
    assert figures(cloud)["held_cents"] == 1_500 and figures(cloud)["purchases"] == 0
    operations.confirm_purchase("c1.offer-m.0", "WIRE-2026-001")
    with pytest.raises(operations.OperationError, match="settled"):
        operations.confirm_purchase("c1.offer-m.0", "WIRE-2026-001")
    cloud.drain()
    f = figures(cloud)
    assert (f["purchases"], f["held_cents"], f["spent_cents"], f["accounts_forgiven"]) == (1, 0, 1_500, 2)


def test_offers_with_bad_rows_are_refused_unless_skipped_and_show_their_profile(cloud):
    good = offer_csv(3, 4).decode()
    bad = good + "BAD-1,Someone Example,1 Lane,City,ZZ,12345,Hosp,medical,-5,2020-01-01" + "," * 9 + "\n"
    with pytest.raises(Exception, match="line 5, column state"):
        operations.add_offer("c1", bad.encode(), "sandbox", 900)
    offer, skipped = operations.add_offer("c1", bad.encode(), "sandbox", 900, offer_id="o1", skip_bad_rows=True,
                                          expires="2099-01-01")
    assert offer.accounts == 3 and [p.column for p in skipped.shown] == ["state", "balance_cents"]
    shown = operations.show_offer("c1", "o1")
    assert shown["accounts"] == 3 and shown["expires"] == "2099-01-01"
    assert shown["eligible_accounts"] <= 3 and shown["cents_per_dollar"].endswith("¢")
    with pytest.raises(operations.OperationError, match="in the past"):
        operations.add_offer("c1", good.encode(), "sandbox", 900, expires="2020-01-01")


def test_a_seller_s_file_is_stored_in_jubilee_s_layout_for_forgiveness_to_read(cloud):
    import csv

    from functions.adapters import purchases, storage
    from functions.domain.forgiveness import accounts_in
    from functions.domain.offers import CANONICAL

    body = ("\ufeffAccount Number,Name,Address,City,State,ZIP,Creditor,Debt Type,Balance,Charge Off Date\r\n"
            "N-1,Avery Example,1 Imaginary Lane,Exampleton,NY,01234-5678,Example Hospital,medical,\"$1,234.56\","
            "03/04/2021\r\n\r\n"
            "N-2,Blake Sample,2 Nowhere Road,Sampleville,CA,90210,Example Hospital,medical,12,2021-03-05\r\n")
    offer, skipped = operations.add_offer("c1", body.encode(), "sandbox", 900, offer_id="sellers")
    assert offer.accounts == 2 and offer.face_value_cents == 124_656 and not skipped.counts
    stored = "".join(storage.read_lines(purchases.load_offer("c1", "sellers")["object_key"]))
    header, rows = stored.split("\n", 1)
    assert header == ",".join(CANONICAL)
    assert [(ref, zip_code, cents) for ref, _, _, _, _, zip_code, _, _, cents, _, _ in
            accounts_in(next(csv.reader([header])), rows, 2)] == [("N-1", "01234", 123_456), ("N-2", "90210", 1_200)]


def test_a_bearer_token_is_nothing_to_the_admin_handler_itself(approvals_cloud):
    """On a stack only API Gateway's IAM authorizer names the caller (requestContext.identity.userArn); the
    emulator's tokens, and `jubilee serve`'s, stand in for it before the handler. A token that reaches the
    handler as a deployed stack invokes it authenticates nobody."""
    cloud = approvals_cloud
    plan = funded_plan(cloud)
    path, resource = f"/admin/plans/{plan['plan_id']}/approve", "/admin/plans/{plan_id}/approve"
    headers = {"Authorization": "Bearer tok-alice", "Content-Type": "application/json"}
    event = {"resource": resource, "path": path, "httpMethod": "POST", "headers": headers,
             "multiValueHeaders": {k: [v] for k, v in headers.items()}, "queryStringParameters": None,
             "multiValueQueryStringParameters": None, "pathParameters": {"plan_id": plan["plan_id"]},
             "stageVariables": None, "body": None, "isBase64Encoded": False,
             "requestContext": {"resourcePath": resource, "httpMethod": "POST", "path": f"/prod{path}",
                                "stage": "prod", "requestId": "r-1", "accountId": "123456789012", "apiId": "api",
                                "identity": {"sourceIp": "198.51.100.7", "userArn": None}}}
    assert cloud.invoke("admin", event)["statusCode"] == 401
    [still] = admin(cloud, "GET", "/admin/campaigns/c1/plans", "alice").json()["plans"]
    assert (still["status"], still["approvals"]) == ("proposed", [])


def test_plans_on_a_stack_are_signed_with_aws_credentials_and_take_no_token(monkeypatch):
    from ops import plans

    monkeypatch.setattr("ops.operations.stack_outputs",
                        lambda stack: {"ApiUrl": "https://abc.execute-api.us-east-1.amazonaws.com/prod/"})
    with pytest.raises(plans.PlansError, match="only with --endpoint"):
        plans.AdminApi.of("Jubilee", None, "a-local-token")
    api = plans.AdminApi.of("Jubilee", None, None)
    assert api.token is None and api.base.endswith("/prod")
    signed = plans._signed("POST", f"{api.base}/admin/plans/c1.o.0/approve", {"Accept": "application/json"})
    assert signed["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=testing/")
    assert "/us-east-1/execute-api/aws4_request" in signed["Authorization"]
    with pytest.raises(plans.PlansError, match="--token"):
        plans.AdminApi.of("Jubilee", "http://127.0.0.1:3000", None)
