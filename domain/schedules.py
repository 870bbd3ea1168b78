"""Schedules: the three schedule kinds, their wire form and their date generation.

Contract: spec §4.6 (schedule objects), §5.4 step 2 (how many dates a deployment gets), §5.5 (date
generation, including every DST rule) and §5.6 (idempotency keys). The dates, their offsets and
therefore the run identities must be byte-identical to the reference server (Prefect 2.20 on
pendulum 2); ``tests/fixtures/schedule_golden.json`` holds dates produced by the reference itself.

How the reference's rules are reproduced with the standard library
-----------------------------------------------------------------
Every date of one call carries the *same* ``tzinfo`` object (the schedule zone). Python then compares,
hashes and sorts those datetimes by local wall-clock time, ignoring ``fold`` — exactly what the
reference does with its (cached) pendulum zone objects. This gives, for free:

* the dedupe "skip a date whose local wall-clock time was already produced" (a set of datetimes),
* ``end`` compared in wall-clock time, the interval's ``while date < start`` in wall-clock time,
* ``get_dates`` ordered by wall-clock time (``sorted``), which across a fall-back hour is not always
  instant order (e.g. a 25-minute interval).

Instants are compared explicitly (converted to UTC) where the reference mixes zones: the interval's
anchor distance, the rrule start filter, and ``plan_dates``' ``start + min_time`` test.

Local-time resolution rules (a naive local time -> an instant):

* ``_post`` (pendulum's default, interval day steps and cron): a non-existent time moves forward by the
  gap (02:30 -> 03:30 DST); an ambiguous time takes the later (post-transition) offset.
* ``_rrule_local`` (dateutil's tz, used by the reference for rrules): an ambiguous time takes the first
  (pre-transition) offset; a non-existent time takes the post-transition offset (02:30 -> 01:30 EST).

Deliberate differences from the reference (each one a case where the reference fails or renders an
offset that designates a different instant; see tests/unit/test_schedule_dst.py):

* zones with negative DST in tzdata (Europe/Dublin): true offsets (pendulum 2 / dateutil mislabel
  the fall-back hour and misplace rrule wall times);
* rrules after the host zone file's last stored transition (2037): DST continues (dateutil ignores
  the TZif footer rule);
* a cron that can never match, an rrule dateutil refuses for its DTSTART: no dates (reference: 500);
* timezone "" (accepted and echoed, as by the reference): dates in UTC (reference: 500 for
  interval and rrule);
* timezone names come from the current tzdata (``zoneinfo``), not pendulum's 2020 list.

croniter and dateutil are imported lazily: most Lambda handlers never touch schedules.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import warnings
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Annotated, Any, Union
from zoneinfo import ZoneInfo, available_timezones

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_serializer,
    field_validator,
)

from domain.parsing import body_datetime
from domain.timeutil import UTC, ensure_aware, iso

__all__ = [
    "MAX_ITERATIONS",
    "MAX_RRULE_LENGTH",
    "CronSchedule",
    "IntervalSchedule",
    "RRuleSchedule",
    "Schedule",
    "get_dates",
    "idempotency_key",
    "parse_duration",
    "parse_schedule",
    "plan_dates",
    "schedule_to_wire",
]

MAX_ITERATIONS = 1000
"""Candidate dates examined after the start, per call (the reference's cap)."""

MAX_RRULE_LENGTH = 6500

RRULE_DEFAULT_DTSTART = dt.datetime(2020, 1, 1)
"""An rrule without DTSTART is anchored here (local wall-clock), so its dates do not drift over time."""

_TZ_HINT = " (specify in IANA tzdata format, for example, America/New_York)"


# --------------------------------------------------------------------------------------------
# timezones and durations


@lru_cache(maxsize=1)
def _timezone_names() -> frozenset[str]:
    # ``Factory`` and ``localtime`` are files on some systems, not zones anyone can ask for.
    return frozenset(available_timezones() - {"Factory", "localtime"} | {"UTC"})


def _check_timezone(value: str, hint: str) -> str:
    # "" is accepted (the reference accepts it too) and generates dates in UTC.
    if value and value not in _timezone_names():
        raise ValueError(f'Invalid timezone: "{value}"{hint}')
    return value


def _zone(name: str | None) -> dt.tzinfo:
    """The tzinfo object for a validated schedule timezone (None / "" -> UTC)."""
    if not name or name == "UTC":
        return UTC
    return ZoneInfo(name)


@lru_cache(maxsize=1)
def _duration_adapter() -> TypeAdapter:
    return TypeAdapter(dt.timedelta)


def parse_duration(v: Any) -> dt.timedelta:
    """A duration from the wire: seconds (int/float), an ISO-8601 duration ("PT2H", "P1DT2H30M") or
    a timedelta. Parsed like the reference (pydantic's timedelta rules, which also take "HH:MM:SS").
    Raises ``ValueError`` with a short message."""
    if isinstance(v, dt.timedelta):
        return v
    if isinstance(v, bool):
        raise ValueError("Input should be a valid timedelta")
    if isinstance(v, str):
        try:  # the reference (pydantic v1) also takes a string of seconds, e.g. "1468800"
            return dt.timedelta(seconds=float(v.strip()))
        except (ValueError, OverflowError):
            pass
    if isinstance(v, int | float):
        if not math.isfinite(v):
            raise ValueError("Input should be a finite number")
        try:
            return dt.timedelta(seconds=v)
        except OverflowError:
            raise ValueError("Input should be a valid timedelta, duration is too large") from None
    try:
        return _duration_adapter().validate_python(v)
    except ValidationError as exc:
        raise ValueError(exc.errors()[0]["msg"]) from None


def _seconds(days: int, seconds: float) -> dt.timedelta:
    """``days`` + ``seconds`` (a float) as a timedelta, split into units the way pendulum does before
    building its timedelta (so that fractional intervals round identically)."""
    if seconds == int(seconds):
        return dt.timedelta(days=days, seconds=int(seconds))
    sign = -1 if seconds < 0 else 1
    minutes, secs = divmod(seconds * sign, 60)
    hours, mins = divmod(minutes, 60) if minutes > 59 else (0, minutes)
    extra_days, hrs = divmod(hours, 24) if hours > 23 else (0, hours)
    return dt.timedelta(
        days=days + sign * extra_days,
        hours=sign * hrs,
        minutes=sign * mins,
        seconds=sign * secs,
    )


# --------------------------------------------------------------------------------------------
# local time resolution


def _post(naive: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """Naive local time -> aware, pendulum's rule: gap -> forward by the gap, ambiguous -> later."""
    first = naive.replace(tzinfo=tz)
    if tz is UTC:
        return first
    second = naive.replace(tzinfo=tz, fold=1)
    off_first, off_second = first.utcoffset(), second.utcoffset()
    if off_first == off_second:
        return first
    if off_first > off_second:  # ambiguous (clocks went back): the later instant
        return second
    # non-existent (clocks went forward): the pre-transition offset, i.e. shifted forward by the gap
    return (naive - off_first).replace(tzinfo=UTC).astimezone(tz)


def _rrule_local(naive: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """Naive local time -> aware, dateutil's rule: ambiguous -> first, gap -> post-transition offset.
    The result may carry a non-existent wall-clock time; only its instant is used."""
    first = naive.replace(tzinfo=tz)
    if tz is UTC:
        return first
    second = naive.replace(tzinfo=tz, fold=1)
    if first.utcoffset() < second.utcoffset():  # gap
        return second
    return first


def _add_absolute(value: dt.datetime, delta: dt.timedelta, tz: dt.tzinfo) -> dt.datetime:
    """Elapsed-time addition, result in ``tz``."""
    return (value.astimezone(UTC) + delta).astimezone(tz)


# --------------------------------------------------------------------------------------------
# the schedule models


class IntervalSchedule(BaseModel):
    """Every ``interval`` from ``anchor_date``; ``timezone`` drives DST handling (spec §4.6, §5.5)."""

    model_config = ConfigDict(extra="forbid")

    interval: Annotated[dt.timedelta, Field(gt=dt.timedelta(0))]
    anchor_date: dt.datetime = Field(default=None, validate_default=True)
    timezone: str | None = Field(default=None, validate_default=True)

    @field_validator("anchor_date", mode="before")
    @classmethod
    def _anchor(cls, v: Any, info: ValidationInfo) -> dt.datetime:
        if v is None:
            now = (info.context or {}).get("now")
            return ensure_aware(now) if now is not None else dt.datetime.now(UTC)
        return body_datetime(v, info)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is not None:
            return _check_timezone(v, _TZ_HINT)
        anchor = info.data.get("anchor_date")
        if anchor is None:
            return None
        name = getattr(anchor.tzinfo, "key", None)  # a ZoneInfo anchor names its zone
        return name if name in _timezone_names() else "UTC"

    @field_serializer("interval", when_used="json")
    def _interval_out(self, v: dt.timedelta) -> float:
        return v.total_seconds()

    @field_serializer("anchor_date", when_used="json")
    def _anchor_out(self, v: dt.datetime) -> str:
        return iso(v)


class CronSchedule(BaseModel):
    """A cron expression evaluated in local wall-clock time of ``timezone`` (null = UTC)."""

    model_config = ConfigDict(extra="forbid")

    cron: str
    timezone: str | None = None
    day_or: bool = True

    @field_validator("cron")
    @classmethod
    def _cron(cls, v: str) -> str:
        from croniter import croniter

        if not croniter.is_valid(v):
            raise ValueError(f'Invalid cron string: "{v}"')
        if any(token.casefold() in ("r", "h") for token in v.split()):
            raise ValueError(f'Random and Hashed expressions are unsupported, received: "{v}"')
        return v

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, v: str | None) -> str | None:
        return None if v is None else _check_timezone(v, _TZ_HINT)


class RRuleSchedule(BaseModel):
    """An RFC 5545 rule (dateutil ``rrulestr`` syntax) in wall-clock time of ``timezone``."""

    model_config = ConfigDict(extra="forbid")

    rrule: str
    timezone: str | None = Field(default="UTC", validate_default=True)

    @field_validator("rrule")
    @classmethod
    def _rrule(cls, v: str) -> str:
        from dateutil.rrule import rrulestr

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # COUNT with UNTIL
                rrulestr(v, cache=True)
        except ValueError as exc:
            raise ValueError(f'Invalid RRule string "{v}": {exc}') from None
        if len(v) > MAX_RRULE_LENGTH:
            raise ValueError(
                f'Invalid RRule string "{v[:40]}..."\nMax length is {MAX_RRULE_LENGTH}, got {len(v)}'
            )
        return v

    @field_validator("timezone", mode="before")
    @classmethod
    def _default_timezone(cls, v: Any) -> Any:
        return "UTC" if v is None else v

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, v: str) -> str:
        return _check_timezone(v, "")


Schedule = Annotated[
    Union[IntervalSchedule, CronSchedule, RRuleSchedule],  # order matters: tried left to right
    Field(union_mode="left_to_right"),
]
"""Tried as Interval, then Cron, then RRule; extra keys are forbidden, so the keys decide."""


@lru_cache(maxsize=1)
def _schedule_adapter() -> TypeAdapter:
    return TypeAdapter(Schedule)


def parse_schedule(
    obj: Any, *, now: dt.datetime | None = None
) -> IntervalSchedule | CronSchedule | RRuleSchedule:
    """A schedule from its wire form. ``now`` fixes the default interval anchor (tests, injected
    clocks). Raises ``pydantic.ValidationError``."""
    if isinstance(obj, IntervalSchedule | CronSchedule | RRuleSchedule):
        return obj
    return _schedule_adapter().validate_python(obj, context={"now": now} if now is not None else None)


def schedule_to_wire(s: IntervalSchedule | CronSchedule | RRuleSchedule) -> dict[str, Any]:
    """The reference's JSON form, keys in the reference's order."""
    if isinstance(s, IntervalSchedule):
        return {
            "interval": s.interval.total_seconds(),
            "anchor_date": iso(s.anchor_date),
            "timezone": s.timezone,
        }
    if isinstance(s, CronSchedule):
        return {"cron": s.cron, "timezone": s.timezone, "day_or": s.day_or}
    if isinstance(s, RRuleSchedule):
        return {"rrule": s.rrule, "timezone": s.timezone}
    raise TypeError(f"not a schedule: {s!r}")


# --------------------------------------------------------------------------------------------
# date generation (spec §5.5)


def get_dates(
    s: IntervalSchedule | CronSchedule | RRuleSchedule,
    n: int | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    *,
    now: dt.datetime | None = None,
) -> list[dt.datetime]:
    """Up to ``n`` dates (default 1, or up to 1000 when ``end`` is given) in ``[start, end]``, as aware
    datetimes in the schedule's timezone, ordered by local wall-clock time. ``start`` defaults to
    ``now`` (default: the system clock); naive datetimes are UTC."""
    if start is None:
        start = now if now is not None else dt.datetime.now(UTC)
    return sorted(_generate(s, n, start, end))


def plan_dates(
    schedules: Iterable[IntervalSchedule | CronSchedule | RRuleSchedule],
    *,
    start: dt.datetime,
    end: dt.datetime,
    min_time: dt.timedelta,
    min_runs: int,
    max_runs: int,
) -> list[dt.datetime]:
    """Spec §5.4 step 2: the dates to materialise for the given active schedules, in order.

    Per schedule: draw up to ``max_runs`` dates in ``[start, end]`` and stop as soon as at least
    ``min_runs`` were taken *and* the last one is at or after ``start + min_time``. Dates of all
    schedules are concatenated (in generation order; not deduplicated across schedules)."""
    start = ensure_aware(start)
    horizon = start.astimezone(UTC) + min_time
    out: list[dt.datetime] = []
    for schedule in schedules:
        taken = 0
        for date in _generate(schedule, max_runs, start, end):
            out.append(date)
            taken += 1
            if taken >= min_runs and date.astimezone(UTC) >= horizon:
                break
    return out


def idempotency_key(deployment_id: Any, date: dt.datetime) -> str:
    """``scheduled <deployment id> <date ISO in the schedule timezone>`` (spec §5.6)."""
    return f"scheduled {deployment_id} {iso(date)}"


def _generate(
    s: IntervalSchedule | CronSchedule | RRuleSchedule,
    n: int | None,
    start: dt.datetime,
    end: dt.datetime | None,
) -> Iterator[dt.datetime]:
    if n is None:
        n = MAX_ITERATIONS if end is not None else 1
    start = ensure_aware(start)
    end = ensure_aware(end) if end is not None else None
    if isinstance(s, IntervalSchedule):
        candidates = _interval_candidates(s, start)
    elif isinstance(s, CronSchedule):
        candidates = _cron_candidates(s, start)
    elif isinstance(s, RRuleSchedule):
        candidates = _rrule_candidates(s, start)
    else:
        raise TypeError(f"not a schedule: {s!r}")
    return _take(candidates, n, end)


def _take(candidates: Iterator[dt.datetime], n: int, end: dt.datetime | None) -> Iterator[dt.datetime]:
    """The common tail of every generator: stop past ``end`` (wall-clock, same zone), skip a local
    time already produced, stop after ``n`` dates or ``MAX_ITERATIONS`` further candidates."""
    seen: set[dt.datetime] = set()
    counter = 0
    end_local = None
    for date in candidates:
        if end is not None:
            if end_local is None:
                end_local = end.astimezone(date.tzinfo)
            if date > end_local:
                return
        if date not in seen:
            seen.add(date)
            yield date
        if len(seen) >= n or counter > MAX_ITERATIONS:
            return
        counter += 1


def _interval_candidates(s: IntervalSchedule, start: dt.datetime) -> Iterator[dt.datetime]:
    tz = _zone(s.timezone)
    anchor = s.anchor_date.astimezone(tz)
    start_local = start.astimezone(tz)
    total = s.interval.total_seconds()

    # Jump close to the start in elapsed (absolute) seconds: a whole number of intervals,
    # truncated toward zero.
    elapsed = (start.astimezone(UTC) - s.anchor_date.astimezone(UTC)).total_seconds()
    current = _add_absolute(anchor, _seconds(0, total * int(elapsed / total)), tz)

    days = s.interval.days
    rest = total - days * 86400
    if days:
        # Whole days (plus the rest) in local wall-clock time, then re-localised.
        step_wall = _seconds(days, rest)

        def step(value: dt.datetime) -> dt.datetime:
            return _post(value.replace(tzinfo=None) + step_wall, tz)
    else:
        step_abs = _seconds(0, rest)

        def step(value: dt.datetime) -> dt.datetime:
            return _add_absolute(value, step_abs, tz)

    while current < start_local:  # wall-clock comparison (same zone), as in the reference
        current = step(current)
    while True:
        yield current
        current = step(current)


def _cron_candidates(s: CronSchedule, start: dt.datetime) -> Iterator[dt.datetime]:
    from croniter import CroniterBadDateError

    tz = _zone(s.timezone)
    local = start.astimezone(tz)
    if not local.microsecond:
        # One second earlier, so that a start exactly on a match includes it; a start with
        # microseconds is rounded up instead, which excludes the whole second it falls in.
        local = _add_absolute(local, dt.timedelta(seconds=-1), tz)
    cron = copy.copy(_cron_prototype(s.cron, s.day_or))
    cron.set_current(local.replace(tzinfo=None), force=True)
    while True:
        try:
            naive = cron.get_next(dt.datetime)
        except CroniterBadDateError:  # no further match (e.g. "0 0 31 2 *")
            return
        yield _post(naive, tz)


@lru_cache(maxsize=512)
def _cron_prototype(expression: str, day_or: bool) -> Any:
    """A parsed croniter to copy per call (parsing costs ~50x a copy)."""
    from croniter import croniter

    return croniter(expression, dt.datetime(2000, 1, 1), day_or=day_or)


def _rrule_candidates(s: RRuleSchedule, start: dt.datetime) -> Iterator[dt.datetime]:
    tz = _zone(s.timezone)
    start_utc = start.astimezone(UTC)
    try:
        rule = _fast_forward(_naive_rule(s.rrule), start_utc, tz)
        occurrences = iter(rule)
    except (ValueError, TypeError):
        # dateutil refuses some rules for the 2020-01-01 default DTSTART although they validated
        # against "now" (e.g. FREQ=HOURLY;INTERVAL=4;BYHOUR=1,2,3); the reference fails there (500).
        return
    while True:
        try:
            naive = next(occurrences)
        except (StopIteration, ValueError, TypeError):
            # TypeError: a rule dateutil parses but cannot iterate (FREQ=HOURLY;BYHOUR=99): no
            # dates, where the reference's /schedule answers 500 (issue #10 item 9)
            return
        instant = _rrule_local(naive, tz).astimezone(UTC)
        if instant < start_utc:
            continue
        yield instant.astimezone(tz)


@lru_cache(maxsize=512)
def _naive_rule(text: str) -> Any:
    """The parsed rule with every date (DTSTART, UNTIL, RDATE, EXDATE) reduced to its local
    wall-clock value: the reference re-labels them all with the schedule timezone."""
    from dateutil.rrule import rrule, rruleset, rrulestr

    def strip(r: rrule) -> rrule:
        until = r._until.replace(tzinfo=None) if r._until is not None else None
        return r.replace(dtstart=r._dtstart.replace(tzinfo=None), until=until)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # COUNT with UNTIL
        parsed = rrulestr(text, dtstart=RRULE_DEFAULT_DTSTART, cache=False)
        if isinstance(parsed, rrule):
            return strip(parsed)
        out = rruleset(cache=False)
        for r in parsed._rrule:
            out.rrule(strip(r))
        for r in parsed._exrule:
            out.exrule(strip(r))
    for d in parsed._rdate:
        out.rdate(d.replace(tzinfo=None))
    for d in parsed._exdate:
        out.exdate(d.replace(tzinfo=None))
    return out


def _fast_forward(rule: Any, start_utc: dt.datetime, tz: dt.tzinfo) -> Any:
    """Move DTSTART of (sub-)rules forward by whole periods so that iteration does not walk every
    occurrence since 2020. Only for rules whose occurrence set is invariant under such a shift
    (no COUNT; frequency WEEKLY or finer, where a period is a fixed number of wall-clock seconds).
    Occurrences before the new DTSTART cannot reach ``start`` (see ``_floor``)."""
    from dateutil.rrule import rrule, rruleset

    floor = _floor(start_utc, tz)
    if isinstance(rule, rrule):
        return _shift(rule, floor)
    out = rruleset(cache=False)
    for r in rule._rrule:
        out.rrule(_shift(r, floor))
    for r in rule._exrule:
        out.exrule(_shift(r, floor))
    for d in rule._rdate:
        out.rdate(d)
    for d in rule._exdate:
        out.exdate(d)
    return out


_PERIOD_SECONDS = {2: 7 * 86400, 3: 86400, 4: 3600, 5: 60, 6: 1}  # dateutil WEEKLY..SECONDLY


def _floor(start_utc: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """A naive local time below every occurrence whose instant is >= start: the smallest UTC offset
    seen within two days of the start, minus an hour of slack."""
    probes = (start_utc + dt.timedelta(hours=h) for h in (-48, -24, 0, 24, 48))
    smallest = min(p.astimezone(tz).utcoffset() for p in probes)
    return start_utc.replace(tzinfo=None) + smallest - dt.timedelta(hours=1)


def _shift(r: Any, floor: dt.datetime) -> Any:
    period = _PERIOD_SECONDS.get(r._freq)
    if period is None or r._count is not None or r._dtstart >= floor:
        return r
    step = dt.timedelta(seconds=period * r._interval)
    periods = (floor - r._dtstart) // step - 1
    if periods <= 0:
        return r
    return r.replace(dtstart=r._dtstart + periods * step)
