"""Now, for everything that reads the time (plans' approval windows, offers' dates, the hourly sweep,
posting times, webhook signatures, exports): one place, so they agree, and tests move them together."""

from __future__ import annotations

import datetime as dt

from functions.adapters.aws import dependencies


def now() -> dt.datetime:
    return dependencies().clock()
