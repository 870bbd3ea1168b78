"""Artifacts and their per-key collections (orchestration spec §1.12, behaviours 111-113).

An artifact is an immutable-ish document with a fresh uuid4 ``id``; a keyed artifact also makes
its key's *collection* row point at it (``latest_id``), which is what ``Artifact.get(key)`` and
the UI read. Result artifacts written by task-run orchestration use the same document shape and,
when keyed, ``collection_ops`` to move the collection in their own transaction.

The collection row is stored under ``uuid5(key)`` (one row per key, found with one GetItem); the
``id`` it answers is its ``public_id``, a fresh uuid4 each time the row is (re)created, as the
reference gives a key's collection a new id once its last artifact was deleted and the key reused. Every write of a collection
is conditioned on its revision (``rev``) and done in one transaction with the artifact write it
belongs to, so

* the newest artifact of a key wins, whatever order concurrent creates commit in: a create whose
  artifact is older than the collection's ``_latest_created`` leaves the collection alone, any
  other re-reads and retries when it loses the revision race (equal creation times: the later
  write wins, as in the reference's upsert);
* deleting the latest artifact moves the collection to the next newest one of the key (read from
  the ``by_key`` index) or deletes it, and a concurrent create is never overwritten.

Filters and counts are in ``domain/services/artifact_queries.py`` (kept apart so creating an
artifact imports no filter models).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict

from domain import ids
from domain.context import Ctx
from domain.errors import ConditionFailed, NotFound, ServiceUnavailable
from domain.parsing import V1Str
from domain.ports import Cond, Doc, TxDelete, TxOp, TxPut
from domain.timeutil import iso_utc, parse, sort_key

NOT_FOUND = "Artifact not found."
KEY_RULE = "Artifact key must only contain lowercase letters, numbers, and dashes."
MAX_METADATA_VALUE_LENGTH = 500
WIRE_KEYS = ("id", "created", "updated", "key", "type", "description", "data", "metadata_", "flow_run_id",
             "task_run_id")
COLLECTION_WIRE_KEYS = ("id", "created", "updated", "key", "latest_id", "type", "description", "data",
                        "metadata_", "flow_run_id", "task_run_id")
# what a collection row copies from its latest artifact
_COPIED = ("type", "description", "data", "metadata_", "flow_run_id", "task_run_id")
_ATTEMPTS = 20

_KEY_RE = re.compile(r"[a-z0-9-]*")


def _check_key(value: str | None) -> str | None:
    if value is not None and not _KEY_RE.fullmatch(value):
        raise ValueError(KEY_RULE)
    return value


def _truncate_metadata(value: dict[str, str] | None) -> dict[str, str] | None:
    """Metadata values longer than 500 characters are cut to 500 + ``...`` (the reference's rule)."""
    if value is None:
        return None
    return {k: v if len(v) <= MAX_METADATA_VALUE_LENGTH else v[:MAX_METADATA_VALUE_LENGTH] + "..."
            for k, v in value.items()}


Text = V1Str
Metadata = Annotated[dict[str, Text], AfterValidator(_truncate_metadata)]


class ArtifactCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: Annotated[Text | None, AfterValidator(_check_key)] = None
    type: Text | None = None
    description: Text | None = None
    data: Any = None
    metadata_: Metadata | None = None
    flow_run_id: UUID | None = None
    task_run_id: UUID | None = None


class ArtifactUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    data: Any = None
    description: Text | None = None
    metadata_: Metadata | None = None


# ------------------------------------------------------------------------------------- shapes


def to_wire(doc: Doc) -> dict[str, Any]:
    return {k: doc.get(k) for k in WIRE_KEYS}


def collection_to_wire(doc: Doc) -> dict[str, Any]:
    return {**{k: doc.get(k) for k in COLLECTION_WIRE_KEYS}, "id": public_id(doc)}


def public_id(doc: Doc) -> str:
    """The id a collection row answers (rows written before ``public_id`` existed: the row key)."""
    return doc.get("public_id") or doc["id"]


def collection_id(key: str) -> str:
    return str(uuid.uuid5(ids.NAMESPACE, f"artifact_collection\x1f{key}"))


def _created_sk(doc: Doc) -> str:
    return sort_key(parse(doc["created"]))


def _attempts() -> Iterator[int]:
    yield from range(_ATTEMPTS)
    raise ServiceUnavailable("Service Unavailable")


# ------------------------------------------------------------------------------------- writes


def collection_ops(ctx: Ctx, artifact: Doc) -> list[TxOp]:
    """The collection write that makes keyed ``artifact`` its key's latest (empty when the stored
    collection already points at a newer artifact). Reads the collection; the write is conditioned
    on what was read, so a caller that gets ``ConditionFailed`` re-reads and tries again."""
    key = artifact.get("key")
    if key is None:
        return []
    store = ctx.stores.artifact_collections
    current = store.get(collection_id(key))
    mine = _created_sk(artifact)
    if current is None:
        doc = {"id": collection_id(key), "public_id": ids.new_id(), "created": artifact["created"], "updated": artifact["updated"],
               "key": key, "latest_id": artifact["id"], **{k: artifact.get(k) for k in _COPIED},
               "_latest_created": mine, "_rev": 1}
        return [TxPut(store, doc, Cond.absent())]
    if current.get("_latest_created", "") > mine:
        return []  # a newer artifact of this key is already the latest
    rev = current.get("_rev", 0)
    doc = {**current, "updated": artifact["updated"], "latest_id": artifact["id"],
           **{k: artifact.get(k) for k in _COPIED}, "_latest_created": mine, "_rev": rev + 1}
    return [TxPut(store, doc, Cond.eq("rev", rev))]


def create(ctx: Ctx, body: ArtifactCreate) -> dict[str, Any]:
    """POST /artifacts/ -> 201: a new artifact; a keyed one also becomes its key's latest."""
    now = iso_utc(ctx.now())
    doc = {"id": ids.new_id(), "created": now, "updated": now, "key": body.key, "type": body.type,
           "description": body.description, "data": body.data, "metadata_": body.metadata_,
           "flow_run_id": str(body.flow_run_id) if body.flow_run_id else None,
           "task_run_id": str(body.task_run_id) if body.task_run_id else None}
    put = TxPut(ctx.stores.artifacts, doc, Cond.absent())
    for _ in _attempts():
        ops = collection_ops(ctx, doc)
        try:
            if ops:
                ctx.stores.transact([put, *ops])
            else:
                ctx.stores.artifacts.put(doc, cond=Cond.absent())
            return to_wire(doc)
        except ConditionFailed:
            continue
    raise AssertionError("unreachable")


def _get(ctx: Ctx, artifact_id: str) -> Doc:
    doc = ctx.stores.artifacts.get(artifact_id)
    if doc is None:
        raise NotFound(NOT_FOUND)
    return doc


def read(ctx: Ctx, artifact_id: UUID) -> dict[str, Any]:
    return to_wire(_get(ctx, str(artifact_id)))


def read_latest(ctx: Ctx, key: str) -> dict[str, Any]:
    """GET /artifacts/{key}/latest. The reference answers the *collection row* in the Artifact
    shape: ``id`` is the collection's id and ``created`` the key's first artifact's (reproduced)."""
    doc = ctx.stores.artifact_collections.get(collection_id(key))
    if doc is None:
        raise NotFound(NOT_FOUND)
    return {**to_wire(doc), "id": public_id(doc)}


def update(ctx: Ctx, artifact_id: UUID, body: ArtifactUpdate) -> None:
    """PATCH /artifacts/{id} -> 204. Reference quirk, reproduced: the artifact is updated, but the
    answer is 404 unless the artifact is its key's latest (the status reports the collection row)."""
    fields = body.model_dump(include=body.model_fields_set)
    now = iso_utc(ctx.now())
    for _ in _attempts():
        doc = ctx.stores.artifacts.get(str(artifact_id))
        if doc is None:
            raise NotFound(NOT_FOUND)
        rev = doc.get("_rev", 0)
        ops: list[TxOp] = [TxPut(ctx.stores.artifacts, {**doc, **fields, "updated": now, "_rev": rev + 1},
                                 _unchanged(doc))]
        coll = ctx.stores.artifact_collections.get(collection_id(doc["key"])) if doc.get("key") is not None else None
        is_latest = coll is not None and coll.get("latest_id") == doc["id"]
        if is_latest:
            crev = coll.get("_rev", 0)
            ops.append(TxPut(ctx.stores.artifact_collections, {**coll, **fields, "updated": now, "_rev": crev + 1},
                             Cond.eq("rev", crev)))
        try:
            ctx.stores.transact(ops)
        except ConditionFailed:
            continue
        if not is_latest:
            raise NotFound(NOT_FOUND)
        return


def _unchanged(doc: Doc) -> Cond:
    """The condition that ``doc`` (as read) is still the stored version. Artifacts written by
    orchestration carry no revision, so for them "still exists" is the best available condition."""
    return Cond.eq("rev", doc["_rev"]) if "_rev" in doc else Cond.exists()


def delete(ctx: Ctx, artifact_id: UUID) -> None:
    """DELETE /artifacts/{id} -> 204; the key's collection moves to the next newest artifact, or
    goes when this was the key's last one."""
    for _ in _attempts():
        doc = ctx.stores.artifacts.get(str(artifact_id))
        if doc is None:
            raise NotFound(NOT_FOUND)
        ops: list[TxOp] = [TxDelete(ctx.stores.artifacts, doc["id"], Cond.exists())]
        key = doc.get("key")
        coll = ctx.stores.artifact_collections.get(collection_id(key)) if key is not None else None
        if coll is not None and coll.get("latest_id") == doc["id"]:
            crev = coll.get("_rev", 0)
            successor = _next_latest(ctx, key, doc["id"])
            if successor is None:
                ops.append(TxDelete(ctx.stores.artifact_collections, coll["id"], Cond.eq("rev", crev)))
            else:
                moved = {**coll, "latest_id": successor["id"], "created": successor["created"],
                         "updated": successor["updated"], **{k: successor.get(k) for k in _COPIED},
                         "_latest_created": _created_sk(successor), "_rev": crev + 1}
                ops.append(TxPut(ctx.stores.artifact_collections, moved, Cond.eq("rev", crev)))
        try:
            ctx.stores.transact(ops)
            return
        except ConditionFailed:
            continue


def _next_latest(ctx: Ctx, key: str, excluded: str) -> Doc | None:
    if not key:
        return None  # the empty key is not indexed
    for doc in ctx.stores.artifacts.query("by_key", key, descending=True):
        if doc["id"] != excluded:
            return doc
    return None
