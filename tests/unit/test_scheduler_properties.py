"""Properties of materialisation and ticking (hypothesis), on in-memory stores.

* materialising the same window twice adds nothing;
* every generated run is SCHEDULED with expected_start_time == next_scheduled_start_time, its
  state's scheduled_time is the same instant, and its id/key follow the run identity;
* ticks at any cadence never duplicate a slot, and a second tick at the same instant adds nothing.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import ids
from domain.context import Ctx
from domain.ports import Stores
from domain.services import deployments, flows, scheduler, scheduling
from domain.services.deployment_models import DeploymentCreate
from domain.settings import Settings
from domain.timeutil import parse
from infra.memory import MemoryStore

UTC = dt.timezone.utc
ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe"]

instants = st.datetimes(min_value=dt.datetime(2019, 1, 1), max_value=dt.datetime(2031, 12, 31),
                        timezones=st.just(UTC))
intervals = st.builds(
    lambda secs, anchor, tz: {"interval": secs, "anchor_date": anchor.isoformat(), "timezone": tz},
    st.sampled_from([60, 300, 3600, 7200, 17 * 3600, 86400, 3 * 86400, 30 * 86400, 60 * 86400])
    | st.integers(60, 40 * 86400),
    instants, st.sampled_from(ZONES))
crons = st.builds(lambda expr, tz: {"cron": expr, "timezone": tz},
                  st.sampled_from(["0 * * * *", "*/15 * * * *", "30 2 * * *", "0 9 * * 1-5", "0 0 1 * *",
                                   "0 1,2,3 * * *", "45 23 * * 6"]),
                  st.sampled_from(ZONES))
rrules = st.builds(lambda rule, tz: {"rrule": rule, "timezone": tz},
                   st.sampled_from(["FREQ=HOURLY;INTERVAL=5", "FREQ=DAILY;BYHOUR=9,21",
                                    "FREQ=WEEKLY;BYDAY=MO,FR;BYHOUR=2;BYMINUTE=30", "FREQ=MINUTELY;INTERVAL=45"]),
                   st.sampled_from(ZONES))
schedules = intervals | crons | rrules


class Clock:
    def __init__(self, at: dt.datetime):
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


def fresh(now: dt.datetime) -> tuple[Ctx, Clock]:
    clock = Clock(now)
    return Ctx(stores=Stores.build(MemoryStore), settings=Settings(table_prefix="test-"), clock=clock), clock


def deploy(ctx: Ctx, scheds: list[dict], name: str = "D") -> dict:
    flow, _ = flows.create(ctx, flows.FlowCreate(name="f"))
    wire, _ = deployments.create(ctx, DeploymentCreate.model_validate(
        {"name": name, "flow_id": flow["id"], "schedules": [{"schedule": s} for s in scheds]}))
    return wire


def check_runs(ctx: Ctx) -> None:
    runs = ctx.stores.flow_runs.dump()
    keys = [r["idempotency_key"] for r in runs]
    assert len(keys) == len(set(keys))
    for r in runs:
        assert r["state_type"] == "SCHEDULED" and r["state"]["type"] == "SCHEDULED"
        assert r["expected_start_time"] == r["next_scheduled_start_time"] is not None
        assert parse(r["state"]["state_details"]["scheduled_time"]) == parse(r["next_scheduled_start_time"])
        assert r["state"]["state_details"]["flow_run_id"] is None
        assert r["idempotency_key"] == f"scheduled {r['deployment_id']} {r['state']['state_details']['scheduled_time']}"
        assert r["id"] == ids.flow_run_id(r["flow_id"], r["idempotency_key"])
        assert r["tags"][0] == "auto-scheduled"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scheds=st.lists(schedules, min_size=1, max_size=3), now=instants,
       start_offset=st.integers(-200 * 86400, 200 * 86400), span=st.integers(0, 120 * 86400),
       min_runs=st.integers(0, 8), max_runs=st.integers(1, 40), min_time=st.integers(0, 10 * 86400))
def test_materialising_twice_adds_nothing_and_runs_are_well_formed(scheds, now, start_offset, span, min_runs,
                                                                   max_runs, min_time):
    ctx, _ = fresh(now)
    dep = deploy(ctx, scheds)
    start = now + dt.timedelta(seconds=start_offset)
    window = scheduling.default_window(ctx, start=start, end=start + dt.timedelta(seconds=span),
                                       min_runs=min_runs, max_runs=max_runs, min_time=dt.timedelta(seconds=min_time))
    first = scheduling.schedule_deployment(ctx, dep["id"], window)
    assert len(first) == len(ctx.stores.flow_runs.dump()) <= max_runs * len(scheds)
    assert scheduling.schedule_deployment(ctx, dep["id"], window) == []
    check_runs(ctx)
    for r in ctx.stores.flow_runs.dump():
        assert start <= parse(r["next_scheduled_start_time"]) <= window.end


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scheds=st.lists(schedules, min_size=1, max_size=2), now=instants,
       steps=st.lists(st.integers(1, 5 * 86400), min_size=1, max_size=8))
def test_ticks_at_any_cadence_never_duplicate_and_repeat_ticks_add_nothing(scheds, now, steps):
    ctx, clock = fresh(now)
    deploy(ctx, scheds, name="a")
    deploy(ctx, scheds[::-1], name="b")
    for step in [0, *steps]:
        clock.at = clock.at + dt.timedelta(seconds=step)
        scheduler.tick(ctx, workers=1)
        assert scheduler.tick(ctx, workers=1).scheduled == 0
        check_runs(ctx)
        # after a tick, a deployment that still qualifies could not have been given more runs now
        s = ctx.settings
        for d in ctx.stores.deployments.dump():
            future = sorted(parse(r["next_scheduled_start_time"]) for r in ctx.stores.flow_runs.dump()
                            if r["deployment_id"] == d["id"] and parse(r["next_scheduled_start_time"]) >= clock.at)
            if scheduler.needs_runs(future, clock.at, min_runs=s.scheduler_min_runs,
                                    min_time=s.scheduler_min_scheduled_time):
                assert scheduling.schedule_runs(ctx, d, scheduling.default_window(ctx, start=clock.at)) == []
