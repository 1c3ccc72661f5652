"""What a function takes from its environment, made once per cold start: settings, boto3 clients, the clock."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import boto3
from botocore.config import Config

from functions import wiring
from functions.domain.terms import PROVIDERS

# Standard retry mode backs off on throttling; adaptive would add client-side rate limiting we don't need.
_BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})

class ConfigurationError(RuntimeError):
    """The function's environment lacks or garbles a setting: a deployment fault, named plainly."""


@dataclass(frozen=True)
class Settings:
    """The deployment as a function sees it. Resource names come from the variables functions/wiring.py
    lists; a function reading a resource it was not wired to gets a ConfigurationError naming the
    variable, never "" and a puzzling failure at the first AWS call."""

    names: dict[str, str]  # resource (wiring.RESOURCES) -> its name, ARN or id
    queue_urls: dict[str, str]
    public_base_url: str  # where donors' browsers reach this API (for checkout links)
    site_url: str  # the campaign's public site, where a paid checkout sends the donor back
    payments: str  # the deployment's provider: only "sandbox" serves the sandbox's checkout page and webhooks
    email_identity: str = ""  # SES: the verified domain or address campaigns send from ("" sends nothing)
    email_configuration_set: str = ""

    @classmethod
    def from_env(cls) -> Settings:
        """Read and check once per cold start: a malformed value stops the function here, by name."""
        env = os.environ
        payments = env.get("PAYMENTS_PROVIDER", "sandbox")
        if payments not in PROVIDERS:
            raise ConfigurationError(f"PAYMENTS_PROVIDER must be one of {', '.join(PROVIDERS)}, not {payments!r}")
        base = env.get("PUBLIC_BASE_URL", "").rstrip("/")
        for variable, url in (("PUBLIC_BASE_URL", base), ("SITE_URL", env.get("SITE_URL", ""))):
            if url and not url.startswith(("http://", "https://")):
                raise ConfigurationError(f"{variable} must be an http(s) URL")
        return cls(
            names={r.name: env[r.variable] for r in wiring.RESOURCES if env.get(r.variable)},
            queue_urls={s: env[wiring.queue_variable(s)] for s in wiring.STAGES if env.get(wiring.queue_variable(s))},
            public_base_url=base,
            site_url=env.get("SITE_URL") or f"{base}/",  # served together locally
            payments=payments,
            email_identity=env.get(wiring.EMAIL_IDENTITY, ""),
            email_configuration_set=env.get(wiring.EMAIL_CONFIGURATION_SET, ""),
        )

    def name_of(self, resource: str) -> str:
        if resource not in self.names:
            raise ConfigurationError(f"{wiring.VARIABLES[resource]} is not set: this function is not wired to "
                                     f"the {resource} (its grants in infra/topology.py)")
        return self.names[resource]

    def queue_url(self, stage: str) -> str:
        if stage not in self.queue_urls:
            raise ConfigurationError(f"{wiring.queue_variable(stage)} is not set: this function may not send to "
                                     f"the {stage} queue (its grants in infra/topology.py)")
        return self.queue_urls[stage]

    table = property(lambda self: self.name_of(wiring.LEDGER))
    offers_bucket = property(lambda self: self.name_of(wiring.OFFERS))
    letters_bucket = property(lambda self: self.name_of(wiring.LETTERS))
    secret_id = property(lambda self: self.name_of(wiring.APP_SECRET))
    stripe_secret_id = property(lambda self: self.name_of(wiring.STRIPE_SECRET))  # {"api_key", "webhook_secrets"}
    pii_key_id = property(lambda self: self.name_of(wiring.PII_KEY))  # wraps each portfolio's debtor-data key
    donor_key_id = property(lambda self: self.name_of(wiring.DONOR_KEY))  # wraps each donor's key (donors.py)


# The AWS services Jubilee calls (cloudformation, sts: the operator CLI reads the stack's outputs, and who it is).
Service = Literal["dynamodb", "s3", "sqs", "kms", "secretsmanager", "cloudformation", "sts", "sesv2"]
T = TypeVar("T")


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Dependencies:
    """One per cold start (a Lambda container; the emulator, or the operator CLI, each time it wires to a
    deployment): the settings, the AWS clients, the clock, and what is kept warm against them (secret
    values, portfolio keys). Rewiring is making a new one (`use`), never clearing module caches."""

    settings: Settings
    clock: Callable[[], dt.datetime] = _utc_now  # read through functions/adapters/clock.py
    clients: dict[str, Any] = field(default_factory=dict)
    kept: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Dependencies:
        return cls(Settings.from_env())

    def client(self, service: Service) -> Any:
        if service not in self.clients:
            self.clients[service] = boto3.client(service, config=_BOTO_CONFIG)
        return self.clients[service]

    def keep(self, name: str, make: Callable[[], T]) -> T:
        """`make()`, made once for this deployment (a warm container reuses it)."""
        if name not in self.kept:
            self.kept[name] = make()
        return self.kept[name]


_current: list[Dependencies | None] = [None]


def dependencies() -> Dependencies:
    """This cold start's: made from the environment at first use, unless the emulator or the CLI gave one."""
    current = _current[0]
    if current is None:
        current = _current[0] = Dependencies.from_env()
    return current


def use(dependencies: Dependencies | None) -> Dependencies | None:
    """Wire the functions to `dependencies` (None: made again from the environment at next use)."""
    _current[0] = dependencies
    return dependencies


def settings() -> Settings:
    return dependencies().settings


def client(service: Service) -> Any:
    return dependencies().client(service)


def reset() -> None:
    """The environment changed (tests rewiring, a new boto3 session): the next use reads it again."""
    use(None)
