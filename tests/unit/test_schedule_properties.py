"""domain.schedules — invariants over generated schedules, windows and zones (hypothesis).

* In zones without DST: dates strictly increase, lie in [start, end], number at most n (exactly n
  when unbounded), carry the zone offset; keys are unique.
* In DST zones the reference orders and deduplicates by *local wall-clock time*: wall-clock times
  strictly increase (so none repeats), every ISO string designates the scheduled instant with the
  zone's real offset, instants stay within one DST shift of [start, end]; keys are unique.
* Differential checks: intervals and simple crons in UTC against brute force; rrule fast-forwarding
  against plain iteration from DTSTART; wire round trips.
"""

from __future__ import annotations

import datetime as dt
from itertools import pairwise
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import domain.schedules as schedules
from domain.schedules import (
    CronSchedule,
    IntervalSchedule,
    RRuleSchedule,
    get_dates,
    idempotency_key,
    parse_schedule,
    plan_dates,
    schedule_to_wire,
)

UTC = dt.timezone.utc
FIXED_ZONES = ["UTC", "Asia/Kolkata", "Etc/GMT+5", "Asia/Kathmandu"]
DST_ZONES = ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "America/Santiago", "US/Pacific"]
MAX_SHIFT = dt.timedelta(hours=2)  # no zone used here moves its clocks by more than this

PROFILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

instants = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2035, 12, 31), timezones=st.just(UTC)
)
# Starts that often land near DST changes (late March / October-November, around 00:00-04:00 UTC+-)
near_dst = st.builds(
    lambda year, month, day, hour, minute, us: dt.datetime(year, month, day, hour, minute, 0, us, tzinfo=UTC),
    st.integers(2018, 2030),
    st.sampled_from([3, 4, 10, 11]),
    st.integers(1, 28),
    st.integers(0, 23),
    st.sampled_from([0, 0, 15, 30, 59]),
    st.sampled_from([0, 0, 1, 999999]),
)
starts = st.one_of(instants, near_dst)

interval_seconds = st.one_of(
    st.sampled_from([1, 60, 75, 900, 1500, 3600, 5400, 17 * 3600, 86400, 93600, 7 * 86400]),
    st.integers(1, 10 * 86400),
)
cron_exprs = st.sampled_from(
    [
        "* * * * *",
        "*/20 * * * *",
        "0 * * * *",
        "30 2 * * *",
        "30 1 * * *",
        "0 9 * * *",
        "15,45 1-3 * * *",
        "0 0 * * 1-5",
        "@daily",
        "@hourly",
        "0 0 1 * *",
        "0 12 * * sat-sun",
        "5 4 * * *",
        "0 0 13 * 5",
    ]
)
rrule_texts = st.sampled_from(
    [
        "FREQ=HOURLY",
        "FREQ=DAILY",
        "FREQ=MINUTELY;INTERVAL=25",
        "FREQ=HOURLY;INTERVAL=5;BYMINUTE=10,40",
        "DTSTART:20180101T023000\nRRULE:FREQ=DAILY",
        "DTSTART:20180101T013000\nRRULE:FREQ=DAILY",
        "FREQ=WEEKLY;BYDAY=MO,FR;BYHOUR=9",
        "FREQ=MONTHLY;BYMONTHDAY=1,15",
        "FREQ=DAILY;BYHOUR=0,1,2,3;BYMINUTE=30",
        "DTSTART:20180101T000000\nRRULE:FREQ=MINUTELY;INTERVAL=20",
    ]
)


def interval_schedules(zones):
    return st.builds(
        lambda secs, anchor, tz: IntervalSchedule(
            interval=dt.timedelta(seconds=secs), anchor_date=anchor, timezone=tz
        ),
        interval_seconds,
        st.one_of(instants, near_dst),
        st.sampled_from(zones),
    )


def cron_schedules(zones):
    return st.builds(lambda c, tz: CronSchedule(cron=c, timezone=tz), cron_exprs, st.sampled_from(zones))


def rrule_schedules(zones):
    return st.builds(lambda r, tz: RRuleSchedule(rrule=r, timezone=tz), rrule_texts, st.sampled_from(zones))


def any_schedule(zones):
    return st.one_of(interval_schedules(zones), cron_schedules(zones), rrule_schedules(zones))


windows = st.tuples(
    starts, st.one_of(st.none(), st.timedeltas(dt.timedelta(0), dt.timedelta(days=3))), st.integers(1, 40)
)


def _call(schedule, window):
    start, span, n = window
    end = start + span if span is not None else None
    return start, end, n, get_dates(schedule, n=n, start=start, end=end)


def _keys_unique(dates):
    keys = [idempotency_key("9268f078-3166-4ec5-859f-794da145eaf2", d) for d in dates]
    assert len(set(keys)) == len(keys)


def _offsets_true(dates, zone):
    tz = ZoneInfo(zone)
    for d in dates:
        instant = d.astimezone(UTC)
        assert dt.datetime.fromisoformat(d.isoformat()).astimezone(UTC) == instant
        assert d.utcoffset() == instant.astimezone(tz).utcoffset()


class TestFixedOffsetZones:
    @PROFILE
    @given(any_schedule(FIXED_ZONES), windows)
    def test_increasing_within_window_at_most_n(self, schedule, window):
        start, end, n, dates = _call(schedule, window)
        instants_ = [d.astimezone(UTC) for d in dates]
        assert all(a < b for a, b in pairwise(instants_))
        assert all(start <= i for i in instants_)
        if end is not None:
            assert all(i <= end for i in instants_)
        assert len(dates) <= n
        _keys_unique(dates)
        _offsets_true(dates, schedule.timezone or "UTC")

    @PROFILE
    @given(
        st.one_of(interval_schedules(FIXED_ZONES), cron_schedules(FIXED_ZONES)), starts, st.integers(1, 40)
    )
    def test_unbounded_calls_return_exactly_n(self, schedule, start, n):
        assert len(get_dates(schedule, n=n, start=start)) == n


class TestDSTZones:
    @PROFILE
    @given(any_schedule(DST_ZONES), windows)
    def test_wall_clock_strictly_increases_and_offsets_are_true(self, schedule, window):
        start, end, n, dates = _call(schedule, window)
        walls = [d.replace(tzinfo=None) for d in dates]
        assert all(a < b for a, b in pairwise(walls))  # hence no two equal wall-clock times
        assert len(dates) <= n
        assert all(d.astimezone(UTC) >= start - MAX_SHIFT for d in dates)
        if end is not None:
            assert all(d.astimezone(UTC) <= end + MAX_SHIFT for d in dates)
        _keys_unique(dates)
        _offsets_true(dates, schedule.timezone)

    @PROFILE
    @given(st.one_of(cron_schedules(DST_ZONES), rrule_schedules(DST_ZONES)), windows)
    def test_cron_and_rrule_never_start_early(self, schedule, window):
        start, end, n, dates = _call(schedule, window)
        assert all(d.astimezone(UTC) >= start for d in dates)

    @PROFILE
    @given(interval_schedules(DST_ZONES), starts, st.integers(1, 30))
    def test_interval_unbounded_returns_exactly_n(self, schedule, start, n):
        assert len(get_dates(schedule, n=n, start=start)) == n


class TestAgainstBruteForce:
    @PROFILE
    @given(st.integers(1, 3 * 86400), instants, instants, st.integers(1, 20))
    def test_interval_in_utc_is_anchor_plus_multiples(self, seconds, anchor, start, n):
        s = IntervalSchedule(interval=dt.timedelta(seconds=seconds), anchor_date=anchor, timezone="UTC")
        step = dt.timedelta(seconds=seconds)
        k = -((anchor - start) // step)  # smallest k with anchor + k*step >= start
        expected = [anchor + (k + i) * step for i in range(n)]
        assert get_dates(s, n=n, start=start) == expected

    @PROFILE
    @given(
        st.sets(st.integers(0, 59), min_size=1, max_size=4),
        st.sets(st.integers(0, 23), min_size=1, max_size=4),
        instants,
        st.integers(1, 8),
    )
    def test_cron_minute_hour_in_utc(self, minutes, hours, start, n):
        expr = f"{','.join(map(str, sorted(minutes)))} {','.join(map(str, sorted(hours)))} * * *"
        day = start.replace(hour=0, minute=0, second=0, microsecond=0)
        expected = []
        while len(expected) < n:
            for h in sorted(hours):
                for m in sorted(minutes):
                    candidate = day.replace(hour=h, minute=m)
                    if candidate >= start and len(expected) < n:
                        expected.append(candidate)
            day += dt.timedelta(days=1)
        assert get_dates(CronSchedule(cron=expr), n=n, start=start) == expected


class TestRRuleFastForward:
    REACH = {"WEEKLY": 1500, "DAILY": 1500, "HOURLY": 120, "MINUTELY": 3}  # days after DTSTART
    DTSTARTS = {"": dt.datetime(2020, 1, 1), "DTSTART:20190301T013000\n": dt.datetime(2019, 3, 1, 1, 30)}

    @settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        st.sampled_from(["WEEKLY", "DAILY", "HOURLY", "MINUTELY"]),
        st.integers(1, 13),
        st.sampled_from(
            ["", ";BYHOUR=0,1,2,9,23", ";BYMINUTE=0,30", ";BYDAY=MO,SU", ";BYSETPOS=1;BYHOUR=1,2,3"]
        ),
        st.sampled_from(sorted(DTSTARTS)),
        st.sampled_from(["UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe"]),
        st.floats(-0.01, 1.0),
        st.integers(1, 12),
    )
    def test_same_dates_as_iterating_from_dtstart(self, freq, interval, by, dtstart, zone, reach, n):
        start = (self.DTSTARTS[dtstart] + dt.timedelta(days=self.REACH[freq] * reach)).replace(tzinfo=UTC)
        # model_construct: whether dateutil accepts some BYxxx/INTERVAL mixes depends on DTSTART,
        # and validation parses with DTSTART = now (as the reference does).
        s = RRuleSchedule.model_construct(
            rrule=f"{dtstart}RRULE:FREQ={freq};INTERVAL={interval}{by}", timezone=zone
        )
        fast = get_dates(s, n=n, start=start)
        with mock.patch.object(schedules, "_fast_forward", lambda rule, start_utc, tz: rule):
            slow = get_dates(s, n=n, start=start)
        assert [d.isoformat() for d in fast] == [d.isoformat() for d in slow]

    def test_an_hourly_rule_from_2020_evaluated_in_2030_is_cheap(self):
        import time

        s = RRuleSchedule(rrule="FREQ=MINUTELY;INTERVAL=7")
        t0 = time.perf_counter()
        dates = get_dates(s, n=100, start=dt.datetime(2030, 6, 1, tzinfo=UTC))
        assert time.perf_counter() - t0 < 0.5  # ~5.5M occurrences since 2020 if walked one by one
        assert len(dates) == 100
        minutes = (dates[0] - dt.datetime(2020, 1, 1, tzinfo=UTC)) / dt.timedelta(minutes=1)
        assert minutes % 7 == 0


class TestRoundTripsAndPlans:
    @PROFILE
    @given(any_schedule(FIXED_ZONES + DST_ZONES))
    def test_wire_round_trip(self, schedule):
        wire = schedule_to_wire(schedule)
        assert schedule_to_wire(parse_schedule(wire)) == wire
        assert schedule.model_dump(mode="json") == wire

    @PROFILE
    @given(
        st.lists(any_schedule(FIXED_ZONES + DST_ZONES), min_size=1, max_size=3),
        starts,
        st.integers(0, 10),
        st.integers(0, 30),
        st.timedeltas(dt.timedelta(0), dt.timedelta(days=2)),
    )
    def test_plan_follows_spec_5_4_step_2(self, scheds, start, min_runs, max_runs, min_time):
        end = start + dt.timedelta(days=100)
        kw = dict(start=start, end=end, min_time=min_time, min_runs=min_runs, max_runs=max_runs)
        per_schedule = [plan_dates([s], **kw) for s in scheds]
        assert plan_dates(scheds, **kw) == [d for part in per_schedule for d in part]  # concatenated
        horizon = start + min_time
        for s, part in zip(scheds, per_schedule, strict=True):
            available = list(schedules._generate(s, max_runs, start, end))
            assert part == available[: len(part)]  # a prefix of the schedule's dates, in order
            satisfied = len(part) >= min_runs and part[-1] >= horizon if part else False
            assert satisfied or len(part) == len(available)  # stops only when both minimums hold
            # … and as soon as they hold
            for i in range(1, len(part)):
                assert not (i >= min_runs and part[i - 1] >= horizon)


@pytest.mark.parametrize("zone", FIXED_ZONES + DST_ZONES)
def test_every_zone_used_here_is_valid(zone):
    assert IntervalSchedule(interval=60, timezone=zone).timezone == zone
