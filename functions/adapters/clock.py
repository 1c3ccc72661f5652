"""Now, for every stage that judges time (plans' approval windows, offers' dates, the hourly sweep):
one place, so they agree with each other, and tests move them together."""

from __future__ import annotations

import datetime as dt


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
