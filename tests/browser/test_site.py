"""The public site in a real browser (Debian's Chromium, driven by Playwright) against `jubilee serve`:
a donation made on the page, paid on the sandbox checkout, shows on the dashboard; the pages ask
nothing of any other origin; every form field has a label. Screenshots go to test-artifacts/."""

import json
import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from functions.adapters import aws
from functions.adapters.secrets import forget_secrets
from functions.domain.money import format_cents
from tests.serving import call, running, wait_for, wait_until

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# As the machine's notes advise: no background calls home (they would be refused, and are not the page's).
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-default-apps"]

if not os.path.exists(CHROMIUM):
    if os.environ.get("JUBILEE_REQUIRE_BROWSER"):
        raise RuntimeError("Chromium is required here (JUBILEE_REQUIRE_BROWSER=1): `make browser` installs it")
    pytest.skip("no Chromium: `make browser` installs Debian's (needs root or sudo)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


@pytest.fixture(scope="module")
def site():
    with running() as run:
        yield run


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield chromium
        chromium.close()


class Visit:
    """A fresh page that records every request it makes and every script error."""

    def __init__(self, browser, base):
        self.page = browser.new_page(viewport={"width": 1200, "height": 900})
        self.base, self.requests, self.errors = base, [], []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def foreign_requests(self):
        own = urlsplit(self.base).netloc
        return [url for url in self.requests if urlsplit(url).scheme in ("http", "https", "ws", "wss")
                and urlsplit(url).netloc != own]

    def unlabelled_fields(self):
        return self.page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
            .filter(f => f.type !== 'hidden' && f.labels.length === 0 && !f.getAttribute('aria-label')
                         && !f.getAttribute('aria-labelledby'))
            .map(f => f.id || f.name)""")

    def screenshot(self, name):
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_the_dashboard_shows_the_campaign_from_its_own_origin_only(site, browser):
    base, _ = site
    visit = Visit(browser, base)
    visit.page.goto(f"{base}/")
    visit.page.wait_for_selector("#dashboard[aria-busy=false]")
    assert visit.page.text_content("#campaign-name") == "Demo Jubilee"
    assert visit.page.text_content("#status") == ""
    assert visit.page.text_content("#log-head") == json.loads(call("GET", f"{base}/campaigns/demo")[1])["log_head"]
    assert visit.page.text_content("#verify-command") == f"jubilee verify-log {base}/campaigns/demo"
    visit.screenshot("dashboard")
    assert visit.foreign_requests() == [] and visit.errors == []
    assert visit.unlabelled_fields() == []
    headers = visit.page.request.get(f"{base}/").headers
    assert "default-src 'self'" in headers["content-security-policy"] and headers["x-frame-options"] == "DENY"


def test_the_dashboard_shows_every_term_of_the_books_adding_up_to_raised(site, browser, monkeypatch, tmp_path):
    """An operator records a check and an expense (the CLI, on the local endpoint); the page's table of the
    money identity lists each term, and its rows add up to what was raised, to the cent, on screen."""
    from ops import cli

    base, endpoint = site
    invoice = tmp_path / "invoice.txt"
    invoice.write_text("Print shop invoice 7: letters, $12.34")
    before = json.loads(call("GET", f"{base}/campaigns/demo")[1])
    monkeypatch.setattr(os, "environ", dict(os.environ))  # operator access to the local run, undone after
    try:
        assert cli.main(["gifts", "record", "--campaign", "demo", "--amount-cents", "20000", "--method", "check",
                         "--reference", "CHK-1001", "--endpoint-url", endpoint]) == 0
        wait_for(base, "demo", "raised_cents", before["raised_cents"] + 20_000)  # booked by the workers
        assert cli.main(["expenses", "add", "--campaign", "demo", "--amount-cents", "1234", "--payee", "Print Shop",
                         "--purpose", "letters", "--receipt", str(invoice), "--endpoint-url", endpoint]) == 0
    finally:
        aws.reset()
        forget_secrets()
    figures = json.loads(call("GET", f"{base}/campaigns/demo")[1])
    assert figures["expenses_cents"] == before["expenses_cents"] + 1_234
    visit = Visit(browser, base)
    visit.page.goto(f"{base}/")
    visit.page.wait_for_selector("#dashboard[aria-busy=false]")
    table = visit.page.locator("#money-identity")
    rows = table.locator("tbody tr")
    labels = [rows.nth(i).locator("th").text_content() for i in range(rows.count())]
    assert "Campaign expenses" in labels and "Payment processor fees" in labels and "Spent buying debt" in labels
    shown = [int(c) for c in table.locator("tbody td").evaluate_all("cells => cells.map(c => c.dataset.cents)")]
    texts = table.locator("tbody td").all_text_contents()
    assert texts == [format_cents(c) for c in shown]  # what is read is what is shown
    assert sum(shown) == figures["raised_cents"]
    assert visit.page.text_content("#identity-total") == visit.page.text_content("#raised") == format_cents(
        figures["raised_cents"])
    assert visit.page.text_content("#identity-check") == ""
    assert format_cents(figures["expenses_cents"]) in texts
    visit.screenshot("dashboard-books")
    assert visit.foreign_requests() == [] and visit.errors == []


def test_a_donation_made_on_the_page_appears_on_the_dashboard(site, browser):
    base, _ = site
    before = wait_for(base, "demo", "donations_confirmed", 0)
    visit = Visit(browser, base)
    page = visit.page
    page.goto(f"{base}/donate.html")
    assert visit.unlabelled_fields() == []
    page.fill("#custom-amount", "forty")  # a bad amount is named, and nothing is sent
    page.click("#give")
    assert page.text_content("#amount-error") == "Enter an amount in dollars, like 40 or 12.50."
    assert page.get_attribute("#custom-amount", "aria-invalid") == "true"
    page.fill("#custom-amount", "40.00")
    page.fill("#donor-email", "not-an-email")
    page.click("#give")
    assert "looks incomplete" in page.text_content("#email-error")
    assert not any("/donations" in url for url in visit.requests)
    visit.screenshot("donate-errors")
    page.fill("#donor-email", "")
    page.check("#anonymous")
    with page.expect_navigation():
        page.click("#give")
    assert "/sandbox/checkout/demo/" in page.url and "Pay $40.00" in page.text_content("body")
    visit.screenshot("checkout")
    with page.expect_navigation():
        page.click("button:has-text('Pay')")
    assert "Thank you" in page.text_content("h1")
    visit.screenshot("checkout-paid")
    with page.expect_navigation():
        page.click("text=Back to the campaign")
    expect(page.locator("#raised")).not_to_have_text("—")  # (polled by Playwright: the pages' CSP forbids eval)
    raised = before["raised_cents"] + 4_000
    wait_for(base, "demo", "raised_cents", raised)  # the workers book it in the background
    page.reload()
    expect(page.locator("#raised")).to_have_text(f"${raised // 100:,}.{raised % 100:02d}")
    visit.screenshot("dashboard-after-gift")
    assert visit.foreign_requests() == [] and visit.errors == []


def test_a_server_refusal_is_shown_with_its_field(site, browser):
    base, _ = site
    visit = Visit(browser, base)
    visit.page.goto(f"{base}/donate.html?campaign=nope")
    visit.page.click("#give")
    expect(visit.page.locator("#form-status")).to_have_class("error")
    assert "no campaign 'nope'" in visit.page.text_content("#form-status")


def test_a_debtor_checks_their_letter_on_the_dashboard(site, browser, monkeypatch):
    base, endpoint = site
    from ops import operations
    from tests.support import letters_in_bucket

    for n in range(4):  # enough for the demo campaign to buy its first portfolio
        status, body = call("POST", f"{base}/campaigns/demo/donations", {"amount_cents": 40_000, "currency": "USD"},
                            {"Idempotency-Key": f"letter-{n}"})
        assert status == 201, body
        assert call("POST", json.loads(body)["checkout_url"])[0] == 200
    settled = wait_until(base, "demo",
                         lambda f: f["purchases"] >= 1 and 0 < f["accounts_forgiven"] == f["letters_sent"])
    assert settled["letters_sent"] > 0, settled
    monkeypatch.setattr(os, "environ", dict(os.environ))  # operator access to the local run, undone after
    operations.connect(endpoint_url=endpoint)
    try:
        letter = letters_in_bucket()[0]
    finally:
        aws.reset()
        forget_secrets()
    code = next(line for line in letter if line.startswith("Verification code: ")).split(": ")[1]
    visit = Visit(browser, base)
    visit.page.goto(f"{base}/")
    visit.page.fill("#code", "AAAA-BBBB")
    visit.page.click("text=Check my letter")
    assert "16 letters and digits" in visit.page.text_content("#code-result")
    visit.page.fill("#code", "AAAA-BBBB-CCCC-DDDD")
    visit.page.click("text=Check my letter")
    expect(visit.page.locator("#code-result")).to_contain_text("No forgiven debt has this code")
    assert visit.page.get_attribute("#code-result", "class") == "error"
    visit.page.fill("#code", code.lower())
    visit.page.click("text=Check my letter")
    expect(visit.page.locator("#code-result")).to_contain_text("You owe nothing")
    assert visit.page.get_attribute("#code-result", "class") == "ok"
    visit.screenshot("letter-checked")
    assert visit.foreign_requests() == [] and visit.errors == []
    # The letter's link, opened in a browser: a page a person can read, with what to do next.
    visit.page.goto(f"{base}/verify/{code}")
    expect(visit.page.locator("h1")).to_have_text("Your debt is forgiven")
    assert "Nothing is owed on it" in visit.page.text_content("body")
    assert "debt collector" in visit.page.text_content("body")
    visit.screenshot("verify-page")
    visit.page.goto(f"{base}/verify/AAAA-BBBB-CCCC-DDDD")
    expect(visit.page.locator("h1")).to_have_text("Code not found")
    assert visit.foreign_requests() == [] and visit.errors == []


def test_the_demo_report_is_one_file_that_needs_nothing_else(browser, tmp_path):
    from local import demo

    path = tmp_path / "index.html"
    report = demo.run(donations=40, seed=5, report_path=path)
    html = path.read_text()
    assert "<script src=" not in html and "<link rel=\"stylesheet\"" not in html and "http" not in html.split(
        "window.JUBILEE_DATA")[0].split("<body>")[1]
    visit = Visit(browser, "file://")
    visit.page.goto(path.as_uri())
    expect(visit.page.locator("#dashboard")).to_have_attribute("aria-busy", "false")
    raised = report["raised_cents"]
    assert visit.page.text_content("#raised") == f"${raised // 100:,}.{raised % 100:02d}"
    assert visit.page.text_content("#people") == str(report["accounts_forgiven"])
    assert visit.page.text_content("#letters-mailed") == str(report["letters_sent"])
    assert visit.page.text_content("#letters-returned") == "0"
    assert visit.page.text_content("#log-head") == report["log_head"]
    assert visit.page.locator("#purchases tbody tr").count() == report["purchases"]
    assert [url for url in visit.requests if url != path.as_uri()] == [] and visit.errors == []
    visit.screenshot("demo-report")


def test_the_pages_format_money_as_the_api_and_the_cli_do(site, browser):
    from functions.domain.money import format_cents
    from functions.domain.planner import cents_per_dollar

    base, _ = site
    visit = Visit(browser, base)
    visit.page.goto(f"{base}/")
    amounts = [(0, "USD"), (5, "USD"), (123_456_789, "USD"), (-4_050, "EUR"), (99, "GBP"), (250_00, "CAD"),
               (1_01, "AUD")]
    ratios = [(1_500, 100_000), (1, 3), (2, 3), (999_999, 1_000_000), (7, 0)]
    shown = visit.page.evaluate("""([amounts, ratios]) => [amounts.map(([c, cur]) => Jubilee.cents(c, cur)),
                                                          ratios.map(([p, f]) => Jubilee.perDollar(p, f))]""",
                                [amounts, ratios])
    assert shown[0] == [format_cents(c, cur) for c, cur in amounts]
    assert shown[1] == [cents_per_dollar(p, f) for p, f in ratios]
