"""Small reads only the UI makes: block capabilities, task-run counts by state and the dashboard's
task-run bars (``/block_capabilities/``, ``/ui/task_runs/count``, ``/ui/task_runs/dashboard/counts``).

Facts from the 2.20 reference: capabilities are the distinct capabilities of every block schema
(flowplane answers them sorted; the reference's order is a set's); ``CountByState`` has every state
type, 0 when absent; the dashboard counts split ``task_runs.start_time`` (``after_`` required: 422
``task_runs.start_time.after_ is required``) from the minute of ``after_`` to the end of the minute
of ``before_`` (or of now) into 20 buckets of terminal task runs, FAILED and CRASHED counted
``failed``, the rest ``completed``.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from pydantic import BaseModel, Field

from domain.context import Ctx
from domain.errors import Unprocessable
from domain.filters import (
    DeploymentFilter,
    FlowFilter,
    FlowRunFilter,
    TaskRunFilter,
    WorkPoolFilter,
    WorkQueueFilter,
)
from domain.parsing import Embedded
from domain.services import queries
from domain.services.blocks import _all_schemas
from domain.states import TERMINAL
from domain.timeutil import parse

STATE_TYPES = ("COMPLETED", "PENDING", "RUNNING", "FAILED", "CANCELLED", "CRASHED", "PAUSED", "CANCELLING",
               "SCHEDULED")
FAILED = {"FAILED", "CRASHED"}
BUCKETS = 20


class TaskRunCountQuery(queries.RunRelations):
    pass


class DashboardCountsQuery(Embedded):
    task_runs: TaskRunFilter
    flows: FlowFilter | None = None
    flow_runs: FlowRunFilter | None = None
    deployments: DeploymentFilter | None = None
    work_pools: WorkPoolFilter | None = None
    work_queues: WorkQueueFilter | None = None


def block_capabilities(ctx: Ctx) -> list[str]:
    return sorted({c for schema in _all_schemas(ctx, None) for c in schema.get("capabilities") or ()})


def task_run_counts_by_state(ctx: Ctx, q: TaskRunCountQuery) -> dict[str, int]:
    counts = dict.fromkeys(STATE_TYPES, 0)
    tq = queries.TaskRunQuery(flows=q.flows, flow_runs=q.flow_runs, task_runs=q.task_runs, deployments=q.deployments)
    for t in queries._tasks_matching(ctx, tq):
        if t.get("state_type") in counts:
            counts[t["state_type"]] += 1
    return counts


def _minute(t: dt.datetime) -> dt.datetime:
    return t.replace(second=0, microsecond=0)


def dashboard_task_run_counts(ctx: Ctx, q: DashboardCountsQuery) -> list[dict[str, int]]:
    from domain.services.run_history import HistoryQuery, _matching_task_runs

    st = q.task_runs.start_time
    if st is None or st.after_ is None:
        raise Unprocessable("task_runs.start_time.after_ is required")
    start = _minute(st.after_)
    end_base = st.before_ if st.before_ is not None else ctx.now()
    end = _minute(end_base) + dt.timedelta(minutes=1) - dt.timedelta(microseconds=1)
    delta = (end - start) / BUCKETS
    hq = HistoryQuery(history_start=start, history_end=end, history_interval_seconds=60,
                      flows=q.flows, flow_runs=q.flow_runs, task_runs=q.task_runs,
                      deployments=q.deployments, work_pools=q.work_pools, work_queues=q.work_queues)
    buckets = [{"completed": 0, "failed": 0} for _ in range(BUCKETS)]
    for t in _matching_task_runs(ctx, hq, by_start_time=True):
        if t.get("state_type") not in TERMINAL or not t.get("start_time"):
            continue
        i = int((int(parse(t["start_time"]).timestamp()) - int(start.timestamp())) // delta.total_seconds())
        if 0 <= i < BUCKETS:
            buckets[i]["failed" if t["state_type"] in FAILED else "completed"] += 1
    return buckets


# The settings page (``GET /admin/settings``): the reference lists its settings by their variable
# names, secrets as ********. flowplane lists the ones it honours (domain.settings), same names.
SETTING_NAMES = (
    ("PREFECT_API_DEFAULT_LIMIT", "api_default_limit"),
    ("PREFECT_API_SERVICES_SCHEDULER_ENABLED", "scheduler_enabled"),
    ("PREFECT_API_SERVICES_SCHEDULER_LOOP_SECONDS", "scheduler_loop_seconds"),
    ("PREFECT_API_SERVICES_SCHEDULER_DEPLOYMENT_BATCH_SIZE", "scheduler_deployment_batch_size"),
    ("PREFECT_API_SERVICES_SCHEDULER_MAX_RUNS", "scheduler_max_runs"),
    ("PREFECT_API_SERVICES_SCHEDULER_MIN_RUNS", "scheduler_min_runs"),
    ("PREFECT_API_SERVICES_SCHEDULER_MAX_SCHEDULED_TIME", "scheduler_max_scheduled_time"),
    ("PREFECT_API_SERVICES_SCHEDULER_MIN_SCHEDULED_TIME", "scheduler_min_scheduled_time"),
    ("PREFECT_API_SERVICES_SCHEDULER_INSERT_BATCH_SIZE", "scheduler_insert_batch_size"),
    ("PREFECT_API_SERVICES_LATE_RUNS_AFTER_SECONDS", "late_runs_after"),
    ("PREFECT_DEPLOYMENT_SCHEDULE_MAX_SCHEDULED_RUNS", "deployment_schedule_max_scheduled_runs"),
    ("PREFECT_SERVER_CSRF_PROTECTION_ENABLED", "csrf_protection_enabled"),
    ("PREFECT_SERVER_CORS_ALLOWED_ORIGINS", "cors_allowed_origins"),
    ("PREFECT_SERVER_CORS_ALLOWED_METHODS", "cors_allowed_methods"),
    ("PREFECT_SERVER_CORS_ALLOWED_HEADERS", "cors_allowed_headers"),
    ("PREFECT_UI_API_URL", "ui_api_url"),
    ("PREFECT_TASK_RUN_TAG_CONCURRENCY_SLOT_WAIT_SECONDS", "task_run_tag_concurrency_slot_wait_seconds"),
    ("PREFECT_API_TASK_CACHE_KEY_MAX_LENGTH", "task_cache_key_max_length"),
)
SECRET_MASK = "********"


def server_settings(settings: object) -> dict[str, object]:
    out: dict[str, object] = {}
    for name, attr in SETTING_NAMES:
        value = getattr(settings, attr, None)
        out[name] = value.total_seconds() if isinstance(value, dt.timedelta) else value
    out["PREFECT_API_KEY"] = SECRET_MASK
    return out


# ------------------------------------------------------------------------------------------------
# POST /ui/schemas/validate: the run and edit forms check parameters against the flow's schema.
# As the reference: the schema is pre-processed as for runs and meta-checked (422 ``Invalid
# schema: ...``); values are hydrated without raising — a missing workspace variable or bad JSON
# becomes an error *placeholder* whose message replaces the schema errors at that spot, jinja is
# not rendered (its spot is not checked); all errors are nested by property/index as
# ``{"errors": [...], "valid": bool}``.


class SchemaValidateBody(BaseModel):
    schema_: dict = Field(alias="schema")
    values: dict


class _Placeholder:
    def __init__(self, message: str | None = None):
        self.message = message  # None: not an error (jinja left unrendered)


def _hydrate_for_form(value: Any, lookup) -> Any:
    if isinstance(value, dict):
        kind = value.get("__prefect_kind")
        if "__prefect_kind" not in value:
            return {k: _hydrate_for_form(v, lookup) for k, v in value.items()}
        if kind == "none":
            if "value" not in value:
                return _Placeholder("Missing 'value' key in __prefect object")
            return _hydrate_for_form(value["value"], lookup)
        if kind == "json":
            if "value" not in value:
                return _Placeholder("Missing 'value' key in __prefect object")
            try:
                return json.loads(value["value"])
            except (TypeError, ValueError) as exc:
                return _Placeholder(f"Invalid JSON: {exc}")
        if kind == "jinja":
            if "template" not in value:
                return _Placeholder("Missing 'template' key in __prefect object")
            return _Placeholder(None)
        if kind == "workspace_variable":
            if "variable_name" not in value:
                return _Placeholder("Missing 'variable_name' key in __prefect object")
            found = lookup(value["variable_name"])
            if found is None:
                return _Placeholder(f"Variable '{value['variable_name']}' not found in workspace.")
            return found
        return value.get("value")
    if isinstance(value, list):
        return [_hydrate_for_form(v, lookup) for v in value]
    return value


def _error_tree(errors: list) -> dict[str, Any]:
    out: list = []
    by_path: dict[tuple, list] = {}
    for err in errors:
        by_path.setdefault(tuple(err.relative_path), []).append(err)
    chosen = []
    for err in errors:
        same = by_path[tuple(err.relative_path)]
        placeholders = [e for e in same if isinstance(e.instance, _Placeholder) and e.instance.message]
        if placeholders and err is not placeholders[0]:
            continue
        chosen.append(err)
    for err in chosen:
        if isinstance(err.instance, _Placeholder):
            if err.instance.message is None:
                continue
            message = err.instance.message
        else:
            message = err.message
        path = list(err.relative_path)
        if err.validator == "required":
            path.append(err.message.split(" ")[0].strip("'"))
        current = out
        if not path:
            current.append(message)
        while path:
            part = path.pop(0)
            key = "index" if isinstance(part, int) else "property"
            if not path:
                current.append({key: part, "errors": [message]})
                break
            for entry in current:
                if isinstance(entry, dict) and entry.get(key) == part:
                    current = entry["errors"]
                    break
            else:
                entry = {key: part, "errors": []}
                current.append(entry)
                current = entry["errors"]
    return {"errors": out, "valid": not out}


def validate_form_values(ctx: Ctx, body: SchemaValidateBody) -> dict[str, Any]:
    from domain import validation
    from domain.services import variables

    schema = validation.preprocess_schema(body.schema_, ignore_required=False)
    cls = validation._draft2020()
    try:
        validation._check_schema(cls, schema)
    except validation.InvalidSchemaError as exc:
        raise Unprocessable(f"Invalid schema: {exc}") from None
    values = _hydrate_for_form(body.values, lambda name: variables.value_of(ctx, name))
    try:
        errors = validation._all_errors(schema, values)
    except validation.CircularSchemaError:
        raise Unprocessable("Invalid schema: Unable to validate schema with circular references.") from None
    except validation.InvalidSchemaError as exc:
        raise Unprocessable(f"Invalid schema: {exc}") from None
    return _error_tree(errors)
