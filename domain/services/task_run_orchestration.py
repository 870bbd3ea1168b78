"""Proposing a task-run state (orchestration spec §1.7 set_state, §2, §3.1, §3.2, §3.4).

One proposal = one GetItem of the task run, a GetItem of its flow run (only when it proposes
RUNNING, the only case a rule reads it), one Query per tagged limit (only when it proposes RUNNING;
otherwise a BatchGetItem of the limits the run holds a slot on, remembered in ``_slots``), one
Query of the cache (only with a cache key), then ONE transaction:

* the task-run document, conditioned on its revision ``_rev`` (two concurrent proposals can never
  both win: the loser re-reads and is orchestrated against the new state);
* the written state as an item of ``TaskRunStates`` (id = state id). Every transition writes the
  state it *enters*, so ``GET /task_run_states/{id}`` finds the current state too, and a Completed
  state with a cache key is its own cache entry (the sparse ``by_cache_key`` index, keyed by the
  SHA-256 of the cache key); items expire after ``history_retention`` (cache entries at their
  ``cache_expiration``, never without one) and the history read merges in the run's current
  state, which lives in the run document;
* every concurrency-limit document whose slots changed, each conditioned on its ``_rev``, so slots
  are never lost or double-counted when runs race for them;
* a ``result`` artifact when the state carries persisted result data (and, for a keyed one, its
  key's collection row).

The subflow mirror and the cancellation cleanup (``run_orchestration``) reuse
``plan_task_run_state`` and commit its writes in their own transaction.

Nullified transitions (REJECT to the current state, WAIT, ABORT) write nothing.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from domain import run_companions
from domain.context import Ctx
from domain.errors import ConditionFailed, ObjectNotFound, ServiceUnavailable
from domain.orchestration import bookkeeping
from domain.orchestration.engine import Transition, run_after, run_policy
from domain.orchestration.task_rules import CACHE_RETRIEVAL, SECURE_SLOTS, STOPPED_FLOWS, policy_for
from domain.ports import Cond, TxOp, TxPut
from domain.sharded_index import query_all
from domain.states import StateCreate, is_persisted_data, proposed_state
from domain.timeutil import iso_utc, parse, sort_key

ARTIFACT_KEYS = ("artifact_key", "artifact_type", "artifact_description")
ATTEMPTS = 40


def attempts(n: int = ATTEMPTS) -> Iterator[int]:
    """Attempts of an optimistic write, the later ones after a short jittered pause that grows
    (at most 0.1 s) so racing writers spread out instead of colliding again in lock step."""
    for i in range(n):
        if i:
            time.sleep(random.uniform(0, min(0.1, 0.002 * 2 ** min(i, 16))))
        yield i


class TaskRunNotFound(ObjectNotFound):
    """``POST /task_runs/{id}/set_state`` on an unknown id: ``{"exception_message": …}`` (Q16)."""


@dataclass
class TaskTransitionPlan:
    """What a proposal decided: the OrchestrationResult, its HTTP status and the writes (empty
    for a nullified transition) that make it so, to be committed in one transaction."""

    result: dict[str, Any]
    status: int
    run: dict[str, Any]
    ops: list[TxOp] = field(default_factory=list)


def propose_task_run_state(ctx: Ctx, task_run_id: str, state: StateCreate, *, force: bool = False
                           ) -> tuple[dict[str, Any], int]:
    """Orchestrate ``state`` for the task run; returns (OrchestrationResult, 201 or 200)."""
    for _ in attempts():
        run = ctx.stores.task_runs.get(task_run_id)
        if run is None:
            raise TaskRunNotFound(f"Task run with id {task_run_id} not found")
        plan = plan_task_run_state(ctx, run, proposed_state(state, ctx.now()), force=force)
        if not plan.ops:
            return plan.result, plan.status
        try:
            ctx.stores.transact(plan.ops)
        except ConditionFailed:
            continue
        return plan.result, plan.status
    raise ServiceUnavailable("Service Unavailable")


def plan_task_run_state(ctx: Ctx, run: dict[str, Any], proposed: dict[str, Any], *, force: bool,
                        flow_run: Any = ..., policy: tuple | None = None) -> TaskTransitionPlan:
    """Decide ``proposed`` (a wire state with a server timestamp) for the task-run document
    ``run`` without writing; ``flow_run`` may be passed when the caller has it (``...`` = read it
    if a rule needs it). Used by set_state, task-run creation and the subflow mirror."""
    now = ctx.now()
    policy = policy if policy is not None else policy_for(run, force)
    running = proposed["type"] == "RUNNING"
    if flow_run is ...:
        flow_run = None
        if running and run.get("flow_run_id") and STOPPED_FLOWS in policy:
            flow_run = ctx.stores.flow_runs.get(run["flow_run_id"])
    t = Transition(
        kind="task", run=copy.deepcopy(run), initial=copy.deepcopy(run.get("state")), proposed=proposed,
        now=now, settings=ctx.settings, force=force, flow_run=flow_run,
        limits=_limits(ctx, run, securing=running and SECURE_SLOTS in policy),
        cached=_cached(ctx, proposed, now) if running and CACHE_RETRIEVAL in policy else None,
    )
    due = run_policy(policy, t)
    if t.nullified:
        return TaskTransitionPlan(_result(t, run.get("state")), 200, run)
    bookkeeping.task(t)
    run_after(due, t)
    return _commit_plan(ctx, run, t)


# ------------------------------------------------------------------------------------- reads


def _limits(ctx: Ctx, run: dict[str, Any], *, securing: bool) -> list[dict[str, Any]]:
    """The v1 limits a rule may touch: every limit of the run's tags when it may take slots,
    else only those it holds a slot on."""
    tags = sorted(set(run.get("tags") or []))
    if not tags:
        return []
    store = ctx.stores.concurrency_limits
    if securing:
        found = []
        for tag in tags:
            found.extend(query_all(store, "by_tag", sk_gte=tag, sk_lte=tag))
        return found
    held = run.get("_slots") or []
    return store.get_many(held) if held else []


def cache_index_key(cache_key: str) -> str:
    """The ``by_cache_key`` partition of a cache key: its SHA-256, so keys of any length (up to the
    2000 characters allowed) fit DynamoDB's 2048-byte limit on an index key."""
    return hashlib.sha256(cache_key.encode()).hexdigest()


def _cached(ctx: Ctx, proposed: dict[str, Any], now: dt.datetime) -> dict[str, Any] | None:
    """The newest cache entry for the proposed ``cache_key`` that has not expired."""
    details = proposed["state_details"]
    key = details.get("cache_key")
    if not key or details.get("refresh_cache"):
        return None
    for item in ctx.stores.task_run_states.query("by_cache_key", cache_index_key(key), descending=True):
        expires = (item.get("state_details") or {}).get("cache_expiration")
        if expires is None or parse(expires) > now:
            return state_wire(item)
    return None


# ------------------------------------------------------------------------------------ writing


def _result(t: Transition, state: dict[str, Any] | None) -> dict[str, Any]:
    return {"state": state, "status": t.status, "details": t.details()}


def _split_data(data: Any) -> tuple[Any, dict[str, Any] | None]:
    """(data to store and answer with, result-artifact fields or None) for a state's data."""
    if not is_persisted_data(data):
        return None, None
    info: dict[str, Any] = {}
    if isinstance(data, dict):
        data = dict(data)
        for key, target in zip(ARTIFACT_KEYS, ("key", "type", "description"), strict=True):
            value = data.pop(key, None)
            if value:
                info[target] = value
    return data, info


def state_wire(item: dict[str, Any]) -> dict[str, Any]:
    """A stored state (history item or a run's ``state``) in wire shape."""
    return {k: item.get(k) for k in ("id", "type", "name", "timestamp", "message", "data", "state_details")}


def _expires_at(ctx: Ctx, state: dict[str, Any], cache_entry: bool) -> int | None:
    retention = ctx.now() + ctx.settings.history_retention
    if cache_entry:
        expiration = state["state_details"].get("cache_expiration")
        if expiration is None:
            return None  # a cache entry without expiration is kept
        retention = max(retention, parse(expiration))
    return int(retention.timestamp())


def _commit_plan(ctx: Ctx, original: dict[str, Any], t: Transition) -> TaskTransitionPlan:
    now, run, state = t.now, t.run, t.proposed
    stored_data, artifact = _split_data(state.get("data"))
    answered = dict(state)
    if artifact is not None:
        answered["data"] = stored_data
    stored = {**state_wire(state), "data": stored_data}
    stamp = iso_utc(now)
    run["state"] = stored
    run["state_id"] = stored["id"]
    run["updated"] = stamp
    rev = original.get("_rev", 0)
    run["_rev"] = rev + 1
    ops: list[TxOp] = []
    for limit in t.changed_limits.values():
        old_rev = limit.get("_rev", 0)
        ops.append(TxPut(ctx.stores.concurrency_limits, {**limit, "updated": stamp, "_rev": old_rev + 1},
                         Cond.eq("rev", old_rev)))
    held = {x["id"] for x in t.limits if run["id"] in (x.get("active_slots") or [])}
    for limit_id, limit in t.changed_limits.items():
        (held.add if run["id"] in (limit.get("active_slots") or []) else held.discard)(limit_id)
    run["_slots"] = sorted(held)
    cache_entry = bool(t.extra.get("cache_insert"))
    item = {**stored, "task_run_id": run["id"], "flow_run_id": run.get("flow_run_id"),
            "_expires_at": _expires_at(ctx, stored, cache_entry)}
    if cache_entry:
        item["_cache_key"] = cache_index_key(stored["state_details"]["cache_key"])
    ops.insert(0, TxPut(ctx.stores.task_runs, run, Cond.eq("rev", rev) if "_rev" in original else Cond.absent()))
    ops.insert(1, TxPut(ctx.stores.task_run_states, item))
    ops.extend(run_companions.ops(ctx, "task_run", original if "_rev" in original else None, run))
    if artifact is not None:
        doc = {"id": str(uuid.uuid4()), "created": stamp, "updated": stamp, "key": artifact.get("key"),
               "type": artifact.get("type"), "description": artifact.get("description"), "data": stored_data,
               "metadata_": None, "flow_run_id": run.get("flow_run_id"), "task_run_id": run["id"]}
        ops.append(TxPut(ctx.stores.artifacts, doc, Cond.absent()))
        if doc["key"] is not None:  # a keyed result also becomes its key's latest artifact
            from domain.services.artifacts import collection_ops

            ops.extend(collection_ops(ctx, doc))
    return TaskTransitionPlan(_result(t, answered), 201, run, ops)


def history_sort_key(state: dict[str, Any]) -> str:
    return sort_key(parse(state["timestamp"]))
