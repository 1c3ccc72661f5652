"""Envelope encryption of debtor data: one KMS data key per portfolio, AES-GCM per account.

KMS is asked once per portfolio for a data key (its encrypted copy is stored with the plan)
and once per chunk to decrypt it; every account's personal data is then sealed locally with
AES-GCM, the campaign, portfolio and account bound in as associated data, so a sealed blob
moved to another account or campaign no longer opens.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from functions.adapters.aws import client, settings

NONCE_BYTES = 12


def _context(campaign_id: str, plan_id: str) -> dict[str, str]:
    return {"campaign_id": campaign_id, "portfolio": plan_id, "purpose": "debtor-data"}


def new_data_key(campaign_id: str, plan_id: str) -> bytes:
    """A fresh data key for a portfolio; only its KMS-encrypted copy is returned, to be stored."""
    response = client("kms").generate_data_key_without_plaintext(
        KeyId=settings().pii_key_id, KeySpec="AES_256", EncryptionContext=_context(campaign_id, plan_id))
    return response["CiphertextBlob"]


@lru_cache(maxsize=8)  # a warm container handling chunks of the same portfolio asks KMS once
def portfolio_cipher(encrypted_key: bytes, campaign_id: str, plan_id: str) -> AESGCM:
    plaintext = client("kms").decrypt(CiphertextBlob=encrypted_key, KeyId=settings().pii_key_id,
                                      EncryptionContext=_context(campaign_id, plan_id))["Plaintext"]
    return AESGCM(plaintext)


def aad(campaign_id: str, plan_id: str, account_hash: str) -> bytes:
    return f"{campaign_id}|{plan_id}|{account_hash}".encode()


def nonce(chunk: int, row: int) -> bytes:
    """Unique per account within a portfolio's key (chunk, row), and the same on a redelivery."""
    return chunk.to_bytes(6, "big") + row.to_bytes(6, "big")


def seal(cipher: AESGCM, nonce_bytes: bytes, plaintext: bytes, associated: bytes) -> bytes:
    return nonce_bytes + cipher.encrypt(nonce_bytes, plaintext, associated)


def unseal(cipher: AESGCM, blob: bytes, associated: bytes) -> bytes:
    return cipher.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], associated)
