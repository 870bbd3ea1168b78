"""Helpers shared by the task-run API tests: flow runs written straight through the store (in the
state a test needs), task runs created over HTTP, proposals."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from domain.services.flow_runs import new_run
from domain.states import details_wire, new_state
from tests.api.flow_run_support import propose as propose_run

TASK_RUN_KEYS = [
    "id", "created", "updated", "name", "flow_run_id", "task_key", "dynamic_key", "cache_key", "cache_expiration",
    "task_version", "empirical_policy", "tags", "state_id", "task_inputs", "state_type", "state_name", "run_count",
    "flow_run_run_count", "expected_start_time", "next_scheduled_start_time", "start_time", "end_time",
    "total_run_time", "estimated_run_time", "estimated_start_time_delta", "state",
]
STATE_KEYS = ["id", "type", "name", "timestamp", "message", "data", "state_details"]


def put_flow_run(ctx, state_type: str | None = "RUNNING", *, run_count: int = 1, run_id: str | None = None,
                 name: str | None = None, **details: Any) -> dict:
    """A flow run in ``state_type`` (``None``: no state), written through the store."""
    run_id = run_id or str(uuid.uuid4())
    existing = ctx.stores.flow_runs.get(run_id)
    doc = existing or new_run(run_id=run_id, now=ctx.now(), flow_id=str(uuid.uuid4()))
    doc["run_count"] = run_count
    if state_type is None:
        doc.update(state=None, state_type=None, state_name=None, state_id=None)
    else:
        state = new_state(str(uuid.uuid4()), state_type, name=name, message=None, data=None,
                          details=details_wire(None, flow_run_id=run_id, **details), timestamp=ctx.now())
        doc.update(state=state, state_type=state_type, state_name=state["name"], state_id=state["id"])
    doc["_rev"] = doc.get("_rev", 0) + 1
    ctx.stores.flow_runs.put(doc)
    return doc


def create_task(client, flow_run_id: str | None, *, task_key: str = "say-hello-abc", dynamic_key: str = "0",
                expect: int = 201, **body: Any) -> dict:
    r = client.post("task_runs/", json={"flow_run_id": flow_run_id, "task_key": task_key, "dynamic_key": dynamic_key,
                                        **body})
    assert r.status_code == expect, r.text
    return r.json()


def propose(client, task_run_id: str, type_: str, **kw: Any):
    return propose_run(client, task_run_id, type_, runs="task_runs", **kw)


def task(client, task_run_id: str) -> dict:
    r = client.get(f"task_runs/{task_run_id}")
    assert r.status_code == 200, r.text
    return r.json()


def put_limit(ctx, tag: str, limit: int, active_slots: list[str] | None = None) -> dict:
    doc = {"id": str(uuid.uuid4()), "created": "2025-01-01T00:00:00+00:00", "updated": "2025-01-01T00:00:00+00:00",
           "tag": tag, "concurrency_limit": limit, "active_slots": active_slots or [], "_rev": 0}
    ctx.stores.concurrency_limits.put(doc)
    return doc


def limit_slots(ctx, limit_id: str) -> list[str]:
    return ctx.stores.concurrency_limits.get(limit_id)["active_slots"]


@pytest.fixture
def moto_writes_serialised(monkeypatch):
    """moto's ``transact_write_items`` is not thread-safe: it deep-copies every table it touches and,
    when a condition fails, restores those copies — undoing writes other threads made meanwhile (a
    lost update DynamoDB itself never produces). Tests that race transactions in threads serialise
    moto's write operations, so what they check is flowplane's conditions, not moto's rollback."""
    import threading

    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in ("transact_write_items", "put_item", "delete_item", "update_item"):
        original = getattr(DynamoDBBackend, name)

        def locked(self, *args, _original=original, **kwargs):
            with lock:
                return _original(self, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, locked)
