"""Settings from the environment and boto3 clients, made once per cold start."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import boto3
from botocore.config import Config

# Standard retry mode backs off on throttling; adaptive would add client-side rate limiting we don't need.
_BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})

# Every stage queue, in flow order. The wiring table (infra/topology.py) builds one queue per name.
STAGES = ("donations", "purchases", "forgiveness", "letters")


@dataclass(frozen=True)
class Settings:
    table: str
    idempotency_table: str
    offers_bucket: str
    letters_bucket: str
    queue_urls: dict[str, str]
    secret_id: str
    stripe_secret_id: str  # {"api_key": ..., "webhook_secrets": [...]}, set by the operator
    pii_key_id: str  # the KMS key that wraps each portfolio's debtor-data key
    donor_key_id: str  # the KMS key that wraps each donor's key (donors.py)
    public_base_url: str  # where donors' browsers reach this API (for checkout links)
    site_url: str  # the campaign's public site, where a paid checkout sends the donor back
    payments: str  # the deployment's provider: only "sandbox" serves the sandbox's checkout page and webhooks

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            table=env.get("TABLE_NAME", ""),
            idempotency_table=env.get("IDEMPOTENCY_TABLE_NAME", ""),
            offers_bucket=env.get("OFFERS_BUCKET", ""),
            letters_bucket=env.get("LETTERS_BUCKET", ""),
            queue_urls={s: env[f"QUEUE_URL_{s.upper()}"] for s in STAGES if f"QUEUE_URL_{s.upper()}" in env},
            secret_id=env.get("APP_SECRET_ID", ""),
            stripe_secret_id=env.get("STRIPE_SECRET_ID", ""),
            pii_key_id=env.get("PII_KEY_ID", ""),
            donor_key_id=env.get("DONOR_KEY_ID", ""),
            public_base_url=env.get("PUBLIC_BASE_URL", "").rstrip("/"),
            site_url=env.get("SITE_URL") or f"{env.get('PUBLIC_BASE_URL', '').rstrip('/')}/",  # served together locally
            payments=env.get("PAYMENTS_PROVIDER", "sandbox"),
        )


@cache
def settings() -> Settings:
    return Settings.from_env()


# The AWS services Jubilee calls (cloudformation: the operator CLI reads the stack's outputs).
Service = Literal["dynamodb", "s3", "sqs", "kms", "secretsmanager", "cloudformation"]


@cache
def client(service: Service) -> Any:
    return boto3.client(service, config=_BOTO_CONFIG)


def reset() -> None:
    """Forget settings and clients: the local emulator and tests call this when they rewire."""
    settings.cache_clear()
    client.cache_clear()
