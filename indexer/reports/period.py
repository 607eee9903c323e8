"""The period a report covers, bounded once for `kb report` and the web app's /reports."""

from __future__ import annotations

import datetime as dt

from ..errors import QueryError
from ..querylog import now

# Ten years: longer than any retention period, short enough to stay a date.
MAX_DAYS = 3650
# What /reports shows before an editor picks another period.
DEFAULT_DAYS = 30


def period_start(days: int | None = None, since: dt.date | None = None) -> dt.datetime | None:
    """When the period starts: `days` back from now, else the start of the day `since` (UTC), else None for
    all the log keeps; QueryError for a number of days outside 1 to MAX_DAYS."""
    if days is not None:
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
            raise QueryError(f"days must be a whole number from 1 to {MAX_DAYS}")
        return now() - dt.timedelta(days=days)
    if since is not None:
        return dt.datetime(since.year, since.month, since.day, tzinfo=dt.UTC)
    return None
