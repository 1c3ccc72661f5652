"""Envelope encryption of debtor data: one key pair per portfolio, AES-GCM per account.

The forgiveness stage must seal debtors' data but never read it back; only the letters stage
may open it. So each portfolio gets an X25519 key pair: its private half is encrypted by KMS
(one request per portfolio, the same envelope as KMS's own GenerateDataKeyPairWithoutPlaintext,
which moto lacks) and stored; its public half is all a sealer needs. A sealer agrees an AES-256
key with the portfolio's public key through a fresh ephemeral key (ECIES), so the forgiveness
function holds kms:Encrypt and nothing that opens. Each account is sealed with AES-GCM, the
campaign, portfolio and account bound in as associated data: a blob moved to another account
or campaign no longer opens. Destroying the encrypted private key shreds every blob at once.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from functions.adapters.aws import client, dependencies, settings

NONCE_BYTES = 12
PUBLIC_BYTES = 32  # an X25519 public key: each sealed blob starts with its sealer's ephemeral key


def _context(campaign_id: str, plan_id: str) -> dict[str, str]:
    return {"campaign_id": campaign_id, "portfolio": plan_id, "purpose": "debtor-data"}


def _agreed_cipher(shared: bytes, ephemeral: bytes, recipient: bytes) -> AESGCM:
    key = HKDF(algorithm=SHA256(), length=32, salt=None,
               info=b"jubilee debtor data|" + ephemeral + recipient).derive(shared)
    return AESGCM(key)


def new_key_pair(campaign_id: str, plan_id: str) -> tuple[bytes, bytes]:
    """A portfolio's (public key, KMS-encrypted private key): both safe to store; the private
    key's plaintext lives only in this call."""
    private = X25519PrivateKey.generate()
    encrypted = client("kms").encrypt(KeyId=settings().pii_key_id, Plaintext=private.private_bytes_raw(),
                                      EncryptionContext=_context(campaign_id, plan_id))["CiphertextBlob"]
    return private.public_key().public_bytes_raw(), encrypted


class Sealer:
    """Seals for one portfolio with a fresh ephemeral key; it cannot open what it sealed."""

    def __init__(self, portfolio_public_key: bytes) -> None:
        ephemeral = X25519PrivateKey.generate()
        self.header = ephemeral.public_key().public_bytes_raw()
        shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(portfolio_public_key))
        self.cipher = _agreed_cipher(shared, self.header, portfolio_public_key)

    def seal(self, nonce_bytes: bytes, plaintext: bytes, associated: bytes) -> bytes:
        return self.header + nonce_bytes + self.cipher.encrypt(nonce_bytes, plaintext, associated)


class Opener:
    """Opens a portfolio's blobs: holds its private key, one KMS Decrypt per container and portfolio."""

    def __init__(self, private: X25519PrivateKey) -> None:
        self.private = private
        self.public = private.public_key().public_bytes_raw()
        self._ciphers: dict[bytes, AESGCM] = {}  # one per sealer (a chunk), not per account

    def open(self, blob: bytes, associated: bytes) -> bytes:
        ephemeral, nonce_bytes = blob[:PUBLIC_BYTES], blob[PUBLIC_BYTES:PUBLIC_BYTES + NONCE_BYTES]
        cipher = self._ciphers.get(ephemeral)
        if cipher is None:
            shared = self.private.exchange(X25519PublicKey.from_public_bytes(ephemeral))
            cipher = self._ciphers[ephemeral] = _agreed_cipher(shared, ephemeral, self.public)
        return cipher.decrypt(nonce_bytes, blob[PUBLIC_BYTES + NONCE_BYTES:], associated)


def portfolio_opener(encrypted_private_key: bytes, campaign_id: str, plan_id: str) -> Opener:
    # A warm letters container handling chunks of the same portfolio asks KMS once (per deployment it is wired to).
    return dependencies().keep("portfolio_openers", lambda: lru_cache(maxsize=8)(_opened))(
        encrypted_private_key, campaign_id, plan_id)


def _opened(encrypted_private_key: bytes, campaign_id: str, plan_id: str) -> Opener:
    plaintext = client("kms").decrypt(CiphertextBlob=encrypted_private_key, KeyId=settings().pii_key_id,
                                      EncryptionContext=_context(campaign_id, plan_id))["Plaintext"]
    return Opener(X25519PrivateKey.from_private_bytes(plaintext))


def aad(campaign_id: str, plan_id: str, account_hash: str) -> bytes:
    return f"{campaign_id}|{plan_id}|{account_hash}".encode()


def nonce(chunk: int, row: int) -> bytes:
    """Unique per account within a sealer's key (chunk, row)."""
    return chunk.to_bytes(6, "big") + row.to_bytes(6, "big")
