"""Small helpers the integration tests share: acting as a donor, and reading what was stored."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import Binary

from functions.adapters import dynamo
from functions.adapters.aws import client, settings
from functions.domain.ledger import IDENTITY_TERMS


def donate(cloud: Any, amount_cents: int = 2_500, key: str = "key-1", campaign: str = "c1", **extra: Any) -> Any:
    body = {"amount_cents": amount_cents, "currency": "USD", **extra}
    return cloud.http("POST", f"/campaigns/{campaign}/donations", body, {"Idempotency-Key": key})


def pay(cloud: Any, donation: dict[str, Any]) -> Any:
    """Complete the sandbox checkout, as the donor's browser would."""
    return cloud.http("POST", donation["checkout_url"].removeprefix(cloud.public_base_url))


def give(cloud: Any, amounts: list[int], prefix: str = "gift") -> list[dict[str, Any]]:
    donations = []
    for n, amount in enumerate(amounts):
        created = donate(cloud, amount, key=f"{prefix}-{n}")
        assert created.status == 201, created.body
        assert pay(cloud, created.json()).status == 200
        donations.append(created.json())
    return donations


def items(kind: str | None = None) -> list[dict[str, Any]]:
    """Every item of the ledger table (of one kind)."""
    return list(dynamo.scan(kind))


def figures(cloud: Any, campaign: str = "c1") -> dict[str, Any]:
    response = cloud.http("GET", f"/campaigns/{campaign}")
    assert response.status == 200, response.body
    return response.json()


def assert_books_balance(f: dict[str, Any]) -> None:
    """raised + shortfall = fees + refunded + disputes lost + reserve + pool + frozen + held + spent + expenses."""
    assert f["raised_cents"] + f["shortfall_cents"] == sum(f[p] for p in IDENTITY_TERMS)
    assert f["ledger_balanced"] is True


def pdf_lines(pdf: bytes) -> list[str]:
    """The text lines of one of our letters (Tj string literals, unescaped)."""
    import re

    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    found = re.findall(rb"\((.*?)(?<!\\)\) Tj", pdf)
    return [re.sub(rb"\\(.)", rb"\1", s).decode("latin-1") for s in found]


def opener(campaign_id: str, plan_id: str) -> Any:
    """What the letters function opens a portfolio's sealed data with (asks KMS for its private key)."""
    from functions.adapters import crypto, forgiveness

    private = bytes(forgiveness.debtor_key(campaign_id, plan_id)["private_key"])
    return crypto.portfolio_opener(private, campaign_id, plan_id)


def letters_in_bucket() -> list[list[str]]:
    """Every letter the sandbox printer put in the letters bucket (batches opened with their
    portfolio's key), as its text lines."""
    import io
    import zipfile


    s3, bucket, letters = client("s3"), settings().letters_bucket, []
    for listed in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        _, campaign_id, plan_id, name = listed["Key"].split("/")
        batch_id = f"{campaign_id}/{plan_id}/{name.removesuffix('.zip.sealed')}".encode()
        archive = opener(campaign_id, plan_id).open(s3.get_object(Bucket=bucket, Key=listed["Key"])["Body"].read(),
                                                    batch_id)
        with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
            letters += [pdf_lines(bundle.read(member)) for member in bundle.namelist()]
    return letters


def public(item: dict[str, Any]) -> dict[str, Any]:
    """An item without its sealed (encrypted) fields: what a reader without the key could see."""
    return {k: v.value.hex() if isinstance(v, Binary) else v for k, v in item.items()
            if k not in ("sealed", "private_key")}


def embedded_pdf_lines(pdf: bytes) -> list[str]:
    """The text lines of a PDF written in an embedded font (glyph ids, `<hex> Tj`), read back through the
    document's own ToUnicode map, as a PDF reader extracts them."""
    import re
    import zlib

    streams = re.findall(rb"/Filter /FlateDecode >>\nstream\n(.*?)\nendstream", pdf, re.S)
    cmap = zlib.decompress(streams[-1]).decode("latin-1")  # the ToUnicode map is the document's last object
    assert "beginbfchar" in cmap
    glyphs = {int(g, 16): bytes.fromhex(u).decode("utf-16-be")
              for g, u in re.findall(r"<([0-9A-F]{4})> <([0-9A-F]+)>", cmap)}
    lines = [hexed.decode() for hexed in re.findall(rb"<([0-9A-F]*)> Tj", pdf)]
    return ["".join(glyphs[int(line[i:i + 4], 16)] for i in range(0, len(line), 4)) for line in lines]


def text_pdf_lines(pdf: str) -> list[str]:
    """The text lines of a receipt's PDF, which is all 7-bit text (bytes past ASCII as octal escapes), as a
    PDF reader extracts them."""
    import re

    assert pdf.startswith("%PDF-1.4") and pdf.rstrip().endswith("%%EOF") and pdf.isascii()

    def unescape(text: str) -> str:
        raw = re.sub(r"\\([0-7]{3}|.)", lambda m: chr(int(m[1], 8)) if len(m[1]) == 3 else m[1], text)
        return raw.encode("latin-1").decode("cp1252")

    return [unescape(s) for s in re.findall(r"\((.*?)(?<!\\)\) Tj", pdf)]
def giving360_problems(data: Any) -> list[str]:
    """Every way `data` breaks the 360Giving package schema (jsonschema), its grant schema resolved from the
    vendored copy (ops/schemas/), not fetched."""
    import json

    from jsonschema import Draft202012Validator, FormatChecker
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    from ops import giving360

    schemas = {name: json.loads((giving360.SCHEMAS / name).read_text())
               for name in (giving360.PACKAGE_SCHEMA, giving360.GRANT_SCHEMA)}
    # The package schema refers to the grant schema by the URL of its release.
    assert json.dumps(schemas[giving360.PACKAGE_SCHEMA]).count(schemas[giving360.GRANT_SCHEMA]["$id"]) == 1
    # Draft 2020-12 named as such: the files write its URI with http://, which jsonschema doesn't recognise.
    registry = Registry().with_resources((s["$id"], Resource(s, DRAFT202012)) for s in schemas.values())
    validator = Draft202012Validator(schemas[giving360.PACKAGE_SCHEMA], registry=registry,
                                     format_checker=FormatChecker())
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)]
