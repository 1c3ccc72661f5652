"""Donors' personal data, sealed with a key of each donor's own, so that erasing a donor is
destroying one key (crypto-shredding) while their gifts stay in the books.

A donor is known within a campaign by a keyed hash of their email (`donor_ref`; donors who
give no email get a reference of their donation's own). Their key is a KMS data key under the
DonorDataKey, stored encrypted beside the campaign; each donation holds its donor's name and
email sealed with it (AES-GCM, bound to campaign and donor). Erasure deletes the key and the
references: what remains is ciphertext nobody can open, and amounts nobody can tie to a person.
"""

from __future__ import annotations

import json
import os
from hashlib import blake2b
from typing import Any

from functions.adapters import dynamo
from functions.adapters.aws import client, settings
from functions.adapters.keys import campaign_pk, donation_sk
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


def _key(campaign_id: str, ref: str, create: bool) -> bytes | None:
    """The donor's plaintext key: KMS decrypts the stored copy, or makes one (create) if none."""
    kms = client("kms")
    found = dynamo.get(campaign_pk(campaign_id), key_sk(ref))
    if found is None and create:
        made = kms.generate_data_key(KeyId=settings().donor_key_id, KeySpec="AES_256",
                                     EncryptionContext=_context(campaign_id, ref))
        if dynamo.put_new({"pk": campaign_pk(campaign_id), "sk": key_sk(ref), "kind": "donor-key",
                           "campaign_id": campaign_id, "donor_ref": ref, "key": made["CiphertextBlob"]}):
            return made["Plaintext"]
        found = dynamo.get(campaign_pk(campaign_id), key_sk(ref))  # the same donor, at the same time
    if found is None:
        return None
    return kms.decrypt(CiphertextBlob=bytes(found["key"]), KeyId=settings().donor_key_id,
                       EncryptionContext=_context(campaign_id, ref))["Plaintext"]


def sealed(campaign_id: str, donation_id: str, donor: dict[str, Any]) -> dict[str, Any]:
    """The attributes a donation stores of its donor: {} if they gave neither name nor email."""
    donor = {k: v for k, v in donor.items() if v}
    if not donor:
        return {}
    ref = donor_ref(campaign_id, donor["email"]) if donor.get("email") else f"donation-{donation_id}"
    key = _key(campaign_id, ref, create=True)
    if key is None:  # create=True makes one or reads the one a concurrent gift made
        raise LookupError("the donor's key could not be made or read")
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # on use: most callers never seal

    nonce = os.urandom(NONCE_BYTES)
    blob = nonce + AESGCM(key).encrypt(nonce, json.dumps(donor, sort_keys=True).encode(), _aad(campaign_id, ref))
    return {"donor_ref": ref, "donor_sealed": blob}


def opened(donation: dict[str, Any]) -> dict[str, Any] | None:
    """The donor's name and email, or None: none given, or erased."""
    ref, blob = donation.get("donor_ref"), donation.get("donor_sealed")
    if not ref or blob is None:
        return None
    key = _key(donation["campaign_id"], ref, create=False)
    if key is None:
        return None
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    blob = bytes(blob)
    return json.loads(AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _aad(donation["campaign_id"], ref)))


def erase(campaign_id: str, email: str) -> int:
    """Destroy the donor's key and untie their donations from them; the donations' amounts stay.
    Returns how many donations were theirs (0 if none: nothing to erase)."""
    ref = donor_ref(campaign_id, email)
    theirs = [d for d in dynamo.query(campaign_pk(campaign_id), donation_sk("")) if d.get("donor_ref") == ref]
    client("dynamodb").delete_item(TableName=settings().table, Key=dynamo.key(campaign_pk(campaign_id), key_sk(ref)))
    for donation in theirs:
        client("dynamodb").update_item(
            TableName=settings().table, Key=dynamo.key(campaign_pk(campaign_id), donation["sk"]),
            UpdateExpression="REMOVE donor_ref, donor_sealed SET donor_erased = :yes",
            ExpressionAttributeValues={":yes": {"BOOL": True}})
    return len(theirs)
