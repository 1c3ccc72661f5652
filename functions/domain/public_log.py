"""A hash chain over public records: each link commits to everything before it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

GENESIS = "0" * 64


def canonical(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def link(previous: str, entry: dict[str, Any]) -> str:
    return hashlib.sha256(previous.encode() + canonical(entry)).hexdigest()


def head(entries: Iterable[dict[str, Any]]) -> str:
    current = GENESIS
    for entry in entries:
        current = link(current, entry)
    return current
