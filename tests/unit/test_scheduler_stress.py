"""Stress on in-memory stores (atomic conditions like DynamoDB's): ticks, the fast path and
``POST …/schedule`` loop in threads while deployments are PATCHed (parameters, schedules), paused
and resumed. Afterwards
no slot is duplicated, no run that moved on was touched, and every SCHEDULED auto run matches the
deployment's final version — the stale-run guard closed every window."""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from collections import Counter

from domain.services import deployments, flow_runs, flows, scheduler, scheduling
from domain.services.deployment_models import DeploymentCreate, DeploymentUpdate
from domain.states import StateCreate

UTC = dt.timezone.utc
NOW = dt.datetime(2024, 3, 5, 10, 17, 23, 500000, tzinfo=UTC)
SCHEDULES = [
    {"interval": 3600, "anchor_date": "2020-01-01T00:00:00+00:00"},
    {"interval": 300, "anchor_date": "2020-01-01T00:02:00+00:00"},
    {"cron": "0 9 * * *", "timezone": "America/New_York"},
    {"interval": 7200, "anchor_date": "2020-01-01T00:30:00+00:00"},
]


def test_writers_and_materialisers_racing_leave_exactly_the_final_versions_runs(memory_ctx, clock):
    ctx = memory_ctx
    clock.freeze(NOW)
    flow, _ = flows.create(ctx, flows.FlowCreate(name="f"))
    dep_ids = []
    for i in range(8):
        wire, _ = deployments.create(ctx, DeploymentCreate.model_validate({
            "name": f"d{i}", "flow_id": flow["id"], "parameters": {"v": 0},
            "schedules": [{"schedule": SCHEDULES[i % len(SCHEDULES)]}]}))
        dep_ids.append(wire["id"])
    scheduler.tick(ctx)
    moved = {}
    for dep_id in dep_ids[:4]:  # one run per deployment moves on before the storm
        run = min((r for r in ctx.stores.flow_runs.dump() if r["deployment_id"] == dep_id),
                  key=lambda r: r["next_scheduled_start_time"])
        flow_runs.set_state(ctx, run["id"], flow_runs.SetStateBody(state=StateCreate(type="RUNNING"), force=True))
        moved[run["id"]] = ctx.stores.flow_runs.get(run["id"])

    stop = threading.Event()
    errors: list[BaseException] = []
    version = Counter()

    def loop(fn):
        def run():
            rnd = random.Random(threading.get_ident())
            try:
                while not stop.is_set():
                    fn(rnd)
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
                stop.set()
        return run

    def ticker(rnd):
        scheduler.tick(ctx, workers=rnd.choice([1, 4]))

    def fast_path(rnd):
        scheduler.process_deployments(ctx, rnd.sample(dep_ids, 3), workers=2)

    def post_schedule(rnd):
        scheduling.schedule_deployment(ctx, rnd.choice(dep_ids), scheduling.default_window(ctx))

    lock = threading.Lock()

    def patcher(rnd):
        dep_id = rnd.choice(dep_ids)
        with lock:
            version[dep_id] += 1
            v = version[dep_id]
        deployments.update(ctx, dep_id, DeploymentUpdate.model_validate({"parameters": {"v": v}}))

    def rescheduler(rnd):
        deployments.update(ctx, rnd.choice(dep_ids), DeploymentUpdate.model_validate(
            {"schedules": [{"schedule": rnd.choice(SCHEDULES)}]}))
        time.sleep(0.002)

    def pauser(rnd):
        dep_id = rnd.choice(dep_ids)
        deployments.set_paused(ctx, dep_id, True)
        time.sleep(0.001)
        deployments.set_paused(ctx, dep_id, False)

    threads = [threading.Thread(target=loop(fn)) for fn in
               (ticker, ticker, ticker, fast_path, post_schedule, post_schedule, patcher, pauser, rescheduler)]
    for t in threads:
        t.start()
    time.sleep(3.0)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sum(version.values()) > 10  # the storm did write

    clock.advance(seconds=scheduler.SETTLE.total_seconds() + 1)
    scheduler.tick(ctx)  # quiesced and settled: whatever a write left short is refilled
    runs = ctx.stores.flow_runs.dump()
    pairs = Counter((r["flow_id"], r["idempotency_key"]) for r in runs)
    assert [p for p, n in pairs.items() if n > 1] == []
    for run_id, before in moved.items():
        assert ctx.stores.flow_runs.get(run_id) == before
    for dep_id in dep_ids:
        doc = ctx.stores.deployments.get(dep_id)
        assert doc["paused"] is False
        auto = [r for r in runs if r["deployment_id"] == dep_id and r["auto_scheduled"]
                and r["state_type"] == "SCHEDULED"]
        assert auto, dep_id
        assert {r["parameters"]["v"] for r in auto} == {doc["parameters"]["v"]}
        expected = {r["id"] for r in scheduling.build_runs(
            doc, scheduling.planned_dates(doc, scheduling.default_window(ctx)), clock())}
        assert {r["id"] for r in auto} <= expected  # nothing left from an old version or schedule
        assert expected - {r["id"] for r in auto} <= set(moved)  # no holes
