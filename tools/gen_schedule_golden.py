"""Generate tests/fixtures/schedule_golden.json from the reference implementation.

Runs ONLY inside a reference virtualenv (not part of the test suite):

    python3 -m venv /work/prefect-ref
    /work/prefect-ref/bin/pip install prefect==2.20.26      # Python 3.11 -> pendulum 2.1.2
    /work/prefect-ref/bin/python tools/gen_schedule_golden.py [output.json]

Every case records its inputs (the schedule as a client would send it, start/end as ISO strings,
``n``) and what the reference returned: ``get_dates`` (sorted, ISO strings), for plans the
``_generate_scheduled_flow_runs`` loop (generation order) and the idempotency keys, for validation
cases the reference's wire form or error messages. Dates are rendered with the stdlib isoformat
(offset with a colon, microseconds only when non-zero), asserted equal to pendulum's ``str()``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
import uuid
from importlib.metadata import version
from pathlib import Path
from zoneinfo import ZoneInfo

import pendulum
import pydantic.v1 as pv1
from prefect.server.schemas import schedules as ref

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "schedule_golden.json"

UTC = dt.timezone.utc
DEPLOYMENT_ID = "9268f078-3166-4ec5-859f-794da145eaf2"


def iso(d: dt.datetime) -> str:
    text = dt.datetime.isoformat(d)
    assert str(d) == text, (str(d), text)
    return text


LONG = 40


def digest(isos: list[str]) -> str:
    """sha256 of the ISO strings joined by newlines (tests recompute it from their own output)."""
    return hashlib.sha256("\n".join(isos).encode()).hexdigest()


def parse_ref(obj: dict):
    return pv1.parse_obj_as(ref.SCHEDULE_TYPES, obj)


def instant(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def fmt(d: dt.datetime) -> str:
    """An ISO input string (stdlib) for an aware datetime."""
    return d.isoformat()


CASES: list[dict] = []
PLANS: list[dict] = []
VALIDATION: list[dict] = []
_ids: set[str] = set()


def _unique(case_id: str) -> str:
    base, i = case_id, 2
    while case_id in _ids:
        case_id = f"{base}#{i}"
        i += 1
    _ids.add(case_id)
    return case_id


def dates(case_id: str, schedule: dict, start: str, n: int | None = None, end: str | None = None) -> None:
    s = parse_ref(schedule)
    case = {"id": _unique(case_id), "schedule": schedule, "start": start, "n": n, "end": end}
    try:
        got = [iso(d) for d in sorted(s._get_dates_generator(n=n, start=instant(start), end=instant(end)))]
        if len(got) <= LONG:
            case["expected"] = got
        else:  # long lists: exact, but stored as count + ends + digest
            case["expected_count"] = len(got)
            case["expected_head"] = got[:3]
            case["expected_tail"] = got[-3:]
            case["expected_sha256"] = digest(got)
    except Exception as exc:  # the reference fails for this input; recorded, the test decides
        case["error"] = f"{type(exc).__name__}: {exc}"
    CASES.append(case)


def plan(
    case_id: str,
    schedules: list[dict],
    start: str,
    end: str | None = None,
    min_time: float = 3600.0,
    min_runs: int = 3,
    max_runs: int = 100,
) -> None:
    """The reference's _generate_scheduled_flow_runs date loop (spec §5.4 step 2) and its keys."""
    start_time = pendulum.instance(instant(start))
    end_time = pendulum.instance(instant(end)) if end else start_time + dt.timedelta(days=100)
    out = []
    for obj in schedules:
        taken = []
        for d in parse_ref(obj)._get_dates_generator(n=max_runs, start=start_time, end=end_time):
            taken.append(d)
            if len(taken) >= min_runs and d >= (start_time + dt.timedelta(seconds=min_time)):
                break
        out.extend(taken)
    PLANS.append(
        {
            "id": _unique(case_id),
            "schedules": schedules,
            "start": start,
            "end": iso(end_time) if end is None else end,
            "min_time": min_time,
            "min_runs": min_runs,
            "max_runs": max_runs,
            "deployment_id": DEPLOYMENT_ID,
            "expected": [iso(d) for d in out],
            "keys": [f"scheduled {DEPLOYMENT_ID} {d}" for d in out],
        }
    )


def validate(case_id: str, obj: dict, kind: str = "union") -> None:
    model = {
        "union": None,
        "interval": ref.IntervalSchedule,
        "cron": ref.CronSchedule,
        "rrule": ref.RRuleSchedule,
    }[kind]
    case = {"id": _unique(case_id), "kind": kind, "input": obj}
    try:
        s = parse_ref(obj) if model is None else model.parse_obj(obj)
        wire = json.loads(s.json())
        if "anchor_date" not in obj or obj.get("anchor_date") is None:
            wire["anchor_date"] = "<now>" if "anchor_date" in wire else None
            if wire["anchor_date"] is None:
                del wire["anchor_date"]
        case.update(ok=True, type=type(s).__name__, wire=wire)
    except pv1.ValidationError as exc:
        case.update(ok=False, errors=[{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()])
    VALIDATION.append(case)


# --------------------------------------------------------------------------------------------
# helpers to find DST transitions


def transitions(zone: str, years) -> list[dt.datetime]:
    """UTC instants (on the hour/half hour) at which the zone's offset changes."""
    tz = ZoneInfo(zone)
    found = []
    for year in years:
        t = dt.datetime(year, 1, 1, tzinfo=UTC)
        stop = dt.datetime(year + 1, 1, 1, tzinfo=UTC)
        prev = t.astimezone(tz).utcoffset()
        while t < stop:
            nxt = t + dt.timedelta(minutes=30)
            off = nxt.astimezone(tz).utcoffset()
            if off != prev:
                found.append(nxt)
                prev = off
            t = nxt
    return found


def local_offset_str(zone: str, when: dt.datetime) -> str:
    return when.astimezone(ZoneInfo(zone)).isoformat()[-6:]


# --------------------------------------------------------------------------------------------
# the cases


def spec_examples() -> None:
    """Spec §5.5 and §8 items 211-232, literally."""
    daily_2021 = {"interval": 86400, "anchor_date": "2021-01-01T00:00:00+00:00"}
    for s in ("2018-01-01", "2021-02-02", "2025-03-03"):
        dates(f"spec215 daily n=5 from {s}", daily_2021, f"{s}T00:00:00+00:00", n=5)
    for days in (0, 1, 10, 100, 1000, 1500):
        end = dt.datetime(2018, 1, 1, tzinfo=UTC) + dt.timedelta(days=days)
        if days <= 100:
            dates(f"spec215 end +{days}d", daily_2021, "2018-01-01T00:00:00+00:00", end=fmt(end))
    dates(
        "spec215 end +1000d (cap)", daily_2021, "2018-01-01T00:00:00+00:00", end="2020-09-27T00:00:00+00:00"
    )
    dates("spec216 default n=1", daily_2021, "2018-01-01T06:00:00+00:00")
    dates(
        "spec217 daily NY anchored at start",
        {"interval": 86400, "anchor_date": "2018-01-01T00:00:00-05:00", "timezone": "America/New_York"},
        "2018-01-01T00:00:00-05:00",
        n=5,
    )
    for n in (1, 2, 5):
        dates(f"spec218 n={n}", daily_2021, "2021-01-01T00:00:00+00:00", n=n)
    dates(
        "spec219 23:35 daily",
        {"interval": 86400, "anchor_date": "2020-02-02T23:35:00+00:00"},
        "2021-07-01T00:00:00+00:00",
        n=5,
    )
    dates(
        "spec219 17h future anchor",
        {"interval": 17 * 3600, "anchor_date": "2030-02-02T05:24:00+00:00"},
        "2021-07-01T00:00:00+00:00",
        n=5,
    )
    dates(
        "spec220 naive anchor/start/end",
        {"interval": 86400, "anchor_date": "2022-01-01T00:00:00"},
        "2022-01-01T00:00:00",
        end="2022-01-03T00:00:00",
    )
    # 223 interval DST
    dates(
        "spec223 75s US/Pacific far past anchor",
        {"interval": 75, "anchor_date": "1960-03-04T05:06:07-08:00", "timezone": "US/Pacific"},
        "2024-06-07T08:09:10.111213+00:00",
        n=5,
    )
    hourly = {"interval": 3600, "anchor_date": "2018-01-01T00:00:00+00:00"}
    hourly_ny = dict(hourly, timezone="America/New_York")
    dates("spec223 hourly spring UTC tz", hourly, "2018-03-11T04:00:00+00:00", n=5)
    dates("spec223 hourly spring NY tz", hourly_ny, "2018-03-11T04:00:00+00:00", n=5)
    dates("spec223 hourly fall NY tz", hourly_ny, "2018-11-04T03:00:00+00:00", n=5)
    daily9 = {"interval": 86400, "anchor_date": "2018-03-08T09:00:00-05:00", "timezone": "America/New_York"}
    dates("spec223 daily 9am NY spring", daily9, "2018-03-08T14:00:00+00:00", n=5)
    daily9f = {"interval": 86400, "anchor_date": "2018-11-01T09:00:00-04:00", "timezone": "America/New_York"}
    dates("spec223 daily 9am NY fall", daily9f, "2018-11-01T13:00:00+00:00", n=5)
    dates(
        "spec-quirk Q11 daily 09:00 EST anchor evaluated in July",
        {"interval": 86400, "anchor_date": "2024-01-15T09:00:00-05:00", "timezone": "America/New_York"},
        "2024-07-01T00:00:00+00:00",
        n=5,
    )
    dates(
        "spec interval 02:30 on spring-forward day",
        {"interval": 86400, "anchor_date": "2024-03-08T02:30:00-05:00", "timezone": "America/New_York"},
        "2024-03-08T00:00:00+00:00",
        n=6,
    )
    # 224 cron DST
    cron_h = {"cron": "0 * * * *", "timezone": "America/New_York"}
    dates("spec224 cron hourly spring", cron_h, "2018-03-11T04:00:00+00:00", n=5)
    dates("spec224 cron hourly fall", cron_h, "2018-11-04T03:00:00+00:00", n=5)
    cron9 = {"cron": "0 9 * * *", "timezone": "America/New_York"}
    dates("spec224 cron 9am spring", cron9, "2018-03-08T14:00:00+00:00", n=5)
    dates("spec224 cron 9am fall", cron9, "2018-11-01T13:00:00+00:00", n=5)
    dates(
        "spec224 montreal regression",
        {"cron": "10 0 * * *", "timezone": "America/Montreal"},
        "2023-03-12T05:10:02+00:00",
        n=5,
    )
    dates(
        "spec cron 30 2 spring",
        {"cron": "30 2 * * *", "timezone": "America/New_York"},
        "2024-03-08T00:00:00+00:00",
        n=5,
    )
    dates(
        "spec cron 30 1 fall",
        {"cron": "30 1 * * *", "timezone": "America/New_York"},
        "2024-11-01T00:00:00+00:00",
        n=5,
    )
    # 222 cron UTC
    for c in ("0 0 * * *", "0 * * * *"):
        dates(f"spec222 {c} n=5", {"cron": c}, "2021-01-01T00:00:00+00:00", n=5)
        dates(f"spec222 {c} n=10", {"cron": c}, "2021-01-01T00:00:00+00:00", n=10)
        dates(f"spec222 {c} 2025", {"cron": c}, "2025-05-05T00:00:00+00:00", n=5)
    dates(
        "spec222 hourly NY tz",
        {"cron": "0 * * * *", "timezone": "America/New_York"},
        "2021-01-01T00:00:00+00:00",
        n=5,
    )
    dates("spec222 NY start no tz", {"cron": "0 * * * *"}, "2021-01-01T00:00:00-05:00", n=5)
    for days in (0, 1, 10, 100):
        end = dt.datetime(2018, 1, 1, tzinfo=UTC) + dt.timedelta(days=days)
        dates(f"spec222 end +{days}d", {"cron": "0 0 * * *"}, "2018-01-01T00:00:00+00:00", end=fmt(end))
    dates("spec222 default n=1", {"cron": "0 0 * * *"}, "2018-01-01T06:00:00+00:00")
    dates("spec day_or false", {"cron": "0 0 1 * 5", "day_or": False}, "2024-01-01T00:00:00+00:00", n=3)
    dates("spec day_or true", {"cron": "0 0 1 * 5", "day_or": True}, "2024-01-01T00:00:00+00:00", n=3)
    # 225 rrule DST
    rr_h = {"rrule": "DTSTART:20180311T000000\nRRULE:FREQ=HOURLY", "timezone": "America/New_York"}
    dates(
        "spec225 rrule hourly UTC tz",
        {"rrule": "DTSTART:20180311T040000\nRRULE:FREQ=HOURLY"},
        "2018-03-11T04:00:00+00:00",
        n=5,
    )
    dates("spec225 rrule hourly spring NY", rr_h, "2018-03-10T23:00:00-05:00", n=5)
    dates(
        "spec225 rrule hourly fall NY",
        {"rrule": "DTSTART:20181103T230000\nRRULE:FREQ=HOURLY", "timezone": "America/New_York"},
        "2018-11-03T23:00:00-04:00",
        n=5,
    )
    dates(
        "spec225 rrule daily 9am NY spring",
        {"rrule": "DTSTART:20180308T090000\nRRULE:FREQ=DAILY", "timezone": "America/New_York"},
        "2018-03-08T14:00:00+00:00",
        n=5,
    )
    dates(
        "spec225 rrule daily 9am NY fall",
        {"rrule": "DTSTART:20181101T090000\nRRULE:FREQ=DAILY", "timezone": "America/New_York"},
        "2018-11-01T13:00:00+00:00",
        n=5,
    )
    dates(
        "spec225 rrule daily 9am UTC across NY spring",
        {"rrule": "DTSTART:20180308T090000\nRRULE:FREQ=DAILY"},
        "2018-03-08T09:00:00+00:00",
        n=5,
    )
    # 227/228
    dates(
        "spec227 rrule NY midnights",
        {"rrule": "DTSTART:20210101T000000\nFREQ=DAILY", "timezone": "America/New_York"},
        "2024-02-02T12:00:00+00:00",
        n=5,
    )
    dates(
        "spec228 daily dtstart S",
        {"rrule": "DTSTART:20230405T060708\nRRULE:FREQ=DAILY"},
        "2023-04-05T06:07:08+00:00",
        n=5,
    )
    dates(
        "spec228 end S+2d-1h",
        {"rrule": "DTSTART:20230405T060708\nRRULE:FREQ=DAILY"},
        "2023-04-05T06:07:08+00:00",
        end="2023-04-07T05:07:08+00:00",
    )
    dates(
        "spec228 future dtstart",
        {"rrule": "DTSTART:20300101T000000\nRRULE:FREQ=DAILY"},
        "2024-01-01T00:00:00+00:00",
        n=5,
    )
    # 230 ruleset
    rs = "DTSTART:19970902T090000\nRRULE:FREQ=YEARLY;COUNT=2;BYDAY=TU\nRRULE:FREQ=YEARLY;COUNT=1;BYDAY=TH"
    dates("spec230 ruleset from 1900", {"rrule": rs}, "1900-01-01T00:00:00+00:00", n=10)
    dates("spec230 ruleset from 2000", {"rrule": rs}, "2000-01-01T00:00:00+00:00", n=10)
    dates(
        "spec230 ruleset NY", {"rrule": rs, "timezone": "America/New_York"}, "1900-01-01T00:00:00+00:00", n=10
    )
    # 231 canonical strings (no DTSTART -> 2020-01-01)
    canon = [
        "RRULE:FREQ=YEARLY;INTERVAL=3;BYMONTH=10;BYMONTHDAY=2,3,4,5,6,7,8;BYDAY=TU",
        "RRULE:FREQ=MINUTELY",
        "RRULE:FREQ=MONTHLY;INTERVAL=2;BYSETPOS=-1;BYDAY=MO,TU,WE,TH,FR",
        "RRULE:FREQ=DAILY;COUNT=8;BYDAY=MO,TU,WE,TH,FR",
        "RRULE:FREQ=WEEKLY;INTERVAL=3;BYDAY=SU;UNTIL=20210923T000000",
        "RRULE:FREQ=WEEKLY;BYHOUR=9;BYMINUTE=13;BYSECOND=54",
        "RRULE:FREQ=YEARLY;BYWEEKNO=7,16;BYDAY=WE",
    ]
    for text in canon:
        dates(f"spec231 {text}", {"rrule": text}, "2020-01-01T00:00:00+00:00", n=3)
    # 232
    weekly_fr = {"rrule": "FREQ=WEEKLY;INTERVAL=1;BYDAY=FR"}
    dates("spec232 weekly FR", weekly_fr, "2023-06-08T00:00:00+00:00", end="2023-06-29T00:00:00+00:00")
    dates("spec232 weekly FR +1s", weekly_fr, "2023-06-08T00:00:01+00:00", end="2023-06-29T00:00:01+00:00")
    dates(
        "spec232 weekly FR 13:00",
        {"rrule": "DTSTART:20230608T130000\nFREQ=WEEKLY;INTERVAL=1;BYDAY=FR"},
        "2023-06-08T00:00:00+00:00",
        end="2023-06-29T00:00:00+00:00",
    )
    dates(
        "spec berlin byhour 9",
        {"rrule": "FREQ=HOURLY;BYHOUR=9", "timezone": "Europe/Berlin"},
        "2024-01-10T00:00:00+00:00",
        n=3,
    )


def dst_windows() -> None:
    """Windows straddling every 2018-2026 DST change in New York and Berlin, and a few other zones."""
    zones = [("America/New_York", range(2018, 2027)), ("Europe/Berlin", range(2018, 2027))]
    zones += [
        ("Australia/Lord_Howe", range(2024, 2026)),
        ("America/Montreal", range(2023, 2025)),
        ("US/Pacific", range(2024, 2026)),
        ("Europe/Dublin", range(2024, 2025)),
    ]
    for zone, years in zones:
        short = zone.split("/")[-1]
        for t in transitions(zone, years):
            year = t.year
            tz = ZoneInfo(zone)
            spring = t.astimezone(tz).utcoffset() > (t - dt.timedelta(hours=3)).astimezone(tz).utcoffset()
            label = f"{short} {t:%Y-%m-%d} {'fwd' if spring else 'back'}"
            jan_off = local_offset_str(zone, dt.datetime(year, 1, 15, tzinfo=UTC))
            day0 = (t - dt.timedelta(days=3)).astimezone(ZoneInfo(zone))
            near_off = day0.isoformat()[-6:]
            d0 = f"{day0:%Y-%m-%d}"
            # alternate the window kind by year and direction: every kind meets both directions
            variant_a = (year + (0 if spring else 1)) % 2 == 0

            def w(sid, schedule, kind, t=t, label=label, variant_a=variant_a):
                """Two kinds of windows; every transition gets one of them per schedule."""
                if kind == "sub-day":
                    if variant_a:
                        dates(
                            f"{label} {sid} window",
                            schedule,
                            fmt(t - dt.timedelta(hours=3)),
                            end=fmt(t + dt.timedelta(hours=4)),
                        )
                    else:
                        dates(
                            f"{label} {sid} n=7 start+1us",
                            schedule,
                            fmt(t - dt.timedelta(hours=2, minutes=30) + dt.timedelta(microseconds=1)),
                            n=7,
                        )
                else:
                    if variant_a:
                        dates(f"{label} {sid} n=6", schedule, fmt(t - dt.timedelta(days=3)), n=6)
                    else:
                        dates(
                            f"{label} {sid} 4-day window",
                            schedule,
                            fmt(t - dt.timedelta(days=2)),
                            end=fmt(t + dt.timedelta(days=2)),
                        )

            w(
                "interval 1h",
                {"interval": 3600, "anchor_date": "2018-01-01T00:00:00+00:00", "timezone": zone},
                "sub-day",
            )
            w(
                "interval 25min",
                {"interval": 1500, "anchor_date": "2018-01-01T00:00:00+00:00", "timezone": zone},
                "sub-day",
            )
            w(
                "interval 17h future anchor",
                {"interval": 61200, "anchor_date": "2030-02-02T05:24:00+00:00", "timezone": zone},
                "daily",
            )
            w(
                "interval 1d jan 09:00",
                {"interval": 86400, "anchor_date": f"{year}-01-01T09:00:00{jan_off}", "timezone": zone},
                "daily",
            )
            w(
                "interval 1d 02:30",
                {"interval": 86400, "anchor_date": f"{d0}T02:30:00{near_off}", "timezone": zone},
                "daily",
            )
            w(
                "interval 1d 01:30",
                {"interval": 86400, "anchor_date": f"{d0}T01:30:00{near_off}", "timezone": zone},
                "daily",
            )
            w(
                "interval 1d2h",
                {"interval": 93600, "anchor_date": f"{d0}T00:30:00{near_off}", "timezone": zone},
                "daily",
            )
            w("cron hourly", {"cron": "0 * * * *", "timezone": zone}, "sub-day")
            w("cron */20", {"cron": "*/20 * * * *", "timezone": zone}, "sub-day")
            w("cron 15,45 1-3", {"cron": "15,45 1-3 * * *", "timezone": zone}, "sub-day")
            w("cron 30 2", {"cron": "30 2 * * *", "timezone": zone}, "daily")
            w("cron 30 1", {"cron": "30 1 * * *", "timezone": zone}, "daily")
            w("cron 0 9", {"cron": "0 9 * * *", "timezone": zone}, "daily")
            w(
                "rrule hourly",
                {"rrule": f"DTSTART:{year}0101T000000\nRRULE:FREQ=HOURLY", "timezone": zone},
                "sub-day",
            )
            w(
                "rrule 25min",
                {"rrule": f"DTSTART:{year}0101T000000\nRRULE:FREQ=MINUTELY;INTERVAL=25", "timezone": zone},
                "sub-day",
            )
            w(
                "rrule daily 02:30",
                {"rrule": f"DTSTART:{year}0101T023000\nRRULE:FREQ=DAILY", "timezone": zone},
                "daily",
            )
            w(
                "rrule daily 01:30",
                {"rrule": f"DTSTART:{year}0101T013000\nRRULE:FREQ=DAILY", "timezone": zone},
                "daily",
            )
            if year >= 2020:
                w("rrule hourly no dtstart", {"rrule": "FREQ=HOURLY", "timezone": zone}, "sub-day")


def boundaries() -> None:
    """Starts exactly on a date, a microsecond after, a microsecond before; n and end limits."""
    daily = {"interval": 86400, "anchor_date": "2021-01-01T00:00:00+00:00"}
    hourly_us = {"interval": 3600, "anchor_date": "2021-01-01T00:00:00.250000+00:00"}
    cron = {"cron": "0 0 * * *"}
    cron_min = {"cron": "* * * * *"}
    rrule = {"rrule": "DTSTART:20210101T000000\nRRULE:FREQ=DAILY"}
    for name, sch in (("interval", daily), ("cron", cron), ("rrule", rrule)):
        for start in (
            "2024-05-05T00:00:00+00:00",
            "2024-05-05T00:00:00.000001+00:00",
            "2024-05-04T23:59:59.999999+00:00",
            "2024-05-04T23:59:59+00:00",
            "2024-05-05T00:00:01+00:00",
            "2024-05-05T02:00:00+02:00",
            "2024-05-05T00:00:00",
        ):
            dates(f"boundary {name} start {start}", sch, start, n=2)
        dates(
            f"boundary {name} end == start == date",
            sch,
            "2024-05-05T00:00:00+00:00",
            end="2024-05-05T00:00:00+00:00",
        )
        dates(
            f"boundary {name} end 1us before date",
            sch,
            "2024-05-04T12:00:00+00:00",
            end="2024-05-04T23:59:59.999999+00:00",
        )
        dates(
            f"boundary {name} end before start",
            sch,
            "2024-05-05T00:00:00+00:00",
            end="2024-05-01T00:00:00+00:00",
        )
        dates(
            f"boundary {name} end exactly on 3rd date",
            sch,
            "2024-05-05T00:00:00+00:00",
            end="2024-05-07T00:00:00+00:00",
        )
        for n in (0, 1, 3):
            dates(f"boundary {name} n={n}", sch, "2024-05-05T00:00:00+00:00", n=n)
        dates(
            f"boundary {name} n=5 end caps at 2",
            sch,
            "2024-05-05T00:00:00+00:00",
            n=5,
            end="2024-05-06T12:00:00+00:00",
        )
        dates(
            f"boundary {name} n=1200 end far",
            sch,
            "2024-05-05T00:00:00+00:00",
            n=1200,
            end="2030-01-01T00:00:00+00:00",
        )
    for start in (
        "2024-05-05T10:00:00.250000+00:00",
        "2024-05-05T10:00:00.250001+00:00",
        "2024-05-05T10:00:00.249999+00:00",
    ):
        dates(f"boundary interval anchor with us start {start}", hourly_us, start, n=3)
    for start in (
        "2024-05-05T10:00:00+00:00",
        "2024-05-05T10:00:00.5+00:00",
        "2024-05-05T10:00:59.999999+00:00",
    ):
        dates(f"boundary cron every minute {start}", cron_min, start, n=3)
    dates("boundary cron seconds field", {"cron": "0 0 * * * 30"}, "2024-05-05T00:00:30+00:00", n=3)
    dates(
        "boundary cron seconds field +1us", {"cron": "0 0 * * * 30"}, "2024-05-05T00:00:30.000001+00:00", n=3
    )
    dates("boundary cron seconds */15", {"cron": "* * * * * */15"}, "2024-05-05T00:00:14.999+00:00", n=5)
    dates("boundary rrule start +1us", rrule, "2024-05-05T00:00:00.000001+00:00", n=2)


def intervals() -> None:
    cases = [
        ("1s", 1, "2024-01-01T00:00:00+00:00"),
        ("75s", 75, "1970-01-01T00:00:00+00:00"),
        ("75s future anchor", 75, "2035-06-07T08:09:10+00:00"),
        ("90m", 5400, "2001-02-03T04:05:06+00:00"),
        ("17h", 61200, "2000-01-01T00:00:00+00:00"),
        ("7d", 604800, "2023-01-02T09:30:00+00:00"),
        ("30d", 2592000, "2024-01-01T00:00:00+00:00"),
        ("1.5s", 1.5, "2024-01-01T00:00:00+00:00"),
        ("0.1s", 0.1, "2024-01-01T00:00:00+00:00"),
        ("PT2H string", "PT2H", "2024-01-01T00:00:00+00:00"),
        ("P1DT2H30M string", "P1DT2H30M", "2024-01-01T00:00:00+00:00"),
        ("1900 anchor hourly", 3600, "1900-01-01T00:00:00+00:00"),
        ("2100 anchor daily", 86400, "2100-12-31T23:59:59+00:00"),
        ("anchor with us", 60, "2024-01-01T00:00:00.123456+00:00"),
    ]
    for zone in ("UTC", "America/New_York", "Asia/Kolkata", "US/Pacific", "Australia/Lord_Howe"):
        for name, interval, anchor in cases:
            sch = {"interval": interval, "anchor_date": anchor, "timezone": zone}
            dates(f"interval {name} {zone}", sch, "2024-06-07T08:09:10.111213+00:00", n=4)
    dates(
        "interval no timezone offset anchor",
        {"interval": 86400, "anchor_date": "2024-01-01T09:00:00-05:00"},
        "2024-07-01T00:00:00+00:00",
        n=3,
    )
    dates(
        "interval NY 1d start before anchor",
        {"interval": 86400, "anchor_date": "2024-11-10T09:00:00-05:00", "timezone": "America/New_York"},
        "2024-10-01T00:00:00+00:00",
        n=5,
    )
    dates(
        "interval NY 1d start far before anchor",
        {"interval": 86400, "anchor_date": "2030-01-10T09:00:00-05:00", "timezone": "America/New_York"},
        "2024-07-01T00:00:00+00:00",
        n=3,
    )
    dates(
        "interval Kolkata daily",
        {"interval": 86400, "anchor_date": "2024-01-01T09:00:00+05:30", "timezone": "Asia/Kolkata"},
        "2024-06-01T00:00:00+00:00",
        n=3,
    )
    dates(
        "interval weekly NY across spring",
        {"interval": 604800, "anchor_date": "2024-02-01T09:00:00-05:00", "timezone": "America/New_York"},
        "2024-02-20T00:00:00+00:00",
        n=6,
    )
    dates(
        "interval 30d Berlin across fall",
        {"interval": 2592000, "anchor_date": "2024-08-01T12:00:00+02:00", "timezone": "Europe/Berlin"},
        "2024-09-01T00:00:00+00:00",
        n=4,
    )


def crons() -> None:
    exprs = [
        "@hourly",
        "@daily",
        "@midnight",
        "@weekly",
        "@monthly",
        "@yearly",
        "@annually",
        "*/15 * * * *",
        "0 9-17/2 * * 1-5",
        "30 8 * * sat-sun",
        "* * * * mon,wed,fri",
        "0 0 L * *",
        "0 0 * * 5#2",
        "0 0 29 2 *",
        "0 0 * JAN-MAR *",
        "0 0 * * 7",
        "0 0 * * 0-7",
        "5 4 * * *",
        "0 12 1W * *",
        "0 0 ? * *",
        "1,2,3 * * * *",
        "0 0 * * fri-mon",
        "0 4-2 * * *",
        "5-1 * * * *",
    ]
    for expr in exprs:
        dates(f"cron {expr} UTC", {"cron": expr}, "2024-01-30T10:11:12+00:00", n=4)
    for expr in ("@daily", "0 9-17/2 * * 1-5", "0 0 L * *", "*/15 * * * *"):
        dates(
            f"cron {expr} NY",
            {"cron": expr, "timezone": "America/New_York"},
            "2024-03-09T10:11:12+00:00",
            n=4,
        )
        dates(
            f"cron {expr} Kolkata",
            {"cron": expr, "timezone": "Asia/Kolkata"},
            "2024-03-09T10:11:12+00:00",
            n=4,
        )
        dates(
            f"cron {expr} Lord_Howe",
            {"cron": expr, "timezone": "Australia/Lord_Howe"},
            "2024-10-05T10:11:12+00:00",
            n=4,
        )
    for expr, day_or in (
        ("0 0 13 * 5", False),
        ("0 0 13 * 5", True),
        ("0 0 1-7 * 1", False),
        ("30 6 * * mon", False),
    ):
        dates(
            f"cron day_or={day_or} {expr}", {"cron": expr, "day_or": day_or}, "2024-01-01T00:00:00+00:00", n=4
        )
    dates("cron never matches", {"cron": "0 0 31 2 *"}, "2024-01-01T00:00:00+00:00", n=2)
    dates("cron empty timezone", {"cron": "0 * * * *", "timezone": ""}, "2024-01-01T00:30:00+00:00", n=2)
    dates(
        "cron end window 1000 cap",
        {"cron": "* * * * *"},
        "2024-01-01T00:00:00+00:00",
        end="2024-01-02T00:00:00+00:00",
    )


def rrules() -> None:
    texts = [
        "FREQ=DAILY",
        "RRULE:FREQ=DAILY;COUNT=3",
        "DTSTART:20240101T090000\nRRULE:FREQ=DAILY;COUNT=200",
        "DTSTART:20240101T090000\nRRULE:FREQ=DAILY;UNTIL=20240205T090000",
        "DTSTART:20240101T090000Z\nRRULE:FREQ=DAILY;UNTIL=20240205T090000Z",
        "DTSTART;TZID=America/New_York:20240101T090000\nRRULE:FREQ=DAILY",
        "DTSTART:20240101T090000\nRRULE:FREQ=DAILY\nEXDATE:20240202T090000,20240204T090000",
        "DTSTART:20240101T090000\nRRULE:FREQ=WEEKLY;BYDAY=MO,WE\nRDATE:20240203T120000",
        "DTSTART:20240101T090000\nRRULE:FREQ=DAILY\nEXRULE:FREQ=WEEKLY;BYDAY=SA,SU",
        "DTSTART:20240101T090000\nRRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
        "DTSTART:20240101T090000\nRRULE:FREQ=MONTHLY;BYMONTHDAY=31",
        "DTSTART:20240101T000000\nRRULE:FREQ=YEARLY;BYEASTER=0",
        "DTSTART:20240101T083000\nRRULE:FREQ=WEEKLY;INTERVAL=2;WKST=SU;BYDAY=TU,SU",
        "DTSTART:20240101T000000\nRRULE:FREQ=HOURLY;INTERVAL=5",
        "FREQ=HOURLY;INTERVAL=7;BYMINUTE=10,40",
        "FREQ=MINUTELY;INTERVAL=7",
        "FREQ=MINUTELY;INTERVAL=45;BYHOUR=8,9,10",
        "DTSTART:20240201T000000\nRRULE:FREQ=SECONDLY;INTERVAL=13",
        "FREQ=DAILY;BYHOUR=6,18;BYMINUTE=0",
        "FREQ=WEEKLY;INTERVAL=3;BYDAY=FR",
        "DTSTART:20240101T090000\nRRULE:FREQ=HOURLY;BYHOUR=9,10;COUNT=40",
        "RDATE:20240201T100000,20240215T100000,20240301T100000",
        "DTSTART:20240101T090000\nRRULE:FREQ=DAILY;BYSETPOS=1;BYHOUR=9,21",
        "DTSTART:20240101T090000\nRRULE:FREQ=DAILY\nRRULE:FREQ=DAILY;BYHOUR=21",
        "FREQ=YEARLY;BYYEARDAY=1,100,-1",
        "FREQ=MONTHLY;BYDAY=+1MO,-1FR",
    ]
    for zone in ("UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata"):
        for text in texts:
            dates(
                f"rrule {text!r} {zone}",
                {"rrule": text, "timezone": zone},
                "2024-02-02T03:04:05.678900+00:00",
                n=4,
            )
    # late starts for no-DTSTART fine-grained rules (exercise fast-forwarding)
    for text in (
        "FREQ=HOURLY",
        "FREQ=HOURLY;INTERVAL=5",
        "FREQ=MINUTELY;INTERVAL=7",
        "FREQ=WEEKLY;INTERVAL=3;BYDAY=FR,SA",
        "FREQ=DAILY;INTERVAL=9",
    ):
        for start in ("2026-11-24T19:07:00+00:00", "2025-03-30T00:30:00+00:00", "2024-11-03T05:45:00+00:00"):
            for zone in ("UTC", "America/New_York", "Europe/Berlin"):
                dates(f"rrule late {text} {zone} {start}", {"rrule": text, "timezone": zone}, start, n=5)
    dates(
        "rrule window 1000 cap",
        {"rrule": "FREQ=MINUTELY"},
        "2020-01-01T00:00:00+00:00",
        end="2020-01-03T00:00:00+00:00",
    )
    dates(
        "rrule everything before start",
        {"rrule": "RRULE:FREQ=DAILY;COUNT=3"},
        "2024-01-01T00:00:00+00:00",
        n=3,
    )


def plans() -> None:
    daily = [{"interval": 86400, "anchor_date": "2020-01-01T00:00:00+00:00"}]
    now = "2024-05-05T10:11:12.131415+00:00"
    n = dt.datetime.fromisoformat(now)

    def at(days):
        return fmt(n + dt.timedelta(days=days))

    plan("plan defaults", daily, now)
    plan("plan min_runs 5", daily, now, min_runs=5)
    plan("plan end +17d min_runs 100", daily, now, end=at(17), min_runs=100)
    plan("plan end +17d", daily, now, end=at(17))
    plan("plan min_time 17d", daily, now, min_time=17 * 86400.0)
    plan("plan start +100d end +110d", daily, at(100), end=at(110), min_runs=100)
    plan("plan start +100d end +150d max 3", daily, at(100), end=at(150), max_runs=3)
    plan("plan backfill", daily, at(-1000), end=at(-990), min_runs=100)
    plan("plan backfill 20d", daily, at(-20), end=now, min_runs=100)
    plan("plan max_runs 0", daily, now, max_runs=0)
    plan("plan min_runs 0 min_time 0", daily, now, min_runs=0, min_time=0.0)
    soon = fmt(n + dt.timedelta(seconds=1))
    for secs in (60, 3600, 300, 60 * 86400):
        plan(f"plan waterfall {secs}s", [{"interval": secs, "anchor_date": soon}], now)
    plan(
        "plan two schedules same instants different offsets",
        [
            {"cron": "0 * * * *"},
            {"interval": 3600, "anchor_date": "2024-01-01T00:00:00+00:00", "timezone": "America/New_York"},
        ],
        now,
    )
    plan(
        "plan three schedules",
        [
            {"interval": 3600, "anchor_date": "2024-01-01T00:00:00+00:00"},
            {"interval": 7200, "anchor_date": "2024-01-01T00:00:00+00:00"},
            {"rrule": "FREQ=HOURLY;INTERVAL=3", "timezone": "Europe/Berlin"},
        ],
        now,
    )
    plan(
        "plan NY hourly across fall-back",
        [{"interval": 3600, "anchor_date": "2024-01-01T00:00:00+00:00", "timezone": "America/New_York"}],
        "2024-11-03T03:30:00+00:00",
        min_time=5 * 3600.0,
    )
    plan(
        "plan NY cron 20min across fall-back",
        [{"cron": "*/20 * * * *", "timezone": "America/New_York"}],
        "2024-11-03T04:30:00+00:00",
        min_time=3 * 3600.0,
    )
    plan(
        "plan 25min interval fall-back generation order",
        [{"interval": 1500, "anchor_date": "2024-01-01T00:00:00+00:00", "timezone": "America/New_York"}],
        "2024-11-03T04:30:00+00:00",
        min_time=3 * 3600.0,
    )
    plan(
        "plan start with NY offset",
        [{"cron": "0 9 * * *", "timezone": "America/New_York"}],
        "2024-03-08T10:00:00-05:00",
        min_runs=5,
    )


def validation() -> None:
    v = validate
    v("interval minimal", {"interval": 3600})
    v("interval seconds float", {"interval": 1.5, "anchor_date": "2024-01-01T00:00:00+00:00"})
    v("interval iso PT2H", {"interval": "PT2H", "anchor_date": "2024-01-01T00:00:00+00:00"})
    v("interval iso P1DT2H30M", {"interval": "P1DT2H30M", "anchor_date": "2024-01-01T00:00:00+00:00"})
    v("interval iso P1W", {"interval": "P1W", "anchor_date": "2024-01-01T00:00:00+00:00"})
    v("interval hh:mm:ss", {"interval": "01:00:00", "anchor_date": "2024-01-01T00:00:00+00:00"})
    v("interval zero", {"interval": 0}, "interval")
    v("interval negative", {"interval": -60}, "interval")
    v("interval missing", {"anchor_date": "2024-01-01T00:00:00+00:00"}, "interval")
    v("interval bad string", {"interval": "abc"}, "interval")
    v("interval naive anchor", {"interval": 60, "anchor_date": "2024-01-01T00:00:00"})
    v("interval Z anchor", {"interval": 60, "anchor_date": "2024-01-01T00:00:00Z"})
    v("interval offset anchor", {"interval": 60, "anchor_date": "2024-01-01T00:00:00-05:00"})
    v("interval offset anchor with us", {"interval": 60, "anchor_date": "2024-01-01 00:00:00.5+05:30"})
    v("interval date-only anchor", {"interval": 60, "anchor_date": "2024-01-01"})
    v(
        "interval explicit tz",
        {"interval": 60, "anchor_date": "2024-01-01T00:00:00-05:00", "timezone": "America/Los_Angeles"},
    )
    v("interval null tz", {"interval": 60, "anchor_date": "2024-01-01T00:00:00-05:00", "timezone": None})
    v("interval tz EST", {"interval": 60, "anchor_date": "2024-01-01T00:00:00+00:00", "timezone": "EST"})
    v(
        "interval tz US/Eastern",
        {"interval": 60, "anchor_date": "2024-01-01T00:00:00+00:00", "timezone": "US/Eastern"},
    )
    v("interval tz fake", {"interval": 60, "timezone": "fake"}, "interval")
    v("interval tz utc lowercase", {"interval": 60, "timezone": "utc"}, "interval")
    v("interval tz Z", {"interval": 60, "timezone": "Z"}, "interval")
    v("interval extra key", {"interval": 60, "cron": "* * * * *"}, "interval")
    v("interval bad anchor", {"interval": 60, "anchor_date": "not a date"}, "interval")
    v("interval numeric anchor", {"interval": 60, "anchor_date": 1700000000}, "interval")
    for cron in (
        "5 4 * * *",
        "@yearly",
        "@weekly",
        "@daily",
        "@hourly",
        "* * * * MON",
        "30 8 * * sat-sun",
        "* * * * mon,wed,fri",
        "invalid cron",
        "5 4 R * *",
        "5 4 r * *",
        "H * * * *",
        "0 0 * * * 0",
        "0 0 31 2 *",
        "60 * * * *",
        "",
        "@reboot",
        "0 0 * * 5L",
        "0 0 1 1 * * 2020",
    ):
        v(f"cron {cron!r}", {"cron": cron}, "cron")
    v("cron tz", {"cron": "0 0 * * *", "timezone": "America/New_York"})
    v("cron tz null", {"cron": "0 0 * * *", "timezone": None})
    v("cron tz fake", {"cron": "0 0 * * *", "timezone": "fake"}, "cron")
    v("cron both bad", {"cron": "invalid cron", "timezone": "fake"}, "cron")
    v("cron day_or false", {"cron": "0 0 * * *", "day_or": False})
    v("cron missing", {"timezone": "UTC"}, "cron")
    for text in (
        "FREQ=DAILY",
        "DTSTART:20210905T000000\nFREQ=DAILY",
        "bad rrule string",
        "FREQ=DAILYBAD",
        "RRULE:FREQ=DAILY;UNTIL=20240101T000000Z",
        "DTSTART:20240101T000000Z\nRRULE:FREQ=DAILY;UNTIL=20240110T000000",
        "DTSTART:20240101T000000\nRRULE:FREQ=DAILY;COUNT=3;UNTIL=20240110T000000",
        "RRULE:FREQ=DAILY;BYHOUR=25",
        "RDATE:20240101T000000",
        "FREQ=WEEKLY;BYDAY=XX",
    ):
        v(f"rrule {text!r}", {"rrule": text}, "rrule")
    v("rrule too long", {"rrule": "RDATE:" + ",".join(["20200101T000000"] * 500)}, "rrule")
    v("rrule tz", {"rrule": "FREQ=DAILY", "timezone": "America/New_York"})
    v("rrule tz null", {"rrule": "FREQ=DAILY", "timezone": None})
    v("rrule tz fake", {"rrule": "FREQ=DAILY", "timezone": "fake"}, "rrule")
    v("rrule tz Kyiv", {"rrule": "FREQ=DAILY", "timezone": "Europe/Kyiv"}, "rrule")
    v("union mixed keys", {"interval": 60, "cron": "* * * * *", "rrule": "FREQ=DAILY"})
    v("union empty", {})
    v("union cron + interval", {"cron": "* * * * *", "interval": 60})


def dumps(data: dict) -> str:
    """Compact JSON with one case per line (small, and diffs stay readable)."""
    lines = ["{"]
    items = list(data.items())
    for i, (key, value) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        if isinstance(value, list):
            lines.append(f"{json.dumps(key)}: [")
            for j, case in enumerate(value):
                sep = "," if j < len(value) - 1 else ""
                lines.append(json.dumps(case, ensure_ascii=False, separators=(",", ":")) + sep)
            lines.append("]" + comma)
        else:
            lines.append(f"{json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main() -> None:
    out_path = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    spec_examples()
    dst_windows()
    boundaries()
    intervals()
    crons()
    rrules()
    plans()
    validation()
    data = {
        "about": "Generated by tools/gen_schedule_golden.py from the reference implementation; do not edit.",
        "reference": {
            name: version(name)
            for name in ("prefect", "pendulum", "croniter", "python-dateutil", "pytz", "pytzdata")
        },
        "python": sys.version.split()[0],
        "dates": CASES,
        "plans": PLANS,
        "validation": VALIDATION,
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(dumps(data))
    print(f"{len(CASES)} date cases, {len(PLANS)} plans, {len(VALIDATION)} validation cases -> {out_path}")


if __name__ == "__main__":
    uuid.UUID(DEPLOYMENT_ID)
    main()
