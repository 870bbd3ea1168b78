"""Task runs: as much as the task_runs filters and subflow links need (create, read, filter)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain import ids
from domain.context import Ctx
from domain.errors import ConditionFailed, IntegrityConflict, NotFound
from domain.ports import Cond
from domain.states import StateCreate, apply_state
from domain.timeutil import iso_utc

WIRE_KEYS = (
    "id", "created", "updated", "name", "flow_run_id", "task_key", "dynamic_key", "cache_key", "cache_expiration",
    "task_version", "empirical_policy", "tags", "state_id", "task_inputs", "state_type", "state_name", "run_count",
    "flow_run_run_count", "expected_start_time", "next_scheduled_start_time", "start_time", "end_time",
    "total_run_time", "estimated_run_time", "estimated_start_time_delta", "state",
)


class TaskRunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = None
    state: StateCreate | None = None
    name: str | None = None
    flow_run_id: str | None = None
    task_key: str
    dynamic_key: str
    cache_key: str | None = None
    cache_expiration: Any = None
    task_version: str | None = None
    empirical_policy: dict[str, Any] | None = None
    tags: list[str] = Field(default_factory=list)
    task_inputs: dict[str, Any] = Field(default_factory=dict)


def to_wire(doc: dict) -> dict:
    out = {k: doc.get(k) for k in WIRE_KEYS}
    out["estimated_run_time"] = doc.get("total_run_time", 0.0)
    out["estimated_start_time_delta"] = 0.0
    return out


def create(ctx: Ctx, body: TaskRunCreate) -> tuple[dict, bool]:
    """Idempotent on (flow_run_id, task_key, dynamic_key), like the reference's unique index."""
    if body.flow_run_id and ctx.stores.flow_runs.get(body.flow_run_id) is None:
        raise IntegrityConflict()
    now = ctx.now()
    run_id = ids.task_run_id(body.flow_run_id, body.task_key, body.dynamic_key)
    stamp = iso_utc(now)
    doc: dict[str, Any] = {
        "id": run_id, "created": stamp, "updated": stamp,
        "name": body.name or f"{body.task_key}-{body.dynamic_key}",
        "flow_run_id": body.flow_run_id, "task_key": body.task_key, "dynamic_key": body.dynamic_key,
        "cache_key": body.cache_key, "cache_expiration": body.cache_expiration, "task_version": body.task_version,
        "empirical_policy": {"max_retries": 0, "retry_delay_seconds": 0.0, "retries": 0, "retry_delay": 0,
                             "retry_jitter_factor": None, **(body.empirical_policy or {})},
        "tags": body.tags, "state_id": None, "task_inputs": body.task_inputs, "state_type": None,
        "state_name": None, "run_count": 0, "flow_run_run_count": 0, "expected_start_time": None,
        "next_scheduled_start_time": None, "start_time": None, "end_time": None, "total_run_time": 0.0,
        "state": None,
    }
    if body.state is not None:
        from domain.services.flow_runs import state_from_create

        state = state_from_create(body.state, now)
        apply_state(doc, state, now)
        state["state_details"]["flow_run_id"] = body.flow_run_id
        state["state_details"]["task_run_id"] = run_id
    try:
        ctx.stores.task_runs.put(doc, cond=Cond.absent())
    except ConditionFailed:
        existing = ctx.stores.task_runs.get(run_id)
        if existing is not None:
            return to_wire(existing), False
        raise
    return to_wire(doc), True


def read(ctx: Ctx, task_run_id: str) -> dict:
    doc = ctx.stores.task_runs.get(task_run_id)
    if doc is None:
        raise NotFound("Task not found")
    return to_wire(doc)
