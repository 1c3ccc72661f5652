"""Receipts: a signed link per gift for its donor, and a year-end statement for operators."""

import datetime as dt
import json

from functions.adapters.payments import SandboxPayments
from functions.adapters.secrets import derived_key
from functions.domain.campaigns import Campaign
from ops import cli, operations
from tests.support import donate, pay


def test_a_paid_gift_has_a_receipt_at_its_signed_link_and_nowhere_else(cloud):
    donation = donate(cloud, 2_500, donor={"name": "Ada Donor", "email": "ada@example.org"}, anonymous=True).json()
    path = donation["receipt_url"].removeprefix(cloud.public_base_url)
    assert cloud.http("GET", path).status == 404  # not paid yet
    pay(cloud, donation)
    receipt = cloud.http("GET", path).json()
    assert (receipt["amount_cents"], receipt["net_cents"], receipt["currency"]) == (2_500, 2_500, "USD")
    assert receipt["campaign"] == "Test Campaign" and receipt["donor_name"] == "Ada Donor"  # private to the donor
    assert receipt["date"] == dt.datetime.now(dt.UTC).date().isoformat()
    forged = path[:-1] + ("0" if path[-1] != "0" else "1")
    wrong = cloud.http("GET", forged)
    unknown = cloud.http("GET", f"/receipts/c1/don_nothing?sig={path.rsplit('=', 1)[1]}")
    assert wrong.status == unknown.status == 403 and wrong.body == unknown.body  # a bad signature, nothing more
    # Anonymous gifts get receipts; the public figures never name a donor.
    assert "Ada" not in cloud.http("GET", "/campaigns/c1").body


def test_a_partly_refunded_monthly_gift_shows_its_months_and_net(cloud):
    donation = donate(cloud, 1_000, frequency="monthly").json()
    pay(cloud, donation)
    sandbox = SandboxPayments(derived_key("sandbox-webhook"), cloud.public_base_url)
    pledge = {"campaign_id": "c1", "amount_cents": 1_000, "currency": "USD", **donation}
    for signed in (sandbox.installment_paid(pledge, 2), sandbox.refunded(pledge, 250)):
        cloud.http("POST", "/webhooks/sandbox", signed[1], signed[0])
    receipt = cloud.http("GET", donation["receipt_url"].removeprefix(cloud.public_base_url)).json()
    assert (receipt["frequency"], receipt["refunded_cents"], receipt["net_cents"]) == ("monthly", 250, 750)
    assert [i["amount_cents"] for i in receipt["installments"]] == [1_000]


def test_a_donors_year_end_statement_adds_up_their_net_gifts(served_cloud, capsys):
    cloud, endpoint = served_cloud
    operations.create_campaign(Campaign("c2", "Second", tax_statement="Example Fund is a 501(c)(3); EIN 00-0000000."))
    gifts = [("c1", 2_500, "ada@example.org"), ("c2", 1_000, "ADA@example.org"), ("c1", 700, "bob@example.org")]
    for n, (campaign, amount, email) in enumerate(gifts):
        created = donate(cloud, amount, key=f"k{n}", campaign=campaign, donor={"email": email}).json()
        pay(cloud, created)
    year = dt.datetime.now(dt.UTC).year
    assert cli.main(["receipts", "--donor", "ada@example.org", "--year", str(year), "--json",
                     "--endpoint-url", endpoint]) == 0
    statement = json.loads(capsys.readouterr().out)
    assert statement["totals"] == {"USD": 3_500} and len(statement["gifts"]) == 2
    assert statement["tax_statements"] == {"c2": "Example Fund is a 501(c)(3); EIN 00-0000000."}
    assert cli.main(["receipts", "--donor", "ada@example.org", "--year", str(year - 1), "--json",
                     "--endpoint-url", endpoint]) == 0
    assert json.loads(capsys.readouterr().out)["gifts"] == []
