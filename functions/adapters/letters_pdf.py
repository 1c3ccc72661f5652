"""A one-page PDF letter, written directly.

The letters are lines of plain text in a standard font, which PDF readers and print-and-mail
services take without embedded fonts. fpdf2 would do it, but brings Pillow and fontTools,
compiled packages the Lambda runtime lacks (a per-platform dependency layer); a letter needs
none of what they add. Tests check the structure, the cross-reference offsets and the text.
"""

from __future__ import annotations

LEFT, TOP, LEADING, SIZE = 72, 720, 16, 11  # points: a one-inch margin, 11 pt Helvetica


def pdf_string(text: str) -> str:
    # PDF string literals: escape the delimiters; Latin-1 covers the WinAnsi font's characters.
    safe = text.encode("latin-1", "replace").decode("latin-1")
    return "(" + safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def render_pdf(lines: list[str], title: str = "Letter") -> bytes:
    stream = "\n".join([f"BT /F1 {SIZE} Tf {LEADING} TL {LEFT} {TOP} Td"]
                       + [f"{pdf_string(line)} Tj T*" for line in lines] + ["ET"]).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Title " + pdf_string(title).encode("latin-1") + b" /Producer (Jubilee) >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 6 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
