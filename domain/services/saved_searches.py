"""Saved searches: the flow-runs page's saved filter sets (``/saved_searches``).

As the reference: ``PUT /saved_searches/`` upserts by the unique name (201 when created, 200 when
the name existed: its ``filters`` are replaced, its id and ``created`` kept); ``POST /filter``
lists by name with offset/limit; ``GET``/``DELETE /{id}`` answer 404 ``Saved search not found``.
The id is derived from the name, so the upsert is one conditional write per outcome.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.context import Ctx
from domain.errors import ConditionFailed, NotFound
from domain.parsing import Embedded, path_uuid
from domain.ports import Cond
from domain.services.queries import check_limit
from domain.sharded_index import query_all
from domain.timeutil import iso_utc

NOT_FOUND = "Saved search not found"
_NAMESPACE = uuid.UUID("a3c7f0e2-5b8d-4c1e-9f6a-2d4b8e1c7a35")
WIRE_KEYS = ("id", "created", "updated", "name", "filters")


class SavedSearchFilter(BaseModel):
    model_config = ConfigDict(extra="ignore")
    object: str
    property: str
    type: str
    operation: str
    value: Any


class SavedSearchCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # DynamoDB refuses an empty string as an index key (the name GSI): an empty name is a 422, as
    # for flows and deployments (the reference creates it; the UI never sends one)
    name: str = Field(min_length=1)
    filters: list[SavedSearchFilter] = Field(default_factory=list)


class SavedSearchQuery(Embedded):
    offset: int = Field(default=0, ge=0)
    limit: int | None = None


def search_id(name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, name))


def _wire(doc: dict) -> dict[str, Any]:
    return {k: doc.get(k) for k in WIRE_KEYS}


def upsert(ctx: Ctx, body: SavedSearchCreate) -> tuple[dict[str, Any], bool]:
    """(the saved search, created?)."""
    store = ctx.stores.saved_searches
    now = iso_utc(ctx.now())
    filters = [f.model_dump() for f in body.filters]
    sid = search_id(body.name)
    for _ in range(5):
        doc = {"id": sid, "created": now, "updated": now, "name": body.name, "filters": filters}
        try:
            store.put(doc, cond=Cond.absent())
            return _wire(doc), True
        except ConditionFailed:
            pass
        current = store.get(sid)
        if current is None:
            continue
        doc = {**current, "updated": now, "filters": filters}
        try:
            store.put(doc, cond=Cond.exists())
            return _wire(doc), False
        except ConditionFailed:
            continue
    raise ConditionFailed("saved search kept changing")  # pragma: no cover - five lost races


def read(ctx: Ctx, raw_id: str) -> dict[str, Any]:
    doc = ctx.stores.saved_searches.get(path_uuid(raw_id))
    if doc is None:
        raise NotFound(NOT_FOUND)
    return _wire(doc)


def filter_searches(ctx: Ctx, q: SavedSearchQuery) -> list[dict[str, Any]]:
    limit = check_limit(ctx, q.limit)
    out = []
    for i, doc in enumerate(query_all(ctx.stores.saved_searches, "by_name")):
        if i >= q.offset + limit:
            break
        if i >= q.offset:
            out.append(_wire(doc))
    return out


def delete(ctx: Ctx, raw_id: str) -> None:
    if not ctx.stores.saved_searches.delete(path_uuid(raw_id)):
        raise NotFound(NOT_FOUND)
