"""GET /verify/{code}: a page for people's browsers, today's JSON for API clients, the same lookups."""

from __future__ import annotations

from local.sample_data import offer_csv
from ops import operations
from tests.support import give, letters_in_bucket

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def test_a_browser_gets_a_page_an_api_client_json(cloud):
    operations.add_offer("c1", offer_csv(2, 1), "sandbox", 1_500, offer_id="offer-a")
    give(cloud, [5_000])
    cloud.drain()
    code = next(line for line in letters_in_bucket()[0] if line.startswith("Verification code: ")).split(": ")[1]
    page = cloud.http("GET", f"/verify/{code}", headers=HTML)
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    for part in ("Your debt is forgiven", "Test Campaign", "Original creditor", "Amount forgiven", "$",
                 "What to do next", "debt collector", "credit report", "http://jubilee.test/?campaign=c1"):
        assert part in page.body, part
    assert "<script" not in page.body
    answer = cloud.http("GET", f"/verify/{code}")
    assert answer.status == 200 and set(answer.json()) == {"creditor", "amount_forgiven_cents", "forgiven_on",
                                                            "campaign_id"}
    assert answer.json()["creditor"] in page.body
    for miss in ("AAAA-BBBB-CCCC-DDDD", "not-a-code"):
        missed = cloud.http("GET", f"/verify/{miss}", headers=HTML)
        assert missed.status == 404 and "Code not found" in missed.body and "not-a-code" not in missed.body
    assert cloud.http("GET", "/verify/AAAA-BBBB-CCCC-DDDD").json()["error"] == "no_such_letter"
