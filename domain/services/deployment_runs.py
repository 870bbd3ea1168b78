"""Runs from deployments: create_flow_run, runner polling, work_queue_check (spec §3.7, §3.12, §3.13)."""

from __future__ import annotations

import base64
import binascii
import heapq
import itertools
from typing import Any

from domain import ids
from domain.context import Ctx
from domain.errors import BadRequest, ConditionFailed, Unprocessable
from domain.ports import Cond
from domain.services import flow_runs
from domain.services.deployment_models import DeploymentFlowRunCreate, GetScheduledFlowRuns
from domain.services.deployments import (
    NOT_FOUND,
    _load_block_data,
    _pool_errors,
    enforce_parameters,
    get_doc,
    variable_lookup,
)
from domain.services.queries import check_limit
from domain.sharded_index import query_all
from domain.timeutil import sort_key


def created_by_from_headers(automation_id: str | None, automation_name: str | None) -> dict | None:
    """``created_by`` only when both automation headers are present and the name decodes."""
    if not automation_id or not automation_name:
        return None
    if ids.canonical(automation_id) is None:
        return None
    try:
        name = base64.b64decode(automation_name, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return {"id": ids.canonical(automation_id), "type": "AUTOMATION", "display_value": name}




def create_flow_run(ctx: Ctx, dep_id: str, body: DeploymentFlowRunCreate, *,
                    created_by: dict | None = None) -> tuple[dict, bool]:
    """Returns (FlowRunResponse, created)."""
    dep = get_doc(ctx, dep_id, NOT_FOUND)

    parameters = {**(dep.get("parameters") or {}), **(body.parameters or {})}
    from domain.hydration import HydrationError, hydrate

    try:
        parameters = hydrate(parameters, variable_lookup(ctx))
    except HydrationError as exc:
        raise BadRequest(f"Error hydrating flow run parameters: {exc}") from None

    enforce = body.enforce_parameter_schema if body.enforce_parameter_schema is not None else dep.get(
        "enforce_parameter_schema")
    if enforce:
        enforce_parameters(dep, parameters, ignore_required=False, error_prefix="Error creating flow run")

    pool = None
    if dep.get("work_queue_id") and dep.get("_wp_name"):
        from domain.services import work_pools

        pool = work_pools.read_pool_by_name(ctx, dep["_wp_name"])
    if pool is not None:
        from domain.validation import validate_job_variables

        _pool_errors(lambda: validate_job_variables(
            template=pool.get("base_job_template"), deployment_vars=dep.get("infra_overrides") or {},
            run_vars=body.job_variables or {}, mode="flow_run", load_block_data=_load_block_data(ctx)),
            "Error creating flow run")

    queue = None
    if dep.get("work_queue_id"):
        queue = {"id": dep["work_queue_id"], "name": dep.get("_wq_name"), "work_pool_id": dep.get("_wp_id"),
                 "_pool_name": dep.get("_wp_name")}
    work_queue_name = dep.get("work_queue_name")
    if body.work_queue_name:
        if pool is None:
            raise Unprocessable(
                f"Cannot create a flow run in work queue {body.work_queue_name!r}: the deployment has no work pool."
            )
        from domain.services import work_queues

        q = work_queues.get_or_create_in_pool(ctx, pool, body.work_queue_name)
        queue = {"id": q["id"], "name": q["name"], "work_pool_id": pool["id"], "_pool_name": pool["name"]}
        work_queue_name = body.work_queue_name

    from domain.errors import IntegrityConflict

    if body.parent_task_run_id is not None and ctx.stores.task_runs.get(str(body.parent_task_run_id)) is None:
        raise IntegrityConflict()
    if body.infrastructure_document_id is not None:
        from domain.services import blocks

        if not blocks.document_exists(ctx, str(body.infrastructure_document_id)):
            raise IntegrityConflict()  # the reference's foreign key on flow_run.infrastructure_document_id

    tags = list(dict.fromkeys([*(dep.get("tags") or []), *(body.tags or [])]))
    now = ctx.now()
    run_id = ids.flow_run_id(dep["flow_id"], body.idempotency_key) if body.idempotency_key else ids.new_id()
    policy = flow_runs.FlowRunPolicy.model_validate(body.empirical_policy or {}).wire()
    run = flow_runs.new_run(
        run_id=run_id, now=now, flow_id=dep["flow_id"], name=body.name or None, deployment=dep,
        parameters=parameters, tags=tags, idempotency_key=body.idempotency_key, context=body.context,
        empirical_policy=policy,
        parent_task_run_id=str(body.parent_task_run_id) if body.parent_task_run_id else None,
        infrastructure_document_id=(str(body.infrastructure_document_id) if body.infrastructure_document_id
                                    else dep.get("infrastructure_document_id")),
        work_queue=queue, work_queue_name=work_queue_name, job_variables=body.job_variables or {},
        created_by=created_by,
    )
    if body.idempotency_key and body.job_variables is None:
        run["job_variables"] = None  # the reference answers (and later reads) null for a keyed run without any
    # the initial state goes through the forced path (MinimalFlowPolicy + bookkeeping), as POST
    # /flow_runs/ does; the deterministic id makes the idempotency key race-free
    from domain.services import run_orchestration
    from domain.states import StateCreate, proposed_state

    if body.idempotency_key:  # the key may be held by an ad-hoc run of the flow (POST /flow_runs/)
        holder = ctx.stores.guards.get(flow_runs.idempotency_guard(dep["flow_id"], body.idempotency_key))
        existing = ctx.stores.flow_runs.get(holder["owner_id"]) if holder else None
        if existing is not None:
            return flow_runs.to_wire(existing, now), False
    state = proposed_state(body.state or StateCreate(type="SCHEDULED"), now)
    try:
        written = run_orchestration.insert_flow_run(ctx, run, state, run_cond=Cond.absent())
    except ConditionFailed:
        existing = ctx.stores.flow_runs.get(run_id)
        if existing is not None:
            return flow_runs.to_wire(existing, now), False
        raise
    return flow_runs.created_wire(written, now), True


def get_scheduled_flow_runs(ctx: Ctx, body: GetScheduledFlowRuns) -> tuple[list[dict], list[str]]:
    """Runs in a SCHEDULED state for the given deployments, earliest first. Returns (runs, dep_ids)."""
    limit = check_limit(ctx, body.limit)
    dep_ids = list(dict.fromkeys(str(d) for d in body.deployment_ids))
    before = sort_key(body.scheduled_before) if body.scheduled_before else None
    streams = [ctx.stores.flow_runs.query("scheduled_by_deployment", d, sk_lte=before, limit=limit)
               for d in dep_ids]
    now = ctx.now()

    def key(run: dict) -> str:
        return run.get("next_scheduled_start_time") or ""

    merged = heapq.merge(*[sorted(s, key=key) for s in streams], key=key)
    return [flow_runs.to_wire(r, now) for r in itertools.islice(merged, limit)], dep_ids


def mark_polled(ctx: Ctx, dep_ids: list[str]) -> None:
    """After polling: the deployments read READY with ``last_polled = now`` (bumping ``updated``).
    Best effort, and at most one write per poll interval whatever the number of deployments: the
    set's poll record (``polling.record_deployment_poll``)."""
    from domain.services import polling

    polling.record_deployment_poll(ctx, dep_ids)


def work_queue_check(ctx: Ctx, dep_id: str) -> list[dict[str, Any]]:
    """Queues whose legacy filter matches the deployment (SQLite semantics: null filters match)."""
    from domain.services import work_queues

    dep = get_doc(ctx, dep_id, NOT_FOUND)
    tags = set(dep.get("tags") or [])
    out = []
    for queue in query_all(ctx.stores.work_queues, "by_name"):
        f = queue.get("filter")
        if f is None:
            out.append(work_queues.core_wire(queue))
            continue
        ftags, fdeps = f.get("tags"), f.get("deployment_ids")
        if (not ftags or set(ftags) <= tags) and (not fdeps or dep_id in [str(x) for x in fdeps]):
            out.append(work_queues.core_wire(queue))
    return out
