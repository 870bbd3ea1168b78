"""``GET /flow_runs/{id}/graph-v2``: the run graph the flow-run page draws.

Facts from the 2.20 reference (its SQLite ``flow_run_graph_v2``):

- ``start_time`` is the run's start (else its expected start), ``end_time`` its end; an unknown run
  is a 404 ``{"exception_message": "Flow run <id> not found"}``;
- a node per task run of the run that is not PENDING and has a time: a ``task-run`` node labelled
  with the task run's name, or — when a subflow run's ``parent_task_run_id`` is that task run — a
  ``flow-run`` node for the subflow, labelled ``<flow name> / <subflow name>``;
- node start = subflow start or expected start, else task start or expected start; node end =
  subflow end, else task end, else the task's expected start when it is COMPLETED;
- edges come from ``task_inputs`` (every ``{"id": ...}`` argument): a parent is listed when a node
  with that id exists; nodes without parents are the ``root_node_ids``;
- only nodes that have not ended before ``since``; ordered by (start, end), at most
  ``max_nodes`` (10 000, else a 400 naming the limit);
- ``states``: the run's state history (id, timestamp, type, name) in time order; ``artifacts``:
  the run's non-result artifacts (id, created, key, type, is_latest) — those of a task run on its
  node, the rest on the graph.

All reads are by key or by the flow run's partition of an index (task runs, subflows, states,
artifacts of one run).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from domain.context import Ctx
from domain.errors import BadRequest, ObjectNotFound
from domain.sharded_index import query_all
from domain.timeutil import iso_utc, parse, sort_key

MAX_NODES = 10_000
MAX_ARTIFACTS = 10_000
_NO_TIME = ""  # sorts first, as NULL does in the reference's ORDER BY


def _t(value: Any) -> dt.datetime | None:
    return parse(value) if value else None


def _state_items(ctx: Ctx, run: dict) -> list[dict[str, Any]]:
    states = {s["id"]: s for s in ctx.stores.flow_run_states.query("by_flow_run", run["id"]) if s.get("id")}
    current = run.get("state") or {}
    if current.get("id") and current["id"] not in states:
        states[current["id"]] = current
    items = [{"id": s["id"], "timestamp": iso_utc(_t(s.get("timestamp"))), "type": s.get("type"),
              "name": s.get("name")} for s in states.values() if s.get("timestamp")]
    return sorted(items, key=lambda s: sort_key(parse(s["timestamp"])))


def _latest_ids(ctx: Ctx, keys: set[str]) -> dict[str, str | None]:
    out = {}
    for key in keys:
        for c in query_all(ctx.stores.artifact_collections, "by_key", sk_gte=key, sk_lte=key, limit=1):
            out[key] = c.get("latest_id")
    return out


def _artifacts(ctx: Ctx, run_id: str) -> dict[str | None, list[dict[str, Any]]]:
    out: dict[str | None, list[dict[str, Any]]] = {}
    rows = [a for a in ctx.stores.artifacts.query("by_flow_run", run_id) if a.get("type") != "result"]
    latest = _latest_ids(ctx, {a["key"] for a in rows if a.get("key") is not None})
    for a in rows[:MAX_ARTIFACTS]:
        out.setdefault(a.get("task_run_id"), []).append({
            "id": a["id"], "created": iso_utc(_t(a.get("created"))), "key": a.get("key"), "type": a.get("type"),
            "is_latest": a.get("key") is None or latest.get(a["key"]) == a["id"],
        })
    return out


def flow_run_graph(ctx: Ctx, run_id: str, since: dt.datetime | None = None) -> dict[str, Any]:
    run = ctx.stores.flow_runs.get(run_id)
    if run is None:
        raise ObjectNotFound(f"Flow run {run_id} not found")
    since = since or dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    tasks = list(ctx.stores.task_runs.query("by_flow_run", run_id))
    subflows: dict[str, dict] = {}
    for t in tasks:
        for sub in ctx.stores.flow_runs.query("by_parent_task_run", t["id"], limit=1):
            subflows[t["id"]] = sub
    flow_names = {f["id"]: f.get("name") for f in ctx.stores.flows.get_many({s["flow_id"] for s in subflows.values()})}
    artifacts = _artifacts(ctx, run_id)

    nodes: dict[str, dict[str, Any]] = {}
    parent_refs: dict[str, set[str]] = {}
    for t in tasks:
        if t.get("state_type") == "PENDING":
            continue
        sub = subflows.get(t["id"])
        if sub is not None:
            start = _t(sub.get("start_time")) or _t(sub.get("expected_start_time")) \
                or _t(t.get("start_time")) or _t(t.get("expected_start_time"))
            end = _t(sub.get("end_time")) or _t(t.get("end_time"))
            node = {"kind": "flow-run", "id": sub["id"],
                    "label": f"{flow_names.get(sub['flow_id'])} / {sub.get('name')}",
                    "state_type": sub.get("state_type")}
        else:
            start = _t(t.get("start_time")) or _t(t.get("expected_start_time"))
            end = _t(t.get("end_time"))
            node = {"kind": "task-run", "id": t["id"], "label": t.get("name"), "state_type": t.get("state_type")}
        if end is None and t.get("state_type") == "COMPLETED":
            end = _t(t.get("expected_start_time"))
        if start is None:
            continue
        node["start_time"], node["end_time"] = start, end
        nodes[node["id"]] = node
        parent_refs[node["id"]] = {
            str(arg["id"]) for args in (t.get("task_inputs") or {}).values() for arg in args or ()
            if isinstance(arg, dict) and arg.get("id")
        }

    children: dict[str, list[str]] = {i: [] for i in nodes}
    parents: dict[str, list[str]] = {}
    for nid in sorted(nodes):
        parents[nid] = sorted(p for p in parent_refs[nid] if p in nodes)
        for p in parents[nid]:
            children[p].append(nid)

    kept = [n for n in nodes.values() if n["end_time"] is None or n["end_time"] >= since]
    kept.sort(key=lambda n: (sort_key(n["start_time"]), sort_key(n["end_time"]) if n["end_time"] else _NO_TIME))
    if len(kept) > MAX_NODES:
        raise BadRequest(f"The graph of flow run {run_id} has more than {MAX_NODES} nodes.")
    wire_nodes = []
    for n in kept:
        nid = n["id"]
        wire_nodes.append([nid, {
            "kind": n["kind"], "id": nid, "label": n["label"], "state_type": n["state_type"],
            "start_time": iso_utc(n["start_time"]), "end_time": iso_utc(n["end_time"]),
            "parents": [{"id": p} for p in parents[nid]], "children": [{"id": c} for c in sorted(children[nid])],
            "artifacts": artifacts.get(nid, []) if n["kind"] == "task-run" else [],
        }])
    return {
        "start_time": iso_utc(_t(run.get("start_time")) or _t(run.get("expected_start_time"))),
        "end_time": iso_utc(_t(run.get("end_time"))),
        "root_node_ids": [nid for nid, node in wire_nodes if not node["parents"]],
        "nodes": wire_nodes,
        "artifacts": artifacts.get(None, []),
        "states": _state_items(ctx, run),
    }
