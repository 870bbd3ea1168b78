"""States and flow-run state bookkeeping (spec §4.10, §5.6)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domain.parsing import WireDateTime
from domain.timeutil import ensure_aware, iso, iso_utc


class StateType(StrEnum):
    SCHEDULED = "SCHEDULED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    CRASHED = "CRASHED"
    PAUSED = "PAUSED"
    CANCELLING = "CANCELLING"


TERMINAL = {"COMPLETED", "FAILED", "CANCELLED", "CRASHED"}

DEFAULT_NAMES = {t.value: t.value.title() for t in StateType}

STATE_DETAILS_DEFAULTS: dict[str, Any] = {
    "flow_run_id": None,
    "task_run_id": None,
    "child_flow_run_id": None,
    "scheduled_time": None,
    "cache_key": None,
    "cache_expiration": None,
    "untrackable_result": False,
    "pause_timeout": None,
    "pause_reschedule": False,
    "pause_key": None,
    "run_input_keyset": None,
    "refresh_cache": None,
    "retriable": None,
    "transition_id": None,
    "task_parameters_id": None,
}


class StateDetails(BaseModel):
    model_config = ConfigDict(extra="ignore")
    flow_run_id: str | None = None
    task_run_id: str | None = None
    child_flow_run_id: str | None = None
    scheduled_time: WireDateTime | None = None
    cache_key: str | None = None
    cache_expiration: WireDateTime | None = None
    untrackable_result: bool = False
    pause_timeout: WireDateTime | None = None
    pause_reschedule: bool = False
    pause_key: str | None = None
    run_input_keyset: dict[str, str] | None = None
    refresh_cache: bool | None = None
    retriable: bool | None = None
    transition_id: str | None = None
    task_parameters_id: str | None = None

    @field_validator("scheduled_time", "cache_expiration", "pause_timeout")
    @classmethod
    def _aware(cls, v):
        return ensure_aware(v) if v is not None else v


class StateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: StateType
    name: str | None = None
    message: str | None = None
    data: Any = None
    state_details: StateDetails = Field(default_factory=StateDetails)
    timestamp: WireDateTime | None = None  # checked as the reference did, then ignored (server time wins)
    id: Any = None  # accepted, ignored


def details_wire(details: StateDetails | None, **overrides: Any) -> dict[str, Any]:
    out = dict(STATE_DETAILS_DEFAULTS)
    if details is not None:
        for key in STATE_DETAILS_DEFAULTS:
            value = getattr(details, key)
            out[key] = iso(value) if isinstance(value, dt.datetime) else value
    out.update(overrides)
    return out


def new_state(state_id: str, type_: str, *, name: str | None, message: str | None, data: Any,
              details: dict[str, Any], timestamp: dt.datetime) -> dict[str, Any]:
    return {
        "id": state_id,
        "type": type_,
        "name": name or DEFAULT_NAMES[type_],
        "timestamp": iso_utc(timestamp),
        "message": message,
        "data": data,
        "state_details": details,
    }


def apply_state(run: dict[str, Any], state: dict[str, Any], now: dt.datetime) -> None:
    """Write ``state`` as the run's current state with the forced-orchestration bookkeeping."""
    from domain.timeutil import parse

    prev_type = run.get("state_type")
    prev_entered = run.get("_state_entered")
    if prev_type == "RUNNING" and prev_entered:
        run["total_run_time"] = float(run.get("total_run_time") or 0.0) + (now - parse(prev_entered)).total_seconds()
    t = state["type"]
    state["state_details"]["flow_run_id"] = run["id"]
    run["state"] = state
    run["state_id"] = state["id"]
    run["state_type"] = t
    run["state_name"] = state["name"]
    run["_state_entered"] = iso_utc(now)
    if t == "SCHEDULED":
        sched = state["state_details"].get("scheduled_time") or iso(now)
        state["state_details"]["scheduled_time"] = sched
        run["next_scheduled_start_time"] = iso_utc(parse(sched))
        if run.get("start_time") is None:
            run["expected_start_time"] = iso_utc(parse(sched))
    else:
        run["next_scheduled_start_time"] = None
        if run.get("expected_start_time") is None:
            run["expected_start_time"] = iso_utc(now)
    if t == "RUNNING":
        if run.get("start_time") is None:
            run["start_time"] = iso_utc(now)
        run["run_count"] = int(run.get("run_count") or 0) + 1
    if t in TERMINAL and run.get("start_time") is not None and run.get("end_time") is None:
        run["end_time"] = iso_utc(now)


def server_state(type_: str, now: dt.datetime, *, name: str | None = None, message: str | None = None,
                 data: Any = None, **details: Any) -> dict[str, Any]:
    """A state made by the server (AwaitingRetry, Cancelled, Failed …): a fresh id, ``now`` as its
    timestamp, default details with ``details`` (wire values: ISO strings for times) applied."""
    import uuid

    return new_state(str(uuid.uuid4()), type_, name=name, message=message, data=data,
                     details=details_wire(None, **details), timestamp=now)


def proposed_state(state: StateCreate, now: dt.datetime) -> dict[str, Any]:
    """The client's proposal as a wire state: a fresh id and the **server** timestamp (client
    ``id``/``timestamp`` are ignored); a SCHEDULED state without ``scheduled_time`` is due now."""
    import uuid

    out = new_state(str(uuid.uuid4()), state.type.value, name=state.name, message=state.message,
                    data=state.data, details=details_wire(state.state_details), timestamp=now)
    if out["type"] == "SCHEDULED" and out["state_details"].get("scheduled_time") is None:
        out["state_details"]["scheduled_time"] = iso_utc(now)
    return out


def is_persisted_data(data: Any) -> bool:
    """State data that the reference stores as a result artifact (§3.1): anything but null and
    ``{"type": "unpersisted", …}``."""
    return data is not None and not (isinstance(data, dict) and data.get("type") == "unpersisted")
