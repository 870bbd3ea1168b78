"""Helpers shared by the worker, agent and workers API tests: pools, queues and runs placed in a
queue at a given time, over HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.api.flow_run_support import make_deployment, make_flow, propose

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)

# the core FlowRun of a worker poll item (no work_pool_*; work_queue_id near the end)
CORE_FLOW_RUN_KEYS = [
    "id", "created", "updated", "name", "flow_id", "state_id", "deployment_id", "deployment_version",
    "work_queue_name", "flow_version", "parameters", "idempotency_key", "context", "empirical_policy", "tags",
    "parent_task_run_id", "state_type", "state_name", "run_count", "expected_start_time",
    "next_scheduled_start_time", "start_time", "end_time", "total_run_time", "estimated_run_time",
    "estimated_start_time_delta", "auto_scheduled", "infrastructure_document_id", "infrastructure_pid",
    "created_by", "work_queue_id", "state", "job_variables",
]
QUEUE_STATUS_KEYS = ["healthy", "late_runs_count", "last_polled", "health_check_policy"]
WORKER_KEYS = ["id", "created", "updated", "name", "work_pool_id", "last_heartbeat_time",
               "heartbeat_interval_seconds", "status"]


def at(seconds: float, now: dt.datetime = NOW) -> str:
    return (now + dt.timedelta(seconds=seconds)).isoformat()


def make_pool(client, name: str = "P", **body: Any) -> dict:
    r = client.post("work_pools/", json={"name": name, "type": "process", **body})
    assert r.status_code == 201, r.text
    return r.json()


def make_pool_queue(client, pool: str, name: str, **body: Any) -> dict:
    r = client.post(f"work_pools/{pool}/queues", json={"name": name, **body})
    assert r.status_code == 201, r.text
    return r.json()


def pool_queue(client, pool: str, name: str) -> dict:
    r = client.get(f"work_pools/{pool}/queues/{name}")
    assert r.status_code == 200, r.text
    return r.json()


def make_legacy_queue(client, name: str, **body: Any) -> dict:
    r = client.post("work_queues/", json={"name": name, **body})
    assert r.status_code == 201, r.text
    return r.json()


class Runs:
    """A flow and one deployment per (pool, queue) on demand; ``scheduled`` puts a run in a queue."""

    def __init__(self, client, flow_name: str = "polled-flow"):
        self.client = client
        self.flow_id = make_flow(client, flow_name)
        self.deployments: dict[tuple[str | None, str | None], str] = {}

    def deployment(self, pool: str | None = None, queue: str | None = None) -> str:
        key = (pool, queue)
        if key not in self.deployments:
            body: dict[str, Any] = {}
            if pool is not None:
                body["work_pool_name"] = pool
            if queue is not None:
                body["work_queue_name"] = queue
            self.deployments[key] = make_deployment(self.client, self.flow_id, f"d-{pool}-{queue}", **body)
        return self.deployments[key]

    def scheduled(self, pool: str | None, queue: str | None, seconds: float, *, now: dt.datetime = NOW,
                  name: str | None = None, **body: Any) -> dict:
        """A run of the (pool, queue) deployment, SCHEDULED ``seconds`` from ``now``."""
        state: dict[str, Any] = {"type": "SCHEDULED", "state_details": {"scheduled_time": at(seconds, now)}}
        if name is not None:
            state["name"] = name
        r = self.client.post(f"deployments/{self.deployment(pool, queue)}/create_flow_run",
                             json={"state": state, **body})
        assert r.status_code == 201, r.text
        return r.json()


def force(client, run_id: str, type_: str, **kw: Any) -> None:
    r = propose(client, run_id, type_, force=True, **kw)
    assert r.status_code in (200, 201) and r.json()["status"] == "ACCEPT", r.text


def poll_pool(client, pool: str, **body: Any):
    return client.post(f"work_pools/{pool}/get_scheduled_flow_runs", json=body)


def polled_ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["flow_run"]["id"] for item in response.json()]
