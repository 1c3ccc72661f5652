"""Turning a bought portfolio into forgiveness events and letters."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import TypeVar

from functions.domain.money import format_cents
from functions.domain.offers import Account

T = TypeVar("T")


def account_hash(key: bytes, campaign_id: str, account_ref: str) -> str:
    """A keyed hash: stable per account, and useless to anyone without the campaign's key."""
    return hmac.new(key, f"{campaign_id}|{account_ref}".encode(), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class ForgivenessEvent:
    """What the public record may say about one forgiven account: no name, no address, no reference."""

    campaign_id: str
    plan_id: str
    account_hash: str
    original_creditor: str
    debt_type: str
    state: str
    face_value_cents: int


def forgiveness_event(key: bytes, campaign_id: str, plan_id: str, account: Account) -> ForgivenessEvent:
    return ForgivenessEvent(
        campaign_id, plan_id, account_hash(key, campaign_id, account.account_ref),
        account.original_creditor, account.debt_type, account.state, account.balance_cents,
    )


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def verification_code(key: bytes, campaign_id: str, plan_id: str, account_ref: str) -> str:
    """80 bits, derived rather than stored, so a re-rendered letter carries the same code."""
    digest = hmac.new(key, f"code|{campaign_id}|{plan_id}|{account_ref}".encode(), hashlib.sha256).digest()
    code = base64.b32encode(digest[:10]).decode()  # 10 bytes = 80 bits = 16 base32 characters
    return "-".join(code[i:i + 4] for i in range(0, 16, 4))


def render_letter(campaign_name: str, account: Account, currency: str, code: str, contact: str) -> str:
    return (
        f"{account.debtor_name}\n{account.address_line}\n{account.city}, {account.state} {account.zip}\n\n"
        f"Dear {account.debtor_name},\n\n"
        f"{campaign_name} bought your debt with {account.original_creditor} and has forgiven it.\n"
        f"Amount forgiven: {format_cents(account.balance_cents, currency)}.\n"
        "You owe nothing on this account, and you need do nothing. This is a gift, not an offer.\n\n"
        f"Verification code: {code}\n"
        f"Questions: {contact}\n"
    )
