"""Small reads only the UI makes: block capabilities, task-run counts by state and the dashboard's
task-run bars (``/block_capabilities/``, ``/ui/task_runs/count``, ``/ui/task_runs/dashboard/counts``).

Facts from the 2.20 reference: capabilities are the distinct capabilities of every block schema
(flowplane answers them sorted; the reference's order is a set's); ``CountByState`` has every state
type, 0 when absent; the dashboard counts split ``task_runs.start_time`` (``after_`` required: 422
``task_runs.start_time.after_ is required``) from the minute of ``after_`` to the end of the minute
of ``before_`` (or of now) into 20 buckets of terminal task runs, FAILED and CRASHED counted
``failed``, the rest ``completed``.
"""

from __future__ import annotations

import datetime as dt

from domain.context import Ctx
from domain.errors import Unprocessable
from domain.filters import (
    DeploymentFilter,
    FlowFilter,
    FlowRunFilter,
    TaskRunFilter,
    WorkPoolFilter,
    WorkQueueFilter,
)
from domain.parsing import Embedded
from domain.services import queries
from domain.services.blocks import _all_schemas
from domain.states import TERMINAL
from domain.timeutil import parse

STATE_TYPES = ("COMPLETED", "PENDING", "RUNNING", "FAILED", "CANCELLED", "CRASHED", "PAUSED", "CANCELLING",
               "SCHEDULED")
FAILED = {"FAILED", "CRASHED"}
BUCKETS = 20


class TaskRunCountQuery(Embedded):
    flows: FlowFilter | None = None
    flow_runs: FlowRunFilter | None = None
    task_runs: TaskRunFilter | None = None
    deployments: DeploymentFilter | None = None


class DashboardCountsQuery(Embedded):
    task_runs: TaskRunFilter
    flows: FlowFilter | None = None
    flow_runs: FlowRunFilter | None = None
    deployments: DeploymentFilter | None = None
    work_pools: WorkPoolFilter | None = None
    work_queues: WorkQueueFilter | None = None


def block_capabilities(ctx: Ctx) -> list[str]:
    return sorted({c for schema in _all_schemas(ctx, None) for c in schema.get("capabilities") or ()})


def task_run_counts_by_state(ctx: Ctx, q: TaskRunCountQuery) -> dict[str, int]:
    counts = dict.fromkeys(STATE_TYPES, 0)
    tq = queries.TaskRunQuery(flows=q.flows, flow_runs=q.flow_runs, task_runs=q.task_runs, deployments=q.deployments)
    for t in queries._tasks_matching(ctx, tq):
        if t.get("state_type") in counts:
            counts[t["state_type"]] += 1
    return counts


def _minute(t: dt.datetime) -> dt.datetime:
    return t.replace(second=0, microsecond=0)


def dashboard_task_run_counts(ctx: Ctx, q: DashboardCountsQuery) -> list[dict[str, int]]:
    from domain.services.run_history import HistoryQuery, _matching_task_runs

    st = q.task_runs.start_time
    if st is None or st.after_ is None:
        raise Unprocessable("task_runs.start_time.after_ is required")
    start = _minute(st.after_)
    end_base = st.before_ if st.before_ is not None else ctx.now()
    end = _minute(end_base) + dt.timedelta(minutes=1) - dt.timedelta(microseconds=1)
    delta = (end - start) / BUCKETS
    hq = HistoryQuery(history_start=start, history_end=end, history_interval_seconds=60,
                      flows=q.flows, flow_runs=q.flow_runs, task_runs=q.task_runs,
                      deployments=q.deployments, work_pools=q.work_pools, work_queues=q.work_queues)
    buckets = [{"completed": 0, "failed": 0} for _ in range(BUCKETS)]
    for t in _matching_task_runs(ctx, hq, by_start_time=True):
        if t.get("state_type") not in TERMINAL or not t.get("start_time"):
            continue
        i = int((int(parse(t["start_time"]).timestamp()) - int(start.timestamp())) // delta.total_seconds())
        if 0 <= i < BUCKETS:
            buckets[i]["failed" if t["state_type"] in FAILED else "completed"] += 1
    return buckets
