"""Helpers shared by the flow-run API tests: flows, deployments, runs and proposals over HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Any

FLOW_RUN_KEYS = [
    "id", "created", "updated", "name", "flow_id", "state_id", "deployment_id", "deployment_version",
    "work_queue_id", "work_queue_name", "flow_version", "parameters", "idempotency_key", "context",
    "empirical_policy", "tags", "parent_task_run_id", "state_type", "state_name", "run_count",
    "expected_start_time", "next_scheduled_start_time", "start_time", "end_time", "total_run_time",
    "estimated_run_time", "estimated_start_time_delta", "auto_scheduled", "infrastructure_document_id",
    "infrastructure_pid", "created_by", "work_pool_id", "work_pool_name", "state", "job_variables",
]
STATE_KEYS = ["id", "type", "name", "timestamp", "message", "data", "state_details"]
UTC = dt.timezone.utc


def ts(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def make_flow(client, name: str = "my-flow") -> str:
    return client.post("flows/", json={"name": name}).json()["id"]


def make_deployment(client, flow_id: str, name: str = "my-deployment", **body: Any) -> str:
    r = client.post("deployments/", json={"name": name, "flow_id": flow_id, **body})
    assert r.status_code in (200, 201), r.text
    return r.json()["id"]


def create_run(client, flow_id: str, *, expect: int = 201, **body: Any) -> dict:
    r = client.post("flow_runs/", json={"flow_id": flow_id, **body})
    assert r.status_code == expect, r.text
    return r.json()


def deployment_run(client, deployment_id: str, state: dict | None = None, **body: Any) -> dict:
    payload = {**body}
    if state is not None:
        payload["state"] = state
    r = client.post(f"deployments/{deployment_id}/create_flow_run", json=payload)
    assert r.status_code == 201, r.text
    return r.json()


def propose(client, run_id: str, type_: str, *, force: bool = False, name: str | None = None,
            message: str | None = None, data: Any = None, runs: str = "flow_runs", **details: Any):
    """``POST /<runs>/{id}/set_state`` with a state of ``type_`` (task-run tests pass ``runs="task_runs"``)."""
    state: dict[str, Any] = {"type": type_, "state_details": details}
    if name is not None:
        state["name"] = name
    if message is not None:
        state["message"] = message
    if data is not None:
        state["data"] = data
    return client.post(f"{runs}/{run_id}/set_state", json={"state": state, "force": force})


def accept(client, run_id: str, type_: str, **kw: Any) -> dict:
    r = propose(client, run_id, type_, **kw)
    assert (r.status_code, r.json()["status"]) == (201, "ACCEPT"), r.text
    return r.json()["state"]


def run(client, run_id: str) -> dict:
    r = client.get(f"flow_runs/{run_id}")
    assert r.status_code == 200, r.text
    return r.json()


def history(client, run_id: str) -> list[dict]:
    r = client.get("flow_run_states/", params={"flow_run_id": run_id})
    assert r.status_code == 200, r.text
    return r.json()


def iso_in(seconds: float, now: dt.datetime | None = None) -> str:
    return ((now or dt.datetime.now(UTC)) + dt.timedelta(seconds=seconds)).isoformat()


CLOCK_FIELDS = ("estimated_run_time", "estimated_start_time_delta")  # computed from the clock when answered


def same_answer(client, path: str, body: dict, plain) -> Any:
    """``path``'s answer as routed, asserted equal (ids in order, then every field but the clock's)
    to its answer inside ``plain()`` — a context that makes the server plan it the general way."""
    r = client.post(path, json=body)
    assert r.status_code == 200, r.text
    with plain():
        g = client.post(path, json=body)
    assert g.status_code == 200, g.text
    got, want = r.json(), g.json()
    if isinstance(got, list):
        assert [x["id"] for x in got] == [x["id"] for x in want]
        assert [{k: v for k, v in x.items() if k not in CLOCK_FIELDS} for x in got] == [
            {k: v for k, v in x.items() if k not in CLOCK_FIELDS} for x in want]
    else:
        assert got == want
    return got
