"""Tag concurrency limits, v1 (orchestration spec §1.11, behaviours 100 and 108, quirk Q4).

A limit is ``{"id", "created", "updated", "tag", "concurrency_limit", "active_slots", "_rev"}``
with a fresh uuid4 id. Task-run orchestration takes and releases slots by rewriting the same
document conditioned on its revision, so every write here is conditioned on the revision it read
(``rev``) and bumps it; a write that loses the race re-reads and tries again.

One limit per tag: a guard item ``concurrency_limit:<tag>`` (Guards table, ``{"id", "owner_id"}``)
is written in the same transaction as a new limit and deleted in the same transaction as the
limit, so of two concurrent creates of one tag one transaction fails and retries as an update.
Reading by tag is two strongly consistent GetItems (guard, then limit); the ``by_tag`` index
(eventually consistent) serves the tag-ordered list. The empty tag, which the reference accepts
but an index key cannot hold, is found through its guard.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from domain import ids
from domain.context import Ctx
from domain.errors import ConditionFailed, NotFound, ServiceUnavailable
from domain.parsing import Embedded, Offset, V1Int, V1Str
from domain.ports import Cond, Doc, TxDelete, TxPut
from domain.sharded_index import query_all
from domain.timeutil import iso_utc

NOT_FOUND = "Concurrency limit not found"
WIRE_KEYS = ("id", "created", "updated", "tag", "concurrency_limit", "active_slots")
_ATTEMPTS = 20
_MAX_GUARD_KEY_BYTES = 1024  # DynamoDB partition keys hold at most 2048 bytes


class ConcurrencyLimitCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tag: V1Str
    concurrency_limit: V1Int


class ConcurrencyLimitQuery(Embedded):
    """``{"offset", "limit"}`` (the shape of ``queries.Page``, which this module does not import:
    it would bring the filter models into every cold start of the write routes)."""

    offset: Offset = 0  # clamped: a huge offset is an empty page, not an islice error
    limit: int | None = None


class ResetBody(Embedded):
    slot_override: list[UUID] | None = None


def to_wire(doc: Doc) -> dict[str, Any]:
    return {k: doc.get(k) for k in WIRE_KEYS}


def guard_id(tag: str) -> str:
    key = f"concurrency_limit:{tag}"
    if len(key.encode("utf-8", "surrogatepass")) > _MAX_GUARD_KEY_BYTES:
        digest = hashlib.sha256(tag.encode("utf-8", "surrogatepass")).hexdigest()
        key = f"concurrency_limit#sha256:{digest}"
    return key


def _attempts() -> Iterator[int]:
    yield from range(_ATTEMPTS)
    raise ServiceUnavailable("Service Unavailable")


# -------------------------------------------------------------------------------------- reads


def read_by_tag(ctx: Ctx, tag: str) -> Doc | None:
    """The stored limit of ``tag`` (strongly consistent: its guard, then the limit), or None."""
    guard = ctx.stores.guards.get(guard_id(tag))
    if guard is None:
        return None
    doc = ctx.stores.concurrency_limits.get(guard["owner_id"])
    return doc if doc is not None and doc.get("tag") == tag else None


def _by_tag_or_404(ctx: Ctx, tag: str) -> Doc:
    doc = read_by_tag(ctx, tag)
    if doc is None:
        raise NotFound(NOT_FOUND)
    return doc


def read(ctx: Ctx, limit_id: UUID) -> dict[str, Any]:
    doc = ctx.stores.concurrency_limits.get(str(limit_id))
    if doc is None:
        raise NotFound(NOT_FOUND)
    return to_wire(doc)


def read_tag(ctx: Ctx, tag: str) -> dict[str, Any]:
    return to_wire(_by_tag_or_404(ctx, tag))


def filter_limits(ctx: Ctx, q: ConcurrencyLimitQuery) -> list[dict[str, Any]]:
    """POST /concurrency_limits/filter: every limit ordered by tag, offset/limit (the index read
    stops after offset + limit)."""
    from domain.services.queries import check_limit

    limit = check_limit(ctx, q.limit)
    rows = query_all(ctx.stores.concurrency_limits, "by_tag")
    empty = read_by_tag(ctx, "")
    if empty is not None:
        rows = itertools.chain([empty], rows)
    return [to_wire(d) for d in itertools.islice(rows, q.offset, q.offset + limit)]


# ------------------------------------------------------------------------------------- writes


def upsert(ctx: Ctx, body: ConcurrencyLimitCreate) -> dict[str, Any]:
    """POST /concurrency_limits/: a new limit, or the tag's limit with the new
    ``concurrency_limit`` (same id, slots kept). Answered with 200 either way (Q4)."""
    for _ in _attempts():
        now = iso_utc(ctx.now())
        current = read_by_tag(ctx, body.tag)
        try:
            if current is None:
                doc = {"id": ids.new_id(), "created": now, "updated": now, "tag": body.tag,
                       "concurrency_limit": body.concurrency_limit, "active_slots": [], "_rev": 1}
                ctx.stores.transact([
                    TxPut(ctx.stores.guards, {"id": guard_id(body.tag), "owner_id": doc["id"]}, Cond.absent()),
                    TxPut(ctx.stores.concurrency_limits, doc, Cond.absent()),
                ])
            else:
                doc = _write(ctx, current, concurrency_limit=body.concurrency_limit, updated=now)
            return to_wire(doc)
        except ConditionFailed:
            continue
    raise AssertionError("unreachable")


def _write(ctx: Ctx, current: Doc, **changes: Any) -> Doc:
    """``current`` with ``changes``, written only if nobody wrote it since it was read."""
    rev = current.get("_rev", 0)
    doc = {**current, **changes, "_rev": rev + 1}
    ctx.stores.concurrency_limits.put(doc, cond=Cond.eq("rev", rev))
    return doc


def reset(ctx: Ctx, tag: str, body: ResetBody) -> None:
    """POST /concurrency_limits/tag/{tag}/reset: ``active_slots`` := the override, or none."""
    slots = [str(s) for s in body.slot_override] if body.slot_override is not None else []
    for _ in _attempts():
        current = _by_tag_or_404(ctx, tag)
        try:
            _write(ctx, current, active_slots=slots, updated=iso_utc(ctx.now()))
            return
        except ConditionFailed:
            continue


def _delete(ctx: Ctx, current: Doc) -> None:
    ctx.stores.transact([
        TxDelete(ctx.stores.concurrency_limits, current["id"], Cond.eq("rev", current.get("_rev", 0))),
        TxDelete(ctx.stores.guards, guard_id(current["tag"])),
    ])


def delete_by_tag(ctx: Ctx, tag: str) -> None:
    """DELETE /concurrency_limits/tag/{tag}: the limit and its guard (200 ``null``, Q4)."""
    for _ in _attempts():
        current = _by_tag_or_404(ctx, tag)
        try:
            _delete(ctx, current)
            return
        except ConditionFailed:
            continue


def delete(ctx: Ctx, limit_id: UUID) -> None:
    """DELETE /concurrency_limits/{id} (200 ``null``, Q4)."""
    for _ in _attempts():
        current = ctx.stores.concurrency_limits.get(str(limit_id))
        if current is None:
            raise NotFound(NOT_FOUND)
        try:
            _delete(ctx, current)
            return
        except ConditionFailed:
            continue
