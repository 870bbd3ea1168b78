"""Run histories and lateness for the UI: ``POST /flow_runs/history``, ``/task_runs/history``,
``/flow_runs/lateness`` and the flow-runs scatter ``POST /ui/flow_runs/history``.

Facts from the 2.20 reference (``server/api/run_history.py`` and its SQL):

- intervals start at ``history_start`` and step by ``history_interval_seconds`` while the start is
  before ``history_end`` (at most 500); an interval smaller than 1 s is a 422;
- a run belongs to the interval holding its ``expected_start_time`` (start inclusive, end exclusive);
  within an interval runs are grouped by (state type, state name) with ``count_runs``,
  ``sum_estimated_run_time`` and ``sum_estimated_lateness`` (each summand clipped at 0), groups in
  (type, name) order, an empty interval has ``states: []``;
- lateness is the average of the runs' estimated start-time delta: ``start_time -
  expected_start_time`` when it started late, ``now - expected_start_time`` when it has not started,
  is not terminal and is overdue, else 0 — in whole seconds as the reference's SQLite computes it
  (``strftime('%s')``); ``null`` when no run matches.

Quirk kept out: the reference on SQLite reports ``sum_estimated_run_time`` and
``sum_estimated_lateness`` as 0.0 (its ``extract(epoch)`` of an interval is 0 there); flowplane
reports the sums as the reference does on PostgreSQL.

Cost follows the window: the runs are read from the ``by_expected_start`` index between the
history's start and end (or from the planner's selective index when the filter names ids,
deployments, flows or state types), never a Scan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

from pydantic import Field, field_validator

from domain.context import Ctx
from domain.errors import Unprocessable
from domain.filters import (
    DeploymentFilter,
    FlowFilter,
    FlowRunFilter,
    FlowRunSort,
    TaskRunFilter,
    WorkPoolFilter,
    WorkQueueFilter,
    sort_documents,
)
from domain.parsing import Embedded, WireDateTime
from domain.ports import Doc, Store
from domain.services import queries
from domain.sharded_index import query_all
from domain.states import TERMINAL
from domain.timeutil import iso_utc, parse, sort_key

MAX_INTERVALS = 500
SCATTER_LIMIT = 1000


class HistoryQuery(Embedded):
    history_start: WireDateTime
    history_end: WireDateTime
    history_interval_seconds: float
    flows: FlowFilter | None = None
    flow_runs: FlowRunFilter | None = None
    task_runs: TaskRunFilter | None = None
    deployments: DeploymentFilter | None = None
    work_pools: WorkPoolFilter | None = None
    work_queues: WorkQueueFilter | None = None

    @field_validator("history_start", "history_end")
    @classmethod
    def _aware(cls, v: dt.datetime) -> dt.datetime:
        return parse(v).astimezone(dt.timezone.utc)


class LatenessQuery(queries.RunFilters):
    pass


class ScatterQuery(Embedded):
    BODY_ORDER: ClassVar[tuple[str, ...]] = (# the reference's parameter order
        "sort", "limit", "offset", "flows", "flow_runs", "task_runs", "deployments", "work_pools")
    sort: FlowRunSort = FlowRunSort.EXPECTED_START_TIME_DESC
    limit: int = Field(default=SCATTER_LIMIT, le=SCATTER_LIMIT)
    offset: int = Field(default=0, ge=0)
    flows: FlowFilter | None = None
    flow_runs: FlowRunFilter | None = None
    task_runs: TaskRunFilter | None = None
    deployments: DeploymentFilter | None = None
    work_pools: WorkPoolFilter | None = None


# ------------------------------------------------------------------------------- run arithmetic


def _t(doc: Doc, key: str) -> dt.datetime | None:
    v = doc.get(key)
    return parse(v) if v else None


def estimated_run_time(doc: Doc, now: dt.datetime) -> float:
    total = float(doc.get("total_run_time") or 0.0)
    if doc.get("state_type") == "RUNNING":
        entered = doc.get("_state_entered") or (doc.get("state") or {}).get("timestamp")
        if entered:
            total += max(0.0, (now - parse(entered)).total_seconds())
    return total


def estimated_start_time_delta(doc: Doc, now: dt.datetime) -> float:
    expected, start = _t(doc, "expected_start_time"), _t(doc, "start_time")
    if expected is None:
        return 0.0
    if start is not None:
        return max(0.0, (start - expected).total_seconds())
    if doc.get("state_type") not in TERMINAL and expected < now:
        return (now - expected).total_seconds()
    return 0.0


def _whole_seconds(t: dt.datetime) -> int:
    return int(t.timestamp() // 1)


def sqlite_lateness(doc: Doc, now: dt.datetime) -> int:
    """The reference's SQLite expression: whole-second differences (``strftime('%s')``)."""
    expected, start = _t(doc, "expected_start_time"), _t(doc, "start_time")
    if expected is None:
        return 0
    if start is not None:
        return _whole_seconds(start) - _whole_seconds(expected) if start > expected else 0
    if doc.get("state_type") not in TERMINAL and expected < now:
        return _whole_seconds(now) - _whole_seconds(expected)
    return 0


# ------------------------------------------------------------------------------ candidate sources


def _window(f: FlowRunFilter | TaskRunFilter | None, field: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    """(after_, before_) of ``field`` when it is a necessary condition of the filter."""
    crit = f._sole_or_anded(field) if f is not None else None
    if crit is None:
        return None, None
    return getattr(crit, "after_", None), getattr(crit, "before_", None)


def _by_expected_start(store: Store, start: dt.datetime | None, end: dt.datetime | None,
                       descending: bool = False) -> Iterator[Doc]:
    return query_all(store, "by_expected_start", sk_gte=sort_key(start) if start else None,
                     sk_lte=sort_key(end) if end else None, descending=descending)


def _selective(f: Any) -> bool:
    return f is not None and any(
        getattr(f, m)() is not None for m in ("exact_ids", "exact_deployment_ids", "exact_state_types")
        if hasattr(f, m))


def _flow_run_candidates(ctx: Ctx, q: Any, start: dt.datetime | None, end: dt.datetime | None) -> Iterable[Doc]:
    fr = getattr(q, "flow_runs", None)
    flows, deps = getattr(q, "flows", None), getattr(q, "deployments", None)
    if (_selective(fr) or (flows is not None and (flows.exact_ids() or flows.exact_names()))
            or (deps is not None and deps.exact_ids())):
        return queries._run_candidates(ctx, q)
    after, before = _window(fr, "expected_start_time")
    lo = max(x for x in (start, after) if x is not None) if (start or after) else None
    hi = min(x for x in (end, before) if x is not None) if (end or before) else None
    return _by_expected_start(ctx.stores.flow_runs, lo, hi)


def _matching_flow_runs(ctx: Ctx, q: Any, start: dt.datetime | None = None,
                        end: dt.datetime | None = None) -> Iterator[Doc]:
    fctx = queries.StoreContext(ctx)
    return queries._runs_matching(ctx, q, _flow_run_candidates(ctx, q, start, end), fctx)


def _matching_task_runs(ctx: Ctx, q: HistoryQuery, *, by_start_time: bool = False) -> Iterator[Doc]:
    """Task runs matching ``q`` among those whose expected start (or, ``by_start_time``, start)
    lies in the history's window."""
    tr = q.task_runs
    if tr is not None and (tr.exact_ids() is not None or tr.exact_flow_run_ids() is not None):
        candidates: Iterable[Doc] = queries._task_candidates(ctx, queries.TaskRunQuery(task_runs=tr))
    elif q.flow_runs is not None and q.flow_runs.exact_ids() is not None:
        candidates = queries._task_candidates(ctx, queries.TaskRunQuery(flow_runs=q.flow_runs))
    elif by_start_time:
        candidates = query_all(ctx.stores.task_runs, "by_start", sk_gte=sort_key(q.history_start),
                               sk_lte=sort_key(q.history_end))
    else:
        candidates = _by_expected_start(ctx.stores.task_runs, q.history_start, q.history_end)
    fctx = queries.StoreContext(ctx)
    needs_runs = any(x is not None for x in (q.flow_runs, q.flows, q.deployments, q.work_pools, q.work_queues))
    run_q = _RunJoin(q.flows, q.flow_runs, q.deployments, q.work_pools, q.work_queues)
    for chunk in queries._chunks(candidates, 100):
        rows = [t for t in chunk if tr is None or tr.matches(t, fctx)]
        if rows and needs_runs:
            runs = ctx.stores.flow_runs.get_many({t["flow_run_id"] for t in rows if t.get("flow_run_id")})
            ok = {r["id"] for r in queries._runs_matching(ctx, run_q, runs, fctx)}
            rows = [t for t in rows if t.get("flow_run_id") in ok]
        yield from rows


class _RunJoin:
    """The flow-run side of a task-run query (what ``_runs_matching`` reads)."""

    def __init__(self, flows, flow_runs, deployments, work_pools, work_pool_queues):
        self.flows, self.flow_runs, self.deployments = flows, flow_runs, deployments
        self.work_pools, self.work_pool_queues, self.task_runs = work_pools, work_pool_queues, None


# ------------------------------------------------------------------------------------ histories


def _intervals(q: HistoryQuery) -> list[tuple[dt.datetime, dt.datetime]]:
    try:
        step = dt.timedelta(seconds=q.history_interval_seconds)
    except (OverflowError, ValueError):  # past timedelta's range, or NaN: the reference answers 500
        raise Unprocessable("History interval must be a finite number of seconds of at most 999999999 days.")
    if step < dt.timedelta(seconds=1):
        raise Unprocessable("History interval must not be less than 1 second.")
    out, start = [], q.history_start
    while start < q.history_end and len(out) < MAX_INTERVALS:
        try:
            end = start + step
        except OverflowError:  # the last interval ends at the end of time (the reference answers 500)
            out.append((start, dt.datetime.max.replace(tzinfo=dt.timezone.utc)))
            break
        out.append((start, end))
        start = end
    return out


def _history(runs: Iterable[Doc], q: HistoryQuery, now: dt.datetime) -> list[dict[str, Any]]:
    intervals = _intervals(q)
    if not intervals:
        return []
    step = intervals[0][1] - intervals[0][0]
    groups: list[dict[tuple[str, str], list[float]]] = [{} for _ in intervals]
    first = intervals[0][0]
    for run in runs:
        expected = _t(run, "expected_start_time")
        if expected is None or expected < first or expected >= intervals[-1][1]:
            continue
        i = int((expected - first) // step)
        if i >= len(intervals):
            continue
        key = (run.get("state_type") or "", run.get("state_name") or "")
        agg = groups[i].setdefault(key, [0, 0.0, 0.0])
        agg[0] += 1
        agg[1] += max(0.0, estimated_run_time(run, now))
        agg[2] += max(0.0, estimated_start_time_delta(run, now))
    return [
        {
            "interval_start": iso_utc(start),
            "interval_end": iso_utc(end),
            "states": [
                {"state_type": t, "state_name": n, "count_runs": c,
                 "sum_estimated_run_time": float(rt), "sum_estimated_lateness": float(late)}
                for (t, n), (c, rt, late) in sorted(group.items())
            ],
        }
        for (start, end), group in zip(intervals, groups, strict=True)
    ]


def flow_run_history(ctx: Ctx, q: HistoryQuery) -> list[dict[str, Any]]:
    intervals = _intervals(q)
    end = intervals[-1][1] if intervals else q.history_end
    rq = _RunJoin(q.flows, q.flow_runs, q.deployments, q.work_pools, q.work_queues)
    rq.task_runs = q.task_runs
    return _history(_matching_flow_runs(ctx, rq, q.history_start, end), q, ctx.now())


def task_run_history(ctx: Ctx, q: HistoryQuery) -> list[dict[str, Any]]:
    _intervals(q)
    return _history(_matching_task_runs(ctx, q), q, ctx.now())


# ------------------------------------------------------------------------------------- lateness


def average_lateness(ctx: Ctx, q: LatenessQuery) -> float | None:
    now = ctx.now()
    total, count = 0, 0
    for run in _matching_flow_runs(ctx, q):
        total += sqlite_lateness(run, now)
        count += 1
    return None if count == 0 else total / count


# --------------------------------------------------------------------------------- scatter plot


def flow_run_scatter(ctx: Ctx, q: ScatterQuery) -> list[dict[str, Any]]:
    """``POST /ui/flow_runs/history``: one point per run (id, state type, start or expected start,
    duration and lateness in seconds)."""
    now = ctx.now()
    rows = sort_documents(list(_matching_flow_runs(ctx, q)), q.sort)[q.offset:q.offset + q.limit]
    return [
        {
            "id": r["id"],
            "state_type": r.get("state_type"),
            "timestamp": iso_utc(_t(r, "start_time") or _t(r, "expected_start_time")),
            "duration": estimated_run_time(r, now),
            "lateness": estimated_start_time_delta(r, now),
        }
        for r in rows
    ]

