"""Work queues (spec §4.11): the work-pool-scoped routes (``/work_pools/{pool}/queues…``), the
legacy ``/work_queues…`` routes the 2.20 client and agents use, and the queue helpers the
deployments service needs.

Identity. A queue gets a fresh id; its (pool, name) is held by a name guard
(``domain.name_guards``) written in the same transaction, so concurrent creates of one name in one
pool give one queue. A rename (PATCH ``name``) keeps the id and moves the guard in one transaction
with the queue, so of two concurrent renames to one name exactly one succeeds (the other is the
reference's integrity 409). Every write of a queue read earlier is conditioned on the name it read
(``name_guards.same_name``), so a stale write never brings an old name back.

Stored document: the core ``WorkQueue`` keys plus ``status`` and ``_pool_name`` (pools cannot be
renamed, so the pool name is denormalised and a queue response is one GetItem).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from domain import ids, name_guards
from domain.contention import attempts
from domain.context import Ctx
from domain.errors import ConditionFailed, Conflict, IntegrityConflict, NotFound, ServiceUnavailable
from domain.filters import WorkQueueFilter
from domain.names import check_name
from domain.parsing import WireDateTime
from domain.ports import Cond, Doc
from domain.services.queries import Page, check_limit
from domain.sharded_index import query_all
from domain.timeutil import iso_utc, parse

CORE_KEYS = (
    "id", "created", "updated", "name", "description", "is_paused", "concurrency_limit", "priority",
    "work_pool_id", "filter", "last_polled",
)
RESPONSE_KEYS = CORE_KEYS + ("work_pool_name", "status")

LAST_POLLED_TIMEOUT = dt.timedelta(seconds=60)

# reference texts (workers.py / work_queues.py). Two are reproduced verbatim although they are
# accidents of the reference's code: a non-f-string and the builtin ``id`` in an f-string.
EXISTS_IN_POOL = "A work queue with this name already exists in work pool {work_pool_name!r}."
EXISTS_LEGACY = "A work queue with this name already exists."
LEGACY_NOT_FOUND = "work queue not found"
LEGACY_UPDATE_NOT_FOUND = "Work Queue <built-in function id> not found"
DEFAULT_QUEUE_UNDELETABLE = "Can't delete a pool's default queue."


def not_found_in_pool(pool_name: str, name: str) -> NotFound:
    return NotFound(f"Work pool queue '{pool_name}/{name}' not found.")


# ------------------------------------------------------------------------------ request models


class QueueFilter(BaseModel):
    """The deprecated tag/deployment filter of a legacy queue."""

    model_config = ConfigDict(extra="forbid")
    tags: list[str] | None = None
    deployment_ids: list[UUID] | None = None

    def wire(self) -> dict[str, Any]:
        return {
            "tags": self.tags,
            "deployment_ids": [str(d) for d in self.deployment_ids] if self.deployment_ids is not None else None,
        }


# Queue names are index keys (``by_pool``/``by_name``), which DynamoDB cannot store empty: an
# empty name is a 422 here (the reference accepts it).
QueueName = Annotated[str, Field(min_length=1), AfterValidator(check_name)]


class WorkQueueCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: QueueName
    description: str | None = ""
    is_paused: bool = False
    concurrency_limit: int | None = Field(default=None, ge=0)
    priority: int | None = Field(default=None, gt=0)
    filter: QueueFilter | None = None


class WorkQueueUpdate(BaseModel):
    """Only keys present are written. ``name``/``description``/``priority`` null violate the
    reference's NOT NULL columns (409); ``is_paused`` is a plain bool (null -> 422)."""

    model_config = ConfigDict(extra="forbid")
    name: QueueName | None = None
    description: str | None = None
    is_paused: bool = False
    concurrency_limit: int | None = Field(default=None, ge=0)
    priority: int | None = Field(default=None, gt=0)
    last_polled: WireDateTime | None = None
    filter: QueueFilter | None = None


class WorkQueueQuery(Page):
    work_queues: WorkQueueFilter | None = None


# ---------------------------------------------------------------------------------- documents


def new_queue_doc(ctx: Ctx, pool: Doc, *, name: str, description: str | None = "", is_paused: bool = False,
                  concurrency_limit: int | None = None, priority: int = 1, filter: dict | None = None,
                  queue_id: str | None = None) -> Doc:
    now = iso_utc(ctx.now())
    return {
        "id": queue_id or ids.new_id(),
        "created": now,
        "updated": now,
        "name": name,
        "description": "" if description is None else description,
        "is_paused": is_paused,
        "concurrency_limit": concurrency_limit,
        "priority": priority,
        "work_pool_id": pool["id"],
        "filter": filter,
        "last_polled": None,
        "status": "NOT_READY",
        "_pool_name": pool["name"],
    }


def core_wire(queue_doc: Doc) -> dict[str, Any]:
    """The core ``WorkQueue`` shape (no ``work_pool_name``/``status``), e.g. for work_queue_check."""
    return {k: queue_doc.get(k) for k in CORE_KEYS}


def queue_wire(ctx: Ctx, queue_doc: Doc, pool_doc: Doc | None = None) -> dict[str, Any]:
    """``WorkQueueResponse``: the core keys plus ``work_pool_name`` and ``status``."""
    out = core_wire(queue_doc)
    if pool_doc is not None:
        pool_name = pool_doc["name"]
    elif queue_doc.get("_pool_name") is not None:
        pool_name = queue_doc["_pool_name"]
    elif queue_doc.get("work_pool_id"):
        pool = ctx.stores.work_pools.get(queue_doc["work_pool_id"])
        pool_name = pool["name"] if pool else None
    else:
        pool_name = None
    out["work_pool_name"] = pool_name
    from domain.services import polling

    out["status"] = polling.queue_status(ctx, queue_doc)  # READY lapses 60 s after the last poll
    return out


# ------------------------------------------------------------------------------- lookups


def read_queue(ctx: Ctx, queue_id: str) -> Doc | None:
    """The stored queue document, or None."""
    return ctx.stores.work_queues.get(queue_id)


def pool_queues(ctx: Ctx, pool_id: str) -> list[Doc]:
    return list(ctx.stores.work_queues.query("by_pool", pool_id))


def find_in_pool(ctx: Ctx, pool_id: str, name: str) -> Doc | None:
    """The queue named ``name`` in the pool: its name guard, then the queue (two GetItems)."""
    return name_guards.lookup(ctx, ctx.stores.work_queues, name_guards.work_queue(pool_id, name))


def _first_free_priority(queues: Iterable[Doc]) -> int:
    """The reference's default: the first gap in 1, 2, 3, …, else max + 1."""
    taken = sorted(q["priority"] for q in queues)
    for i, p in enumerate(taken):
        if i + 1 != p:
            return i + 1
    return (taken[-1] if taken else 0) + 1


def _shift_priorities(ctx: Ctx, pool_id: str, new_priorities: dict[str, int], *, known: Doc | None = None) -> None:
    """Reference ``bulk_update_work_queue_priorities``: give the listed queues their priority and
    bump the others the least needed to keep priorities unique and in order.

    Each changed queue is written on its own (no transactions); concurrent priority changes in one
    pool can leave duplicate priorities, which only affects the order runs are handed out.
    """
    queues = pool_queues(ctx, pool_id)
    if known is not None:  # a queue just written may not be visible in the index yet (GSIs lag)
        queues = [q for q in queues if q["id"] != known["id"]] + [dict(known)]
    queues.sort(key=lambda q: q["priority"])
    original = {q["id"]: q["priority"] for q in queues}
    rest = [q for q in queues if q["id"] not in new_priorities]
    moved = [q for q in queues if q["id"] in new_priorities]
    for queue in sorted(moved, key=lambda q: new_priorities[q["id"]]):
        queue["priority"] = new_priorities[queue["id"]]
        for i, other in enumerate(rest):
            if other["priority"] >= queue["priority"]:
                rest.insert(i, queue)
                break
        else:
            rest.append(queue)
    last = 0
    for queue in rest:
        if queue["priority"] <= last:
            last += 1
            queue["priority"] = last
        else:
            last = queue["priority"]
    now = iso_utc(ctx.now())
    for queue in rest:
        if queue["priority"] != original[queue["id"]] or queue["id"] in new_priorities:
            queue["updated"] = now
            try:
                ctx.stores.work_queues.put(queue, cond=name_guards.same_name(queue))
            except ConditionFailed:
                pass  # deleted or renamed meanwhile


def _insert(ctx: Ctx, pool: Doc, name: str, *, priority: int | None, description: str | None = "",
            is_paused: bool = False, concurrency_limit: int | None = None,
            filter: dict | None = None) -> tuple[Doc, bool]:
    """Create ``name`` in ``pool``. Returns (queue, created); (existing, False) if it exists."""
    key = name_guards.work_queue(pool["id"], name)
    explicit = priority
    for _ in attempts():
        existing = name_guards.lookup(ctx, ctx.stores.work_queues, key)
        if existing is not None:
            return existing, False
        if explicit is None:
            priority = _first_free_priority(pool_queues(ctx, pool["id"]))
        doc = new_queue_doc(ctx, pool, name=name, description=description, is_paused=is_paused,
                            concurrency_limit=concurrency_limit, priority=priority, filter=filter)
        try:
            name_guards.insert(ctx, ctx.stores.work_queues, doc, key)
            break
        except ConditionFailed:
            continue  # a concurrent create won (read it next), or a transaction conflicted
    else:
        raise ServiceUnavailable("Service Unavailable")
    if explicit:
        _shift_priorities(ctx, pool["id"], {doc["id"]: explicit}, known=doc)
        doc = ctx.stores.work_queues.get(doc["id"]) or doc
    return doc, True


def get_or_create_in_pool(ctx: Ctx, pool: Doc, name: str) -> Doc:
    """The queue ``name`` of ``pool``, created (first free priority) if missing. Race-safe."""
    return _insert(ctx, pool, name, priority=None)[0]


def ensure_work_queue_exists(ctx: Ctx, name: str) -> Doc:
    """Reference ``ensure_work_queue_exists``: the queue ``name`` of ``default-agent-pool`` (the
    pool is created if missing); a new queue gets priority 1 and the others shift down."""
    from domain.services import work_pools

    pool = work_pools.ensure_default_agent_pool(ctx)
    existing = find_in_pool(ctx, pool["id"], name)
    if existing is not None:
        return existing
    if name == work_pools.DEFAULT_QUEUE_NAME:
        default = read_queue(ctx, pool["default_queue_id"])
        if default is not None:
            return default
    return _insert(ctx, pool, name, priority=1)[0]


def mark_polled(ctx: Ctx, queue_ids: Iterable[str], now: dt.datetime) -> None:
    """A worker/agent polled these queues: ``last_polled = now``; NOT_READY queues become READY
    (``polling.record_queue_polls``: conditional on the queue being unchanged, skipped while fresh)."""
    from domain.services import polling

    polling.record_queue_polls(ctx, ctx.stores.work_queues.get_many(list(dict.fromkeys(queue_ids))), now)


def detach_deployments(ctx: Ctx, queue_id: str, *, rename_to: str | None = None, queue: Doc | None = None) -> None:
    """Deployments on ``queue_id`` lose their queue (``work_queue_id`` = null, as the reference's
    ``ON DELETE SET NULL``) and keep the ``last_polled`` it gave them (``queue``, the deleted
    queue), or, with ``rename_to``, see the queue's new name.

    Each deployment is a read-modify-write on its optimistic revision (``_rev``), retried.
    """
    from domain.services import polling

    for dep in list(ctx.stores.deployments.query("by_work_queue", queue_id)):
        for _ in range(5):
            doc = ctx.stores.deployments.get(dep["id"])
            if doc is None or doc.get("work_queue_id") != queue_id:
                break
            rev = doc.get("_rev", 0)
            if rename_to is None:
                doc["work_queue_id"] = None
                polling.keep_queue_poll(doc, queue)
            elif "_wq_name" in doc:
                doc["_wq_name"] = rename_to
            else:
                break
            doc["_rev"] = rev + 1
            try:
                ctx.stores.deployments.put(doc, cond=Cond.eq("rev", rev))
                break
            except ConditionFailed:
                continue


# ------------------------------------------------------------------------------- updates


def _apply_update(ctx: Ctx, queue: Doc, body: WorkQueueUpdate, *, pool_scoped: bool) -> None:
    fields = body.model_dump(include=body.model_fields_set)
    for key in ("name", "description", "priority"):
        if key in fields and fields[key] is None:
            raise IntegrityConflict()
    if "filter" in fields:
        fields["filter"] = body.filter.wire() if body.filter is not None else None
    if "last_polled" in fields:
        fields["last_polled"] = iso_utc(body.last_polled)
    old_name = queue["name"]
    renamed = "name" in fields and fields["name"] != old_name
    if renamed and find_in_pool(ctx, queue["work_pool_id"], fields["name"]) is not None:
        raise IntegrityConflict()
    if "is_paused" in fields:
        status = queue.get("status")
        if fields["is_paused"] and status != "PAUSED":
            fields["status"] = "PAUSED"
        elif not fields["is_paused"] and status == "PAUSED":
            fields["status"] = "NOT_READY"
            polled = fields["last_polled"] if "last_polled" in fields else queue.get("last_polled")
            if polled and ctx.now() - parse(polled) <= LAST_POLLED_TIMEOUT:
                fields["status"] = "READY"
    queue.update(fields)
    queue["updated"] = iso_utc(ctx.now())
    pool_id = queue["work_pool_id"]
    outcome = name_guards.save(ctx, ctx.stores.work_queues, queue, old_name,
                               lambda n: name_guards.work_queue(pool_id, n))
    if outcome == "taken":
        raise IntegrityConflict()  # a concurrent create or rename took the name
    if outcome == "gone":
        raise NotFound(LEGACY_NOT_FOUND)
    if pool_scoped and "priority" in fields:
        _shift_priorities(ctx, queue["work_pool_id"], {queue["id"]: fields["priority"]}, known=queue)
    if renamed:
        detach_deployments(ctx, queue["id"], rename_to=queue["name"])


def _delete(ctx: Ctx, queue: Doc) -> None:
    """The queue and its name guard, in one transaction (on the name read: a queue renamed
    meanwhile is read again)."""
    detach_deployments(ctx, queue["id"], queue=queue)
    for _ in attempts(8):
        try:
            key = name_guards.work_queue(queue["work_pool_id"], queue["name"])
            name_guards.remove(ctx, ctx.stores.work_queues, queue["id"], key, name_guards.same_name(queue))
            return
        except ConditionFailed:
            queue = read_queue(ctx, queue["id"])
            if queue is None:
                raise NotFound(LEGACY_NOT_FOUND) from None
    raise ServiceUnavailable("Service Unavailable")


def _is_default_queue(ctx: Ctx, queue: Doc) -> bool:
    pool = ctx.stores.work_pools.get(queue["work_pool_id"]) if queue.get("work_pool_id") else None
    return pool is not None and pool.get("default_queue_id") == queue["id"]


def _page(docs: Iterable[Doc], f: WorkQueueFilter | None, offset: int, limit: int) -> list[Doc]:
    return list(itertools.islice((d for d in docs if f is None or f.matches(d)), offset, offset + limit))


# ------------------------------------------------------------------- /work_pools/{pool}/queues


def _pool(ctx: Ctx, pool_name: str) -> Doc:
    from domain.services import work_pools

    return work_pools.get_pool_or_404(ctx, pool_name)


def create_in_pool(ctx: Ctx, pool_name: str, body: WorkQueueCreate) -> dict[str, Any]:
    pool = _pool(ctx, pool_name)
    queue, created = _insert(
        ctx, pool, body.name, priority=body.priority, description=body.description,
        is_paused=body.is_paused, concurrency_limit=body.concurrency_limit,
        filter=body.filter.wire() if body.filter is not None else None,
    )
    if not created:
        raise Conflict(EXISTS_IN_POOL)
    return queue_wire(ctx, queue, pool)


def _get_in_pool(ctx: Ctx, pool_name: str, name: str) -> tuple[Doc, Doc]:
    from domain.services import work_pools

    pool = work_pools.read_pool_by_name(ctx, pool_name)
    queue = find_in_pool(ctx, pool["id"], name) if pool is not None else None
    if queue is None:
        raise not_found_in_pool(pool_name, name)
    return pool, queue


def read_in_pool(ctx: Ctx, pool_name: str, name: str) -> dict[str, Any]:
    pool, queue = _get_in_pool(ctx, pool_name, name)
    return queue_wire(ctx, queue, pool)


def update_in_pool(ctx: Ctx, pool_name: str, name: str, body: WorkQueueUpdate) -> None:
    _, queue = _get_in_pool(ctx, pool_name, name)
    _apply_update(ctx, queue, body, pool_scoped=True)


def delete_in_pool(ctx: Ctx, pool_name: str, name: str) -> None:
    """The pool's default queue cannot be deleted (the reference answers 500 with this text; we
    answer 409)."""
    pool, queue = _get_in_pool(ctx, pool_name, name)
    if pool.get("default_queue_id") == queue["id"]:
        raise Conflict(DEFAULT_QUEUE_UNDELETABLE)
    _delete(ctx, queue)


def filter_in_pool(ctx: Ctx, pool_name: str, q: WorkQueueQuery) -> list[dict[str, Any]]:
    """The pool's queues by ascending priority, filtered, offset/limit."""
    limit = check_limit(ctx, q.limit)
    pool = _pool(ctx, pool_name)
    queues = sorted(pool_queues(ctx, pool["id"]), key=lambda d: (d["priority"], d["id"]))
    return [queue_wire(ctx, d, pool) for d in _page(queues, q.work_queues, q.offset, limit)]


# -------------------------------------------------------------------------- legacy /work_queues


def create_legacy(ctx: Ctx, body: WorkQueueCreate) -> dict[str, Any]:
    """POST /work_queues/: a queue in ``default-agent-pool`` (created if missing). If the pool was
    just created and the name is ``default``, its default queue is the answer."""
    from domain.services import work_pools

    pool, pool_created = work_pools._ensure_default_agent_pool(ctx)
    if pool_created and body.name == work_pools.DEFAULT_QUEUE_NAME:
        default = read_queue(ctx, pool["default_queue_id"])
        if default is not None:
            return queue_wire(ctx, default, pool)
    queue, created = _insert(
        ctx, pool, body.name, priority=body.priority, description=body.description,
        is_paused=body.is_paused, concurrency_limit=body.concurrency_limit,
        filter=body.filter.wire() if body.filter is not None else None,
    )
    if not created:
        raise Conflict(EXISTS_LEGACY)
    return queue_wire(ctx, queue, pool)


def read_legacy(ctx: Ctx, queue_id: str) -> dict[str, Any]:
    queue = read_queue(ctx, queue_id)
    if queue is None:
        raise NotFound(LEGACY_NOT_FOUND)
    return queue_wire(ctx, queue)


def read_legacy_by_name(ctx: Ctx, name: str) -> dict[str, Any]:
    """GET /work_queues/name/{name}: the queue of that name in ``default-agent-pool`` (any pool's
    while that pool does not exist, as the reference does during its migration)."""
    from domain.services import work_pools

    pool = work_pools.read_pool_by_name(ctx, work_pools.DEFAULT_AGENT_POOL)
    if pool is not None:
        queue = find_in_pool(ctx, pool["id"], name)
    else:
        queue = next(query_all(ctx.stores.work_queues, "by_name", sk_gte=name, sk_lte=name), None)
    if queue is None:
        raise NotFound(LEGACY_NOT_FOUND)
    return queue_wire(ctx, queue, pool)


def update_legacy(ctx: Ctx, queue_id: str, body: WorkQueueUpdate) -> None:
    """PATCH /work_queues/{id}. Unlike the pool-scoped PATCH the reference does not re-rank the
    other queues when ``priority`` changes; neither do we."""
    queue = read_queue(ctx, queue_id)
    if queue is None:
        raise NotFound(LEGACY_UPDATE_NOT_FOUND)
    _apply_update(ctx, queue, body, pool_scoped=False)


def delete_legacy(ctx: Ctx, queue_id: str) -> None:
    """DELETE /work_queues/{id}: a pool's default queue is the reference's integrity error."""
    queue = read_queue(ctx, queue_id)
    if queue is None:
        raise NotFound(LEGACY_NOT_FOUND)
    if _is_default_queue(ctx, queue):
        raise IntegrityConflict()
    _delete(ctx, queue)


def filter_legacy(ctx: Ctx, q: WorkQueueQuery) -> list[dict[str, Any]]:
    """POST /work_queues/filter: queues of every pool, ordered by name."""
    limit = check_limit(ctx, q.limit)
    f = q.work_queues
    wanted = f.exact_ids() if f is not None else None
    if wanted is not None:
        docs: Iterable[Doc] = sorted(ctx.stores.work_queues.get_many(sorted(wanted)), key=_name_then_created)
    else:
        docs = _ties_by_creation(query_all(ctx.stores.work_queues, "by_name"))
    return [queue_wire(ctx, d) for d in _page(docs, f, q.offset, limit)]


def _name_then_created(doc: Doc) -> tuple[str, str, str]:
    return doc["name"], parse(doc["created"]).isoformat(), doc["id"]


def _ties_by_creation(docs: Iterable[Doc]) -> Iterable[Doc]:
    """Name-ordered queues with equal names (one per pool) in creation order, as the reference
    lists them; lazily, one run of equal names at a time."""
    for _, run in itertools.groupby(docs, key=lambda d: d["name"]):
        yield from sorted(run, key=_name_then_created)
