"""Date values for the Date* operators: W3C ISO 8601 or epoch seconds.

The grammar accepted is the one IAM's "legacy parser" accepts (a superset of strict ISO 8601:
one-digit hours, ``t`` in lower case, a bare year, ``+hh`` offsets), so every value that passes
validation can be compared. Values become float epoch seconds; years outside datetime's range
are fine because the conversion is arithmetic.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_MAX_EPOCH = 9223372036854775807  # Java long: IAM's upper bound for epoch values
_MIN_YEAR, _MAX_YEAR = -292275054, 292278993  # Joda-Time's range, as IAM enforces it
_DATE = re.compile(r"(-?\d+)(?:-(\d+)(?:-(\d+))?)?", re.ASCII)
_TIME = re.compile(
    r"(?:(\d+)(?::(\d+)(?::(\d+)(?:\.(\d+))?)?)?)?(z|[+-]\d\d(?::?\d\d)?)?",
    re.ASCII,
)
_EPOCH = re.compile(r"\d+", re.ASCII)


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's algorithm)."""
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def parse_date(value: str) -> float | None:
    """Epoch seconds for a policy/context date string, or None when IAM would reject it."""
    low = value.lower()
    if "t" not in low and "-" not in low:
        if not _EPOCH.fullmatch(low):
            return None
        n = int(low)
        return float(n) if n <= _MAX_EPOCH else None
    date_part, _, time_part = low.partition("t")
    dm = _DATE.fullmatch(date_part)
    tm = _TIME.fullmatch(time_part)
    if dm is None or tm is None:
        return None
    year = int(dm.group(1))
    month = int(dm.group(2) or 1)
    day = int(dm.group(3) or 1)
    if not (_MIN_YEAR <= year <= _MAX_YEAR and 1 <= month <= 12 and 1 <= day <= 31):
        return None
    hh, mm, ss, frac, tz = tm.groups()
    if (hh is None) and (tz is not None):
        return None  # an offset needs a time to attach to
    hours, minutes, seconds = int(hh or 0), int(mm or 0), int(ss or 0)
    if hours > 23 or minutes > 59 or seconds > 59:
        return None
    fraction = 0.0
    if frac is not None:
        if int(frac) > 999_999_999:
            return None
        fraction = int(frac) / 10 ** len(frac)
    offset = 0
    if tz is not None and tz != "z":
        digits = tz[1:].replace(":", "")
        oh, om = int(digits[:2]), int(digits[2:] or 0)
        if oh > 23 or om > 59:
            return None
        offset = (oh * 60 + om) * 60 * (1 if tz[0] == "+" else -1)
    days = _days_from_civil(year, month, day)
    return days * 86400 + hours * 3600 + minutes * 60 + seconds + fraction - offset


def to_epoch(value: object) -> float | None:
    """Epoch seconds for a request-context value (datetime, number or string)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.timestamp()
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        parsed = parse_date(value)
        if parsed is None:
            try:
                return float(value)
            except ValueError:
                return None
        return parsed
    return None


def iso(value: datetime) -> str:
    """The ISO 8601 form AWS uses for date context keys (``2024-01-02T03:04:05Z``)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")
