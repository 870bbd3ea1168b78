"""Real objects for the fuzz suite to aim at: one of each kind flowplane stores, created over HTTP.

``seed(client)`` creates them (every request must answer 2xx) and returns ``Seeded``: the values
by *kind* (``"flow_runs.id"``, ``"work_pools.name"``, …). ``path_kind(path, param)`` names the kind a
path parameter of a route refers to, and ``BODY_KINDS`` the kind of a top-level body field, so
the fuzzer can send existing ids and names, not only random ones that answer 404.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# the nearest literal segment before a parameter, when it only says how the object is addressed
_ADDRESSING = {"name", "slug", "tag", "checksum", "views", "latest"}

# parameters whose name alone says what they are, whatever the path
_BY_PARAM = {
    "work_pool_name": "work_pools.name",
    "flow_name": "flows.name",
    "deployment_name": "deployments.name",
    "schedule_id": "schedules.id",
    "slug": "block_types.slug",
    "checksum": "block_schemas.checksum",
    "block_document_name": "block_documents.name",
    "tag": "concurrency_limits.tag",
    "id_or_name": "v2_limits.id_or_name",
}
# the owner segment for parameters named generically (``id``, ``name``, ``key``)
_OWNER_ALIASES = {"queues": "work_queues", "input": "flow_run_inputs"}


def path_kind(path: str, param: str) -> str | None:
    """The kind of object ``{param}`` of the route ``path`` names, e.g. ``("/flows/{id}", "id")`` →
    ``"flows.id"``; ``("/work_pools/{work_pool_name}/queues/{name}", "name")`` → ``"work_queues.name"``."""
    if param in _BY_PARAM:
        return _BY_PARAM[param]
    segments = [re.sub(r"\{(\w+):\w+\}", r"{\1}", s) for s in path.strip("/").split("/") if s]
    try:
        at = segments.index("{" + param + "}")
    except ValueError:
        return None
    owner = next((s for s in reversed(segments[:at]) if not s.startswith("{") and s not in _ADDRESSING), None)
    if owner is None:
        return None
    return f"{_OWNER_ALIASES.get(owner, owner)}.{param}"


BODY_KINDS = {
    "flow_id": "flows.id",
    "deployment_id": "deployments.id",
    "flow_run_id": "flow_runs.id",
    "task_run_id": "task_runs.id",
    "work_pool_name": "work_pools.name",
    "work_queue_name": "work_queues.name",
    "work_queue_id": "work_queues.id",
    "block_type_id": "block_types.id",
    "block_schema_id": "block_schemas.id",
    "block_document_id": "block_documents.id",
}


@dataclass
class Seeded:
    values: dict[str, list[str]] = field(default_factory=dict)

    def add(self, kind: str, *values: Any) -> None:
        self.values.setdefault(kind, []).extend(str(v) for v in values)

    def get(self, kind: str | None) -> list[str]:
        return self.values.get(kind or "", [])


def _ok(response) -> Any:
    assert 200 <= response.status_code < 300, f"seed request {response.request.method} {response.request.url}: " \
        f"{response.status_code} {response.text}"
    return response.json() if response.content else None


def seed(client) -> Seeded:
    """One of each object, linked as a client would link them: a flow with a deployment (scheduled,
    on a process pool's own queue), runs of both kinds with states, logs, an input and an artifact,
    a variable, blocks, both kinds of concurrency limit, a saved search, a notification policy and a
    worker. Everything named ``fuzz-…``."""
    out = Seeded()
    flow = _ok(client.post("flows/", json={"name": "fuzz-flow", "tags": ["fuzz"]}))
    out.add("flows.id", flow["id"])
    out.add("flows.name", flow["name"])

    pool = _ok(client.post("work_pools/", json={"name": "fuzz-pool", "type": "process"}))
    out.add("work_pools.name", pool["name"])
    queue = _ok(client.post("work_pools/fuzz-pool/queues", json={"name": "fuzz-queue"}))
    out.add("work_queues.id", queue["id"], pool["default_queue_id"])
    out.add("work_queues.name", queue["name"], "default")
    worker = client.post("work_pools/fuzz-pool/workers/heartbeat", json={"name": "fuzz-worker"})
    _ok(worker)
    out.add("workers.name", "fuzz-worker")

    deployment = _ok(client.post("deployments/", json={
        "name": "fuzz-deployment", "flow_id": flow["id"], "work_pool_name": "fuzz-pool",
        "work_queue_name": "fuzz-queue", "tags": ["fuzz"], "parameters": {"x": 1},
        "parameter_openapi_schema": {"type": "object", "properties": {"x": {"type": "integer"}}},
        "schedules": [{"schedule": {"interval": 3600}, "active": True}],
    }))
    out.add("deployments.id", deployment["id"])
    out.add("deployments.name", deployment["name"])
    out.add("schedules.id", *(s["id"] for s in deployment["schedules"]))

    run = _ok(client.post(f"deployments/{deployment['id']}/create_flow_run", json={"parameters": {"x": 2}}))
    adhoc = _ok(client.post("flow_runs/", json={"flow_id": flow["id"], "name": "fuzz-run",
                                                "state": {"type": "RUNNING"}}))
    out.add("flow_runs.id", run["id"], adhoc["id"])
    task = _ok(client.post("task_runs/", json={"flow_run_id": adhoc["id"], "task_key": "fuzz-task",
                                               "dynamic_key": "0", "state": {"type": "RUNNING"}}))
    out.add("task_runs.id", task["id"])
    out.add("flow_run_states.id", run["state"]["id"], adhoc["state"]["id"])
    out.add("task_run_states.id", task["state"]["id"])
    _ok(client.post(f"flow_runs/{adhoc['id']}/input", json={"key": "fuzz-input", "value": "1"}))
    out.add("flow_run_inputs.key", "fuzz-input")
    _ok(client.post("logs/", json=[{"name": "fuzz", "level": 20, "message": "hello", "flow_run_id": adhoc["id"],
                                    "task_run_id": task["id"], "timestamp": adhoc["created"]}]))
    artifact = _ok(client.post("artifacts/", json={"key": "fuzz-artifact", "type": "markdown", "data": "# hi",
                                                   "flow_run_id": adhoc["id"], "task_run_id": task["id"]}))
    out.add("artifacts.id", artifact["id"])
    out.add("artifacts.key", artifact["key"])

    variable = _ok(client.post("variables/", json={"name": "fuzz_var", "value": "v", "tags": ["fuzz"]}))
    out.add("variables.id", variable["id"])
    out.add("variables.name", variable["name"])

    block_type = _ok(client.post("block_types/", json={"name": "Fuzz Block", "slug": "fuzz-block"}))
    block_schema = _ok(client.post("block_schemas/", json={
        "block_type_id": block_type["id"], "capabilities": ["read-path"],
        "fields": {"title": "Fuzz Block", "type": "object", "properties": {"x": {"title": "X", "type": "string"}},
                   "block_type_slug": "fuzz-block", "secret_fields": [], "block_schema_references": {}},
    }))
    document = _ok(client.post("block_documents/", json={
        "name": "fuzz-doc", "data": {"x": "hello"}, "block_type_id": block_type["id"],
        "block_schema_id": block_schema["id"]}))
    out.add("block_types.id", block_type["id"])
    out.add("block_types.slug", block_type["slug"])
    out.add("block_schemas.id", block_schema["id"])
    out.add("block_schemas.checksum", block_schema["checksum"])
    out.add("block_documents.id", document["id"])
    out.add("block_documents.name", document["name"])

    limit = _ok(client.post("concurrency_limits/", json={"tag": "fuzz-tag", "concurrency_limit": 2}))
    out.add("concurrency_limits.id", limit["id"])
    out.add("concurrency_limits.tag", limit["tag"])
    v2 = _ok(client.post("v2/concurrency_limits/", json={"name": "fuzz-limit", "limit": 2}))
    out.add("v2_limits.id_or_name", v2["id"], v2["name"])

    search = _ok(client.put("saved_searches/", json={"name": "fuzz-search", "filters": []}))
    out.add("saved_searches.id", search["id"])
    policy = _ok(client.post("flow_run_notification_policies/", json={
        "state_names": ["Failed"], "tags": ["fuzz"], "block_document_id": document["id"]}))
    out.add("flow_run_notification_policies.id", policy["id"])
    return out


def path_params(path: str) -> list[str]:
    return re.findall(r"\{(\w+)(?::\w+)?\}", path)
