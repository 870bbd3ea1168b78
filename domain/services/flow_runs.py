"""Flow runs: shape, wire format, state changes, reads and filters (spec §4.9, §5.6)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from domain import ids, run_companions
from domain.context import Ctx
from domain.errors import ConditionFailed, NotFound
from domain.parsing import Embedded
from domain.ports import Cond
from domain.states import TERMINAL, StateCreate, details_wire, new_state, proposed_state
from domain.timeutil import ensure_aware, iso_utc, parse

FLOW_RUN_NOT_FOUND = "Flow run not found"

WIRE_KEYS = (
    "id", "created", "updated", "name", "flow_id", "state_id", "deployment_id", "deployment_version",
    "work_queue_id", "work_queue_name", "flow_version", "parameters", "idempotency_key", "context",
    "empirical_policy", "tags", "parent_task_run_id", "state_type", "state_name", "run_count",
    "expected_start_time", "next_scheduled_start_time", "start_time", "end_time", "total_run_time",
    "estimated_run_time", "estimated_start_time_delta", "auto_scheduled", "infrastructure_document_id",
    "infrastructure_pid", "created_by", "work_pool_id", "work_pool_name", "state", "job_variables",
)


class FlowRunPolicy(BaseModel):
    model_config = ConfigDict(extra="ignore")
    max_retries: int = 0
    retry_delay_seconds: float = 0.0
    retries: int | None = None
    retry_delay: int | float | None = None
    pause_keys: list[str] | None = Field(default_factory=list)
    resuming: bool | None = False
    retry_type: str | None = None

    def wire(self) -> dict[str, Any]:
        # the reference's deprecated-field rule: an unset or 0 ``retries``/``retry_delay`` takes a
        # non-zero ``max_retries``/``retry_delay_seconds``
        retries = self.max_retries if not self.retries and self.max_retries != 0 else self.retries
        delay = self.retry_delay_seconds if not self.retry_delay and self.retry_delay_seconds != 0 else self.retry_delay
        return {
            "max_retries": self.max_retries,
            "retry_delay_seconds": float(self.retry_delay_seconds),
            "retries": retries,
            "retry_delay": delay,
            "pause_keys": self.pause_keys if self.pause_keys is not None else [],
            "resuming": bool(self.resuming),
            "retry_type": self.retry_type,
        }


_ADJECTIVES = (
    "amber azure bold brave bright calm clever cosmic crimson daring eager fancy fearless gentle giga "
    "golden happy hidden icy jolly keen lively lucky magic mellow merry mighty nimble noble olive "
    "peaceful proud quick quiet rapid ruby rustic sage shaggy shiny silent silver sleek smooth snappy "
    "solid spiffy stellar sunny swift tidy tireless tranquil vagabond vivid warm wild witty zealous"
).split()
_ANIMALS = (
    "aardvark albatross alpaca ant badger bat bear beaver bison bobcat butterfly camel caracal cheetah "
    "cobra condor corgi coyote crane dingo dolphin donkey eagle eel falcon ferret finch fox gazelle "
    "gecko gibbon goose gorilla hare hawk hedgehog heron hyena ibex iguana impala jackal jaguar kiwi "
    "koala lemur leopard lion llama lynx macaw marmot meerkat mink moose narwhal newt ocelot okapi "
    "orca otter owl panda panther parrot pelican penguin puffin quail rabbit raccoon raven rhino "
    "salamander seal shark sloth stork swan tapir tiger toucan turtle viper walrus whippet wolf wombat yak zebra"
).split()


def slug() -> str:
    """A random two-word ``adjective-animal`` run name (spec §5.6)."""
    return f"{random.choice(_ADJECTIVES)}-{random.choice(_ANIMALS)}"


def new_run(*, run_id: str, now: dt.datetime, flow_id: str, name: str | None = None,
            deployment: dict | None = None, parameters: dict | None = None, tags: list[str] | None = None,
            idempotency_key: str | None = None, context: dict | None = None,
            empirical_policy: dict | None = None, parent_task_run_id: str | None = None,
            infrastructure_document_id: str | None = None, work_queue: dict | None = None,
            work_queue_name: str | None = None, job_variables: dict | None = None,
            auto_scheduled: bool = False, created_by: dict | None = None,
            flow_version: str | None = None) -> dict[str, Any]:
    """A run document without a state yet (``apply_state`` sets it)."""
    created = iso_utc(now)
    return {
        "id": run_id,
        "created": created,
        "updated": created,
        "name": name or slug(),
        "flow_id": flow_id,
        "state_id": None,
        "deployment_id": deployment["id"] if deployment else None,
        "deployment_version": deployment.get("version") if deployment else None,
        "work_queue_id": work_queue["id"] if work_queue else None,
        "work_queue_name": work_queue_name,
        "flow_version": flow_version,
        "parameters": parameters or {},
        "idempotency_key": idempotency_key,
        "context": context or {},
        "empirical_policy": empirical_policy or FlowRunPolicy().wire(),
        "tags": tags or [],
        "parent_task_run_id": parent_task_run_id,
        "state_type": None,
        "state_name": None,
        "run_count": 0,
        "expected_start_time": None,
        "next_scheduled_start_time": None,
        "start_time": None,
        "end_time": None,
        "total_run_time": 0.0,
        "auto_scheduled": auto_scheduled,
        "infrastructure_document_id": infrastructure_document_id,
        "infrastructure_pid": None,
        "created_by": created_by,
        "state": None,
        "job_variables": job_variables or {},
        # denormalised from the queue at creation so a read is one GetItem
        "_wq_name": work_queue["name"] if work_queue else None,
        "_wp_id": work_queue.get("work_pool_id") if work_queue else None,
        "_wp_name": work_queue.get("_pool_name") if work_queue else None,
        "_rev": 0,
    }


def scheduled_state(run: dict, scheduled_time_iso: str | None, now: dt.datetime, *, message: str | None = None,
                    name: str = "Scheduled") -> dict:
    details = details_wire(None, scheduled_time=scheduled_time_iso)
    return new_state(ids.new_id(), "SCHEDULED", name=name, message=message, data=None, details=details, timestamp=now)


def state_from_create(state: StateCreate, now: dt.datetime) -> dict:
    return new_state(
        ids.new_id(), state.type.value, name=state.name, message=state.message, data=state.data,
        details=details_wire(state.state_details), timestamp=now,
    )


def to_wire(doc: dict, now: dt.datetime) -> dict[str, Any]:
    out = {k: doc.get(k) for k in WIRE_KEYS}
    if doc.get("work_queue_id") and doc.get("_wq_name"):
        out["work_queue_name"] = doc["_wq_name"]
    out["work_pool_id"] = doc.get("_wp_id") if doc.get("work_queue_id") else None
    out["work_pool_name"] = doc.get("_wp_name") if doc.get("work_queue_id") else None
    total = float(doc.get("total_run_time") or 0.0)
    state_type = doc.get("state_type")
    if state_type == "RUNNING" and doc.get("_state_entered"):
        out["estimated_run_time"] = total + max(0.0, (now - parse(doc["_state_entered"])).total_seconds())
    else:
        out["estimated_run_time"] = total
    out["total_run_time"] = total
    delta = 0.0
    expected = parse(doc["expected_start_time"]) if doc.get("expected_start_time") else None
    if expected is not None:
        if doc.get("start_time"):
            delta = max(0.0, (parse(doc["start_time"]) - expected).total_seconds())
        elif state_type not in TERMINAL and expected < now:
            delta = (now - expected).total_seconds()
    out["estimated_start_time_delta"] = delta
    return out


def created_wire(doc: dict, now: dt.datetime) -> dict[str, Any]:
    """The answer to a create: the reference answered its in-memory run, whose expected and next
    scheduled start keep the offset the caller gave in ``state_details.scheduled_time``
    (``2031-05-01T10:00:00-04:00``); every later read (and an idempotent re-create) answers UTC."""
    out = to_wire(doc, now)
    given = ((out.get("state") or {}).get("state_details") or {}).get("scheduled_time")
    if out.get("state_type") == "SCHEDULED" and isinstance(given, str):
        for key in ("expected_start_time", "next_scheduled_start_time"):
            if out.get(key) and parse(out[key]) == parse(given):
                out[key] = given
    return out


# --------------------------------------------------------------------------------------------- reads


def get(ctx: Ctx, run_id: str) -> dict:
    doc = ctx.stores.flow_runs.get(run_id)
    if doc is None:
        raise NotFound(FLOW_RUN_NOT_FOUND)
    return doc


def read(ctx: Ctx, run_id: str) -> dict:
    return to_wire(get(ctx, run_id), ctx.now())


def delete(ctx: Ctx, run_id: str) -> None:
    """``DELETE /flow_runs/{id}`` (see ``delete_runs``)."""
    doc = ctx.stores.flow_runs.get(run_id)
    if doc is None or not delete_runs(ctx, [doc]):
        raise NotFound(FLOW_RUN_NOT_FOUND)


def delete_runs(ctx: Ctx, docs: Iterable[dict], *, keep: Callable[[dict], bool] | None = None) -> list[str]:
    """Delete the runs ``docs`` (as read) with their companions (``run_companions.delete_runs``:
    a run that changed meanwhile is re-read, and skipped when ``keep(fresh)`` or gone), then the
    task runs of those deleted, as the reference's foreign key cascades them. Every deletion of
    flow runs goes through here. Returns the ids deleted."""
    from domain.services import task_runs

    deleted = run_companions.delete_runs(ctx, "flow_run", docs, keep=keep)
    task_runs.delete_of_flow_runs(ctx, deleted)
    return deleted


# ------------------------------------------------------------------------------------- create


class FlowRunCreate(BaseModel):
    """``POST /flow_runs/`` (spec §1.1): ad-hoc runs and subflows."""

    model_config = ConfigDict(extra="forbid")
    state: StateCreate | None = None
    name: str | None = None
    flow_id: UUID
    flow_version: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    context: dict[str, Any] = Field(default_factory=dict)
    parent_task_run_id: UUID | None = None
    infrastructure_document_id: UUID | None = None
    empirical_policy: FlowRunPolicy = Field(default_factory=FlowRunPolicy)
    tags: list[str] = Field(default_factory=list)
    idempotency_key: str | None = None
    deployment_id: UUID | None = None


def idempotency_guard(flow_id: str, key: str) -> str:
    return f"flow_run_idem:{flow_id}/{key}"


def create(ctx: Ctx, body: FlowRunCreate, *, created_by: dict | None = None) -> tuple[dict, bool]:
    """Create a run (201) or return the run that already holds (flow, idempotency key) unchanged
    (200). The key is held by a guard item written in the same transaction as the run, so two
    racing creates make one run; run ids stay fresh uuid4s. ``""`` is stored but looked up as no
    key, so a second ``""`` on a flow hits the guard: 409 (quirk Q7)."""
    from domain.errors import IntegrityConflict
    from domain.ports import TxPut
    from domain.services import run_orchestration

    flow_id = str(body.flow_id)
    if ctx.stores.flows.get(flow_id) is None:
        raise IntegrityConflict()
    parent = str(body.parent_task_run_id) if body.parent_task_run_id else None
    if parent is not None and ctx.stores.task_runs.get(parent) is None:
        raise IntegrityConflict()
    if body.infrastructure_document_id is not None:
        from domain.services import blocks

        if not blocks.document_exists(ctx, str(body.infrastructure_document_id)):
            raise IntegrityConflict()  # the reference's foreign key (an unknown deployment_id is kept)
    key = body.idempotency_key
    guard_id = idempotency_guard(flow_id, key) if key is not None else None
    for _ in range(5):
        now = ctx.now()
        run = new_run(
            run_id=ids.new_id(), now=now, flow_id=flow_id, name=body.name or None, parameters=body.parameters,
            tags=body.tags, idempotency_key=key, context=body.context, empirical_policy=body.empirical_policy.wire(),
            parent_task_run_id=parent, infrastructure_document_id=(
                str(body.infrastructure_document_id) if body.infrastructure_document_id else None),
            flow_version=body.flow_version,
        )
        run["deployment_id"] = str(body.deployment_id) if body.deployment_id else None
        run["created_by"] = created_by
        state = proposed_state(body.state or StateCreate(type="PENDING"), now)
        guard_cond = Cond.absent()
        if guard_id is not None and key != "":
            # the key may also be held by a run of a deployment of this flow (create_flow_run and the
            # scheduler use the deterministic id of (flow, key)); the reference has one unique index
            keyed = ctx.stores.flow_runs.get(ids.flow_run_id(flow_id, key))
            if keyed is not None:
                return to_wire(keyed, now), False
            holder = ctx.stores.guards.get(guard_id)
            if holder is not None:
                existing = ctx.stores.flow_runs.get(holder.get("owner_id"))
                if existing is not None:
                    return to_wire(existing, now), False
                guard_cond = Cond.exists()  # the run it guarded was deleted: take the key over
                # (exists, not eq: a concurrent taker would also win; acceptable for a stale key)
        extra = [] if guard_id is None else [TxPut(ctx.stores.guards, {"id": guard_id, "owner_id": run["id"]},
                                                   guard_cond)]
        try:
            written = run_orchestration.insert_flow_run(ctx, run, state, extra_ops=extra)
        except ConditionFailed:
            if key == "":
                raise IntegrityConflict() from None
            continue
        return created_wire(written, ctx.now()), True
    from domain.errors import ServiceUnavailable

    raise ServiceUnavailable("Service Unavailable")


# ------------------------------------------------------------------------------------- set_state


class SetStateBody(Embedded):
    state: StateCreate
    force: bool = False


def set_state(ctx: Ctx, run_id: str, body: SetStateBody) -> tuple[dict, int]:
    """Propose a state (CoreFlowPolicy, or MinimalFlowPolicy when forced). Returns the
    OrchestrationResult and its HTTP status."""
    from domain.services import run_orchestration

    return run_orchestration.propose_flow_run_state(ctx, run_id, body.state, force=body.force)


# ---------------------------------------------------------------------------------------- update


class FlowRunUpdate(BaseModel):
    """Explicit nulls: ``tags``/``parameters``/``empirical_policy`` refuse them (422 "none is not an
    allowed value"), ``name`` draws a new slug, the others store null (checked against the reference)."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    flow_version: str | None = None
    parameters: dict[str, Any] = None  # type: ignore[assignment]
    empirical_policy: FlowRunPolicy = None  # type: ignore[assignment]
    tags: list[str] = None  # type: ignore[assignment]
    infrastructure_pid: str | None = None
    job_variables: dict | None = None


def update(ctx: Ctx, run_id: str, body: FlowRunUpdate, validate_job_variables=None) -> None:
    """PATCH (spec §1.2): only the keys present are written, each wholesale; ``name: null`` draws
    a new slug (Q6). Job variables only for a SCHEDULED run of an existing deployment, validated
    against its pool (``validate_job_variables(run, deployment, job_variables)``)."""
    from domain.errors import BadRequest

    fields = body.model_fields_set
    for _ in range(5):
        run = get(ctx, run_id)
        before = dict(run)
        if "job_variables" in fields and body.job_variables is not None:
            if run.get("state") is None:
                raise BadRequest("Flow run state is required to update job variables but none exists")
            if run.get("state_type") != "SCHEDULED":
                raise BadRequest(
                    f"Job variables for a flow run in state {run.get('state_type')} cannot be updated"
                )
            deployment = ctx.stores.deployments.get(run["deployment_id"]) if run.get("deployment_id") else None
            if deployment is None:
                raise BadRequest("A deployment for the flow run could not be found")
            if validate_job_variables is not None:
                validate_job_variables(run, deployment, body.job_variables)
        for key in fields:
            value = getattr(body, key)
            if key == "name" and value is None:
                value = slug()
            run[key] = value.wire() if isinstance(value, FlowRunPolicy) else value
        rev = run.get("_rev", 0)
        run["_rev"] = rev + 1
        run["updated"] = iso_utc(ctx.now())
        try:
            run_companions.put(ctx, "flow_run", before, run, Cond.eq("rev", rev))
            return
        except ConditionFailed:
            continue
    from domain.errors import ServiceUnavailable

    raise ServiceUnavailable("Service Unavailable")


def aware(v: dt.datetime | None) -> dt.datetime | None:
    return ensure_aware(v) if v else v
