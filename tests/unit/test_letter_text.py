"""What a letter says, in English and Spanish, and that its PDF carries every section."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest

from functions.adapters.letters_pdf import letter_pages, render_pages
from functions.adapters.mail import letter_html
from functions.domain.campaigns import Campaign, CampaignError
from functions.domain.letter_text import Facts, Letter, compose
from tests.support import pdf_lines

FACTS = Facts("José Núñez", "12 Calle Ñandú", "San Antonio", "TX", "78205", "St. Example Hospital", "medical",
              125_000, "4321", "2021-03-04", "ABCD-EFGH-IJKL-MNOP", "https://jubilee.example/verify/ABCD-EFGH-IJKL-MNOP")


def letter(**overrides: Any) -> Letter:
    settings: dict[str, Any] = dict(
        sender=["Example Jubilee Inc.", "1 Main St", "Springfield, IL 62701"], signer="Example Jubilee Inc.",
        contact="letters@jubilee.example", currency="USD", languages=("en", "es"), entity_type="501c3",
        tax_note="", generic_creditor=False, today=dt.date(2026, 11, 29))
    return compose(FACTS, **(settings | overrides))


def text_of(pdf: bytes) -> str:
    return "\n".join(pdf_lines(pdf))


def test_the_pdf_holds_every_section_in_english_and_spanish_with_accents_intact():
    made = letter()
    pdf = render_pages(letter_pages(made.sender, made.recipient, made.pages), "Letter")
    text = text_of(pdf)
    for section in (
        "Example Jubilee Inc.", "1 Main St", "Springfield, IL 62701",  # letterhead: legal name, postal address
        "José Núñez", "12 Calle Ñandú", "San Antonio, TX 78205",  # recipient, accents as written
        "November 29, 2026", "29 de noviembre de 2026",  # dated, in each language
        "Original creditor: St. Example Hospital", "Account number ending in: 4321",
        "Charge-off or service date: 2021-03-04", "Amount: $1,250.00",
        "forgiven in full", "You owe nothing", "do not need to do", "anything",
        "If a debt collector contacts you", "show them this letter",
        "Credit reports:", "Tax:", "Form 1099-C", "not tax advice",
        "Verification code: ABCD-EFGH-IJKL-MNOP", "https://jubilee.example/verify/ABCD-EFGH-IJKL-MNOP",
        "Questions: letters@jubilee.example",
        "Acreedor original: St. Example Hospital", "perdonada por completo", "no debe nada", "Si un cobrador",
        "Informes de crédito", "Impuestos:", "Código de verificación: ABCD-EFGH-IJKL-MNOP",
    ):
        assert section in text, section
    assert pdf.count(b"/Type /Page ") == 2  # one page per language


def test_with_an_embedded_font_every_name_prints_as_written():
    from functions.adapters.pdf_font import TrueTypeFont, find_font
    from tests.support import embedded_pdf_lines

    found = find_font()
    assert found is not None, "install fonts-dejavu-core (Debian) or set JUBILEE_LETTER_FONT"
    font = TrueTypeFont(found.read_bytes())
    made = compose(replace(FACTS, name="Zoë Łukasiewicz-Ōta"), sender=["Jubilee"], signer="Jubilee", contact="x",
                   currency="USD", languages=("es",), entity_type="none", tax_note="", generic_creditor=False,
                   today=dt.date(2026, 1, 5))
    pdf = render_pages(letter_pages(made.sender, made.recipient, made.pages, font), "Letter", font)
    text = embedded_pdf_lines(pdf)
    assert "Zoë Łukasiewicz-Ōta" in text and "5 de enero de 2026" in text and "12 Calle Ñandú" in text
    assert b"/FontFile2" in pdf and b"/Subtype /CIDFontType2" in pdf and b"/Helvetica" not in pdf


def test_a_generic_creditor_label_and_the_campaigns_own_tax_note_replace_the_defaults():
    made = letter(generic_creditor=True, tax_note="Our own note about taxes.", languages=("es",))
    text = "\n".join(made.lines())
    assert "St. Example Hospital" not in text and "Acreedor original: un proveedor médico" in text
    assert "Our own note about taxes." in text and "1099-C" not in text
    other = "\n".join(letter(entity_type="none", languages=("en",)).lines())
    assert "is a charity" not in other and "Form 1099-C" in other


def test_lob_gets_the_same_text_as_html_without_the_recipient_block():
    html = letter_html(letter())
    assert "Jos\u00e9 N\u00fa\u00f1ez" in html and "12 Calle" not in html  # Lob prints the address itself
    assert "page-break-before" in html and "Informes de cr\u00e9dito" in html


@pytest.mark.parametrize("field, kwargs", [
    ("letter_languages", {"letter_languages": ("fr",)}), ("letter_languages", {"letter_languages": ("en", "en")}),
    ("entity_type", {"entity_type": "bank"}), ("letter_tax_note", {"letter_tax_note": "x" * 1001}),
    ("legal_name", {"mailer": "lob"}),
    ("postal_address", {"mailer": "lob", "legal_name": "X", "postal_address": ("1 Main", "", "IL", "62701")}),
])
def test_letter_settings_are_checked(field, kwargs):
    with pytest.raises(CampaignError) as caught:
        Campaign("ok", "N", **kwargs)
    assert caught.value.field == field
