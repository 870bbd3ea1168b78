"""Global bookkeeping (orchestration spec §3.2): what every accepted transition does to the run,
forced or not. Applied by the services after the policy, only when the transition was not
nullified (REJECT to the current state, WAIT, ABORT write nothing).

``flow(t)`` and ``task(t)`` update ``t.run`` and ``t.proposed`` in place; they never touch a store.
Run documents keep times as ISO strings (UTC for the run's own time columns); ``_state_entered``
is the reference's ``state_timestamp``.
"""

from __future__ import annotations

from typing import Any

from domain.orchestration.engine import TERMINAL, Transition
from domain.timeutil import iso_utc, parse


def _seconds_between(later: str, earlier: str) -> float:
    return (parse(later) - parse(earlier)).total_seconds()


def common(t: Transition) -> None:
    """SetRunStateType/Name, SetStartTime, SetRunStateTimestamp, SetEndTime, IncrementRunTime,
    SetExpectedStartTime, SetNextScheduledStartTime (in the reference's order)."""
    run, p = t.run, t.proposed
    if p is None:
        return
    ts = p["timestamp"]
    run["state_type"] = p["type"]
    run["state_name"] = p["name"]
    if p["type"] == "RUNNING" and run.get("start_time") is None:
        run["start_time"] = iso_utc(parse(ts))
    run["_state_entered"] = ts
    if t.initial_type in TERMINAL and p["type"] not in TERMINAL:
        run["end_time"] = None
    if p["type"] in TERMINAL and run.get("start_time") and not run.get("end_time"):
        run["end_time"] = iso_utc(parse(ts))
    if t.initial_type == "RUNNING" and t.initial is not None:
        run["total_run_time"] = float(run.get("total_run_time") or 0.0) + _seconds_between(ts, t.initial["timestamp"])
    scheduled = p["state_details"].get("scheduled_time")
    if not run.get("expected_start_time"):
        if p["type"] == "SCHEDULED":
            run["expected_start_time"] = iso_utc(parse(scheduled)) if scheduled else None
        else:
            run["expected_start_time"] = iso_utc(parse(ts))
    if t.initial_type == "SCHEDULED":
        run["next_scheduled_start_time"] = None
    if p["type"] == "SCHEDULED":
        run["next_scheduled_start_time"] = iso_utc(parse(scheduled)) if scheduled else None


def _policy(run: dict[str, Any]) -> dict[str, Any]:
    policy = run.get("empirical_policy")
    if not isinstance(policy, dict):
        policy = {}
        run["empirical_policy"] = policy
    return policy


def flow(t: Transition) -> None:
    """Common transforms, then UpdateStateDetails (flow), UpdateSubflowStateDetails,
    IncrementFlowRunCount (not while ``resuming``), RemoveResumingIndicator.

    UpdateSubflowParentTask (the mirror state on the parent task run) needs a store: the service
    does it (``domain/services/run_orchestration.py``)."""
    if t.proposed is None:
        return
    common(t)
    run, p = t.run, t.proposed
    details = p["state_details"]
    details["flow_run_id"] = run["id"]
    if run.get("parent_task_run_id") is not None:
        details["task_run_id"] = run["parent_task_run_id"]
    policy = _policy(run)
    if p["type"] == "RUNNING" and not policy.get("resuming"):
        run["run_count"] = int(run.get("run_count") or 0) + 1
    if (p["type"] == "RUNNING" or p["type"] in TERMINAL) and policy.get("resuming"):
        policy["resuming"] = False


def task(t: Transition) -> None:
    """Common transforms, then UpdateStateDetails (task: ``flow_run_id`` and ``task_run_id``),
    IncrementTaskRunCount."""
    if t.proposed is None:
        return
    common(t)
    run, p = t.run, t.proposed
    details = p["state_details"]
    details["flow_run_id"] = run.get("flow_run_id")
    details["task_run_id"] = run["id"]
    if p["type"] == "RUNNING":
        run["run_count"] = int(run.get("run_count") or 0) + 1
