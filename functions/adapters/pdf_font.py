"""A TrueType font embedded in a PDF (Type 0 / CIDFontType2, Identity-H), so any name prints as written.

Reads just what a PDF needs from the font file (the Unicode cmap, glyph widths, a few metrics) with
the standard library; no Pillow or fontTools. The whole font is embedded once per document
(compressed), the text is written as glyph ids, and a ToUnicode map keeps it searchable and
extractable. The print bundle uses it; single letters keep the standard Helvetica.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

# DejaVu Sans (a free font, Debian's fonts-dejavu-core) unless JUBILEE_LETTER_FONT names another.
CANDIDATES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans.ttf",
              "/Library/Fonts/DejaVuSans.ttf")


class FontError(ValueError):
    pass


def find_font() -> Path | None:
    named = os.environ.get("JUBILEE_LETTER_FONT")
    for candidate in ([named] if named else []) + list(CANDIDATES):
        if Path(candidate).is_file():
            return Path(candidate)
    return None


class TrueTypeFont:
    def __init__(self, data: bytes):
        self.data = data
        try:
            count = struct.unpack(">H", data[4:6])[0]
            self.tables = {data[12 + 16 * i:16 + 16 * i].decode("latin-1"): struct.unpack(
                ">II", data[20 + 16 * i:28 + 16 * i]) for i in range(count)}
            head, hhea = self._table("head"), self._table("hhea")
            self.units = struct.unpack(">H", head[18:20])[0]
            self.bbox = struct.unpack(">hhhh", head[36:44])
            self.ascent, self.descent = struct.unpack(">hh", hhea[4:8])
            metrics = struct.unpack(">H", hhea[34:36])[0]
            hmtx = self._table("hmtx")
            self.advances = [struct.unpack(">H", hmtx[4 * i:4 * i + 2])[0] for i in range(metrics)]
            self.cmap = self._unicode_cmap()
        except (KeyError, struct.error, IndexError) as error:
            raise FontError(f"not a TrueType font this writer reads ({error})") from None
        self.used: dict[int, str] = {}  # glyph id -> the text it stands for

    def _table(self, tag: str) -> bytes:
        offset, length = self.tables[tag]
        return self.data[offset:offset + length]

    def _unicode_cmap(self) -> dict[int, int]:
        cmap = self._table("cmap")
        for i in range(struct.unpack(">H", cmap[2:4])[0]):
            platform, encoding, offset = struct.unpack(">HHI", cmap[4 + 8 * i:12 + 8 * i])
            if (platform, encoding) in ((3, 1), (0, 3)) and struct.unpack(">H", cmap[offset:offset + 2])[0] == 4:
                return self._format4(cmap[offset:])
        raise FontError("the font has no Unicode (format 4) cmap")

    @staticmethod
    def _format4(sub: bytes) -> dict[int, int]:
        segments = struct.unpack(">H", sub[6:8])[0] // 2
        ends = struct.unpack(f">{segments}H", sub[14:14 + 2 * segments])
        at = 16 + 2 * segments
        starts = struct.unpack(f">{segments}H", sub[at:at + 2 * segments])
        deltas = struct.unpack(f">{segments}h", sub[at + 2 * segments:at + 4 * segments])
        offsets_at = at + 4 * segments
        offsets = struct.unpack(f">{segments}H", sub[offsets_at:offsets_at + 2 * segments])
        mapping = {}
        for n, (start, end, delta, offset) in enumerate(zip(starts, ends, deltas, offsets, strict=True)):
            for code in range(start, min(end, 0xFFFE) + 1):
                if offset == 0:
                    glyph = (code + delta) & 0xFFFF
                else:
                    where = offsets_at + 2 * n + offset + 2 * (code - start)
                    glyph = struct.unpack(">H", sub[where:where + 2])[0]
                    glyph = (glyph + delta) & 0xFFFF if glyph else 0
                if glyph:
                    mapping[code] = glyph
        return mapping

    def width(self, glyph: int) -> int:
        advance = self.advances[min(glyph, len(self.advances) - 1)]
        return advance * 1000 // self.units

    def encode(self, text: str) -> str:
        """The text as a PDF hex string of glyph ids (a character the font lacks prints as '?')."""
        glyphs = []
        for char in text:
            glyph = self.cmap.get(ord(char)) or self.cmap.get(ord("?"), 0)
            self.used.setdefault(glyph, char if glyph == self.cmap.get(ord(char)) else "?")
            glyphs.append(glyph)
        return "<" + "".join(f"{g:04X}" for g in glyphs) + ">"

    def objects(self, numbers: list[int]) -> list[bytes]:
        """The font's five PDF objects, to be numbered `numbers` (the Type 0 font first)."""
        descendant, descriptor, font_file, unicode_map = numbers[1:]
        scale = 1000 / self.units
        bbox = " ".join(str(round(v * scale)) for v in self.bbox)
        widths = " ".join(f"{g} [{self.width(g)}]" for g in sorted(self.used))
        to_unicode = ("/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CIDSystemInfo << /Registry "
                      "(Adobe) /Ordering (UCS) /Supplement 0 >> def /CMapName /Adobe-Identity-UCS def /CMapType 2 "
                      "def 1 begincodespacerange <0000> <FFFF> endcodespacerange\n")
        pairs = sorted(self.used.items())
        for n in range(0, len(pairs), 100):
            chunk = pairs[n:n + 100]
            to_unicode += f"{len(chunk)} beginbfchar\n" + "".join(
                f"<{g:04X}> <{''.join(f'{u:04X}' for u in _utf16(text))}>\n" for g, text in chunk) + "endbfchar\n"
        to_unicode += "endcmap CMapName currentdict /CMap defineresource pop end end"
        packed, cmap = zlib.compress(self.data, 9), zlib.compress(to_unicode.encode(), 9)
        return [
            f"<< /Type /Font /Subtype /Type0 /BaseFont /Embedded /Encoding /Identity-H /DescendantFonts "
            f"[{descendant} 0 R] /ToUnicode {unicode_map} 0 R >>".encode(),
            f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Embedded /CIDSystemInfo << /Registry (Adobe) "
            f"/Ordering (Identity) /Supplement 0 >> /FontDescriptor {descriptor} 0 R /CIDToGIDMap /Identity "
            f"/DW 600 /W [{widths}] >>".encode(),
            f"<< /Type /FontDescriptor /FontName /Embedded /Flags 32 /FontBBox [{bbox}] /ItalicAngle 0 "
            f"/Ascent {round(self.ascent * scale)} /Descent {round(self.descent * scale)} /CapHeight "
            f"{round(self.ascent * scale)} /StemV 80 /FontFile2 {font_file} 0 R >>".encode(),
            f"<< /Length {len(packed)} /Length1 {len(self.data)} /Filter /FlateDecode >>\nstream\n".encode()
            + packed + b"\nendstream",
            f"<< /Length {len(cmap)} /Filter /FlateDecode >>\nstream\n".encode() + cmap + b"\nendstream",
        ]


def _utf16(text: str) -> list[int]:
    raw = text.encode("utf-16-be")
    return [int.from_bytes(raw[i:i + 2], "big") for i in range(0, len(raw), 2)]
