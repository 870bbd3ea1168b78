"""Materialising scheduled runs (spec §5.4, §5.6, §5.7), shared by POST …/schedule and the scheduler.

Every generated run has a deterministic id derived from (flow_id, idempotency_key), so an insert
is a conditional put that can only ever create — two ticks and a ``POST …/schedule`` racing on one
deployment cannot duplicate a run, and a run that already moved on (RUNNING, CANCELLED, deleted
state…) keeps its key and is never overwritten.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from domain import ids
from domain.context import Ctx
from domain.errors import ConditionFailed
from domain.ports import Cond
from domain.services import flow_runs
from domain.services.deployments import ordered_schedules
from domain.states import apply_state
from domain.timeutil import iso, iso_utc


@dataclass
class Window:
    start: dt.datetime
    end: dt.datetime
    min_time: dt.timedelta
    min_runs: int
    max_runs: int


def default_window(ctx: Ctx, *, start=None, end=None, min_time=None, min_runs=None, max_runs=None) -> Window:
    s = ctx.settings
    start = start or ctx.now()
    return Window(
        start=start,
        end=end or start + s.scheduler_max_scheduled_time,
        min_time=min_time if min_time is not None else s.scheduler_min_scheduled_time,
        min_runs=min_runs if min_runs is not None else s.scheduler_min_runs,
        max_runs=max_runs if max_runs is not None else s.scheduler_max_runs,
    )


def planned_dates(deployment: dict, window: Window) -> list[dt.datetime]:
    from domain.schedules import parse_schedule, plan_dates

    active = [parse_schedule(row["schedule"]) for row in ordered_schedules(deployment) if row.get("active")]
    if not active:
        return []
    return plan_dates(active, start=window.start, end=window.end, min_time=window.min_time,
                      min_runs=window.min_runs, max_runs=window.max_runs)


def build_runs(deployment: dict, dates: list[dt.datetime], now: dt.datetime, *, auto_scheduled: bool = True) -> list[dict]:
    from domain.schedules import idempotency_key

    queue = None
    if deployment.get("work_queue_id"):
        queue = {"id": deployment["work_queue_id"], "name": deployment.get("_wq_name"),
                 "work_pool_id": deployment.get("_wp_id"), "_pool_name": deployment.get("_wp_name")}
    runs, seen = [], set()
    for date in dates:
        key = idempotency_key(deployment["id"], date)
        if key in seen:
            continue
        seen.add(key)
        run = flow_runs.new_run(
            run_id=ids.flow_run_id(deployment["flow_id"], key), now=now, flow_id=deployment["flow_id"],
            deployment=deployment, parameters=deployment.get("parameters") or {},
            tags=(["auto-scheduled"] if auto_scheduled else []) + list(deployment.get("tags") or []),
            idempotency_key=key, infrastructure_document_id=deployment.get("infrastructure_document_id"),
            work_queue=queue, work_queue_name=deployment.get("work_queue_name"), auto_scheduled=auto_scheduled,
        )
        state = flow_runs.scheduled_state(run, iso(date), now, message="Flow run scheduled")
        apply_state(run, state, now)
        state["state_details"]["flow_run_id"] = None  # the reference writes the state row directly
        run["state"] = state
        runs.append(run)
    return runs


def insert_runs(ctx: Ctx, runs: list[dict]) -> list[str]:
    """Insert idempotently; returns the ids actually created."""
    created = []
    for run in runs:
        try:
            ctx.stores.flow_runs.put(run, cond=Cond.absent())
        except ConditionFailed:
            continue
        created.append(run["id"])
    return created


def schedule_runs(ctx: Ctx, deployment: dict, window: Window) -> list[str]:
    now = ctx.now()
    return insert_runs(ctx, build_runs(deployment, planned_dates(deployment, window), now))


def schedule_deployment(ctx: Ctx, dep_id: str, window: Window) -> list[str]:
    """POST /deployments/{id}/schedule: unknown id is not an error; paused is not checked."""
    doc = ctx.stores.deployments.get(dep_id)
    if doc is None:
        return []
    return schedule_runs(ctx, doc, window)


def _unused(now: dt.datetime) -> str:  # pragma: no cover - keeps iso_utc imported for callers
    return iso_utc(now)
