"""The two time formats in CloudTrail records."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@lru_cache(maxsize=256)  # request times have second precision: many records share one
def iso(moment: datetime) -> str:
    """``eventTime`` / ``creationDate``: ``2025-02-12T22:16:48Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=256)
def human(moment: datetime) -> str:
    """Timestamps inside response elements, Java's medium style: ``Feb 12, 2025, 11:16:48 PM``
    (no zero padding of day or hour; independent of the process locale)."""
    utc = moment.astimezone(UTC)
    hour = utc.hour % 12 or 12
    meridiem = "AM" if utc.hour < 12 else "PM"
    return f"{_MONTHS[utc.month - 1]} {utc.day}, {utc.year}, {hour}:{utc.minute:02d}:{utc.second:02d} {meridiem}"
