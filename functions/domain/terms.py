"""Vocabularies campaigns and offer files share, kept apart from the offer-row model so that a function
which only reads a campaign never loads pydantic's model machinery (a cold start's largest import)."""

from __future__ import annotations

from typing import Literal, get_args

STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ "
    "NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR".split()
)
DebtType = Literal["medical", "credit_card", "student", "auto", "payday", "utility", "other"]
DEBT_TYPES = frozenset(get_args(DebtType))
PROVIDERS = ("sandbox", "stripe")  # payment providers (here: every function's settings check them)
