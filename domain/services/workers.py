"""Workers of a work pool (orchestration spec §1.9, §4.4): heartbeat, filter, delete, and the
pool's READY/NOT_READY status derived from them at read time.

Identity. A worker is unique per (work pool, name), so its id is ``uuid5(pool id, name)``
(``worker_id``): a heartbeat is an upsert of one item by key, concurrent heartbeats of one worker
land on the same item, and deleting a worker is one DeleteItem — no index lookup, no guard item.
A guard item would only be needed if workers could be renamed; they cannot.

Status without a background loop. The reference's foreman flips a worker's stored status to
OFFLINE once ``last_heartbeat_time < now − 3 × (heartbeat_interval_seconds or 30)`` and a READY
pool without an ONLINE worker to NOT_READY; the worker response recomputes the status on every
read. flowplane stores, with each heartbeat, the instant the worker stops being ONLINE
(``_online_until`` = last heartbeat + 3 × interval, the ``by_pool`` index's sort key) and derives
both statuses when they are read:

* worker ``status``: ONLINE iff ``_online_until > now`` — in responses and in the ``status``
  filter (the reference filters on the stored column, which its foreman brings to this same value
  within one 15 s loop; flowplane has no such lag);
* pool ``status`` (``pool_status``): ``null`` for ``prefect-agent`` pools, PAUSED while paused,
  else READY iff one of its workers is ONLINE — a Query of ``by_pool`` with ``online_until > now``
  and limit 1. Heartbeats therefore never write the pool.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator

from domain import ids
from domain.context import Ctx
from domain.errors import ConditionFailed, NotFound
from domain.filters import _FilterModel, _TimeRange, _TopLevelFilter
from domain.parsing import Embedded
from domain.ports import Cond, Doc
from domain.services.queries import Page, check_limit
from domain.timeutil import iso_utc, parse, sort_key

WIRE_KEYS = ("id", "created", "updated", "name", "work_pool_id", "last_heartbeat_time",
             "heartbeat_interval_seconds", "status")
WORKER_NOT_FOUND = "Worker not found."
AGENT_TYPE = "prefect-agent"
WorkerStatus = Literal["ONLINE", "OFFLINE"]


def worker_id(pool_id: str, name: str) -> str:
    """The worker's deterministic id (module docstring)."""
    return str(uuid.uuid5(ids.NAMESPACE, "\x1f".join(("worker", pool_id, name))))


# ------------------------------------------------------------------------------ request models


def _truncate(value: Any) -> Any:
    """The client sends ``30.0``; the reference stores the integer part (``30.5`` -> 30)."""
    if isinstance(value, float) and value == value and abs(value) != float("inf"):
        return int(value)
    return value


class WorkerHeartbeat(Embedded):
    name: str
    heartbeat_interval_seconds: Annotated[int | None, BeforeValidator(_truncate)] = None


class WorkerFilterLastHeartbeatTime(_TimeRange):
    """Filter by ``Worker.last_heartbeat_time`` (``before_`` <=, ``after_`` >=)."""

    doc_key: ClassVar[str] = "last_heartbeat_time"


class WorkerFilterStatus(_FilterModel):
    """Filter by ``Worker.status`` (evaluated on the status as of now; module docstring)."""

    any_: list[WorkerStatus] | None = None
    not_any_: list[WorkerStatus] | None = None

    def _terms(self, doc, ctx):
        if self.any_ is not None:
            allowed = frozenset(self.any_)
            yield lambda: doc.get("status") in allowed
        if self.not_any_ is not None:
            excluded = frozenset(self.not_any_)
            yield lambda: doc.get("status") not in excluded


class WorkerFilter(_TopLevelFilter):
    last_heartbeat_time: WorkerFilterLastHeartbeatTime | None = None
    status: WorkerFilterStatus | None = None


class WorkerQuery(Page):
    """``workers`` is read; the 2.20 client sends its filter as ``worker_filter``, which is
    ignored like any unknown key (quirk Q8)."""
    BODY_ORDER: ClassVar[tuple[str, ...]] = ("limit", "workers", "offset")  # the reference's

    workers: WorkerFilter | None = None


# ---------------------------------------------------------------------------------- documents


def _threshold(ctx: Ctx, interval: int | None) -> dt.timedelta:
    s = ctx.settings
    return dt.timedelta(seconds=s.foreman_inactivity_heartbeat_multiple
                        * (interval or s.foreman_fallback_heartbeat_interval_seconds))


def _online_until(ctx: Ctx, now: dt.datetime, interval: int | None) -> str:
    """When a worker heartbeating now stops being ONLINE. The reference stores any integer
    interval; one whose threshold falls outside the calendar ends at its edge: the end of time for
    a huge interval, now (offline at once) for a hugely negative one."""
    try:
        return sort_key(now + _threshold(ctx, interval))
    except OverflowError:
        return sort_key(dt.datetime.max if (interval or 0) > 0 else now)


def is_online(doc: Doc, now: dt.datetime) -> bool:
    until = doc.get("_online_until")
    return bool(until) and until > sort_key(now)


def to_wire(doc: Doc, now: dt.datetime) -> dict[str, Any]:
    out = {k: doc.get(k) for k in WIRE_KEYS}
    out["status"] = "ONLINE" if is_online(doc, now) else "OFFLINE"
    return out


def _pool(ctx: Ctx, pool_name: str) -> Doc:
    from domain.services import work_pools

    return work_pools.get_pool_or_404(ctx, pool_name)


# ------------------------------------------------------------------------------- domain API


def heartbeat(ctx: Ctx, pool_name: str, body: WorkerHeartbeat) -> None:
    """POST /work_pools/{name}/workers/heartbeat: upsert the worker (``last_heartbeat_time`` =
    now, stored status ONLINE, interval kept when the body's is null). One GetItem of the pool,
    one of the worker and one conditional put: on a new worker ``absent``, else ``exists`` (a
    worker deleted meanwhile is created again, as the reference's upsert would) — retried once."""
    pool = _pool(ctx, pool_name)
    key = worker_id(pool["id"], body.name)
    for _ in range(3):
        now = ctx.now()
        stamp = iso_utc(now)
        existing = ctx.stores.workers.get(key)
        doc = dict(existing) if existing else {
            "id": key, "created": stamp, "name": body.name, "work_pool_id": pool["id"],
            "heartbeat_interval_seconds": None,
        }
        if body.heartbeat_interval_seconds is not None:
            doc["heartbeat_interval_seconds"] = body.heartbeat_interval_seconds
        doc.update(updated=stamp, last_heartbeat_time=stamp, status="ONLINE")
        doc["_online_until"] = _online_until(ctx, now, doc["heartbeat_interval_seconds"])
        doc = {**{k: doc.get(k) for k in WIRE_KEYS}, "_online_until": doc["_online_until"]}
        try:
            ctx.stores.workers.put(doc, cond=Cond.exists() if existing else Cond.absent())
            return
        except ConditionFailed:
            continue  # created or deleted concurrently: read again


def _pool_workers(ctx: Ctx, pool_id: str) -> list[Doc]:
    return list(ctx.stores.workers.query("by_pool", pool_id))


def filter_workers(ctx: Ctx, pool_name: str, q: WorkerQuery) -> list[dict[str, Any]]:
    """POST /work_pools/{name}/workers/filter: newest heartbeat first, offset/limit. One Query
    of the pool's workers (``by_pool``)."""
    limit = check_limit(ctx, q.limit)
    pool = _pool(ctx, pool_name)
    now = ctx.now()
    docs = sorted(_pool_workers(ctx, pool["id"]), key=lambda d: (parse(d["last_heartbeat_time"]), d["id"]),
                  reverse=True)
    wired = (to_wire(d, now) for d in docs)
    matching = (w for w in wired if q.workers is None or q.workers.matches(w))
    return list(itertools.islice(matching, q.offset, q.offset + limit))


def delete(ctx: Ctx, pool_name: str, name: str) -> None:
    """DELETE /work_pools/{name}/workers/{worker}: 204, or 404 ``Worker not found.``"""
    pool = _pool(ctx, pool_name)
    if not ctx.stores.workers.delete(worker_id(pool["id"], name)):
        raise NotFound(WORKER_NOT_FOUND)


def delete_pool_workers(ctx: Ctx, pool_id: str) -> None:
    """A deleted pool's workers go with it (the reference's ``ON DELETE CASCADE``), so a pool
    created again under the name does not inherit them."""
    ctx.stores.workers.delete_many([d["id"] for d in _pool_workers(ctx, pool_id)])


def has_online_worker(ctx: Ctx, pool_id: str, now: dt.datetime) -> bool:
    """Whether some worker of the pool is ONLINE now: one Query, at most one item read."""
    after = sort_key(now + dt.timedelta(microseconds=1))
    return next(iter(ctx.stores.workers.query("by_pool", pool_id, sk_gte=after, limit=1)), None) is not None


def pool_status(ctx: Ctx, pool: Doc, now: dt.datetime | None = None) -> str | None:
    """The pool's status as of now (module docstring)."""
    if pool.get("type") == AGENT_TYPE:
        return None
    if pool.get("is_paused"):
        return "PAUSED"
    return "READY" if has_online_worker(ctx, pool["id"], now or ctx.now()) else "NOT_READY"
