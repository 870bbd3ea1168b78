"""Proposing a flow-run state (orchestration spec §1.1 step 3, §1.3, §1.4, §2, §3.1-§3.3, §3.5).

One proposal = one GetItem of the run (plus one of its parent task run for a subflow), the policy
and the global bookkeeping in memory, then ONE transaction:

* the run document, conditioned on its revision ``_rev`` — two concurrent proposals can never both
  win; the loser re-reads and is orchestrated again against the new state (bounded, then 503);
* the state it *enters* as an item of ``FlowRunStates`` (id = state id), so
  ``GET /flow_run_states/{id}`` finds every state a transition wrote by key, and the history is
  one Query. Runs the scheduler inserts carry their first state only in the run document
  (``_state_stored`` absent): their first transition also writes the state it leaves, so the
  scheduler's insert stays one write per run; until then that state's id names its run
  (``domain.first_state_ids``), which is how it is read by id. Items expire after
  ``history_retention`` (DynamoDB TTL on ``_expires_at``);
* a ``result`` artifact when the state carries persisted result data (§3.1; unpersisted data is
  answered once and never stored, Q12);
* for a subflow, the mirror state forced onto its parent task run (UpdateSubflowParentTask) with
  the task-run bookkeeping (``task_run_orchestration.plan_task_run_state``).

Nullified transitions (REJECT to the current state, WAIT, ABORT) write nothing — except when a
rule changed the run anyway (HandleResumingPausedFlows marks it ``resuming`` even when it rejects,
Q3): then only the run document is written.

When a run enters CANCELLED its children are cancelled right away instead of by a cleanup loop
(§4.3): its non-terminal task runs are forced to Cancelled and its running subflows are proposed
Cancelling (with a deployment) or Cancelled — bounded work, best effort, after the commit.
"""

from __future__ import annotations

import copy
import logging
import uuid
from collections.abc import Callable
from typing import Any

from domain import contention, first_state_ids, run_companions
from domain.context import Ctx
from domain.errors import ConditionFailed, NotFound, ObjectNotFound, ServiceUnavailable
from domain.orchestration import bookkeeping
from domain.orchestration.engine import TERMINAL, Transition, run_after, run_policy
from domain.orchestration.policies import MINIMAL_FLOW_POLICY, flow_policy
from domain.parsing import Embedded
from domain.ports import Cond, TxOp, TxPut
from domain.states import StateCreate, is_persisted_data, proposed_state, server_state
from domain.timeutil import iso_utc, parse, sort_key

log = logging.getLogger("flowplane.orchestration")

STATE_KEYS = ("id", "type", "name", "timestamp", "message", "data", "state_details")
ARTIFACT_KEYS = (("artifact_key", "key"), ("artifact_type", "type"), ("artifact_description", "description"))
PARENT_CANCELLED = "The parent flow run was cancelled."
CASCADE_LIMIT = 100  # task runs cancelled per cancelled flow run (as the reference's cleanup batch)


def run_not_found(run_id: str) -> ObjectNotFound:
    return ObjectNotFound(f"Flow run with id {run_id} not found")


def state_wire(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stored state (history item or a run's ``state``) in wire shape."""
    if item is None:
        return None
    return {k: item.get(k) for k in STATE_KEYS}


def result(t: Transition, state: dict[str, Any] | None) -> dict[str, Any]:
    return {"state": state, "status": t.status, "details": t.details()}


# ------------------------------------------------------------------------------ state data


def split_result_data(data: Any) -> tuple[Any, dict[str, Any] | None]:
    """(data as stored and read back, result-artifact fields or None) — ``Artifact.from_result``:
    a persisted dict loses its ``artifact_*`` keys (the immediate answer lacks them too)."""
    if not is_persisted_data(data):
        return None, None
    info: dict[str, Any] = {"key": None, "type": None, "description": None}
    if isinstance(data, dict):
        data = dict(data)
        for source, target in ARTIFACT_KEYS:
            value = data.pop(source, None)
            if value:
                info[target] = value
    return data, info


def artifact_doc(info: dict[str, Any], data: Any, stamp: str, *, flow_run_id: str | None,
                 task_run_id: str | None) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "created": stamp, "updated": stamp, "key": info["key"], "type": info["type"],
            "description": info["description"], "data": data, "metadata_": None, "flow_run_id": flow_run_id,
            "task_run_id": task_run_id}


def _expires_at(ctx: Ctx) -> int:
    return int((ctx.now() + ctx.settings.history_retention).timestamp())


def history_item(ctx: Ctx, run_id: str, state: dict[str, Any]) -> dict[str, Any]:
    return {**state_wire(state), "flow_run_id": run_id, "_expires_at": _expires_at(ctx)}


# ------------------------------------------------------------------------------- deciding


def decide(ctx: Ctx, run: dict[str, Any], proposed: dict[str, Any] | None, rules: tuple, *,
           force: bool = False) -> Transition:
    """Run ``rules`` and (unless nullified) the bookkeeping over a copy of ``run``."""
    t = Transition(kind="flow", run=copy.deepcopy(run), initial=copy.deepcopy(run.get("state")),
                   proposed=proposed, now=ctx.now(), settings=ctx.settings, force=force)
    due = run_policy(rules, t)
    if not t.nullified:
        bookkeeping.flow(t)
    run_after(due, t)
    return t


def _mirror_ops(ctx: Ctx, run: dict[str, Any], validated: dict[str, Any]) -> list[TxOp]:
    """UpdateSubflowParentTask: force a copy of the written state onto the parent task run."""
    parent_id = run.get("parent_task_run_id")
    if not parent_id:
        return []
    task = ctx.stores.task_runs.get(parent_id)
    if task is None:
        return []
    from domain.orchestration.task_rules import MINIMAL_TASK_POLICY
    from domain.services.task_run_orchestration import plan_task_run_state

    mirror = copy.deepcopy({k: validated.get(k) for k in STATE_KEYS})
    mirror["id"] = str(uuid.uuid4())
    mirror["state_details"]["child_flow_run_id"] = run["id"]
    plan = plan_task_run_state(ctx, task, mirror, force=True, flow_run=None, policy=MINIMAL_TASK_POLICY)
    return list(plan.ops)


def plan_writes(ctx: Ctx, original: dict[str, Any], t: Transition, *, run_cond: Cond | None = None
                ) -> tuple[dict[str, Any] | None, list[TxOp]]:
    """(the state to answer with, the writes) for a decided transition."""
    run, now = t.run, t.now
    stamp = iso_utc(now)
    ops: list[TxOp] = []
    if t.nullified:
        answer = state_wire(original.get("state"))
        if run == original:
            return answer, []
    else:
        state = t.proposed
        stored_data, info = split_result_data(state.get("data"))
        if info is not None:
            state["data"] = stored_data
            ops.append(TxPut(ctx.stores.artifacts, artifact_doc(info, stored_data, stamp, flow_run_id=run["id"],
                                                                task_run_id=None)))
        answer = state_wire(state)
        stored = {**answer, "data": stored_data}
        if original.get("state") and not original.get("_state_stored"):
            ops.append(TxPut(ctx.stores.flow_run_states, history_item(ctx, run["id"], original["state"])))
        ops.append(TxPut(ctx.stores.flow_run_states, history_item(ctx, run["id"], stored)))
        run["state"] = stored
        run["state_id"] = stored["id"]
        run["_state_stored"] = True
        ops.extend(_mirror_ops(ctx, run, answer))
    rev = original.get("_rev", 0)
    run["updated"] = stamp
    run["_rev"] = rev + 1
    if run_cond is None:
        run_cond = Cond.eq("rev", rev) if "_rev" in original else Cond.exists()
    ops.insert(0, TxPut(ctx.stores.flow_runs, run, run_cond))
    ops.extend(run_companions.ops(ctx, "flow_run", None if run_cond.kind == "absent" else original, run))
    return answer, ops


# ------------------------------------------------------------------------------- proposing


def _propose(ctx: Ctx, run_id: str, make_proposed: Callable[[], dict[str, Any]], rules: tuple, *,
             force: bool = False, missing: Callable[[str], Exception] = run_not_found,
             extra_ops: Callable[[Transition], list[TxOp]] | None = None) -> tuple[dict, int, Transition]:
    for _ in contention.attempts():
        run = ctx.stores.flow_runs.get(run_id)
        if run is None:
            raise missing(run_id)
        t = decide(ctx, run, make_proposed(), rules, force=force)
        answer, ops = plan_writes(ctx, run, t)
        if ops and extra_ops is not None:
            ops.extend(extra_ops(t))
        if ops:
            try:
                ctx.stores.transact(ops)
            except ConditionFailed:
                continue
        if not t.nullified and t.proposed_type == "CANCELLED":
            cancel_children(ctx, t.run)
        return result(t, answer), (200 if t.nullified else 201), t
    raise ServiceUnavailable("Service Unavailable")


def propose_flow_run_state(ctx: Ctx, run_id: str, state: StateCreate, *, force: bool = False,
                           policy: str | None = None) -> tuple[dict, int]:
    """Orchestrate ``state`` for the flow run: CoreFlowPolicy, MinimalFlowPolicy when forced, or
    the named policy (``"late"``: MarkLateRunsPolicy, ``"minimal"``). Returns the
    OrchestrationResult and its HTTP status (201 when this call wrote a state, else 200)."""
    template = proposed_state(state, ctx.now())
    rules = flow_policy(force=force, name=policy)
    answer, status, _ = _propose(ctx, run_id, lambda: copy.deepcopy(template), rules, force=force)
    return answer, status


# -------------------------------------------------------------------------------- creating


def insert_flow_run(ctx: Ctx, run: dict[str, Any], state: dict[str, Any], *, run_cond: Cond | None = None,
                    extra_ops: list[TxOp] = ()) -> dict[str, Any]:
    """Write a new run with its initial ``state`` through the forced path (MinimalFlowPolicy and
    the global bookkeeping, §1.1 step 3), in one transaction with ``extra_ops`` (e.g. an
    idempotency guard). Raises ``ConditionFailed`` when a condition does not hold. Returns the
    written run document."""
    fresh = {**run, "state": None, "state_id": None, "_rev": 0}
    t = decide(ctx, fresh, state, MINIMAL_FLOW_POLICY, force=True)
    _, ops = plan_writes(ctx, fresh, t, run_cond=run_cond or Cond.absent())  # the run is written at _rev 1
    ctx.stores.transact([*ops, *extra_ops])
    return t.run


# ------------------------------------------------------------------------------ cancelling


def cancel_children(ctx: Ctx, run: dict[str, Any]) -> None:
    """§4.3 at transition time: force the run's non-terminal task runs to Cancelled, propose
    Cancelling/Cancelled to its subflows that are still going. Best effort."""
    try:
        _cancel_children(ctx, run)
    except Exception:  # noqa: BLE001 - the run itself is cancelled; children are best effort
        log.exception("cancelling the children of flow run %s", run.get("id"))


def _cancel_children(ctx: Ctx, run: dict[str, Any]) -> None:
    from domain.orchestration.task_rules import MINIMAL_TASK_POLICY
    from domain.services.task_run_orchestration import plan_task_run_state

    subflows: list[str] = []
    done = 0
    for task in ctx.stores.task_runs.query("by_flow_run", run["id"]):
        child = ((task.get("state") or {}).get("state_details") or {}).get("child_flow_run_id")
        if child:
            subflows.append(child)
        if task.get("state_type") in TERMINAL or done >= CASCADE_LIMIT:
            continue
        done += 1
        for _ in contention.attempts(5):
            current = ctx.stores.task_runs.get(task["id"])
            if current is None or current.get("state_type") in TERMINAL:
                break
            state = server_state("CANCELLED", ctx.now(), message=PARENT_CANCELLED)
            plan = plan_task_run_state(ctx, current, state, force=True, flow_run=None, policy=MINIMAL_TASK_POLICY)
            try:
                if plan.ops:
                    ctx.stores.transact(plan.ops)
                break
            except ConditionFailed:
                continue
    for child_id in dict.fromkeys(subflows):
        child = ctx.stores.flow_runs.get(child_id)
        if child is None or child.get("state_type") not in ("PENDING", "SCHEDULED", "RUNNING", "PAUSED",
                                                             "CANCELLING"):
            continue
        kind = "CANCELLING" if child.get("deployment_id") else "CANCELLED"
        try:
            _propose(ctx, child_id, lambda kind=kind: server_state(kind, ctx.now(), message=PARENT_CANCELLED),
                     MINIMAL_FLOW_POLICY, missing=lambda i: NotFound(i))
        except (NotFound, ServiceUnavailable):
            continue


# --------------------------------------------------------------------------------- history


def flow_run_history(ctx: Ctx, flow_run_id: str) -> list[dict[str, Any]]:
    """``GET /flow_run_states/?flow_run_id=``: the stored states plus the run's current state,
    by timestamp (unknown run → []; a deleted run's states went with it in the reference, so the
    items its deletion left for their TTL are not answered)."""
    run = ctx.stores.flow_runs.get(flow_run_id)
    if run is None:
        return []
    states = {item["id"]: state_wire(item) for item in ctx.stores.flow_run_states.query("by_flow_run", flow_run_id)}
    if run.get("state") and run["state"].get("id") not in states:
        states[run["state"]["id"]] = state_wire(run["state"])
    return sorted(states.values(), key=lambda s: sort_key(parse(s["timestamp"])))


def read_flow_run_state(ctx: Ctx, state_id: str) -> dict[str, Any]:
    """``GET /flow_run_states/{id}``: two GetItems — the history item, then its run.

    A scheduler-inserted run's first state has no item until the run moves; its id names the run
    (``domain.first_state_ids``), so a miss reads that run and answers its current state if it is
    the one asked for. The run is read on a hit too: the reference deletes a run's states with it,
    so the items a deletion left for their TTL answer 404; and a scheduler run deleted and inserted
    again (same run id, same first state id) answers its own first state, not the old item."""
    item = ctx.stores.flow_run_states.get(state_id)
    if item is not None and "flow_run_id" in item:
        run_id = item["flow_run_id"]
    else:
        item, run_id = None, first_state_ids.scheduled_run_id(state_id)
    run = ctx.stores.flow_runs.get(run_id) if run_id else None
    if run is None:
        raise NotFound("Flow run state not found")
    current = run.get("state") or {}
    if current.get("id") == state_id:
        return state_wire(current)
    if item is None:
        raise NotFound("Flow run state not found")
    return state_wire(item)


# ---------------------------------------------------------------------------------- resume

NOT_PAUSED = "Cannot resume a flow run that is not paused."


def _input_refusal(state: dict[str, Any], reason: str) -> tuple[dict, int]:
    """Resume input failures: REJECT with the current Paused state but abort details (Q1)."""
    return {"state": state_wire(state), "status": "REJECT",
            "details": {"type": "abort_details", "reason": reason}}, 200


def _checked_run_input(ctx: Ctx, run_id: str, keyset: dict[str, str], run_input: dict | None
                       ) -> tuple[dict | None, str | None]:
    """(hydrated input, None) or (None, refusal reason) — §1.4 step 3."""
    import json

    from domain.hydration import HydrationError, hydrate
    from domain.services import flow_run_inputs
    from domain.services.deployments import variable_lookup
    from domain.validation import (
        CircularSchemaError,
        InvalidSchemaError,
        ParameterValidationError,
        validate_parameters,
    )

    try:
        hydrated = hydrate(run_input or {}, variable_lookup(ctx)) or {}
    except HydrationError as exc:
        return None, f"Error hydrating run input: {exc}"
    schema_text = flow_run_inputs.value_of(ctx, run_id, keyset.get("schema", ""))
    if schema_text is None:
        return None, "Run input schema not found."
    try:
        schema = json.loads(schema_text)
    except ValueError:
        return None, "Run input schema is not valid JSON."
    try:
        validate_parameters(hydrated, schema, ignore_required=False)
    except ParameterValidationError as exc:
        return None, f"Reason: {exc}"
    except CircularSchemaError:
        return None, "Invalid schema: Unable to validate schema with circular references."
    except InvalidSchemaError as exc:
        return None, f"Reason: Invalid schema: {exc}"
    return hydrated, None


def resume_flow_run(ctx: Ctx, run_id: str, run_input: dict | None) -> tuple[dict, int]:
    """``POST /flow_runs/{id}/resume`` (§1.4): propose Running (or Scheduled ``Resuming`` for a
    suspended run) through CoreFlowPolicy; with a run-input keyset, validate the input first and
    store it with the accepted state, in the same transaction."""
    import json

    from domain.orchestration.policies import CORE_FLOW_POLICY
    from domain.services import flow_run_inputs

    run = ctx.stores.flow_runs.get(run_id)
    if run is None:
        raise NotFound("Flow run not found")  # the reference answers 500 (Q2): 404 as recommended
    state = run.get("state")
    if not state or state.get("type") != "PAUSED":
        return {"state": None, "status": "ABORT", "details": {"type": "abort_details", "reason": NOT_PAUSED}}, 200
    details = state.get("state_details") or {}
    keyset = details.get("run_input_keyset")
    checked: dict | None = None
    if keyset:
        checked, refusal = _checked_run_input(ctx, run_id, keyset, run_input)
        if refusal is not None:
            return _input_refusal(state, refusal)

    def make() -> dict[str, Any]:
        now = ctx.now()
        if details.get("pause_reschedule"):
            return server_state("SCHEDULED", now, name="Resuming", scheduled_time=iso_utc(now))
        return server_state("RUNNING", now)

    def store_input(t: Transition) -> list[TxOp]:
        if keyset and checked and t.status == "ACCEPT":
            return [flow_run_inputs.put_op(ctx, run_id, keyset["response"], json.dumps(checked, separators=(",", ":")))]
        return []

    answer, status, _ = _propose(ctx, run_id, make, CORE_FLOW_POLICY, extra_ops=store_input)
    return answer, status


class ResumeBody(Embedded):
    run_input: dict[str, Any] | None = None
