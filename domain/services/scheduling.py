"""Materialising scheduled runs (spec §5.4, §5.6, §5.7), shared by POST …/schedule and the scheduler.

Every generated run has a deterministic id derived from (flow_id, idempotency_key), so an insert
is a conditional put that can only ever create — two ticks and a ``POST …/schedule`` racing on one
deployment cannot duplicate a run, and a run that already moved on (RUNNING, CANCELLED, deleted
state…) keeps its key and is never overwritten.

Stale runs. A deployment write (upsert, PATCH, pause, schedule sub-routes) first writes the
deployment, *then* deletes its auto-scheduled SCHEDULED runs (§5.3). A materialiser that read the
deployment before that write may insert runs built from the old version *after* the delete, and
since a key is never re-created those stale runs would stay. ``discard_stale`` closes the race:
after inserting, the materialiser checks that the deployment's revision is still the one it built
from (the scheduler does this with the revision-conditioned ``due_at`` write it makes anyway; POST
…/schedule with one GetItem). If the revision moved, it rebuilds the runs from the deployment as
it is now and deletes every run *it* created that the new version would not create identically
(or that a pause made unwanted) — conditionally on the run still being SCHEDULED, so a run that
moved on is never touched. Either the writer's delete comes after our inserts (it removes them), or
our re-check comes after the writer's put (we remove them): no interleaving keeps a stale run.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from domain import ids, run_companions
from domain.context import Ctx
from domain.errors import ConditionFailed
from domain.first_state_ids import first_state_id
from domain.ports import Cond
from domain.services import flow_runs
from domain.services.deployments import ordered_schedules
from domain.states import apply_state
from domain.timeutil import iso

# Run fields that come from the deployment: a run whose fields differ from what the deployment
# would build now is stale. (id follows from flow_id + idempotency_key, the first state's id from the
# id — domain.first_state_ids; name/created vary.)
RUN_FINGERPRINT = (
    "flow_id", "deployment_id", "deployment_version", "work_queue_id", "work_queue_name", "parameters",
    "infrastructure_document_id", "tags", "idempotency_key", "next_scheduled_start_time", "auto_scheduled",
    "_wq_name", "_wp_id", "_wp_name",
)


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


def active_schedules(deployment: dict) -> list[Any]:
    """The deployment's active schedules as schedule objects, most recently updated first."""
    from domain.schedules import parse_schedule

    return [parse_schedule(row["schedule"]) for row in ordered_schedules(deployment) if row.get("active")]


def planned_by_schedule(deployment: dict, window: Window) -> list[tuple[Any, list[dt.datetime]]]:
    """Spec §5.4 step 2, kept per active schedule: [(schedule, its dates)]."""
    from domain.schedules import plan_dates

    return [
        (s, plan_dates([s], start=window.start, end=window.end, min_time=window.min_time,
                       min_runs=window.min_runs, max_runs=window.max_runs))
        for s in active_schedules(deployment)
    ]


def planned_dates(deployment: dict, window: Window) -> list[dt.datetime]:
    return [d for _, dates in planned_by_schedule(deployment, window) for d in dates]


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
        state["id"] = first_state_id(run["id"])  # readable by id before any history item exists
        apply_state(run, state, now)
        state["state_details"]["flow_run_id"] = None  # the reference writes the state row directly
        run["state"] = state
        runs.append(run)
    return runs


def put_absent(ctx: Ctx, run: dict) -> bool:
    try:
        run_companions.put(ctx, "flow_run", None, run, Cond.absent())
    except ConditionFailed:
        return False
    return True


def insert_runs(ctx: Ctx, runs: list[dict], *, batch_size: int | None = None, pool: Any = None) -> list[str]:
    """Insert idempotently (conditional put per run: create only); returns the ids actually created.

    Runs are written in chunks of ``batch_size`` (default: the scheduler's insert batch size); with
    ``pool`` (a ``concurrent.futures`` executor) the puts of a chunk are issued concurrently. A
    non-condition failure (throttling after retries) propagates once its chunk has finished.
    """
    size = max(1, batch_size or ctx.settings.scheduler_insert_batch_size)
    created: list[str] = []
    for i in range(0, len(runs), size):
        chunk = runs[i:i + size]
        if pool is None or len(chunk) == 1:
            oks = [put_absent(ctx, run) for run in chunk]
        else:
            oks = list(pool.map(lambda r: put_absent(ctx, r), chunk))
        created.extend(run["id"] for run, ok in zip(chunk, oks, strict=True) if ok)
    return created


def fingerprint(run: dict) -> str:
    return json.dumps({k: run.get(k) for k in RUN_FINGERPRINT}, sort_keys=True, default=str)


def stale_run_ids(built_from: dict, fresh: dict | None, window: Window, runs: Iterable[dict],
                  now: dt.datetime) -> list[str]:
    """Ids among ``runs`` (built from ``built_from``) that the deployment as it is now (``fresh``)
    would not have: it is gone, it was paused since, or it would build a different run (or none)
    for that slot. Paused itself is no reason (POST …/schedule ignores it); becoming paused is —
    a pause deletes the auto-scheduled runs."""
    runs = list(runs)
    if not runs:
        return []
    if fresh is None or (fresh.get("paused") and not built_from.get("paused")):
        return [r["id"] for r in runs]
    expected = {r["id"]: fingerprint(r) for r in build_runs(fresh, planned_dates(fresh, window), now)}
    return [r["id"] for r in runs if expected.get(r["id"]) != fingerprint(r)]


def delete_if_scheduled(ctx: Ctx, run_ids: Iterable[str], *, as_built: dict[str, str] | None = None) -> list[str]:
    """Delete runs that are still SCHEDULED (a run that moved on is kept) and, with ``as_built``
    (id -> ``fingerprint`` of the run as its materialiser built it), still that run; returns the
    ids deleted."""
    def keep(r: dict) -> bool:
        return r.get("state_type") != "SCHEDULED" or (as_built is not None and fingerprint(r) != as_built[r["id"]])

    return flow_runs.delete_runs(ctx, ctx.stores.flow_runs.get_many(run_ids), keep=keep)


def leftovers(deployment: dict, runs: Iterable[dict], now: dt.datetime,
              built: Iterable[dict] = ()) -> list[dict]:
    """Pristine auto-scheduled runs (never written since created: ``rev`` 0) that the deployment as
    it is would build differently for the same slot — runs of a version a write replaced, which that
    write's delete missed (e.g. its Query read an index that had not caught up). A run someone
    edited or moved on has ``rev`` > 0 and is not one. ``built``: runs already built from
    ``deployment`` (e.g. for its plan), reused instead of building again."""
    from domain.timeutil import parse

    known = {r["id"]: r for r in built}
    out = []
    for run in runs:
        if not run.get("auto_scheduled") or run.get("_rev", 0) != 0:
            continue
        expected = known.get(run["id"])
        if expected is None:
            scheduled = ((run.get("state") or {}).get("state_details") or {}).get("scheduled_time")
            if not scheduled:
                continue
            rebuilt = build_runs(deployment, [parse(scheduled)], now)
            expected = rebuilt[0] if rebuilt else None
        if expected is None or expected["id"] != run["id"] or fingerprint(expected) != fingerprint(run):
            out.append(run)
    return out


def delete_pristine(ctx: Ctx, run_ids: Iterable[str]) -> list[str]:
    """Delete runs that were never written since created (``rev`` 0); returns the ids deleted."""
    docs = ctx.stores.flow_runs.get_many(run_ids)
    return flow_runs.delete_runs(ctx, docs, keep=lambda r: r.get("_rev", 0) != 0)


def discard_stale(ctx: Ctx, built_from: dict, window: Window, created: list[dict], now: dt.datetime,
                  fresh: Any = ...) -> list[str]:
    """The stale-run guard (module docstring): re-read the deployment unless ``fresh`` is given;
    if its revision moved, delete the created runs it would not create now. Returns their ids."""
    if not created:
        return []
    if fresh is ...:
        fresh = ctx.stores.deployments.get(built_from["id"])
    if fresh is not None and fresh.get("_rev", 0) == built_from.get("_rev", 0):
        return []
    # only a run that is still the one this materialiser created: between its insert and this guard
    # the write's own delete may have removed it and another materialiser, reading the new version,
    # inserted that version's run under the same id (the slot's) - that run is current, not stale
    return delete_if_scheduled(ctx, stale_run_ids(built_from, fresh, window, created, now),
                               as_built={r["id"]: fingerprint(r) for r in created})


def schedule_runs(ctx: Ctx, deployment: dict, window: Window) -> list[str]:
    """Spec §5.4 for one deployment as read: plan, build, insert, then guard against a concurrent
    deployment write (module docstring). Returns the ids of the runs created (and kept)."""
    now = ctx.now()
    runs = build_runs(deployment, planned_dates(deployment, window), now)
    created_ids = insert_runs(ctx, runs)
    if not created_ids:
        return []
    created_set = set(created_ids)
    created = [r for r in runs if r["id"] in created_set]
    gone = set(discard_stale(ctx, deployment, window, created, now))
    return [i for i in created_ids if i not in gone]


def schedule_deployment(ctx: Ctx, dep_id: str, window: Window) -> list[str]:
    """POST /deployments/{id}/schedule: unknown id is not an error; paused is not checked."""
    doc = ctx.stores.deployments.get(dep_id)
    if doc is None:
        return []
    return schedule_runs(ctx, doc, window)
