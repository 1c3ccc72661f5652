"""S3: offer files, bought portfolios, letters; and the sandbox seller that works on them."""

from __future__ import annotations

import codecs
import io
import zipfile
from collections.abc import Callable, Iterator
from typing import IO

from botocore.exceptions import ClientError

from functions.adapters.aws import client, settings
from functions.domain.purchase import Plan, SellerError

SANDBOX_DECLINING_SELLER = "sandbox-declines"  # a seller name the sandbox refuses, to exercise voids


def offer_key(campaign_id: str, offer_id: str) -> str:
    return f"offers/{campaign_id}/{offer_id}.csv"


# Beside an offer file, its accounts' duplicate keys (domain/duplicates.py), made once at `offers add`: per row,
# in the file's order, the account key and the person key in hex (KEY_WIDTH characters). Keyed hashes, no
# personal data; forgiveness reads its chunk's slice instead of hashing every account again.
KEYS_SUFFIX, KEY_WIDTH = ".keys", 64


def upload_offer(campaign_id: str, offer_id: str, body: bytes | IO[bytes], keys: str | None = None) -> str:
    key = offer_key(campaign_id, offer_id)
    if keys is not None:  # first: an offer file is never without its keys
        client("s3").put_object(Bucket=settings().offers_bucket, Key=key + KEYS_SUFFIX, Body=keys.encode("ascii"),
                                ContentType="text/plain")
    client("s3").put_object(Bucket=settings().offers_bucket, Key=key, Body=body, ContentType="text/csv")
    return key


def offer_keys(key: str, first_row: int, rows: int) -> str | None:
    """The duplicate keys of `rows` rows of an offer file from `first_row` (fewer at its end); None for a
    file registered before they were stored."""
    try:
        return client("s3").get_object(Bucket=settings().offers_bucket, Key=key + KEYS_SUFFIX,
                                       Range=f"bytes={first_row * KEY_WIDTH}-{(first_row + rows) * KEY_WIDTH - 1}"
                                       )["Body"].read().decode("ascii")
    except client("s3").exceptions.NoSuchKey:
        return None


def delete_offer(key: str) -> None:
    """An offer file that will never be bought (or whose accounts are all in): no reason to stay."""
    for name in (key, key + KEYS_SUFFIX):
        client("s3").delete_object(Bucket=settings().offers_bucket, Key=name)


def delete_files(campaign_id: str, keys: set[str]) -> list[str]:
    """Delete those of `keys` still in the campaign's part of the offers bucket (its offers and bought
    portfolios; listed, so files gone before cost nothing). Returns the keys deleted."""
    s3, bucket = client("s3"), settings().offers_bucket
    present = [o["Key"] for prefix in (f"offers/{campaign_id}/", f"portfolios/{campaign_id}/")
               for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
               for o in page.get("Contents", [])]
    doomed = sorted(key for key in present if key in keys or key.removesuffix(KEYS_SUFFIX) in keys)
    for start in range(0, len(doomed), 1000):  # DeleteObjects' limit
        failed = s3.delete_objects(Bucket=bucket, Delete={"Quiet": True, "Objects": [
            {"Key": key} for key in doomed[start:start + 1000]]}).get("Errors")
        if failed:
            raise RuntimeError(f"{len(failed)} file(s) not deleted ({failed[0].get('Code')}); the next sweep retries")
    return doomed


def read_lines(key: str) -> Iterator[str]:
    """Stream a CSV from the offers bucket line by line, never holding the whole file."""
    body = client("s3").get_object(Bucket=settings().offers_bucket, Key=key)["Body"]
    yield from codecs.getreader("utf-8")(body)


class ManualSeller:
    """A real seller: the campaign wires the money, then records it with `jubilee purchases confirm`."""

    def buy(self, plan: Plan) -> None:
        return None


class SandboxSeller:
    """Sells every offer at its asking price by handing over the file as the portfolio."""

    def buy(self, plan: Plan) -> str:
        if plan.offer.seller == SANDBOX_DECLINING_SELLER:
            raise SellerError("the sandbox seller declined the sale")
        target = f"portfolios/{plan.campaign_id}/{plan.plan_id}.csv"
        bucket = settings().offers_bucket
        # A copy to a key named by the plan: buying twice for the same plan is the same purchase.
        client("s3").copy_object(Bucket=bucket, Key=target, CopySource={"Bucket": bucket, "Key": plan.offer.object_key})
        try:  # and its duplicate keys, which forgiveness reads beside the portfolio
            client("s3").copy_object(Bucket=bucket, Key=target + KEYS_SUFFIX,
                                     CopySource={"Bucket": bucket, "Key": plan.offer.object_key + KEYS_SUFFIX})
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
                raise  # else an offer registered before keys were stored: forgiveness hashes its accounts
        return target


class S3LetterPrinter:
    """The sandbox printer: a chunk's letters go to the letters bucket as one batch (a ZIP of one
    PDF per account, named by its account hash), sealed like the data it was made from, since a
    letter names its debtor. Print-and-mail services take batches the same way, and take the batch
    id as an idempotency key (Lob's Idempotency-Key): a batch sent again is the batch already
    accepted, never a second mailing. Here the batch id names the object, written only if absent."""

    def __init__(self, seal: Callable[[bytes, bytes], bytes]):
        self._seal = seal

    def send_batch(self, batch_id: str, letters: dict[str, bytes]) -> str:
        """Mail the batch once per batch id; returns the printer's id for it."""
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
            for letter_id, pdf in sorted(letters.items()):
                bundle.writestr(f"{letter_id}.pdf", pdf)
        key = f"letters/{batch_id}.zip.sealed"
        try:
            client("s3").put_object(Bucket=settings().letters_bucket, Key=key, IfNoneMatch="*",
                                    Body=self._seal(archive.getvalue(), batch_id.encode()),
                                    ContentType="application/octet-stream")
        except ClientError as error:
            if error.response["Error"]["Code"] != "PreconditionFailed":
                raise  # (PreconditionFailed: this batch id was accepted before, and so mailed already)
        return key


def seller_for(name: str) -> SandboxSeller | ManualSeller:
    """Sellers named sandbox* are the sandbox (locally and for trials); every other seller is real."""
    return SandboxSeller() if name.startswith("sandbox") else ManualSeller()
