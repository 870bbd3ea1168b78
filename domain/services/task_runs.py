"""Task runs (orchestration spec §1.7): create, read, rename, delete, filter, and their states.

Ids are fresh uuid4s (or the client's ``id``). The reference's unique index on
(``flow_run_id``, ``task_key``, ``dynamic_key``) is a guard item written in the same transaction
as the run (``Guards`` id ``task_run:<flow run id or ->/<task_key>/<dynamic_key>``), so two racing
creates of one task yield one run, and autonomous task runs (no flow run) dedupe the same way.
State changes go through ``task_run_orchestration``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain import run_companions
from domain.context import Ctx
from domain.errors import ConditionFailed, IntegrityConflict, NotFound, ServiceUnavailable
from domain.parsing import Embedded, WireDateTime, invalid
from domain.ports import Cond, TxDelete, TxPut
from domain.services.task_run_orchestration import attempts, history_sort_key, plan_task_run_state, state_wire
from domain.states import TERMINAL, StateCreate, proposed_state
from domain.timeutil import iso_utc, parse

TASK_NOT_FOUND = "Task not found"
TASK_RUN_NOT_FOUND = "Task run not found"  # PATCH says it differently (quirk Q5)
STATE_NOT_FOUND = "Flow run state not found"  # sic, quirk Q5

WIRE_KEYS = (
    "id", "created", "updated", "name", "flow_run_id", "task_key", "dynamic_key", "cache_key", "cache_expiration",
    "task_version", "empirical_policy", "tags", "state_id", "task_inputs", "state_type", "state_name", "run_count",
    "flow_run_run_count", "expected_start_time", "next_scheduled_start_time", "start_time", "end_time",
    "total_run_time", "estimated_run_time", "estimated_start_time_delta", "state",
)


class TaskRunPolicy(BaseModel):
    """TaskRunPolicy: deprecated ``max_retries``/``retry_delay_seconds`` fill ``retries``/``retry_delay``."""

    model_config = ConfigDict(extra="ignore")
    max_retries: int = 0
    retry_delay_seconds: float = 0.0
    retries: int | None = None
    retry_delay: int | list[int] | None = None
    retry_jitter_factor: float | None = None

    @field_validator("retry_delay", mode="before")
    @classmethod
    def _whole_seconds(cls, v: Any) -> Any:
        if isinstance(v, float):
            return int(v)
        if isinstance(v, list):
            return [int(x) if isinstance(x, float) else x for x in v]
        return v

    @field_validator("retry_delay")
    @classmethod
    def _at_most_50(cls, v: Any) -> Any:
        if isinstance(v, list) and len(v) > 50:
            raise ValueError("Can not configure more than 50 retry delays per task.")
        return v

    @field_validator("retry_jitter_factor")
    @classmethod
    def _not_negative(cls, v: float | None) -> float | None:
        if v is not None and v < 0:
            raise ValueError("`retry_jitter_factor` must be >= 0.")
        return v

    @model_validator(mode="after")
    def _deprecated_fields(self) -> TaskRunPolicy:
        if not self.retries and self.max_retries != 0:
            self.retries = self.max_retries
        if not self.retry_delay and self.retry_delay_seconds != 0:
            self.retry_delay = int(self.retry_delay_seconds)
        return self

    def wire(self) -> dict[str, Any]:
        return {
            "max_retries": self.max_retries, "retry_delay_seconds": float(self.retry_delay_seconds),
            "retries": self.retries, "retry_delay": self.retry_delay, "retry_jitter_factor": self.retry_jitter_factor,
        }


class TaskRunResult(BaseModel):
    model_config = ConfigDict(extra="ignore")
    input_type: Literal["task_run"] = "task_run"
    id: uuid.UUID

    def wire(self) -> dict[str, Any]:
        return {"input_type": "task_run", "id": str(self.id)}


class Parameter(BaseModel):
    model_config = ConfigDict(extra="ignore")
    input_type: Literal["parameter"] = "parameter"
    name: str

    def wire(self) -> dict[str, Any]:
        return {"input_type": "parameter", "name": self.name}


class Constant(BaseModel):
    model_config = ConfigDict(extra="ignore")
    input_type: Literal["constant"] = "constant"
    type: str

    def wire(self) -> dict[str, Any]:
        return {"input_type": "constant", "type": self.type}


TaskRunInput = TaskRunResult | Parameter | Constant


class TaskRunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    state: StateCreate | None = None
    name: str | None = None
    flow_run_id: uuid.UUID | None = None
    task_key: str
    dynamic_key: str
    cache_key: str | None = None
    cache_expiration: WireDateTime | None = None
    task_version: str | None = None
    empirical_policy: TaskRunPolicy = Field(default_factory=TaskRunPolicy)
    tags: list[str] = Field(default_factory=list)
    task_inputs: dict[str, list[TaskRunInput]] = Field(default_factory=dict)


class TaskRunUpdate(BaseModel):
    """PATCH body: ``{}`` keeps the name, ``{"name": null}`` draws a new random one (as flow runs)."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = None


class SetTaskRunStateBody(Embedded):
    """Embedded body of ``set_state``: unknown keys (e.g. ``orchestration_parameters``) are
    ignored and ``null`` is an absent key."""

    state: StateCreate
    force: bool = False


# ---------------------------------------------------------------------------------------- wire


def to_wire(doc: dict[str, Any], now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or dt.datetime.now(dt.timezone.utc)
    out = {k: doc.get(k) for k in WIRE_KEYS}
    total = float(doc.get("total_run_time") or 0.0)
    out["total_run_time"] = total
    state = doc.get("state") or {}
    if doc.get("state_type") == "RUNNING" and state.get("timestamp"):
        out["estimated_run_time"] = total + max(0.0, (now - parse(state["timestamp"])).total_seconds())
    else:
        out["estimated_run_time"] = total
    delta = 0.0
    expected = parse(doc["expected_start_time"]) if doc.get("expected_start_time") else None
    if expected is not None:
        if doc.get("start_time"):
            delta = max(0.0, (parse(doc["start_time"]) - expected).total_seconds())
        elif doc.get("state_type") not in TERMINAL and expected < now:
            delta = (now - expected).total_seconds()
    out["estimated_start_time_delta"] = delta
    return out


def guard_id(flow_run_id: str | None, task_key: str, dynamic_key: str) -> str:
    """``task_run:<flow run id or ->/<task_key>/<dynamic_key>``; a key too long for a DynamoDB
    partition key (2048 bytes) is replaced by its SHA-256."""
    natural = f"{flow_run_id or '-'}/{task_key}/{dynamic_key}"
    if len(natural.encode()) > 1024:
        natural = "sha256:" + hashlib.sha256(natural.encode()).hexdigest()
    return f"task_run:{natural}"


def _slug() -> str:
    from domain.services.flow_runs import slug

    return slug()


# -------------------------------------------------------------------------------------- create


def create(ctx: Ctx, body: TaskRunCreate) -> tuple[dict, bool]:
    """Create the task run, or return the existing one for its (flow run, task_key, dynamic_key)
    unchanged. Returns (TaskRun, created)."""
    limit = ctx.settings.task_cache_key_max_length
    if body.cache_key and len(body.cache_key) > limit:
        raise invalid(["body", "cache_key"], f"Cache key exceeded maximum allowed length of {limit} characters.")
    flow_run_id = str(body.flow_run_id) if body.flow_run_id else None
    flow_run = None
    if flow_run_id is not None:
        flow_run = ctx.stores.flow_runs.get(flow_run_id)
        if flow_run is None:
            raise IntegrityConflict()
    gid = guard_id(flow_run_id, body.task_key, body.dynamic_key)
    for attempt in attempts():
        if attempt:  # the guard was taken: an existing run (or a stale guard, now removed)
            existing = _existing(ctx, gid)
            if existing is not None:
                return to_wire(existing, ctx.now()), False
        now = ctx.now()
        doc = _new_doc(body, flow_run_id, now)
        state = body.state or StateCreate(type="PENDING")
        plan = plan_task_run_state(ctx, doc, proposed_state(state, now), force=True, flow_run=flow_run)
        ops = plan.ops or [TxPut(ctx.stores.task_runs, doc, Cond.absent()),
                           *run_companions.ops(ctx, "task_run", None, doc)]
        ops.append(TxPut(ctx.stores.guards, {"id": gid, "owner_id": doc["id"]}, Cond.absent()))
        try:
            ctx.stores.transact(ops)
        except ConditionFailed:
            if body.id is not None and ctx.stores.guards.get(gid) is None and ctx.stores.task_runs.get(doc["id"]):
                raise IntegrityConflict() from None  # the client's id belongs to another task run
            continue
        return to_wire(plan.run if plan.ops else doc, now), True
    raise ServiceUnavailable("Service Unavailable")


def _existing(ctx: Ctx, gid: str) -> dict | None:
    """The task run holding the guard; a guard left by a run deleted some other way (a cascade
    that did not take its guard along) is removed so the key can be used again."""
    guard = ctx.stores.guards.get(gid)
    if guard is None:
        return None
    run = ctx.stores.task_runs.get(guard["owner_id"])
    if run is None:
        ctx.stores.guards.delete(gid)
    return run


def _new_doc(body: TaskRunCreate, flow_run_id: str | None, now: dt.datetime) -> dict[str, Any]:
    stamp = iso_utc(now)
    return {
        "id": str(body.id or uuid.uuid4()), "created": stamp, "updated": stamp,
        "name": body.name or _slug(), "flow_run_id": flow_run_id, "task_key": body.task_key,
        "dynamic_key": body.dynamic_key, "cache_key": body.cache_key,
        "cache_expiration": iso_utc(body.cache_expiration) if body.cache_expiration else None,
        "task_version": body.task_version, "empirical_policy": body.empirical_policy.wire(), "tags": body.tags,
        "state_id": None, "task_inputs": {k: [i.wire() for i in v] for k, v in body.task_inputs.items()},
        "state_type": None, "state_name": None, "run_count": 0, "flow_run_run_count": 0,
        "expected_start_time": None, "next_scheduled_start_time": None, "start_time": None, "end_time": None,
        "total_run_time": 0.0, "state": None,
    }


# ------------------------------------------------------------------------------ read / update


def read(ctx: Ctx, task_run_id: str) -> dict:
    doc = ctx.stores.task_runs.get(task_run_id)
    if doc is None:
        raise NotFound(TASK_NOT_FOUND)
    return to_wire(doc, ctx.now())


def update(ctx: Ctx, task_run_id: str, body: TaskRunUpdate) -> None:
    """PATCH: only ``name``; ``{}`` changes nothing but ``updated``."""
    for _ in attempts():
        doc = ctx.stores.task_runs.get(task_run_id)
        if doc is None:
            raise NotFound(TASK_RUN_NOT_FOUND)
        rev = doc.get("_rev", 0)
        before = dict(doc)
        if "name" in body.model_fields_set:
            doc["name"] = body.name or _slug()
        doc["updated"] = iso_utc(ctx.now())
        doc["_rev"] = rev + 1
        try:
            run_companions.put(ctx, "task_run", before, doc, Cond.eq("rev", rev))
            return
        except ConditionFailed:
            continue
    raise ServiceUnavailable("Service Unavailable")


def delete(ctx: Ctx, task_run_id: str) -> None:
    """Delete the run and its dedupe guard together; its state history goes with it."""
    for _ in attempts():
        doc = ctx.stores.task_runs.get(task_run_id)
        if doc is None:
            raise NotFound(TASK_NOT_FOUND)
        gid = guard_id(doc.get("flow_run_id"), doc["task_key"], doc["dynamic_key"])
        try:
            run_companions.delete_one(ctx, "task_run", doc, [TxDelete(ctx.stores.guards, gid)])
        except ConditionFailed:
            continue
        _after_delete(ctx, task_run_id)
        return
    raise ServiceUnavailable("Service Unavailable")


def _after_delete(ctx: Ctx, task_run_id: str) -> None:
    """What the reference's foreign keys do when a task run row goes: its state rows go with it and
    its subflow runs lose their parent."""
    history = [i["id"] for i in ctx.stores.task_run_states.query("by_task_run", task_run_id)]
    if history:
        ctx.stores.task_run_states.delete_many(history)
    orphan_subflows(ctx, task_run_id)


def orphan_subflows(ctx: Ctx, task_run_id: str) -> None:
    """The subflow runs of a deleted task run lose their parent: the reference's foreign key sets
    ``parent_task_run_id`` to null (``updated`` unchanged, as a database action leaves it)."""
    for child in ctx.stores.flow_runs.query("by_parent_task_run", task_run_id):
        for _ in attempts():
            run = ctx.stores.flow_runs.get(child["id"])
            if run is None or run.get("parent_task_run_id") != task_run_id:
                break
            rev = run.get("_rev", 0)
            try:
                run_companions.put(ctx, "flow_run", run, {**run, "parent_task_run_id": None, "_rev": rev + 1},
                                   Cond.eq("rev", rev))
                break
            except ConditionFailed:
                continue


def delete_of_flow_runs(ctx: Ctx, flow_run_ids: list[str]) -> None:
    """Delete the task runs of deleted flow runs, with their guards, companions and state history
    (the reference's foreign keys cascade all of them)."""
    def guard(d: dict) -> list:
        return [TxDelete(ctx.stores.guards, guard_id(d.get("flow_run_id"), d["task_key"], d["dynamic_key"]))]

    for flow_run_id in flow_run_ids:
        docs = list(ctx.stores.task_runs.query("by_flow_run", flow_run_id))
        for task_run_id in run_companions.delete_runs(ctx, "task_run", docs, extra=guard):
            _after_delete(ctx, task_run_id)


# -------------------------------------------------------------------------------------- states


def read_states(ctx: Ctx, task_run_id: str) -> list[dict]:
    """The run's states in time order: the history items plus its current state."""
    states = [state_wire(i) for i in ctx.stores.task_run_states.query("by_task_run", task_run_id)]
    run = ctx.stores.task_runs.get(task_run_id)
    current = (run or {}).get("state")
    if current and all(s["id"] != current["id"] for s in states):
        states.append(state_wire(current))
        states.sort(key=history_sort_key)
    return states


def read_state(ctx: Ctx, state_id: str) -> dict:
    item = ctx.stores.task_run_states.get(state_id)
    if item is None or not item.get("task_run_id"):
        raise NotFound(STATE_NOT_FOUND)
    return state_wire(item)


def set_state(ctx: Ctx, task_run_id: str, body: SetTaskRunStateBody) -> tuple[dict, int]:
    from domain.services.task_run_orchestration import propose_task_run_state

    return propose_task_run_state(ctx, task_run_id, body.state, force=body.force)
