"""Donors' personal data, sealed with a key of each gift's own; erasing a donor removes their sealed data, keys
and references from their donations while their gifts stay in the books.

A donor is known within a campaign by a keyed hash of their email (`donor_ref`; donors who
give no email get a reference of their donation's own). Each gift's name and email are sealed
(AES-GCM, bound to campaign and donor) with a random key of its own, stored in the donation item
wrapped by this container's wrapping key: a KMS data key under the DonorDataKey, made once per
container, its KMS-encrypted copy stored with each wrapped key. So a gift costs no KMS request and
no write of its own: the pledge is one put. Erasure removes the donor's sealed data, wrapped keys,
references and the keyed hash of their pledge's body, their statements' sending records (and any key item of
the schemes before): what remains is amounts nobody can tie to a person, and, if they unsubscribed, that
keyed reference (so they stay unsubscribed). It is deletion, not crypto-shredding: a copy of a donation made before
(a table backup within its retention, the stream's 24 hours) holds its key as it holds its ciphertext, as the
key items of the scheme before were in those copies too.
Exports never carry keys (ops/portability.py leaves out every binary attribute). (Donations sealed
before this have their key in an item beside the campaign, or one KMS data key per donor: read as before.)
"""

from __future__ import annotations

import json
import os
from functools import cache, lru_cache
from hashlib import blake2b
from typing import Any

from functions.adapters import donation_items, dynamo
from functions.adapters.aws import client, settings
from functions.adapters.keys import campaign_pk, email_sk
from functions.adapters.keys import donor_key_sk as key_sk
from functions.adapters.secrets import derived_key

NONCE_BYTES = 12


def donor_ref(campaign_id: str, email: str) -> str:
    digest = blake2b(f"{campaign_id}|{email.strip().lower()}".encode(), key=derived_key("donor-ref"), digest_size=16)
    return f"donor-{digest.hexdigest()}"


def _context(campaign_id: str, ref: str) -> dict[str, str]:
    return {"campaign_id": campaign_id, "donor": ref, "purpose": "donor-data"}


def _aad(campaign_id: str, ref: str) -> bytes:
    return f"{campaign_id}|{ref}".encode()


def _key(campaign_id: str, ref: str) -> bytes | None:
    """A donor's key of the earlier scheme (one KMS data key per donor): KMS decrypts the stored copy."""
    found = dynamo.get(campaign_pk(campaign_id), key_sk(ref))
    if found is None:
        return None
    return client("kms").decrypt(CiphertextBlob=bytes(found["key"]), KeyId=settings().donor_key_id,
                                 EncryptionContext=_context(campaign_id, ref))["Plaintext"]


WRAPPING = {"purpose": "donor-key-wrapping"}  # the wrapping keys' KMS encryption context


@cache  # per container (keyed on the client, so a rewired local run makes its own)
def _wrapping(kms: Any, key_id: str) -> tuple[bytes, bytes]:
    made = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256", EncryptionContext=WRAPPING)
    return made["Plaintext"], made["CiphertextBlob"]


@lru_cache(maxsize=32)  # one Decrypt per container and wrapping key, however many gifts it wrapped
def _unwrapping(kms: Any, key_id: str, blob: bytes) -> bytes:
    return kms.decrypt(CiphertextBlob=blob, KeyId=key_id, EncryptionContext=WRAPPING)["Plaintext"]


def _gift_aad(campaign_id: str, ref: str, donation_id: str) -> bytes:
    return f"{campaign_id}|{ref}|{donation_id}".encode()


def _gift_key_sk(ref: str, donation_id: str) -> str:
    return key_sk(f"{ref}#{donation_id}")


SEALED = ("donor_ref", "donor_sealed", "donor_key", "donor_key_wrapped_by")  # a donation's donor attributes
# What erasure removes: those, and the keyed hash of the pledge's body (it covered the donor's name and email).
ERASED = (*SEALED, "request")


def seal(campaign_id: str, donation_id: str, donor: dict[str, Any]) -> dict[str, Any]:
    """The attributes a donation stores of its donor ({} if they gave neither name nor email): their
    reference, their sealed name and email, and the gift's key, wrapped."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # on use: most callers never seal

    donor = {k: v for k, v in donor.items() if v}
    if not donor:
        return {}
    ref = donor_ref(campaign_id, donor["email"]) if donor.get("email") else f"donation-{donation_id}"
    wrapping, wrapped_by = _wrapping(client("kms"), settings().donor_key_id)
    key, key_nonce, nonce = AESGCM.generate_key(256), os.urandom(NONCE_BYTES), os.urandom(NONCE_BYTES)
    blob = nonce + AESGCM(key).encrypt(nonce, json.dumps(donor, sort_keys=True).encode(), _aad(campaign_id, ref))
    wrapped = key_nonce + AESGCM(wrapping).encrypt(key_nonce, key, _gift_aad(campaign_id, ref, donation_id))
    return {"donor_ref": ref, "donor_sealed": blob, "donor_key": wrapped, "donor_key_wrapped_by": wrapped_by}


def opened(donation: dict[str, Any]) -> dict[str, Any] | None:
    """The donor's name and email, or None: none given, or erased."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    campaign_id, ref, blob = donation["campaign_id"], donation.get("donor_ref"), donation.get("donor_sealed")
    if not ref or blob is None:
        return None
    sealed_by = donation.get("pledge_id") or donation["donation_id"]  # an installment carries its pledge's seal
    found = ({"key": donation["donor_key"], "wrapped_by": donation["donor_key_wrapped_by"]} if "donor_key" in donation
             else dynamo.get(campaign_pk(campaign_id), _gift_key_sk(ref, sealed_by)))  # (a key item, before)
    if found is not None:
        wrapping, wrapped = _unwrapping(client("kms"), settings().donor_key_id, bytes(found["wrapped_by"])), \
            bytes(found["key"])
        key: bytes | None = AESGCM(wrapping).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:],
                                                     _gift_aad(campaign_id, ref, sealed_by))
    else:
        key = _key(campaign_id, ref)
    if key is None:
        return None
    blob = bytes(blob)
    return json.loads(AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _aad(campaign_id, ref)))


def donations_of(campaign_id: str, ref: str) -> list[dict[str, Any]]:
    """The donations of one donor (by donor_ref) in a campaign: their gifts and monthly installments.
    Reads the campaign's donations: fine for statements and erasure, not for a hot path."""
    return [d for d in donation_items.listed(campaign_id) if d.get("donor_ref") == ref]


def erase(campaign_id: str, email: str) -> int:
    """Remove the donor's data and keys and untie their donations from them; the donations' amounts stay. Their
    year-end statements' sending records go too (named by their reference); an unsubscribe stays, so that a donor
    who asked for no email gets none should they give again. Returns how many donations were theirs."""
    ref = donor_ref(campaign_id, email)
    theirs = donations_of(campaign_id, ref)
    gift_keys = [k["sk"] for k in dynamo.query(campaign_pk(campaign_id), key_sk(f"{ref}#"))]
    statements = [i["sk"] for i in dynamo.query(campaign_pk(campaign_id), email_sk("statement#"))
                  if i["sk"].endswith(f"#{ref}")]
    for sk in (key_sk(ref), *gift_keys, *statements):  # the earlier schemes' keys, and what names them
        client("dynamodb").delete_item(TableName=settings().table, Key=dynamo.key(campaign_pk(campaign_id), sk))
    for donation in theirs:
        client("dynamodb").update_item(
            TableName=settings().table, Key=dynamo.key(donation["pk"], donation["sk"]),
            UpdateExpression=f"REMOVE {', '.join(f'#a{n}' for n in range(len(ERASED)))} SET donor_erased = :yes",
            ExpressionAttributeNames={f"#a{n}": name for n, name in enumerate(ERASED)},  # ("request" is reserved)
            ExpressionAttributeValues={":yes": {"BOOL": True}})
    return len(theirs)
