"""The letter PDF: a valid file (every cross-reference points at its object) carrying the letter's text."""

import re

from functions.adapters.letters_pdf import render_pdf
from tests.support import pdf_lines


def test_every_cross_reference_points_at_its_object_and_the_text_survives_escaping():
    lines = ["Avery (Example)", "1 Imaginary Lane \\ Apt 2", "Amount forgiven: $1,250.00.", "Ünïcode → ?"]
    pdf = render_pdf(lines, "Letter from Demo")
    xref_at = int(re.search(rb"startxref\n(\d+)\n%%EOF", pdf).group(1))
    assert pdf[xref_at:].startswith(b"xref\n0 7\n")
    offsets = [int(entry[:10]) for entry in re.findall(rb"(\d{10}) 00000 n", pdf[xref_at:])]
    assert [pdf[o:].split(b"\n", 1)[0] for o in offsets] == [f"{n} 0 obj".encode() for n in range(1, 7)]
    length = int(re.search(rb"/Length (\d+)", pdf).group(1))
    stream = pdf.split(b"stream\n", 1)[1].split(b"\nendstream", 1)[0]
    assert len(stream) == length
    assert pdf_lines(pdf)[:3] == lines[:3] and pdf_lines(pdf)[3].startswith("Ünïcode")
