"""Donors' email, composed (functions/domain/email.py): pure, no AWS."""

import datetime as dt
import email
import email.policy

import pytest

from functions.domain import email as mail
from functions.domain.campaigns import Campaign, CampaignError
from functions.domain.receipts import year_end_statement

KEY = b"k" * 32
CAMPAIGN = Campaign("c1", "Jubilee Fund", email_receipts=True, email_from="receipts@fund.example",
                    tax_statement="Jubilee Fund is a 501(c)(3); EIN 00-0000000.")
AT = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


def gift(donation_id, amount=2_500, day="2025-03-01", **extra):
    return {"campaign_id": "c1", "donation_id": donation_id, "amount_cents": amount, "currency": "USD",
            "status": "confirmed", "confirmed_at": f"{day}T10:00:00+00:00", "refunded_cents": 0, **extra}


def parsed(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_a_receipt_names_the_gift_links_its_receipt_and_offers_a_one_click_unsubscribe():
    unsubscribe = mail.unsubscribe_link("https://site.example/", KEY, "c1", "donor-ab")
    receipt = mail.receipt_link("https://site.example/", KEY, "c1", "don_1")
    content = mail.receipt_content(CAMPAIGN, gift("don_1"), "Ada", receipt)
    message = parsed(mail.message(CAMPAIGN, "ada@example.org", content, unsubscribe, AT))
    assert message["Subject"] == "Receipt: $25.00 to Jubilee Fund"
    assert message["From"] == "Jubilee Fund <receipts@fund.example>" and message["To"] == "ada@example.org"
    # RFC 8058: the link in angle brackets, unfolded and unencoded, and the one-click POST offered.
    raw = mail.message(CAMPAIGN, "ada@example.org", content, unsubscribe, AT).decode()
    assert f"List-Unsubscribe: <{unsubscribe}>\r\n" in raw
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for part in (text, html):
        assert "Dear Ada" in part and "$25.00" in part and "2025-03-01" in part and "EIN 00-0000000" in part
        assert receipt in part and unsubscribe in part
    assert receipt.startswith("https://site.example/receipts/c1/don_1?sig=")


def test_an_installment_and_a_monthly_pledge_say_what_they_are():
    first = mail.receipt_content(CAMPAIGN, gift("don_1", frequency="monthly"), None, "u")
    later = mail.receipt_content(CAMPAIGN, gift("don_1-2", pledge_id="don_1"), None, "u")
    assert "first month of your monthly gift" in " ".join(first.paragraphs) and first.paragraphs[0] == "Hello,"
    assert mail.kind_of(gift("don_1-2", pledge_id="don_1")) == "installment"
    assert mail.kind_of(gift("don_1", pledge_id="don_1")) == "receipt"
    assert later.subject == "Your monthly gift of $25.00 to Jubilee Fund"


def test_a_statement_lists_the_years_gifts_net_of_refunds_each_with_its_receipt():
    gifts = [gift("don_1"), gift("don_2", 1_000, "2025-07-04", refunded_cents=250), gift("don_0", 700, "2024-12-31")]
    statement = year_end_statement(gifts, "", 2025)
    content = mail.statement_content(CAMPAIGN, statement, "Ada", {"don_1": "https://r/1", "don_2": "https://r/2"})
    assert content.subject == "Your 2025 giving to Jubilee Fund: $32.50"
    assert content.rows[1:] == (("2025-03-01", "$25.00", "$0.00", "$25.00"), ("2025-07-04", "$10.00", "$2.50", "$7.50"))
    assert [url for _, url in content.links] == ["https://r/1", "https://r/2"]
    html = parsed(mail.message(CAMPAIGN, "a@b.example", content, "https://u", AT)).get_body(("html",)).get_content()
    assert "<th scope=col>Net</th>" in html and "$7.50" in html


def test_statements_go_to_donors_who_gave_an_email_for_that_years_confirmed_gifts():
    donations = [gift("d2", day="2025-05-01", donor_ref="donor-a"), gift("d1", day="2025-01-01", donor_ref="donor-a"),
                 gift("d3", donor_ref="donation-d3"), gift("d4", day="2024-05-01", donor_ref="donor-b"),
                 gift("d5", donor_ref="donor-c", status="pending"), gift("d6")]
    assert mail.statement_donors(donations, 2025, lambda ref: ref.startswith("donor-")) == {"donor-a": ["d1", "d2"]}


def test_unsubscribe_links_are_signed_per_donor_and_campaign():
    sig = mail.unsubscribe_signature(KEY, "c1", "donor-a")
    assert mail.unsubscribe_signature_ok(KEY, "c1", "donor-a", sig)
    assert not mail.unsubscribe_signature_ok(KEY, "c2", "donor-a", sig)
    assert not mail.unsubscribe_signature_ok(KEY, "c1", "donor-b", sig)
    assert not mail.unsubscribe_signature_ok(KEY, "c1", "donor-a", "é" + sig[1:])  # non-ASCII: a miss, not a crash
    assert "<form method=\"post\">" in mail.unsubscribe_page("Fund", False, "https://site.example/", "c1")
    assert "no more email" in mail.unsubscribe_page("Fund", True, "https://site.example/", "c1")


@pytest.mark.parametrize("to", ["ådä@example.org", "a@b.example\r\nBcc: x@y.example", "", "no-at-sign"])
def test_an_address_that_cannot_go_in_a_header_as_is_is_undeliverable(to):
    with pytest.raises(mail.Undeliverable):
        mail.message(CAMPAIGN, to, mail.receipt_content(CAMPAIGN, gift("d"), None, "u"), "https://u", AT)


@pytest.mark.parametrize("settings, field", [
    ({"email_receipts": True}, "email_from"),
    ({"email_from": "Fund <receipts@fund.example>"}, "email_from"),
    ({"email_from": "receipts@localhost"}, "email_from"),
    ({"email_from": "rëceipts@fund.example"}, "email_from"),
    ({"email_receipts": "yes", "email_from": "r@fund.example"}, "email_receipts"),
])
def test_a_campaigns_email_settings_are_checked(settings, field):
    with pytest.raises(CampaignError) as refused:
        Campaign("c1", "Fund", **settings)
    assert refused.value.field == field
    assert Campaign.from_dict(CAMPAIGN.to_dict()) == CAMPAIGN
