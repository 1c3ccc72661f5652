"""Reference data shipped with the functions (functions/data/), read once per cold start."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from functions.domain.eligibility import Guidelines, read_guidelines

DATA = Path(__file__).resolve().parent.parent / "data"


@cache
def poverty_guidelines() -> Guidelines:
    """HHS poverty guidelines, 48 contiguous states and DC (source and year: functions/data/README.md)."""
    with (DATA / "hhs-poverty-guidelines.csv").open(newline="") as lines:
        return read_guidelines(lines)
