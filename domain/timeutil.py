"""Time helpers. All timestamps are timezone-aware UTC; local time exists only inside schedules.

Wire format (spec §2.4): ISO-8601 with ``T``, microseconds only when non-zero, explicit offset
(``+00:00``, never ``Z``). Timestamp columns are rendered in UTC; values kept inside JSON blobs
(schedule anchors, scheduled_time of auto-scheduled runs) keep the offset they were created with.
"""

from __future__ import annotations

import datetime as dt
import re
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


# --------------------------------------------------------------------------------------------
# Datetimes as the reference reads them from a request. One place decides, for every route:
#
# * body fields (every datetime of every request body, filters included) were prefect's
#   ``DateTimeTZ``: a text goes through pendulum's parser, a datetime is kept, and anything else —
#   a JSON number, a boolean, an array, an object — is "Unrecognized datetime." (never Unix time);
# * the one datetime query parameter (``GET /flow_runs/{id}/graph-v2?since=``) was a plain
#   pydantic-v1 ``datetime``: a number (as text) *is* Unix time there, in seconds or milliseconds.
#
# Verified against prefect 2.20.26 (``prefect server start``; pendulum 2, pydantic.v1).

PARSER_ERROR = "value_error.parser"  # pendulum's ParserError as pydantic v1 typed it
V1_DATETIME_ERROR = "value_error.datetime"


class DateTimeInputError(ValueError):
    """A request value that is no datetime. ``kind`` is the reference's error type (pydantic v1)."""

    def __init__(self, message: str, kind: str = "value_error"):
        super().__init__(message)
        self.kind = kind


def _unparseable(text: str) -> DateTimeInputError:
    return DateTimeInputError(f"Unable to parse string [{text}]", PARSER_ERROR)


def _year(d: str, now: dt.datetime) -> dt.datetime | None:
    return dt.datetime(int(d), 1, 1, tzinfo=UTC)  # "0000": "year 0 is out of range"


def _time_of_day(d: str, now: dt.datetime) -> dt.datetime | None:
    # pendulum takes hhmmss as a time of day today (UTC), and only when the last two digits are
    # also a month number (it first tries YYYYMM): "202311" is 20:23:11, "120000" is refused
    hour, minute, second = int(d[:2]), int(d[2:4]), int(d[4:])
    if not (1 <= second <= 12 and hour < 24 and minute < 60):
        return None
    return now.astimezone(UTC).replace(hour=hour, minute=minute, second=second, microsecond=0)


def _ordinal(d: str, now: dt.datetime) -> dt.datetime | None:
    year, day = int(d[:4]), int(d[4:])
    if year == 0 or not 1 <= day <= (366 if _leap(year) else 365):
        return None
    return dt.datetime(year, 1, 1, tzinfo=UTC) + dt.timedelta(days=day - 1)


def _date(d: str, now: dt.datetime) -> dt.datetime | None:
    return dt.datetime(int(d[:4]), int(d[4:6]), int(d[6:]), tzinfo=UTC)  # datetime's own errors


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


# pendulum's readings of a text made of digits only, by its length (YYYY, hhmmss, YYYYDDD,
# YYYYMMDD); any other length is unparseable. None = unparseable; a ValueError keeps its text.
_DIGITS_ONLY: dict[int, Callable[[str, dt.datetime], dt.datetime | None]] = {
    4: _year,
    6: _time_of_day,
    7: _ordinal,
    8: _date,
}


def parse_body_datetime(value: object, now: dt.datetime | None = None) -> dt.datetime:
    """A request body's datetime, read as the reference read it (see above). ``now`` is only
    needed for a six-digit text (a time of day today). Raises :class:`DateTimeInputError`."""
    if isinstance(value, dt.datetime):
        return ensure_aware(value)
    if not isinstance(value, str):
        raise DateTimeInputError("Unrecognized datetime.")
    if value == "":
        raise DateTimeInputError("year 0 is out of range")
    if value.isdecimal():  # any script's digits, as pendulum's ``\d``
        form = _DIGITS_ONLY.get(len(value))
        try:
            parsed = form(value, now or system_clock()) if form else None
        except ValueError as exc:
            raise DateTimeInputError(str(exc)) from None
        if parsed is None:
            raise _unparseable(value)
        return parsed
    if value != value.strip():
        raise _unparseable(value)
    try:
        return parse(value)
    except ValueError:
        raise _unparseable(value) from None


# pydantic v1's datetime text form (its ``datetime_re``) and its Unix-time bounds
_V1_DATETIME = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})"
    r"[T ](?P<hour>\d{1,2}):(?P<minute>\d{1,2})"
    r"(?::(?P<second>\d{1,2})(?:\.(?P<microsecond>\d{1,6})\d{0,6})?)?"
    r"(?P<tzinfo>Z|[+-]\d{2}(?::?\d{2})?)?$"
)
_V1_MAX_NUMBER = 3e20  # beyond: datetime.max / datetime.min
_V1_MS_WATERSHED = 2e10  # beyond: milliseconds (divided by 1000 until within)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)


def parse_query_datetime(text: str) -> dt.datetime:
    """A datetime query parameter, read as pydantic v1's ``datetime`` did: a number is Unix time
    (seconds, or milliseconds beyond 2e10; past ±3e20 the extreme datetimes), else the v1 text form
    (date *and* time). Raises :class:`DateTimeInputError`."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = None
    if seconds is not None:
        if seconds > _V1_MAX_NUMBER:
            return dt.datetime.max.replace(tzinfo=UTC)
        if seconds < -_V1_MAX_NUMBER:
            return dt.datetime.min.replace(tzinfo=UTC)
        while abs(seconds) > _V1_MS_WATERSHED:
            seconds /= 1000
        try:
            return _EPOCH + dt.timedelta(seconds=seconds)
        except ValueError as exc:  # NaN: "cannot convert float NaN to integer"
            raise DateTimeInputError(str(exc)) from None
    match = _V1_DATETIME.match(text)
    if match is None:
        raise DateTimeInputError("invalid datetime format", V1_DATETIME_ERROR)
    part = match.groupdict()
    zone = part.pop("tzinfo")
    micro = part.pop("microsecond")
    try:
        tz = UTC
        if zone and zone != "Z":
            minutes = 60 * int(zone[1:3]) + (int(zone[-2:]) if len(zone) > 3 else 0)
            tz = dt.timezone(dt.timedelta(minutes=-minutes if zone[0] == "-" else minutes))
        fields = {k: int(v) for k, v in part.items() if v is not None}
        return dt.datetime(**fields, microsecond=int(micro.ljust(6, "0")) if micro else 0, tzinfo=tz)
    except ValueError as exc:
        raise DateTimeInputError(str(exc)) from None
