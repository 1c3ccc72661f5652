"""The deployment's one generated secret, and the purpose-bound keys derived from it."""

from __future__ import annotations

import hashlib
import hmac

from aws_lambda_powertools.utilities.parameters import SecretsProvider

from functions.adapters.aws import client, dependencies, settings


def _provider() -> SecretsProvider:
    return dependencies().keep("secrets", lambda: SecretsProvider(boto3_client=client("secretsmanager")))


def derived_key(purpose: str) -> bytes:
    """Separate keys per purpose ("sandbox-webhook", "account-hash", "letter-code") from one secret.

    Powertools caches the secret for five minutes, so warm invocations make no call.
    """
    master = _provider().get(settings().secret_id, max_age=300)
    return hmac.new(str(master).encode(), f"jubilee/{purpose}".encode(), hashlib.sha256).digest()


def secret_json(secret_id: str) -> dict:
    """A JSON secret's value, cached five minutes like every secret here."""
    value = _provider().get(secret_id, transform="json", max_age=300)
    if value is not None and not isinstance(value, dict):  # a JSON list or string where an object belongs
        raise ValueError(f"secret {secret_id} is not a JSON object")
    return dict(value or {})
