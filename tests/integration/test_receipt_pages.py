"""Receipts a tax preparer would accept: pages and PDFs at signed links, per gift and per donor-year;
a campaign's legal identity; covering the fees; stopping a monthly gift."""

import datetime as dt

import pytest

from functions.adapters import ledger
from functions.adapters.payments import SandboxPayments
from functions.adapters.secrets import derived_key
from functions.domain.campaigns import Campaign
from functions.domain.impact import SHARE_DEFINITION, abolished_share_cents
from functions.domain.money import format_cents
from local.sample_data import offer_csv
from ops import cli, operations
from tests.support import assert_books_balance, donate, figures, items, pay, text_pdf_lines

CHARITY = Campaign("c3", "Jubilee Fund", threshold_cents=10**9, legal_name="Example Jubilee Inc.", ein="12-3456789",
                   entity_type="501c3", postal_address=("1 Main St", "Springfield", "IL", "62701"))
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
TODAY = dt.datetime.now(dt.UTC).date().isoformat()
NO_GOODS = "No goods or services were provided in exchange for this contribution."


def path_of(cloud, url: str) -> str:
    return url.removeprefix(cloud.public_base_url)


def paid(cloud, amount: int, campaign: str = "c1", key: str = "k1", **extra) -> dict:
    created = donate(cloud, amount, key=key, campaign=campaign, **extra)
    assert created.status == 201, created.body
    assert pay(cloud, created.json()).status == 200
    return created.json()


def three_ways(cloud, url: str) -> tuple[dict, str, str]:
    """A receipt link as an API client (JSON), a browser (a page) and a PDF reader see it."""
    path = path_of(cloud, url)
    answer = cloud.http("GET", path, headers={"Accept": "application/json"})
    page = cloud.http("GET", path, headers=HTML)
    pdf = cloud.http("GET", f"{path}&format=pdf")
    assert (answer.status, page.status, pdf.status) == (200, 200, 200), (answer.body, page.body, pdf.body)
    assert page.headers["Content-Type"].startswith("text/html") and pdf.headers["Content-Type"] == "application/pdf"
    return answer.json(), page.body, "\n".join(text_pdf_lines(pdf.body))


def test_a_501c3_receipt_of_250_dollars_or_more_holds_what_the_irs_asks_for_in_its_page_and_pdf(cloud, capsys,
                                                                                                 caplog):
    operations.create_campaign(CHARITY)
    donation = paid(cloud, 30_000, "c3", donor={"name": "Ada Lovelace-Núñez", "email": "ada@example.org"})
    answer, page, pdf = three_ways(cloud, donation["receipt_url"])
    for text in (page, pdf):
        for required in ("Example Jubilee Inc.", "EIN 12-3456789", "1 Main St", "Springfield, IL 62701",
                         "$300.00", TODAY, NO_GOODS, "section 501(c)(3)", "tax-deductible to the extent allowed",
                         f"c3/{donation['donation_id']}"):
            assert required in text, required
    assert "Received from: Ada Lovelace-Núñez" in pdf and "Ada Lovelace-Núñez" in page  # their name, as written
    assert (answer["organisation"], answer["ein"], answer["amount_cents"], answer["date"]) == (
        "Example Jubilee Inc.", "12-3456789", 30_000, TODAY)
    assert answer["tax_deductible"] is True and answer["goods_or_services_provided"] is False
    assert NO_GOODS in answer["statements"]
    logged = capsys.readouterr().out + caplog.text
    assert "Lovelace" not in logged and "ada@example.org" not in logged and "Springfield" not in logged


def test_the_receipt_and_the_statement_show_the_donors_share_of_the_debt_abolished_so_far(cloud):
    operations.add_offer("c1", offer_csv(3, 1, prefix="OFFER"), "sandbox", 1_500, offer_id="offer-a")
    donation = paid(cloud, 3_000, donor={"email": "ada@example.org"})
    paid(cloud, 2_000, key="k2")
    cloud.drain()  # the pool buys the offer and forgives it
    f = figures(cloud)
    assert f["face_value_forgiven_cents"] > 0 and f["raised_cents"] == 5_000
    share = abolished_share_cents(3_000, 5_000, f["face_value_forgiven_cents"])
    answer, page, pdf = three_ways(cloud, donation["receipt_url"])
    assert answer["abolished_share_cents"] == share > 0
    for text in (page, pdf):
        assert f"Debt abolished so far by your giving: {format_cents(share)}" in text.replace("</dt><dd>", ": ")
        assert SHARE_DEFINITION in text
    statement, page, pdf = three_ways(cloud, answer["links"]["statement"])
    assert statement["abolished_share_cents"] == share
    assert all(format_cents(share) in text and SHARE_DEFINITION in text for text in (page, pdf))


def test_a_receipt_of_a_campaign_that_is_not_a_501c3_says_the_gift_is_not_deductible(cloud):
    donation = paid(cloud, 30_000)
    answer, page, pdf = three_ways(cloud, donation["receipt_url"])
    for text in (page, pdf):
        for required in ("Test Campaign", "$300.00", TODAY, NO_GOODS, "is not tax-deductible"):
            assert required in text, required
        assert "EIN" not in text and "501(c)(3) organization under" not in text
    assert answer["tax_deductible"] is False and answer["ein"] is None


def test_bad_signatures_are_a_403_for_every_signed_link_and_no_link_opens_another(cloud):
    operations.create_campaign(CHARITY)
    donation = paid(cloud, 2_500, "c3", donor={"email": "ada@example.org"}, frequency="monthly")
    links = cloud.http("GET", path_of(cloud, donation["receipt_url"])).json()["links"]
    statement, manage = links["statement"], links["manage"]
    for url in (donation["receipt_url"], statement, manage):
        path, signature = path_of(cloud, url).split("?sig=")
        for forged in ("0" * 32, signature[:-1], "é" * 32, ""):
            for headers in ({}, HTML):
                answer = cloud.http("GET", f"{path}?sig={forged}", headers=headers)
                assert answer.status == 403, (path, forged, answer.body)
    receipt_path, receipt_signature = path_of(cloud, donation["receipt_url"]).split("?sig=")
    # A receipt's signature does not stop the gift, nor open the donor's statement.
    assert cloud.http("POST", f"{receipt_path}/manage?sig={receipt_signature}").status == 403
    statement_path = path_of(cloud, statement).split("?sig=")[0]
    assert cloud.http("GET", f"{statement_path}?sig={receipt_signature}").status == 403
    assert cloud.http("GET", f"{statement_path.rsplit('/', 1)[0]}/1999?sig=x").status == 422  # not a year we take


def test_a_donors_year_statement_lists_their_confirmed_gifts_in_the_campaign(cloud):
    operations.create_campaign(CHARITY)
    first = paid(cloud, 30_000, "c3", key="a", donor={"email": "ada@example.org"})
    paid(cloud, 1_500, "c3", key="b", donor={"email": "ADA@example.org", "name": "Ada"})
    paid(cloud, 9_900, "c3", key="c", donor={"email": "bob@example.org"})
    donate(cloud, 700, key="d", campaign="c3", donor={"email": "ada@example.org"})  # never paid
    url = cloud.http("GET", path_of(cloud, first["receipt_url"])).json()["links"]["statement"]
    answer, page, pdf = three_ways(cloud, url)
    assert sorted(g["amount_cents"] for g in answer["gifts"]) == [1_500, 30_000]
    assert answer["totals"] == {"USD": 31_500} and answer["ein"] == "12-3456789"
    for text in (page, pdf):
        for required in ("Example Jubilee Inc.", "EIN 12-3456789", "$300.00", "$15.00", "$315.00", TODAY,
                         "No goods or services were provided in exchange for these contributions."):
            assert required in text, required
        assert "$99.00" not in text and "$7.00" not in text
    other_year = path_of(cloud, url).replace(f"/{TODAY[:4]}?", f"/{int(TODAY[:4]) - 1}?")
    assert cloud.http("GET", other_year).status == 403  # each year's link is signed for that year


def test_covering_the_fees_grosses_the_gift_up_the_extra_reaches_the_pool_and_the_receipt_says_so(cloud):
    created = donate(cloud, 10_000, cover_fees=True)
    assert created.status == 201, created.body
    donation = created.json()
    # ceil((10,000 + 30) / (1 - 2.9%)) = 10,330: 330 added, of which the sandbox's fee takes 329.
    assert (donation["amount_cents"], donation["covered_fees_cents"]) == (10_330, 330)
    assert pay(cloud, donation).status == 200
    cloud.drain()
    f = figures(cloud)
    assert_books_balance(f)
    assert (f["raised_cents"], f["fees_cents"], f["reserve_cents"]) == (10_330, 329, 1_000)
    assert f["pool_available_cents"] + f["held_cents"] + f["spent_cents"] == 9_001  # the gift's 90%, plus 1 cent
    answer, page, pdf = three_ways(cloud, donation["receipt_url"])
    assert (answer["amount_cents"], answer["covered_fees_cents"]) == (10_330, 330)
    for text in (page, pdf):
        assert "$103.30" in text and "includes $3.30 you added to cover the payment processor" in text
    # The campaign's limit counts what is added; a replay answers the same.
    assert donate(cloud, 10_000, cover_fees=True).json() == donation
    too_much = donate(cloud, 10_000_000, key="big", cover_fees=True)
    assert too_much.status == 422 and "with the fees covered" in too_much.body


def test_a_donor_stops_a_sandbox_monthly_gift_and_no_later_installment_is_booked(cloud):
    donation = paid(cloud, 1_000, frequency="monthly", donor={"email": "m@example.org"})
    links = cloud.http("GET", path_of(cloud, donation["receipt_url"])).json()["links"]
    manage = path_of(cloud, links["manage"])
    page = cloud.http("GET", manage, headers=HTML)
    assert page.status == 200 and '<form method="post">' in page.body
    stopped = cloud.http("POST", manage, headers=HTML)
    assert stopped.status == 200 and "Your monthly gift is stopped" in stopped.body
    assert cloud.http("POST", manage).json()["status"] == "duplicate"  # a second stop changes nothing
    ended = int(ledger.load_donation("c1", donation["donation_id"])["ended_at"])
    receipt = cloud.http("GET", path_of(cloud, donation["receipt_url"])).json()
    assert receipt["pledge_ended"] is True and "manage" not in receipt["links"]
    sandbox = SandboxPayments(derived_key("sandbox-webhook"), cloud.public_base_url)
    pledge = {"campaign_id": "c1", "amount_cents": 1_000, "currency": "USD", **donation}
    after = sandbox.installment_paid(pledge, 2, now=ended + 5)
    answer = cloud.http("POST", "/webhooks/sandbox", after[1], after[0])
    assert answer.status == 200 and answer.json()["status"] == "pledge_ended"
    before = sandbox.installment_paid(pledge, 3, now=ended - 5)  # paid before the stop, delivered after it
    assert cloud.http("POST", "/webhooks/sandbox", before[1], before[0]).json()["status"] == "confirmed"
    cloud.drain()
    assert figures(cloud)["raised_cents"] == 2_000
    assert sorted(d["donation_id"] for d in items("donation")) == sorted(
        [donation["donation_id"], f"{donation['donation_id']}-m3"])


def test_the_thank_you_page_links_the_receipt(cloud):
    donation = donate(cloud, 2_500).json()
    page = cloud.http("POST", path_of(cloud, donation["checkout_url"]), headers=HTML)
    assert page.status == 200 and donation["receipt_url"].replace("&", "&amp;") in page.body
    assert cloud.http("GET", path_of(cloud, donation["receipt_url"]), headers=HTML).status == 200


@pytest.mark.parametrize("stored, loaded", [("charity", "501c3"), ("other", "none"), ("sponsored", "sponsored")])
def test_campaigns_stored_with_the_old_entity_types_still_load(stored, loaded):
    assert Campaign.from_dict({"campaign_id": "old", "name": "Old", "entity_type": stored}).entity_type == loaded


def test_an_operator_creates_a_campaign_with_its_legal_identity(served_cloud, capsys):
    cloud, endpoint = served_cloud
    assert cli.main(["campaigns", "create", "fund", "--name", "Fund", "--legal-name", "Fund Inc.", "--ein",
                     "98-7654321", "--entity-type", "501c3", "--address", "1 Main St, Suite 2, Springfield, IL 62701",
                     "--endpoint-url", endpoint]) == 0
    created = ledger.load_campaign("fund")
    assert created is not None
    assert (created.legal_name, created.ein, created.entity_type, created.postal_address) == (
        "Fund Inc.", "98-7654321", "501c3", ("1 Main St, Suite 2", "Springfield", "IL", "62701"))
