"""Deployments: create/upsert, update, reads, pause/resume, schedule sub-resource (spec §3, §5).

The stored document is the DeploymentResponse plus hidden fields (prefixed ``_``) the reference
keeps in columns: ``work_queue_id``, the legacy ``schedule`` column, the stored
``is_schedule_active``, the queue/pool names denormalised at write time (so a read is one
GetItem), the optimistic-lock revision ``_rev`` and the scheduler's ``_due_at``. Schedules are
embedded, so a deployment and its schedules change in one conditional write.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from domain import ids, name_guards
from domain.contention import attempts
from domain.context import Ctx
from domain.errors import (
    BadRequest,
    ConditionFailed,
    Conflict,
    IntegrityConflict,
    InvalidInput,
    NotFound,
    ServiceUnavailable,
    Unprocessable,
)
from domain.ports import Cond, TxDelete, TxPut
from domain.services import polling
from domain.services.deployment_models import (
    DeploymentCreate,
    DeploymentScheduleCreate,
    DeploymentScheduleUpdate,
    DeploymentUpdate,
)
from domain.tag_index import ops as tag_ops
from domain.timeutil import iso_utc, sort_key

NOT_FOUND = "Deployment not found"
NOT_FOUND_DOT = "Deployment not found."
SCHEDULE_NOT_FOUND = "Schedule not found."
DEFAULT_AGENT_POOL = "default-agent-pool"

WIRE_KEYS = (
    "id", "created", "updated", "infra_overrides", "name", "version", "description", "flow_id", "schedule",
    "is_schedule_active", "paused", "schedules", "parameters", "tags", "work_queue_name", "last_polled",
    "parameter_openapi_schema", "path", "pull_steps", "entrypoint", "manifest_path", "storage_document_id",
    "infrastructure_document_id", "created_by", "updated_by", "work_pool_name", "status",
    "enforce_parameter_schema",
)
SCHEDULE_KEYS = ("id", "created", "updated", "deployment_id", "schedule", "active", "max_active_runs",
                 "max_scheduled_runs", "catchup")


# ----------------------------------------------------------------------------------------- wire


def ordered_schedules(doc: dict) -> list[dict]:
    """Schedules, most recently updated first (the reference's order)."""
    return sorted(doc.get("schedules") or [], key=lambda s: s["updated"], reverse=True)


def to_wire(doc: dict, ctx: Ctx | None = None) -> dict[str, Any]:
    """The DeploymentResponse. With ``ctx``, ``status``/``last_polled``/``updated`` are as of now,
    derived from the deployment's poll records (``polling.deployment_polls``)."""
    schedules = [{k: s.get(k) for k in SCHEDULE_KEYS} for s in ordered_schedules(doc)]
    has_queue = bool(doc.get("work_queue_id"))
    out = {k: doc.get(k) for k in WIRE_KEYS}
    out.update(
        schedule=schedules[0]["schedule"] if schedules else None,
        is_schedule_active=not doc["paused"],
        schedules=schedules,
        work_queue_name=doc.get("_wq_name") if has_queue and doc.get("_wq_name") else doc.get("work_queue_name"),
        work_pool_name=doc.get("_wp_name") if has_queue else None,
        created_by=None,
        updated_by=None,
    )
    if ctx is not None:
        out.update(polling.deployment_polls(ctx, [doc])[0])
    return out


def to_wire_many(docs: list[dict], ctx: Ctx) -> list[dict[str, Any]]:
    """DeploymentResponses of a page: its poll records are batch-read once for all of them."""
    return [{**to_wire(d), **p} for d, p in zip(docs, polling.deployment_polls(ctx, docs), strict=True)]


def multiple_schedules(dep_id: str) -> Unprocessable:
    return Unprocessable([
        f"Error updating deployment: Deployment UUID('{dep_id}') has multiple schedules. Please use the UI or "
        "update your client to adjust this deployment's schedules."
    ])


# ------------------------------------------------------------------------------------ helpers


def _schedule_rows(dep_id: str, items: list[tuple[dict, bool, Any, Any, bool]], now: dt.datetime) -> list[dict]:
    """New schedule rows; later inputs get later ``updated`` so responses list them first."""
    rows = []
    for i, (schedule, active, max_active, max_sched, catchup) in enumerate(items):
        stamp = iso_utc(now + dt.timedelta(microseconds=i))
        rows.append({
            "id": ids.new_id(), "created": stamp, "updated": stamp, "deployment_id": dep_id,
            "schedule": schedule, "active": active, "max_active_runs": max_active,
            "max_scheduled_runs": max_sched, "catchup": catchup,
        })
    return rows


def _check_max_scheduled_runs(ctx: Ctx, schedules: list[DeploymentScheduleCreate] | None, loc: list) -> None:
    limit = ctx.settings.deployment_schedule_max_scheduled_runs
    for i, s in enumerate(schedules or []):
        if s.max_scheduled_runs is not None and s.max_scheduled_runs > limit:
            raise InvalidInput([{
                "loc": [*loc, i, "max_scheduled_runs"],
                "msg": f"`max_scheduled_runs` must be less than or equal to {limit}.",
                "type": "value_error",
            }])


def set_due(ctx: Ctx, doc: dict, when: dt.datetime | None = None) -> None:
    """Put the deployment on the scheduler's sparse ``due`` index iff it can need runs."""
    active = (not doc.get("paused")) and any(s.get("active") for s in doc.get("schedules") or [])
    if active:
        doc["_due_at"] = sort_key(when or ctx.now())
        doc["_due_shard"] = str(int(doc["id"].replace("-", "")[:8], 16) % max(1, ctx.settings.due_shards))
    else:
        doc.pop("_due_at", None)
        doc.pop("_due_shard", None)


def get_doc(ctx: Ctx, dep_id: str, detail: str = NOT_FOUND) -> dict:
    doc = ctx.stores.deployments.get(dep_id)
    if doc is None:
        raise NotFound(detail)
    return doc


def mutate(ctx: Ctx, dep_id: str, change: Callable[[dict], Any], *, detail: str = NOT_FOUND) -> Any:
    """Read-modify-write with an optimistic revision condition, retried (with backoff) on conflicts.
    A change of tags moves the deployment's tag items in the same transaction."""
    for _ in attempts():
        doc = get_doc(ctx, dep_id, detail)
        rev = doc.get("_rev", 0)
        before = {"id": doc["id"], "name": doc.get("name"), "tags": list(doc.get("tags") or ())}
        result = change(doc)
        if result is _UNCHANGED:
            return None
        doc["_rev"] = rev + 1
        try:
            _put(ctx, before, doc, Cond.eq("rev", rev))
        except ConditionFailed:
            continue
        return result
    raise ServiceUnavailable("Service Unavailable")


_UNCHANGED = object()


def _put(ctx: Ctx, old: dict | None, doc: dict, cond: Cond) -> None:
    """Write ``doc`` on ``cond`` with its tag items (domain/tag_index.py): one put when its tags
    did not change, else one transaction."""
    writes = tag_ops(ctx, "deployment", old, doc)
    if writes:
        ctx.stores.transact([TxPut(ctx.stores.deployments, doc, cond), *writes])
    else:
        ctx.stores.deployments.put(doc, cond=cond)


def delete_scheduled_runs(ctx: Ctx, dep_id: str, *, auto_only: bool) -> int:
    """Delete the deployment's runs whose state type is SCHEDULED (spec §5.3).

    Each delete is conditional on the run still being SCHEDULED, so a run that moved on (e.g. to
    PENDING/RUNNING) in the meantime is never removed.
    """
    def keep(run: dict) -> bool:
        return run.get("state_type") != "SCHEDULED" or (auto_only and not run.get("auto_scheduled"))

    runs = ctx.stores.flow_runs.query("scheduled_by_deployment", dep_id)
    from domain.services import flow_runs  # (their task runs go with them: a run waiting to retry
    # is SCHEDULED and has task runs)

    n = len(flow_runs.delete_runs(ctx, runs, keep=keep))
    if n and auto_only:
        _rearm(ctx, dep_id)
    return n


def _rearm(ctx: Ctx, dep_id: str) -> None:
    """Put the deployment back on the ``due`` index after its auto-scheduled runs were deleted.

    The write that triggered the deletion already set ``due_at = now``, but a scheduler tick may
    have read the new deployment, inserted its runs and re-armed ``due_at`` for later *before* this
    deletion removed those runs; without this the deployment would wait until then for new runs.
    """

    def change(doc: dict) -> None:
        set_due(ctx, doc)

    try:
        mutate(ctx, dep_id, change)
    except NotFound:
        pass


def enforce_parameters(dep: dict, parameters: dict, *, ignore_required: bool, error_prefix: str) -> None:
    """Validate ``parameters`` against the deployment's stored schema (spec §3.2 step 6, §3.12 step 3)."""
    schema = dep.get("parameter_openapi_schema")
    if not isinstance(schema, dict):
        raise Conflict(
            "Error updating deployment: Cannot update parameters because parameter schema enforcement is "
            "enabled and the deployment does not have a valid parameter schema."
        )
    from domain.validation import (
        CircularSchemaError,
        InvalidSchemaError,
        ParameterValidationError,
        validate_parameters,
    )

    try:
        validate_parameters(parameters, schema, ignore_required=ignore_required)
    except CircularSchemaError:
        raise Unprocessable("Invalid schema: Unable to validate schema with circular references.") from None
    except InvalidSchemaError as exc:
        raise Unprocessable(f"Invalid schema: {exc}") from None
    except ParameterValidationError as exc:
        raise Conflict(f"{error_prefix}: {exc}") from None


def _pool_errors(fn: Callable[[], Any], prefix: str) -> Any:
    from domain.validation import (
        BlockNotFound,
        CircularSchemaError,
        InvalidSchemaError,
        ParameterValidationError,
    )

    try:
        return fn()
    except ParameterValidationError as exc:
        raise Unprocessable(f"{prefix}: {exc}") from None
    except BlockNotFound:
        raise NotFound("Block not found.") from None
    except CircularSchemaError:
        raise Unprocessable("Invalid schema: Unable to validate schema with circular references.") from None
    except InvalidSchemaError as exc:
        raise Unprocessable(f"Invalid schema: {exc}") from None


def _load_block_data(ctx: Ctx) -> Callable[[str], dict | None]:
    def load(block_document_id: str) -> dict | None:
        from domain.services import blocks

        return blocks.read_document_data(ctx, block_document_id)

    return load


def variable_lookup(ctx: Ctx) -> Callable[[str], str | None]:
    def lookup(name: str) -> str | None:
        from domain.services import variables

        return variables.value_of(ctx, name)  # by name: a renamed variable no longer sits at uuid5(name)

    return lookup


def _queue_fields(queue: dict | None, pool: dict | None) -> dict[str, Any]:
    if queue is None:
        return {"work_queue_id": None, "_wq_name": None, "_wp_id": None, "_wp_name": None}
    return {"work_queue_id": queue["id"], "_wq_name": queue["name"], "_wp_id": queue.get("work_pool_id"),
            "_wp_name": pool["name"] if pool else None}


def resolve_work_queue(ctx: Ctx, pool_name: str | None, queue_name: str | None, *,
                       pool: dict | None = None) -> dict[str, Any] | None:
    """Spec §3.1 step 3. Returns the queue fields to write, or None when neither name was given."""
    if not pool_name and not queue_name:
        return None
    from domain.services import work_pools, work_queues

    if pool_name:
        pool = pool or work_pools.read_pool_by_name(ctx, pool_name)
        if pool is None:
            raise NotFound(f'Work pool "{pool_name}" not found.')
        if queue_name:
            queue = work_queues.get_or_create_in_pool(ctx, pool, queue_name)
        else:
            queue = work_queues.read_queue(ctx, pool["default_queue_id"])
        return _queue_fields(queue, pool)
    if queue_name:
        queue = work_queues.ensure_work_queue_exists(ctx, queue_name)
        pool = work_pools.read_pool_by_name(ctx, DEFAULT_AGENT_POOL)
        return _queue_fields(queue, pool)
    return None


# ------------------------------------------------------------------------------------- create


def create(ctx: Ctx, body: DeploymentCreate) -> tuple[dict, bool]:
    """POST /deployments/ (spec §3.1, §5.1). Returns (response, created)."""
    from domain.schedules import schedule_to_wire

    fields = body.model_fields_set
    flow_id = str(body.flow_id)
    job_variables = body.effective_job_variables()
    _check_max_scheduled_runs(ctx, body.schedules, ["body", "schedules"])

    if body.enforce_parameter_schema:
        from domain.validation import _INVALID_JSON_SCHEMA, ParameterValidationError, validate_create_time

        try:
            validate_create_time(body.parameters or {}, body.parameter_openapi_schema)
        except ParameterValidationError as exc:
            # the reference validates these as two fields: the schema itself, then the parameters
            field = "parameter_openapi_schema" if str(exc).startswith(_INVALID_JSON_SCHEMA) else "parameters"
            raise InvalidInput([{"loc": ["body", field], "msg": str(exc), "type": "value_error"}]) from None

    legacy_schedule = schedule_to_wire(body.schedule) if body.schedule is not None else None
    is_schedule_active = body.is_schedule_active if body.is_schedule_active is not None else True
    if body.schedules:
        schedule_items = [(schedule_to_wire(s.schedule), s.active, None, None, False) for s in body.schedules]
    elif legacy_schedule is not None:
        schedule_items = [(legacy_schedule, is_schedule_active, None, None, False)]
    else:
        schedule_items = []

    pool = None
    if body.work_pool_name and body.work_pool_name != DEFAULT_AGENT_POOL:
        from domain.services import work_pools

        pool = work_pools.read_pool_by_name(ctx, body.work_pool_name)
        if pool is None:
            raise NotFound(f'Work pool "{body.work_pool_name}" not found.')
        if job_variables:
            from domain.validation import validate_job_variables

            _pool_errors(lambda: validate_job_variables(
                template=pool.get("base_job_template"), deployment_vars=job_variables, run_vars=None,
                mode="deployment", load_block_data=_load_block_data(ctx)), "Error creating deployment")

    for key, label in (("infrastructure_document_id", "infrastructure"), ("storage_document_id", "storage")):
        value = getattr(body, key)
        if value is None:
            continue
        from domain.services import blocks

        if not blocks.document_exists(ctx, str(value)):
            raise Conflict(
                f"Error creating deployment. Could not find {label} block with id: {value}. This usually "
                "occurs when applying a deployment specification that was built against a different Prefect "
                "database / workspace."
            )

    if "paused" in fields and body.paused is not None:
        paused = body.paused
        is_schedule_active = not paused
    elif "is_schedule_active" in fields and body.is_schedule_active is not None:
        paused = not body.is_schedule_active
    else:
        paused, is_schedule_active = False, True

    if ctx.stores.flows.get(flow_id) is None:
        raise IntegrityConflict()

    queue_fields = resolve_work_queue(ctx, body.work_pool_name, body.work_queue_name, pool=pool)
    key = name_guards.deployment(flow_id, body.name)

    # Upsert: a new (flow, name) gets a fresh id, written with its name guard in one transaction;
    # an existing one is rewritten on its revision. Losers of either race re-read and retry.
    for _ in attempts():
        now = ctx.now()
        stamp = iso_utc(now)
        existing = name_guards.lookup(ctx, ctx.stores.deployments, key)
        dep_id = existing["id"] if existing else ids.new_id()
        doc: dict[str, Any] = {
            "id": dep_id,
            "created": existing["created"] if existing else stamp,
            "updated": stamp,
            "infra_overrides": job_variables,
            "name": body.name,
            "version": body.version,
            "description": body.description,
            "flow_id": flow_id,
            "paused": paused,
            "schedules": _schedule_rows(dep_id, schedule_items, now),
            "parameters": body.parameters or {},
            "tags": body.tags or [],
            "work_queue_name": body.work_queue_name,
            "last_polled": existing.get("last_polled") if existing else None,
            "parameter_openapi_schema": body.parameter_openapi_schema,
            "path": body.path,
            "pull_steps": body.pull_steps,
            "entrypoint": body.entrypoint,
            "manifest_path": body.manifest_path,
            "storage_document_id": str(body.storage_document_id) if body.storage_document_id else None,
            "infrastructure_document_id": (
                str(body.infrastructure_document_id) if body.infrastructure_document_id else None),
            "status": existing.get("status", "NOT_READY") if existing else "NOT_READY",
            "enforce_parameter_schema": bool(body.enforce_parameter_schema),
            "_legacy_schedule": legacy_schedule,
            "_is_schedule_active": is_schedule_active,
            "_rev": (existing.get("_rev", 0) + 1) if existing else 0,
        }
        if queue_fields is not None:
            doc.update(queue_fields)
        elif existing:
            doc.update({k: existing.get(k) for k in ("work_queue_id", "_wq_name", "_wp_id", "_wp_name")})
        else:
            doc.update(_queue_fields(None, None))
        polling.carry_over(ctx, existing, doc)  # poll-record pointers; a queue move keeps last_polled
        set_due(ctx, doc, now)
        try:
            if existing is None:
                name_guards.insert(ctx, ctx.stores.deployments, doc, key, extra=tag_ops(ctx, "deployment", None, doc))
            else:
                _put(ctx, existing, doc, Cond.eq("rev", existing.get("_rev", 0)))
        except ConditionFailed:
            continue
        delete_scheduled_runs(ctx, dep_id, auto_only=True)
        return to_wire(doc, ctx), existing is None
    raise ServiceUnavailable("Service Unavailable")


# ------------------------------------------------------------------------------------- update


def update(ctx: Ctx, dep_id: str, body: DeploymentUpdate) -> None:
    """PATCH /deployments/{id} (spec §3.2, §5.2)."""
    from domain.schedules import schedule_to_wire

    fields = body.model_fields_set
    _check_max_scheduled_runs(ctx, body.schedules, ["body", "schedules"])
    current = get_doc(ctx, dep_id, NOT_FOUND_DOT)

    # 2. legacy schedule path
    new_schedule_items = None
    if "schedule" in fields or "is_schedule_active" in fields:
        if len(current.get("schedules") or []) > 1:
            raise multiple_schedules(dep_id)
        schedule = schedule_to_wire(body.schedule) if "schedule" in fields and body.schedule is not None else (
            None if "schedule" in fields else current.get("_legacy_schedule"))
        active = body.is_schedule_active if "is_schedule_active" in fields else current.get("_is_schedule_active", True)
        new_schedule_items = [(schedule, active, None, None, False)] if schedule is not None else []
    elif "schedules" in fields and body.schedules is not None:  # the legacy path wins, as in the reference
        new_schedule_items = [(schedule_to_wire(s.schedule), s.active, None, None, False) for s in body.schedules]

    # 3. paused / is_schedule_active
    paused = isa = None
    if "paused" in fields:
        paused, isa = body.paused, not body.paused
    elif "is_schedule_active" in fields:
        paused, isa = not body.is_schedule_active, body.is_schedule_active

    # 4. work pool check (legacy job-variable checker)
    pool = None
    job_variables = body.supplied_job_variables()
    if body.work_pool_name:
        from domain.services import work_pools
        from domain.validation import legacy_job_variables_error

        pool = work_pools.read_pool_by_name(ctx, body.work_pool_name)
        if pool is None:
            raise NotFound(f'Work pool "{body.work_pool_name}" not found.')
        err = legacy_job_variables_error(job_variables, pool.get("base_job_template"))
        if err:
            raise Conflict(f"Error creating deployment: {err}")

    # 5. hydration
    parameters = None
    if "parameters" in fields:
        from domain.hydration import HydrationError, hydrate

        try:
            parameters = hydrate(body.parameters, variable_lookup(ctx))
        except HydrationError as exc:
            raise BadRequest(f"Error hydrating deployment parameters: {exc}") from None

    # 6. enforcement
    enforce = body.enforce_parameter_schema if body.enforce_parameter_schema is not None else current.get(
        "enforce_parameter_schema")
    if enforce:
        enforce_parameters(current, parameters if parameters is not None else current.get("parameters") or {},
                           ignore_required=True, error_prefix="Error updating deployment")

    # 7. write; block ids are not existence-checked with a message on PATCH, they violate the FK (409)
    for key in ("storage_document_id", "infrastructure_document_id"):
        value = getattr(body, key)
        if key in fields and value is not None:
            from domain.services import blocks

            if not blocks.document_exists(ctx, str(value)):
                raise IntegrityConflict()
    queue_fields = resolve_work_queue(ctx, body.work_pool_name, body.work_queue_name, pool=pool)
    simple = ("version", "description", "path", "entrypoint", "manifest_path", "tags")

    def change(doc: dict) -> None:
        now = ctx.now()
        for key in simple:
            if key in fields:
                doc[key] = getattr(body, key)
        for key in ("storage_document_id", "infrastructure_document_id"):
            if key in fields:
                value = getattr(body, key)
                doc[key] = str(value) if value is not None else None
        if "work_queue_name" in fields:
            doc["work_queue_name"] = body.work_queue_name
        if job_variables is not None:
            doc["infra_overrides"] = job_variables
        if parameters is not None:
            doc["parameters"] = parameters
        if body.enforce_parameter_schema is not None:
            doc["enforce_parameter_schema"] = body.enforce_parameter_schema
        if "schedule" in fields:
            doc["_legacy_schedule"] = schedule_to_wire(body.schedule) if body.schedule is not None else None
        if paused is not None:
            doc["paused"] = paused
            doc["_is_schedule_active"] = isa
        if queue_fields is not None:
            before = {k: doc.get(k) for k in ("work_queue_id", "status")}
            doc.update(queue_fields)
            polling.carry_over(ctx, before, doc)  # a queue move keeps the last_polled it had
        if new_schedule_items is not None:
            if "schedule" in fields or "is_schedule_active" in fields:
                if len(doc.get("schedules") or []) > 1:
                    raise multiple_schedules(dep_id)
            doc["schedules"] = _schedule_rows(dep_id, new_schedule_items, now)
        doc["updated"] = iso_utc(now)
        set_due(ctx, doc, now)

    mutate(ctx, dep_id, change, detail=NOT_FOUND_DOT)
    delete_scheduled_runs(ctx, dep_id, auto_only=True)


# -------------------------------------------------------------------------------------- reads


def read(ctx: Ctx, dep_id: str) -> dict:
    return to_wire(get_doc(ctx, dep_id), ctx)


def read_by_name(ctx: Ctx, flow_name: str, deployment_name: str) -> dict:
    """Three strongly consistent GetItems: the flow's name guard, the deployment's, the deployment."""
    flow_id = name_guards.owner(ctx, name_guards.flow(flow_name))
    doc = name_guards.lookup(ctx, ctx.stores.deployments, name_guards.deployment(flow_id, deployment_name)) \
        if flow_id else None
    if doc is None:
        raise NotFound(NOT_FOUND)
    return to_wire(doc, ctx)


def delete(ctx: Ctx, dep_id: str) -> None:
    """DELETE /deployments/{id}: all SCHEDULED runs (auto and manual), then the deployment and its
    name guard (so the name is free again and a new deployment of that name gets a new id). The
    reference deletes the SCHEDULED runs naming the id before it finds no deployment (404): so does
    this, for runs a deleted deployment left behind (they keep its id)."""
    try:
        doc = get_doc(ctx, dep_id)
    except NotFound:
        delete_scheduled_runs(ctx, dep_id, auto_only=False)
        raise
    delete_scheduled_runs(ctx, dep_id, auto_only=False)
    key = name_guards.deployment(doc["flow_id"], doc["name"])
    for _ in attempts(8):
        # on the revision read, so the tag items removed are the ones the deployment has
        cond = Cond.eq("rev", doc["_rev"]) if "_rev" in doc else Cond.exists()
        try:
            ctx.stores.transact([TxDelete(ctx.stores.deployments, dep_id, cond), TxDelete(ctx.stores.guards, key),
                                 *tag_ops(ctx, "deployment", doc, None)])
            return
        except ConditionFailed:  # deleted or changed meanwhile, or a conflicting transaction: look again
            doc = get_doc(ctx, dep_id)
    raise ServiceUnavailable("Service Unavailable")


# ----------------------------------------------------------------------------- pause / resume


def set_paused(ctx: Ctx, dep_id: str, paused: bool) -> None:
    """pause_deployment / resume_deployment and their legacy aliases (spec §3.10, §3.11)."""

    def change(doc: dict):
        schedules = doc.get("schedules") or []
        if len(schedules) > 1:
            raise multiple_schedules(dep_id)
        changed = doc.get("paused") != paused or doc.get("_is_schedule_active") != (not paused)
        doc["paused"] = paused
        doc["_is_schedule_active"] = not paused
        if len(schedules) == 1 and schedules[0].get("active") != (not paused):
            schedules[0]["active"] = not paused
            schedules[0]["updated"] = iso_utc(ctx.now())
            changed = True
        if not changed:
            return _UNCHANGED
        doc["updated"] = iso_utc(ctx.now())
        set_due(ctx, doc)
        return None

    mutate(ctx, dep_id, change)
    if paused:
        delete_scheduled_runs(ctx, dep_id, auto_only=True)


# --------------------------------------------------------------------------- schedules routes


def read_schedules(ctx: Ctx, dep_id: str) -> list[dict]:
    return to_wire(get_doc(ctx, dep_id, NOT_FOUND_DOT))["schedules"]


def create_schedules(ctx: Ctx, dep_id: str, items: list[DeploymentScheduleCreate]) -> list[dict]:
    from domain.schedules import schedule_to_wire

    _check_max_scheduled_runs(ctx, items, ["body"])

    def change(doc: dict) -> list[dict]:
        now = ctx.now()
        rows = _schedule_rows(dep_id, [
            (schedule_to_wire(s.schedule), s.active, s.max_active_runs, s.max_scheduled_runs, s.catchup)
            for s in items], now)
        doc["schedules"] = (doc.get("schedules") or []) + rows
        set_due(ctx, doc, now)
        return rows

    rows = mutate(ctx, dep_id, change, detail=NOT_FOUND_DOT)
    return [{k: r[k] for k in SCHEDULE_KEYS} for r in rows]


def update_schedule(ctx: Ctx, dep_id: str, schedule_id: str, body: DeploymentScheduleUpdate) -> None:
    from domain.schedules import schedule_to_wire

    if body.max_scheduled_runs is not None:
        limit = ctx.settings.deployment_schedule_max_scheduled_runs
        if body.max_scheduled_runs > limit:
            raise InvalidInput([{"loc": ["body", "max_scheduled_runs"],
                                 "msg": f"`max_scheduled_runs` must be less than or equal to {limit}.",
                                 "type": "value_error"}])

    def change(doc: dict) -> None:
        now = ctx.now()
        row = next((s for s in doc.get("schedules") or [] if s["id"] == schedule_id), None)
        if row is None:
            raise NotFound(SCHEDULE_NOT_FOUND)
        for key in ("active", "max_active_runs", "max_scheduled_runs", "catchup"):
            value = getattr(body, key)
            if value is not None:
                row[key] = value
        if body.schedule is not None:
            row["schedule"] = schedule_to_wire(body.schedule)
        row["updated"] = iso_utc(now)
        set_due(ctx, doc, now)

    mutate(ctx, dep_id, change, detail=NOT_FOUND_DOT)
    delete_scheduled_runs(ctx, dep_id, auto_only=True)


def delete_schedule(ctx: Ctx, dep_id: str, schedule_id: str) -> None:
    def change(doc: dict) -> None:
        rows = doc.get("schedules") or []
        if not any(s["id"] == schedule_id for s in rows):
            raise NotFound(SCHEDULE_NOT_FOUND)
        doc["schedules"] = [s for s in rows if s["id"] != schedule_id]
        set_due(ctx, doc)

    mutate(ctx, dep_id, change, detail=NOT_FOUND_DOT)
    delete_scheduled_runs(ctx, dep_id, auto_only=True)
