"""Work pools (spec §4.11): create (with the pool's ``default`` queue), read by name, update,
delete (cascading to its queues), filter and count.

A pool (and its default queue) gets fresh ids; its name is held by a name guard
(``domain.name_guards``) written in the same transaction as the pool and its default queue, so
concurrent creates of one name give one pool, a create writes all of it or nothing, and a pool
deleted and created again gets a new id. Pools cannot be renamed. The stored document is exactly
the wire ``WorkPool`` (keys in schema order).

Status (reference ``models.workers``): ``prefect-agent`` pools report ``null``; other pools are
``PAUSED`` while paused, else ``READY`` iff one of their workers is ONLINE, derived when read
(``workers.pool_status``; the stored ``status`` is only the create/PATCH value).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from domain import errors, ids, name_guards
from domain.contention import attempts
from domain.context import Ctx
from domain.errors import (
    BadRequest,
    ConditionFailed,
    Conflict,
    IntegrityConflict,
    NotFound,
    ServiceUnavailable,
    Unprocessable,
)
from domain.filters import WorkPoolFilter
from domain.names import check_name
from domain.parsing import Embedded
from domain.ports import Cond, Doc, TxPut
from domain.services.queries import Page, check_limit
from domain.sharded_index import query_all
from domain.timeutil import iso_utc

DEFAULT_AGENT_POOL = "default-agent-pool"
AGENT_TYPE = "prefect-agent"
DEFAULT_QUEUE_NAME = "default"
DEFAULT_QUEUE_DESCRIPTION = "The work pool's default queue."

WIRE_KEYS = (
    "id", "created", "updated", "name", "description", "type", "base_job_template", "is_paused",
    "concurrency_limit", "status", "default_queue_id",
)

ALREADY_EXISTS = "A work pool with this name already exists."
EMPTY_NAME = "Work pool name cannot be empty."
RESERVED_CREATE = "Work pools starting with 'Prefect' are reserved for internal use."
RESERVED_UPDATE = (
    "Work pools starting with 'Prefect' are reserved for internal use "
    "and can only be updated to set concurrency limits or pause."
)
RESERVED_DELETE = "Work pools starting with 'Prefect' are reserved for internal use and can not be deleted."

Forbidden = errors.Forbidden  # reserved names -> HTTP 403


def not_found(name: str) -> NotFound:
    return NotFound(f'Work pool "{name}" not found.')


# ------------------------------------------------------------------------------ request models


def _find_placeholders(text: str) -> set[str]:
    import re

    return {m.group(2) for m in re.finditer(r"({{\s*([\w\.\-\[\]$]+)\s*}})", text)}


def validate_base_job_template(value: dict[str, Any]) -> dict[str, Any]:
    """The reference's structural check: ``{}`` or both keys, every placeholder declared."""
    import json

    if value == {}:
        return value
    job_config = value.get("job_configuration")
    variables_schema = value.get("variables")
    if not (job_config and variables_schema):
        raise ValueError(
            "The `base_job_template` must contain both a `job_configuration` key and a `variables` key."
        )
    used: set[str] = set()
    for template in (job_config.values() if isinstance(job_config, dict) else ()):
        used |= _find_placeholders(json.dumps(template))
    declared = set((variables_schema.get("properties") or {}).keys()) if isinstance(variables_schema, dict) else set()
    if not used <= declared:
        raise ValueError(
            "The variables specified in the job configuration template must be present as properties in the "
            "variables schema. Your job configuration uses the following undeclared variable(s): "
            f"{' ,'.join(used - declared)}."
        )
    return value


BaseJobTemplate = Annotated[dict[str, Any], AfterValidator(validate_base_job_template)]


class WorkPoolCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, AfterValidator(check_name)]
    description: str | None = None
    type: str = AGENT_TYPE
    base_job_template: BaseJobTemplate = Field(default_factory=dict)
    is_paused: bool = False
    concurrency_limit: int | None = Field(default=None, ge=0)


class WorkPoolUpdate(BaseModel):
    """Only the keys present are written. ``base_job_template: null`` is refused (the reference
    crashes on it); ``is_paused: null`` is the reference's integrity error (NOT NULL column)."""

    model_config = ConfigDict(extra="forbid")
    description: str | None = None
    is_paused: bool | None = None
    base_job_template: BaseJobTemplate = Field(default=None, validate_default=False)  # type: ignore[assignment]
    concurrency_limit: int | None = Field(default=None, ge=0)


class WorkPoolQuery(Page):
    BODY_ORDER: ClassVar[tuple[str, ...]] = ("limit", "work_pools", "offset")  # the reference's
    work_pools: WorkPoolFilter | None = None



class WorkPoolCount(Embedded):
    work_pools: WorkPoolFilter | None = None


# ---------------------------------------------------------------------------------- documents


def to_wire(doc: Doc) -> dict[str, Any]:
    return {k: doc.get(k) for k in WIRE_KEYS}


def _status_for(pool_type: str, is_paused: bool) -> str | None:
    if pool_type == AGENT_TYPE:
        return None
    return "PAUSED" if is_paused else "NOT_READY"


def new_pool_doc(ctx: Ctx, *, name: str, type: str = AGENT_TYPE, description: str | None = None,
                 base_job_template: dict | None = None, is_paused: bool = False,
                 concurrency_limit: int | None = None) -> Doc:
    now = iso_utc(ctx.now())
    return {
        "id": ids.new_id(),
        "created": now,
        "updated": now,
        "name": name,
        "description": description,
        "type": type,
        "base_job_template": base_job_template or {},
        "is_paused": is_paused,
        "concurrency_limit": concurrency_limit,
        "status": _status_for(type, is_paused),
        "default_queue_id": ids.new_id(),
    }


def _insert(ctx: Ctx, pool: Doc) -> bool:
    """Write the pool, its default queue and both name guards in one transaction. Returns False
    if the name is taken."""
    from domain.services import work_queues

    queue = work_queues.new_queue_doc(
        ctx, pool, name=DEFAULT_QUEUE_NAME, description=DEFAULT_QUEUE_DESCRIPTION, priority=1,
        queue_id=pool["default_queue_id"],
    )
    key = name_guards.work_pool(pool["name"])
    queue_writes = [name_guards.claim(ctx, name_guards.work_queue(pool["id"], queue["name"]), queue["id"]),
                    TxPut(ctx.stores.work_queues, queue, Cond.absent())]
    for _ in attempts(8):
        try:
            name_guards.insert(ctx, ctx.stores.work_pools, pool, key, extra=queue_writes)
            return True
        except ConditionFailed:
            if name_guards.owner(ctx, key) is not None:
                return False  # the name is taken
            # else a conflicting transaction: try again
    raise ServiceUnavailable("Service Unavailable")


# ------------------------------------------------------------------------------- domain API


def read_pool_by_name(ctx: Ctx, name: str) -> Doc | None:
    """The stored pool document (wire keys), or None. Two GetItems (guard, pool)."""
    return name_guards.lookup(ctx, ctx.stores.work_pools, name_guards.work_pool(name))


def read_pool(ctx: Ctx, pool_id: str) -> Doc | None:
    return ctx.stores.work_pools.get(pool_id)


def ensure_default_agent_pool(ctx: Ctx) -> Doc:
    """``default-agent-pool`` (type ``prefect-agent``, with its default queue), created if missing."""
    return _ensure_default_agent_pool(ctx)[0]


def _ensure_default_agent_pool(ctx: Ctx) -> tuple[Doc, bool]:
    existing = read_pool_by_name(ctx, DEFAULT_AGENT_POOL)
    if existing is not None:
        return existing, False
    pool = new_pool_doc(ctx, name=DEFAULT_AGENT_POOL, type=AGENT_TYPE)
    if _insert(ctx, pool):
        return pool, True
    existing = read_pool_by_name(ctx, DEFAULT_AGENT_POOL)
    if existing is None:  # deleted in between: one more try
        _insert(ctx, pool)
        return pool, True
    return existing, False


def get_pool_or_404(ctx: Ctx, name: str) -> Doc:
    pool = read_pool_by_name(ctx, name)
    if pool is None:
        raise not_found(name)
    return pool


def _check_template_defaults(ctx: Ctx, template: dict | None) -> None:
    """Reference ``validate_job_variable_defaults_for_work_pool``: the template's defaults (block
    references resolved) must satisfy its own variables schema, ``required`` ignored."""
    if not template:
        return
    variables = template.get("variables")
    if not variables:
        return
    from domain import validation

    defaults: dict[str, Any] = {}
    properties = variables.get("properties") if isinstance(variables, dict) else None
    try:
        for name, attrs in (properties or {}).items():
            if not isinstance(attrs, dict) or "default" not in attrs:
                continue
            default = attrs["default"]
            if isinstance(default, dict) and "$ref" in default:
                ref = default["$ref"]
                block_id = ref.get("block_document_id") if isinstance(ref, dict) else None
                if block_id is None:
                    continue
                from domain.services import blocks

                data = blocks.read_document_data(ctx, str(block_id))
                if data is None:
                    raise NotFound("Block not found.")
                defaults[name] = data
            else:
                defaults[name] = default
        prepared = validation.preprocess_schema(variables, ignore_required=True, defaults_accept_null=True)
        validation._raise_best_error(defaults, prepared)
    except validation.ParameterValidationError as exc:
        raise Unprocessable(f"Validation failed for work pool's job variable defaults: {exc}") from None
    except validation.CircularSchemaError:
        raise Unprocessable("Invalid schema: Unable to validate schema with circular references.") from None
    except validation.InvalidSchemaError as exc:
        raise Unprocessable(f"Invalid schema: {exc}") from None


def create(ctx: Ctx, body: WorkPoolCreate) -> dict[str, Any]:
    """POST /work_pools/ -> the new pool (201); a taken name is a 409."""
    if not body.name.lower().strip("' \""):
        raise BadRequest(EMPTY_NAME)
    if body.name.lower().startswith("prefect"):
        raise Forbidden(RESERVED_CREATE)
    _check_template_defaults(ctx, body.base_job_template)
    pool = new_pool_doc(
        ctx, name=body.name, type=body.type, description=body.description,
        base_job_template=body.base_job_template, is_paused=body.is_paused,
        concurrency_limit=body.concurrency_limit,
    )
    if not _insert(ctx, pool):
        raise Conflict(ALREADY_EXISTS)
    return to_wire(pool)


def wire_now(ctx: Ctx, doc: Doc) -> dict[str, Any]:
    """The wire pool with its status as of now (one Workers Query for an unpaused non-agent pool)."""
    from domain.services import workers

    out = to_wire(doc)
    out["status"] = workers.pool_status(ctx, doc)
    return out


def read(ctx: Ctx, name: str) -> dict[str, Any]:
    return wire_now(ctx, get_pool_or_404(ctx, name))


def update(ctx: Ctx, name: str, body: WorkPoolUpdate) -> None:
    """PATCH /work_pools/{name}: only the keys sent are written; pausing sets the status."""
    fields = body.model_dump(include=body.model_fields_set)
    if name.lower().startswith("prefect") and set(fields) - {"is_paused", "concurrency_limit"}:
        raise Forbidden(RESERVED_UPDATE)
    if "is_paused" in fields and fields["is_paused"] is None:
        raise IntegrityConflict()
    pool = get_pool_or_404(ctx, name)
    pool.update(fields)
    if pool["type"] != AGENT_TYPE and "is_paused" in fields:
        pool["status"] = "PAUSED" if fields["is_paused"] else "NOT_READY"
    pool["updated"] = iso_utc(ctx.now())
    # Last writer wins for the whole document (the reference is last-writer-wins per column):
    # two concurrent PATCHes of different keys of one pool can lose one of them. Pool edits are
    # rare and human-driven; the condition only stops a PATCH from resurrecting a deleted pool.
    try:
        ctx.stores.work_pools.put(pool, cond=Cond.exists())
    except ConditionFailed:
        raise not_found(name) from None


def delete(ctx: Ctx, name: str) -> None:
    """DELETE /work_pools/{name}: deployments on its queues lose their queue, then the queues and
    the pool go."""
    from domain.services import work_queues

    if name.lower().startswith("prefect"):
        raise Forbidden(RESERVED_DELETE)
    pool = get_pool_or_404(ctx, name)
    queues = list(ctx.stores.work_queues.query("by_pool", pool["id"]))
    if not any(q["id"] == pool["default_queue_id"] for q in queues):
        # written with the pool, the default queue may not be in the (eventually consistent) index yet
        default = ctx.stores.work_queues.get(pool["default_queue_id"])
        queues += [default] if default is not None else []
    for queue in queues:
        work_queues.detach_deployments(ctx, queue["id"], queue=queue)
    name_guards.remove_many(ctx, ctx.stores.work_queues,
                            [(q["id"], name_guards.work_queue(pool["id"], q["name"])) for q in queues])
    try:
        name_guards.remove(ctx, ctx.stores.work_pools, pool["id"], name_guards.work_pool(pool["name"]))
    except ConditionFailed:
        raise not_found(name) from None
    from domain.services import workers

    workers.delete_pool_workers(ctx, pool["id"])  # the reference's ON DELETE CASCADE


# ---------------------------------------------------------------------------- filter / count


def _candidates(ctx: Ctx, f: WorkPoolFilter | None) -> tuple[Iterable[Doc], bool]:
    """(candidate pools, already in name order). Ids/names -> BatchGetItem; else the name index."""
    if f is not None:
        wanted = f.exact_ids()
        if wanted is None and (names := f.exact_names()) is not None:
            wanted = name_guards.owners(ctx, map(name_guards.work_pool, names))
        if wanted is not None:
            return ctx.stores.work_pools.get_many(sorted(wanted)), False
    return query_all(ctx.stores.work_pools, "by_name"), True


def _matching(ctx: Ctx, f: WorkPoolFilter | None) -> Iterator[Doc]:
    docs, ordered = _candidates(ctx, f)
    if not ordered:
        docs = sorted(docs, key=lambda d: (d["name"], d["id"]))
    return (d for d in docs if f is None or f.matches(d))


def filter_pools(ctx: Ctx, q: WorkPoolQuery) -> list[dict[str, Any]]:
    """POST /work_pools/filter: ordered by name, offset/limit (spec §2.5)."""
    limit = check_limit(ctx, q.limit)
    return [wire_now(ctx, d) for d in itertools.islice(_matching(ctx, q.work_pools), q.offset, q.offset + limit)]


def count_pools(ctx: Ctx, q: WorkPoolCount) -> int:
    return sum(1 for _ in _matching(ctx, q.work_pools))
