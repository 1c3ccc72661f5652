"""PDF letters, written directly: one page or many, text placed in blocks.

The letters are lines of plain text in a standard font (Helvetica, WinAnsi: Western European
accents, as in Spanish names, print as they are), which PDF readers and print-and-mail services
take without embedded fonts. fpdf2 would do it, but brings Pillow and fontTools, compiled packages
the Lambda runtime lacks (a per-platform dependency layer); a letter needs none of what they add.
Tests check the structure, the cross-reference offsets and the text.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable

from functions.adapters.pdf_font import TrueTypeFont

LEFT, TOP, LEADING, SIZE = 72, 720, 16, 11  # points: a one-inch margin, 11 pt Helvetica
Block = tuple[int, int, list[str]]  # (x, y of the first line's baseline, lines)

# A US letter folded in three for a #10 double-window envelope: the sender's block shows through the
# upper window, the recipient's through the lower one; the text starts below the fold's first third.
SENDER_AT, RECIPIENT_AT, BODY_TOP, BOTTOM = (54, 738), (72, 640), 540, 54
BODY_SIZE, BODY_LEADING, BODY_WIDTH = 10, 12.5, 92  # characters a 10 pt Helvetica line holds in 6.5 inches


def pdf_string(text: str) -> str:
    # PDF string literals: escape the delimiters; cp1252 is the WinAnsi font's encoding.
    safe = text.encode("cp1252", "replace").decode("latin-1")
    return "(" + safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def ascii_pdf_string(text: str) -> str:
    """pdf_string in 7-bit ASCII (a byte past it as an octal escape), so the whole PDF is text: an HTTP
    answer needs no binary handling on the way (API Gateway passes it as it is)."""
    return "".join(c if ord(c) < 128 else f"\\{ord(c):03o}" for c in pdf_string(text))


def _stream(blocks: list[Block], size: float, leading: float, font: TrueTypeFont | None = None,
            encode: Callable[[str], str] = pdf_string) -> bytes:
    parts = []
    encode = font.encode if font else encode
    for x, y, lines in blocks:
        parts += [f"BT /F1 {size} Tf {leading} TL {x} {y} Td"] + [f"{encode(line)} Tj T*" for line in lines]
        parts.append("ET")
    return "\n".join(parts).encode("latin-1")


def render_pages(pages: list[bytes], title: str, font: TrueTypeFont | None = None) -> bytes:
    """A PDF of the given content streams, one a page, in one font: Helvetica, or `font` (embedded once),
    which the streams were written with."""
    kids = " ".join(f"{5 + 2 * n} 0 R" for n in range(len(pages)))
    after = 5 + 2 * len(pages)  # the embedded font's other objects come after the pages
    embedded = font.objects([3, *range(after, after + 4)]) if font else []
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode(),
        *(embedded[:1] or [b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"]),
        b"<< /Title " + pdf_string(title).encode("latin-1") + b" /Producer (Jubilee) >>",
    ]
    for n, stream in enumerate(pages):
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
                       + f"/Contents {6 + 2 * n} 0 R >>".encode())
        objects.append(b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream")
    objects += embedded[1:]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 4 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def render_pdf(lines: list[str], title: str = "Letter") -> bytes:
    """One page of lines from the top-left margin."""
    return render_pages([_stream([(LEFT, TOP, lines)], SIZE, LEADING)], title)


def _wrap(line: str) -> list[str]:
    # Never inside a word, a link or a code (its dashes): they must read as printed.
    return textwrap.wrap(line, BODY_WIDTH, subsequent_indent="  " if line.startswith("  ") else "",
                         break_long_words=False, break_on_hyphens=False) or [""]


def letter_pages(sender: list[str], recipient: list[str], texts: list[list[str]],
                 font: TrueTypeFont | None = None) -> list[bytes]:
    """A letter's pages: the two window blocks on the first, then each text (a language) from a new page,
    wrapped to the width and continued on further pages when long."""
    pages: list[bytes] = []
    for n, text in enumerate(texts):
        blocks: list[Block] = [(*SENDER_AT, sender), (*RECIPIENT_AT, recipient)] if n == 0 else []
        pages += _flow(text, BODY_TOP if n == 0 else TOP, blocks, font)
    return pages


def _flow(text: list[str], top: int, blocks: list[Block], font: TrueTypeFont | None = None,
          encode: Callable[[str], str] = pdf_string) -> list[bytes]:
    """The text wrapped to the width from `top` (beside `blocks` on the first page), on as many pages as it takes."""
    wrapped, pages = [piece for line in text for piece in _wrap(line)], []
    while True:
        per_page = int((top - BOTTOM) // BODY_LEADING) + 1
        pages.append(_stream(blocks + [(LEFT, top, wrapped[:per_page])], BODY_SIZE, BODY_LEADING, font, encode))
        wrapped, blocks, top = wrapped[per_page:], [], TOP
        if not wrapped:
            return pages


def document_pdf(lines: list[str], title: str) -> str:
    """A receipt or statement: its lines from the top of the first page on, as ASCII text (see ascii_pdf_string)."""
    return render_pages(_flow(lines, TOP, [], encode=ascii_pdf_string), title).decode("ascii")
