"""domain.schedules across DST changes — spec §5.5 and §8 items 223-225, plus the rules the golden
file pins down (gap/ambiguous resolution per schedule type, wall-clock dedupe and ordering).

Values are the reference's (prefect 2.20.26 on pendulum 2.1.2), except in ``TestNegativeDSTZones``
and ``TestBeyond2037`` where flowplane deliberately renders the correct offset (see each class).
"""

from __future__ import annotations

import datetime as dt
from itertools import pairwise
from zoneinfo import ZoneInfo

from domain.schedules import (
    CronSchedule,
    IntervalSchedule,
    RRuleSchedule,
    get_dates,
    idempotency_key,
    parse_schedule,
    plan_dates,
)

UTC = dt.timezone.utc
NY = ZoneInfo("America/New_York")
DUBLIN = ZoneInfo("Europe/Dublin")


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def isos(dates) -> list[str]:
    return [d.isoformat() for d in dates]


def local_hours(dates, tz=NY) -> list[int]:
    return [d.astimezone(tz).hour for d in dates]


def utc_hours(dates) -> list[int]:
    return [d.astimezone(UTC).hour for d in dates]


HOURLY = {"interval": 3600, "anchor_date": "2018-01-01T00:00:00+00:00"}
SPRING_2018 = utc(2018, 3, 11, 4)  # 23:00 EST on 2018-03-10; clocks jump 02:00 -> 03:00 at 07:00Z
FALL_2018 = utc(2018, 11, 4, 3)  # 23:00 EDT on 2018-11-03; clocks go 02:00 -> 01:00 at 06:00Z


class TestIntervalScheduleDST:
    def test_75_second_interval_anchored_far_in_the_past_in_us_pacific_is_after_now(self):
        s = parse_schedule(
            {"interval": 75, "anchor_date": "1960-03-04T05:06:07-08:00", "timezone": "US/Pacific"}
        )
        now = utc(2024, 6, 7, 8, 9, 10, 111213)
        dates = get_dates(s, n=5, now=now)
        assert all(d > now for d in dates)
        assert dates[0] - now < dt.timedelta(seconds=75)
        assert [b - a for a, b in pairwise(dates)] == [dt.timedelta(seconds=75)] * 4
        assert isos(dates)[0] == "2024-06-07T01:09:52-07:00"

    def test_hourly_across_spring_forward_without_timezone_is_utc(self):
        dates = get_dates(parse_schedule(HOURLY), n=5, start=SPRING_2018)
        assert local_hours(dates) == [23, 0, 1, 3, 4]
        assert utc_hours(dates) == [4, 5, 6, 7, 8]
        assert isos(dates)[0] == "2018-03-11T04:00:00+00:00"

    def test_hourly_across_spring_forward_in_new_york(self):
        dates = get_dates(parse_schedule(dict(HOURLY, timezone="America/New_York")), n=5, start=SPRING_2018)
        assert local_hours(dates) == [23, 0, 1, 3, 4]
        assert utc_hours(dates) == [4, 5, 6, 7, 8]
        assert isos(dates) == [
            "2018-03-10T23:00:00-05:00",
            "2018-03-11T00:00:00-05:00",
            "2018-03-11T01:00:00-05:00",
            "2018-03-11T03:00:00-04:00",
            "2018-03-11T04:00:00-04:00",
        ]

    def test_hourly_across_fall_back_in_new_york_drops_the_repeated_wall_clock_hour(self):
        dates = get_dates(parse_schedule(dict(HOURLY, timezone="America/New_York")), n=5, start=FALL_2018)
        assert local_hours(dates) == [23, 0, 1, 2, 3]
        assert utc_hours(dates) == [3, 4, 5, 7, 8]  # 06:00Z is 01:00 EST: same wall clock as 05:00Z
        assert isos(dates)[2:4] == ["2018-11-04T01:00:00-04:00", "2018-11-04T02:00:00-05:00"]

    def test_daily_9am_keeps_local_time_across_spring_forward(self):
        s = parse_schedule(
            {"interval": 86400, "anchor_date": "2018-03-08T09:00:00-05:00", "timezone": "America/New_York"}
        )
        dates = get_dates(s, n=5, start=utc(2018, 3, 8, 14))
        assert local_hours(dates) == [9] * 5
        assert utc_hours(dates) == [14, 14, 14, 13, 13]

    def test_daily_9am_keeps_local_time_across_fall_back(self):
        s = parse_schedule(
            {"interval": 86400, "anchor_date": "2018-11-01T09:00:00-04:00", "timezone": "America/New_York"}
        )
        dates = get_dates(s, n=5, start=utc(2018, 11, 1, 13))
        assert local_hours(dates) == [9] * 5
        assert utc_hours(dates) == [13, 13, 13, 14, 14]

    def test_quirk_q11_daily_winter_anchor_evaluated_in_summer_fires_an_hour_late(self):
        s = parse_schedule(
            {"interval": 86400, "anchor_date": "2024-01-15T09:00:00-05:00", "timezone": "America/New_York"}
        )
        assert isos(get_dates(s, n=2, start=utc(2024, 7, 1))) == [
            "2024-07-01T10:00:00-04:00",
            "2024-07-02T10:00:00-04:00",
        ]
        assert isos(get_dates(s, n=1, start=utc(2024, 12, 1))) == ["2024-12-01T09:00:00-05:00"]

    def test_daily_at_a_nonexistent_time_moves_forward_and_stays(self):
        s = parse_schedule(
            {"interval": 86400, "anchor_date": "2024-03-08T02:30:00-05:00", "timezone": "America/New_York"}
        )
        assert isos(get_dates(s, n=5, start=utc(2024, 3, 8))) == [
            "2024-03-08T02:30:00-05:00",
            "2024-03-09T02:30:00-05:00",
            "2024-03-10T03:30:00-04:00",
            "2024-03-11T03:30:00-04:00",
            "2024-03-12T03:30:00-04:00",
        ]

    def test_daily_at_an_ambiguous_time_takes_the_later_instant(self):
        s = parse_schedule(
            {"interval": 86400, "anchor_date": "2024-10-31T01:30:00-04:00", "timezone": "America/New_York"}
        )
        assert isos(get_dates(s, n=5, start=utc(2024, 11, 1)))[1:4] == [
            "2024-11-02T01:30:00-04:00",
            "2024-11-03T01:30:00-05:00",
            "2024-11-04T01:30:00-05:00",
        ]

    def test_25_minute_interval_across_fall_back_is_ordered_by_wall_clock_not_instant(self):
        s = parse_schedule(
            {"interval": 1500, "anchor_date": "2024-01-01T00:00:00+00:00", "timezone": "America/New_York"}
        )
        start = utc(2024, 11, 3, 4, 30)
        end = utc(2024, 11, 3, 7, 30)
        dates = get_dates(s, start=start, end=end)
        assert isos(dates) == [
            "2024-11-03T00:30:00-04:00",
            "2024-11-03T00:55:00-04:00",
            "2024-11-03T01:10:00-05:00",  # 06:10Z
            "2024-11-03T01:20:00-04:00",  # 05:20Z — earlier instant, later wall clock
            "2024-11-03T01:35:00-05:00",
            "2024-11-03T01:45:00-04:00",
            "2024-11-03T02:00:00-05:00",
            "2024-11-03T02:25:00-05:00",
        ]
        # The scheduler uses generation order (instant order) instead:
        planned = plan_dates([s], start=start, end=end, min_time=dt.timedelta(0), min_runs=100, max_runs=100)
        assert sorted(planned, key=lambda d: d.astimezone(UTC)) == planned
        assert sorted(isos(planned)) == sorted(isos(dates))


class TestCronScheduleDST:
    def test_hourly_across_spring_forward(self):
        dates = get_dates(CronSchedule(cron="0 * * * *", timezone="America/New_York"), n=5, start=SPRING_2018)
        assert local_hours(dates) == [23, 0, 1, 3, 4]
        assert utc_hours(dates) == [4, 5, 6, 7, 8]

    def test_hourly_across_fall_back_takes_the_later_1am(self):
        dates = get_dates(CronSchedule(cron="0 * * * *", timezone="America/New_York"), n=5, start=FALL_2018)
        assert local_hours(dates) == [23, 0, 1, 2, 3]
        assert utc_hours(dates) == [3, 4, 6, 7, 8]  # pendulum 2 (pendulum 3 would give 3, 4, 5, 7, 8)
        assert isos(dates)[2] == "2018-11-04T01:00:00-05:00"

    def test_daily_9am_across_spring_forward_and_fall_back(self):
        s = CronSchedule(cron="0 9 * * *", timezone="America/New_York")
        spring = get_dates(s, n=5, start=utc(2018, 3, 8, 14))
        fall = get_dates(s, n=5, start=utc(2018, 11, 1, 13))
        assert local_hours(spring) == local_hours(fall) == [9] * 5
        assert utc_hours(spring) == [14, 14, 14, 13, 13]
        assert utc_hours(fall) == [13, 13, 13, 14, 14]

    def test_montreal_start_inside_the_dst_day_pre_shift_window(self):
        s = CronSchedule(cron="10 0 * * *", timezone="America/Montreal")
        dates = get_dates(s, n=5, start=dt.datetime(2023, 3, 12, 5, 10, 2, tzinfo=UTC))
        assert local_hours(dates, ZoneInfo("America/Montreal")) == [0] * 5
        assert utc_hours(dates) == [4] * 5
        assert isos(dates)[0] == "2023-03-13T00:10:00-04:00"

    def test_nonexistent_time_moves_forward_that_day_only(self):
        s = CronSchedule(cron="30 2 * * *", timezone="America/New_York")
        assert isos(get_dates(s, n=4, start=utc(2024, 3, 9))) == [
            "2024-03-09T02:30:00-05:00",
            "2024-03-10T03:30:00-04:00",
            "2024-03-11T02:30:00-04:00",
            "2024-03-12T02:30:00-04:00",
        ]

    def test_ambiguous_time_fires_once_at_the_later_instant(self):
        s = CronSchedule(cron="30 1 * * *", timezone="America/New_York")
        assert isos(get_dates(s, start=utc(2024, 11, 2), end=utc(2024, 11, 5))) == [
            "2024-11-02T01:30:00-04:00",
            "2024-11-03T01:30:00-05:00",
            "2024-11-04T01:30:00-05:00",
        ]

    def test_every_20_minutes_skips_the_first_pass_through_the_repeated_hour(self):
        s = CronSchedule(cron="*/20 * * * *", timezone="America/New_York")
        assert isos(get_dates(s, start=utc(2024, 11, 3, 4, 30), end=utc(2024, 11, 3, 7, 30))) == [
            "2024-11-03T00:40:00-04:00",
            "2024-11-03T01:00:00-05:00",
            "2024-11-03T01:20:00-05:00",
            "2024-11-03T01:40:00-05:00",
            "2024-11-03T02:00:00-05:00",
            "2024-11-03T02:20:00-05:00",
        ]

    def test_lord_howe_half_hour_gap(self):
        # Australia/Lord_Howe moves 02:00 -> 02:30 (+10:30 -> +11:00) on 2024-10-06.
        s = CronSchedule(cron="15 2 * * *", timezone="Australia/Lord_Howe")
        assert isos(get_dates(s, n=3, start=utc(2024, 10, 4))) == [
            "2024-10-05T02:15:00+10:30",
            "2024-10-06T02:45:00+11:00",
            "2024-10-07T02:15:00+11:00",
        ]


class TestRRuleScheduleDST:
    def test_hourly_in_utc_seen_from_new_york(self):
        s = RRuleSchedule(rrule="DTSTART:20180311T040000\nRRULE:FREQ=HOURLY")
        dates = get_dates(s, n=5, start=SPRING_2018)
        assert s.timezone == "UTC"
        assert isos(dates)[0] == "2018-03-11T04:00:00+00:00"
        assert local_hours(dates) == [23, 0, 1, 3, 4]
        assert utc_hours(dates) == [4, 5, 6, 7, 8]

    def test_hourly_in_new_york_across_spring_forward(self):
        s = RRuleSchedule(rrule="DTSTART:20180310T230000\nRRULE:FREQ=HOURLY", timezone="America/New_York")
        dates = get_dates(s, n=5, start=dt.datetime(2018, 3, 10, 23, tzinfo=NY))
        assert local_hours(dates) == [23, 0, 1, 3, 4]
        assert utc_hours(dates) == [4, 5, 6, 7, 8]

    def test_hourly_in_new_york_across_fall_back_takes_the_first_1am(self):
        s = RRuleSchedule(rrule="DTSTART:20181103T230000\nRRULE:FREQ=HOURLY", timezone="America/New_York")
        dates = get_dates(s, n=5, start=FALL_2018)
        assert local_hours(dates) == [23, 0, 1, 2, 3]
        assert utc_hours(dates) == [3, 4, 5, 7, 8]
        assert isos(dates)[2] == "2018-11-04T01:00:00-04:00"

    def test_daily_9am_new_york_keeps_local_time(self):
        s = RRuleSchedule(rrule="DTSTART:20180308T090000\nRRULE:FREQ=DAILY", timezone="America/New_York")
        assert utc_hours(get_dates(s, n=5, start=utc(2018, 3, 8, 14))) == [14, 14, 14, 13, 13]
        s = RRuleSchedule(rrule="DTSTART:20181101T090000\nRRULE:FREQ=DAILY", timezone="America/New_York")
        assert utc_hours(get_dates(s, n=5, start=utc(2018, 11, 1, 13))) == [13, 13, 13, 14, 14]

    def test_daily_9am_utc_keeps_utc_time(self):
        s = RRuleSchedule(rrule="DTSTART:20180308T090000\nRRULE:FREQ=DAILY")
        dates = get_dates(s, n=5, start=utc(2018, 3, 8, 9))
        assert utc_hours(dates) == [9] * 5
        assert local_hours(dates) == [4, 4, 4, 5, 5]

    def test_nonexistent_time_resolves_backwards_unlike_cron(self):
        # dateutil gives a non-existent 02:30 the post-transition offset: 02:30-04:00 = 01:30 EST.
        s = RRuleSchedule(rrule="DTSTART:20240101T023000\nRRULE:FREQ=DAILY", timezone="America/New_York")
        assert isos(get_dates(s, n=4, start=utc(2024, 3, 9))) == [
            "2024-03-09T02:30:00-05:00",
            "2024-03-10T01:30:00-05:00",
            "2024-03-11T02:30:00-04:00",
            "2024-03-12T02:30:00-04:00",
        ]

    def test_ambiguous_time_takes_the_first_instant(self):
        s = RRuleSchedule(rrule="DTSTART:20240101T013000\nRRULE:FREQ=DAILY", timezone="America/New_York")
        assert isos(get_dates(s, n=3, start=utc(2024, 11, 2)))[1] == "2024-11-03T01:30:00-04:00"

    def test_idempotency_keys_carry_the_schedule_offset(self):
        s = RRuleSchedule(rrule="FREQ=DAILY;BYHOUR=19", timezone="America/New_York")
        (date,) = get_dates(s, n=1, start=utc(2026, 11, 24, 12))
        assert idempotency_key("9268f078-3166-4ec5-859f-794da145eaf2", date) == (
            "scheduled 9268f078-3166-4ec5-859f-794da145eaf2 2026-11-24T19:00:00-05:00"
        )


def _rendered_offsets_are_true(dates, tz):
    """Every ISO string designates the instant that was scheduled, with the zone's real offset."""
    for d in dates:
        assert dt.datetime.fromisoformat(d.isoformat()).astimezone(UTC) == d.astimezone(UTC)
        assert d.utcoffset() == d.astimezone(UTC).astimezone(tz).utcoffset()


class TestNegativeDSTZones:
    """Europe/Dublin: tzdata marks winter (GMT) as the DST period (negative save). pendulum 2 and
    dateutil both key off the is-DST flag, so the reference mislabels the fall-back hour (it emits
    ``01:00+00:00`` for the instant 00:00Z) and maps rrule wall times to the wrong instant. The
    reference output also depends on how the host's tz files were compiled. flowplane renders true
    offsets with the same rules as every other zone; 9 golden cases differ (KNOWN_DEVIATIONS)."""

    def test_hourly_interval_across_fall_back(self):
        s = parse_schedule(
            {"interval": 3600, "anchor_date": "2018-01-01T00:00:00+00:00", "timezone": "Europe/Dublin"}
        )
        dates = get_dates(s, n=6, start=utc(2024, 10, 26, 22))
        assert isos(dates) == [
            "2024-10-26T23:00:00+01:00",
            "2024-10-27T00:00:00+01:00",
            "2024-10-27T01:00:00+01:00",  # 00:00Z; 01:00Z (01:00+00:00) has the same wall clock: dropped
            "2024-10-27T02:00:00+00:00",
            "2024-10-27T03:00:00+00:00",
            "2024-10-27T04:00:00+00:00",
        ]
        _rendered_offsets_are_true(dates, DUBLIN)

    def test_rrule_daily_0230_on_fall_back_day_is_0230_gmt(self):
        s = RRuleSchedule(rrule="DTSTART:20240101T023000\nRRULE:FREQ=DAILY", timezone="Europe/Dublin")
        dates = get_dates(s, n=3, start=utc(2024, 10, 26))
        assert isos(dates) == [
            "2024-10-26T02:30:00+01:00",
            "2024-10-27T02:30:00+00:00",
            "2024-10-28T02:30:00+00:00",
        ]
        _rendered_offsets_are_true(dates, DUBLIN)

    def test_cron_matches_the_reference_there(self):
        s = CronSchedule(cron="0 * * * *", timezone="Europe/Dublin")
        assert isos(get_dates(s, n=4, start=utc(2024, 10, 26, 22, 30))) == [
            "2024-10-27T00:00:00+01:00",
            "2024-10-27T01:00:00+00:00",
            "2024-10-27T02:00:00+00:00",
            "2024-10-27T03:00:00+00:00",
        ]


class TestBeyond2037:
    """dateutil's tz ignores the TZif footer rule, so the reference's rrules after the last
    transition stored in the host's zone file (2037 with "fat" files, 2007 with "slim" ones) use
    standard time all year: a 09:00 rule fires at 10:00 EDT in July 2040. flowplane keeps DST."""

    def test_rrule_summer_2040_keeps_local_time(self):
        s = RRuleSchedule(rrule="DTSTART:20400101T090000\nRRULE:FREQ=DAILY", timezone="America/New_York")
        assert isos(get_dates(s, n=1, start=utc(2040, 7, 1))) == ["2040-07-01T09:00:00-04:00"]

    def test_cron_and_interval_summer_2040(self):
        cron = CronSchedule(cron="0 9 * * *", timezone="America/New_York")
        assert isos(get_dates(cron, n=1, start=utc(2040, 7, 1))) == ["2040-07-01T09:00:00-04:00"]
        interval = IntervalSchedule(
            interval=dt.timedelta(days=1),
            anchor_date="2040-06-01T09:00:00-04:00",
            timezone="America/New_York",
        )
        assert isos(get_dates(interval, n=1, start=utc(2040, 7, 1))) == ["2040-07-01T09:00:00-04:00"]
