"""Time helpers. All timestamps are timezone-aware UTC; local time exists only inside schedules.

Wire format (spec §2.4): ISO-8601 with ``T``, microseconds only when non-zero, explicit offset
(``+00:00``, never ``Z``). Timestamp columns are rendered in UTC; values kept inside JSON blobs
(schedule anchors, scheduled_time of auto-scheduled runs) keep the offset they were created with.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

UTC = dt.timezone.utc

Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    return dt.datetime.now(UTC)


def ensure_aware(value: dt.datetime) -> dt.datetime:
    """A naive datetime is taken as UTC (the reference's rule for every datetime input)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def iso(value: dt.datetime | None) -> str | None:
    """Render an aware datetime as the reference does (offset kept, microseconds only if set)."""
    if value is None:
        return None
    return ensure_aware(value).isoformat()


def iso_utc(value: dt.datetime | None) -> str | None:
    """Render a timestamp column: converted to UTC first."""
    if value is None:
        return None
    return ensure_aware(value).astimezone(UTC).isoformat()


def sort_key(value: dt.datetime) -> str:
    """A fixed-width UTC string whose lexicographic order is chronological (index sort keys)."""
    return ensure_aware(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse(value: str | dt.datetime) -> dt.datetime:
    """Parse an ISO-8601 string (``T`` or space separator, ``Z`` or offset; naive = UTC)."""
    if isinstance(value, dt.datetime):
        return ensure_aware(value)
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    return ensure_aware(dt.datetime.fromisoformat(text))
