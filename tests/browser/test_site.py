"""The public site in a real browser (Debian's Chromium, driven by Playwright) against `jubilee serve`:
a donation made on the page, paid on the sandbox checkout, shows on the dashboard; the pages ask
nothing of any other origin; every form field has a label; axe-core (from npm) finds no serious or
critical accessibility violation on any page. Screenshots go to test-artifacts/."""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from functions.adapters import aws
from functions.domain.money import format_cents
from tests.serving import call, running, wait_for, wait_until

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"  # from npm, pinned in package.json (make test installs it)
# As the machine's notes advise: no background calls home (they would be refused, and are not the page's).
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-default-apps"]

if not os.path.exists(CHROMIUM):
    if os.environ.get("JUBILEE_REQUIRE_BROWSER"):
        raise RuntimeError("Chromium is required here (JUBILEE_REQUIRE_BROWSER=1): `make browser` installs it")
    pytest.skip("no Chromium: `make browser` installs Debian's (needs root or sudo)", allow_module_level=True)

if not AXE.exists():
    if os.environ.get("JUBILEE_REQUIRE_BROWSER"):
        raise RuntimeError(f"{AXE} is missing: `npm ci` (run by `make test`) installs axe-core from package.json")
    pytest.skip("no axe-core: `npm ci` (run by `make test`) installs it", allow_module_level=True)

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

    def __init__(self, browser, base, width=1200):
        self.page = browser.new_page(viewport={"width": width, "height": 900})
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

    def accessibility_problems(self):
        """axe-core's serious and critical violations on the page as it is now: (rule, impact, where)."""
        if not self.page.evaluate("() => typeof axe !== 'undefined'"):
            self.page.evaluate(AXE.read_text())  # (not a <script>: the pages' CSP allows only their own)
        found = self.page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']}))
            .violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => [v.id, v.impact, v.nodes.map(n => n.target.join(' ')).slice(0, 5)])""")
        return [tuple(v) for v in found]

    def cut_off(self):
        """What a reader cannot see without scrolling sideways: the page wider than the screen, or table
        cells reaching past its edge (a phone shows no scroll bar, so a cell there is a column cut off)."""
        return self.page.evaluate("""() => {
            const width = document.documentElement.clientWidth;
            const wide = document.documentElement.scrollWidth > width ? ['the page'] : [];
            return wide.concat([...document.querySelectorAll('td')].filter(cell => {
                const box = cell.getBoundingClientRect();
                return box.width > 0 && box.right > width + 0.5;
            }).map(cell => cell.textContent));
        }""")

    def chart_text_sizes(self):
        """The size each chart's text is drawn at on screen, in CSS pixels (its font size × the SVG's scale)."""
        return self.page.evaluate("""() => [...document.querySelectorAll('.chart svg text')].map(t =>
            parseFloat(getComputedStyle(t).fontSize) * t.closest('svg').getScreenCTM().a)""")

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
    assert visit.accessibility_problems() == []
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
        aws.reset()  # (and the secrets kept with the dependencies)
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
    before = json.loads(call("GET", f"{base}/campaigns/demo")[1])  # (earlier tests waited for their bookings)
    visit = Visit(browser, base)
    page = visit.page
    page.goto(f"{base}/donate.html")
    assert visit.unlabelled_fields() == []
    assert visit.accessibility_problems() == []
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
    assert visit.accessibility_problems() == []  # (with its errors shown)
    page.fill("#donor-email", "")
    page.check("#anonymous")
    page.check("#cover-fees")  # $40 grossed up by 2.9% + 30c: ceil(40.30 / 0.971) = $41.51
    with page.expect_navigation():
        page.click("#give")
    assert "/sandbox/checkout/demo/" in page.url and "Pay $41.51" in page.text_content("body")
    assert page.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor") == "rgb(31, 95, 74)"
    assert page.locator("header, main, footer").count() == 3 and page.locator("h1").count() == 1
    visit.screenshot("checkout")
    assert visit.accessibility_problems() == []
    with page.expect_navigation():
        page.click("button:has-text('Pay')")
    assert "Thank you" in page.text_content("h1") and page.locator("header, main, footer").count() == 3
    visit.screenshot("checkout-paid")
    assert visit.accessibility_problems() == []
    with page.expect_navigation():
        page.click("text=Your receipt")
    assert page.text_content("h1") == "Receipt for your gift" and "$41.51" in page.text_content("main")
    assert "includes $1.51 you added" in page.text_content("main")
    visit.screenshot("receipt")
    with page.expect_navigation():
        page.click("text=Back to the campaign")
    expect(page.locator("#raised")).not_to_have_text("—")  # (polled by Playwright: the pages' CSP forbids eval)
    raised = before["raised_cents"] + 4_151
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
                         lambda f: f["purchases"] >= 1 and 0 < f["accounts_forgiven"] == f["letters_waiting"])
    assert settled["letters_waiting"] > 0, settled
    monkeypatch.setattr(os, "environ", dict(os.environ))  # operator access to the local run, undone after
    operations.connect(endpoint_url=endpoint)
    try:
        letter = letters_in_bucket()[0]
    finally:
        aws.reset()
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
    assert visit.accessibility_problems() == []
    assert visit.foreign_requests() == [] and visit.errors == []
    # The letter's link, opened in a browser: a page a person can read, with what to do next.
    visit.page.goto(f"{base}/verify/{code}")
    expect(visit.page.locator("h1")).to_have_text("Your debt is forgiven")
    assert "Nothing is owed on it" in visit.page.text_content("body")
    assert "debt collector" in visit.page.text_content("body")
    visit.screenshot("verify-page")
    assert visit.accessibility_problems() == []
    visit.page.goto(f"{base}/verify/AAAA-BBBB-CCCC-DDDD")
    expect(visit.page.locator("h1")).to_have_text("Code not found")
    assert visit.accessibility_problems() == []
    assert visit.foreign_requests() == [] and visit.errors == []


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The demo's self-contained report: (its file, its figures)."""
    from local import demo

    path = tmp_path_factory.mktemp("report") / "index.html"
    return path, demo.run(donations=40, seed=5, report_path=path)


def test_the_demo_report_is_one_file_that_needs_nothing_else(browser, report):
    path, report = report
    html = path.read_text()
    assert "<script src=" not in html and "<link rel=\"stylesheet\"" not in html and "http" not in html.split(
        "window.JUBILEE_DATA")[0].split("<body>")[1]
    visit = Visit(browser, "file://")
    visit.page.goto(path.as_uri())
    expect(visit.page.locator("#dashboard")).to_have_attribute("aria-busy", "false")
    raised = report["raised_cents"]
    assert visit.page.text_content("#raised") == f"${raised // 100:,}.{raised % 100:02d}"
    assert visit.page.text_content("#people") == str(report["accounts_forgiven"])
    # The sandbox printer mails nothing: its letters are printed, waiting, never counted as mailed.
    assert visit.page.text_content("#letters-mailed") == str(report["letters_sent"]) == "0"
    assert visit.page.text_content("#letters-waiting") == str(report["letters_waiting"]) != "0"
    assert visit.page.text_content("#checklist-open").count("3 of 3 open") == report["purchases"]  # none ticked
    assert visit.page.text_content("#letters-returned") == "0"
    assert visit.page.text_content("#log-head") == report["log_head"]
    assert visit.page.locator("#purchases tbody tr").count() == report["purchases"]
    assert visit.page.text_content("#purchases tbody tr td:nth-child(2)").startswith("demo.")  # its plan id
    assert [url for url in visit.requests if url != path.as_uri()] == [] and visit.errors == []
    visit.screenshot("demo-report")
    assert visit.accessibility_problems() == []


def test_the_dashboard_reads_on_a_phone(browser, report):
    from functions.domain.impact import abolished_share_cents

    path, figures = report
    visit = Visit(browser, "file://", width=375)
    visit.page.goto(path.as_uri())
    expect(visit.page.locator("#dashboard")).to_have_attribute("aria-busy", "false")
    assert visit.page.locator("#purchases tbody tr").count() == figures["purchases"] > 0
    assert visit.cut_off() == []  # every money column in sight: the table reflows, one card per purchase
    sizes = visit.chart_text_sizes()
    assert sizes and min(sizes) >= 12, sizes
    over_time = visit.page.locator("#over-time svg")
    assert over_time.locator("line.axis").count() >= 2 and over_time.locator("text.tick").count() == 3
    assert over_time.locator("text.tick").first.text_content() == "$0.00"
    visit.screenshot("dashboard-phone")
    assert visit.accessibility_problems() == []
    # A donor's share of the debt abolished: gift ÷ raised × face value forgiven, to the cent (rounded down).
    share = abolished_share_cents(2_500, figures["raised_cents"], figures["face_value_forgiven_cents"])
    visit.page.fill("#share-gift", "25")
    visit.page.click("text=Show my share")
    expect(visit.page.locator("#share-result")).to_have_text(
        f"A gift of $25.00: ${share // 100:,}.{share % 100:02d} of debt abolished so far.")
    assert "rounded down to the cent" in visit.page.text_content("#share-title + p")
    visit.page.set_viewport_size({"width": 1200, "height": 900})  # drawn again at the new width, text unscaled
    expect(visit.page.locator("#over-time svg")).to_have_attribute("width", re.compile(r"^[4-9]\d\d$"))
    assert min(visit.chart_text_sizes()) >= 12
    assert visit.errors == []


def test_a_campaign_in_pounds_takes_gifts_in_pounds_on_its_page(site, browser):
    base, endpoint = site
    created = subprocess.run([sys.executable, "-m", "ops.cli", "campaigns", "create", "pounds", "--name",
                              "Pounds Jubilee", "--currency", "GBP", "--endpoint-url", endpoint],
                             capture_output=True, text=True, timeout=120)
    assert created.returncode == 0, created.stdout + created.stderr
    visit = Visit(browser, base, width=375)
    page = visit.page
    page.goto(f"{base}/donate.html?campaign=pounds")
    expect(page.locator("label[for=preset-2500]")).to_have_text("£25")
    assert page.text_content("label[for=custom-amount]") == "Other amount, in pounds"
    page.fill("#custom-amount", "ten")
    page.click("#give")
    assert page.text_content("#amount-error") == "Enter an amount in pounds, like 40 or 12.50."
    page.fill("#custom-amount", "£12.50")
    with page.expect_navigation():
        page.click("#give")
    assert "/sandbox/checkout/pounds/" in page.url and "Pay £12.50" in page.text_content("main")
    assert visit.cut_off() == [] and visit.accessibility_problems() == []
    with page.expect_navigation():
        page.click("button:has-text('Pay')")
    assert wait_for(base, "pounds", "raised_cents", 1_250)["currency"] == "GBP"
    assert visit.foreign_requests() == [] and visit.errors == []


def test_a_donors_receipt_its_mail_and_the_unsubscribe_page_pass_axe(site, browser):
    """The pages a donor reaches from their mail (the receipt, the unsubscribe page) read as the site does;
    so does `jubilee serve`'s local outbox, where a person follows that mail."""
    base, _ = site
    status, body = call("POST", f"{base}/campaigns/demo/donations",
                        {"amount_cents": 2_500, "donor": {"email": "axe@example.org"}},
                        {"Idempotency-Key": "receipt-page"})
    assert status == 201, body
    answer = json.loads(body)
    assert call("POST", answer["checkout_url"])[0] == 200
    visit = Visit(browser, base)
    visit.page.goto(answer["receipt_url"])
    assert visit.page.locator("header, main, footer").count() == 3 and visit.page.locator("h1").count() == 1
    assert "Debt abolished so far by your giving" in visit.page.text_content("main")
    visit.screenshot("receipt")
    assert visit.accessibility_problems() == []
    visit.page.emulate_media(media="print")  # printed: the receipt alone, without the site's header and links
    assert not visit.page.is_visible("header") and not visit.page.is_visible("nav")
    assert visit.page.is_visible("dl.facts")
    visit.page.emulate_media(media="screen")
    deadline, mine = time.monotonic() + 20, []
    while not mine and time.monotonic() < deadline:
        mine = [m for m in json.loads(call("GET", f"{base}/_local/mail.json")[1]) if m["to"] == "axe@example.org"]
        time.sleep(0.2)
    assert mine, "no receipt mail in the local outbox"
    visit.page.goto(f"{base}/_local/mail")
    visit.screenshot("local-mail")
    assert visit.accessibility_problems() == []
    visit.page.goto(mine[0]["list_unsubscribe"].strip("<>"))
    assert visit.page.text_content("h1") == "Unsubscribe" and visit.page.locator("header, main, footer").count() == 3
    visit.screenshot("unsubscribe")
    assert visit.accessibility_problems() == []
    assert visit.foreign_requests() == [] and visit.errors == []


def test_the_pages_format_money_as_the_api_and_the_cli_do(site, browser):
    from functions.domain.impact import abolished_share_cents
    from functions.domain.money import format_cents
    from functions.domain.purchase import cents_per_dollar

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
    shares = [(2_500, 100_000, 2_000_000), (1, 3, 100), (2_500, 0, 0), (123_456_789, 987_654_321, 9_876_543_210_123)]
    assert visit.page.evaluate("(shares) => shares.map(([g, r, f]) => Jubilee.abolishedShare(g, r, f))", shares) == [
        abolished_share_cents(*share) for share in shares]
