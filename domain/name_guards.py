"""Name guards: unique names for objects with fresh ids (issue #10 item 1).

Flows, deployments, work pools, work queues, variables and block documents get fresh ``uuid4`` ids,
as in the reference: deleting an object and creating one with the same name gives a new id, and
nothing that kept the old id (runs, references) re-attaches to the new object.

Each such object's name is claimed by a *guard* item in the Guards table: id
``<kind>:<natural key>`` (e.g. ``deployment:<flow id>/<name>``; names cannot contain ``/``), doc
``{"id": <that>, "owner_id": <object id>}``. The invariant, for every stored object::

    guard(key(object)) exists and its owner_id is the object's id

is kept by writing guards only in one transaction with their object:

* create: put guard (``absent``) + put object (``absent``) — of two creates of one name, one
  transaction fails its guard condition, so there is one object;
* delete: delete object (with its condition) + delete guard;
* rename: delete old guard + put new guard (``absent``) + put object conditioned on its *old*
  name — of two renames to one name one fails; a stale rename fails on the name condition.
  Every other write of a renamable object (queues, variables) is conditioned on the name it read
  (``same_name``), so a stale write can never bring an old name back.

Reads by name are two strongly consistent GetItems (guard, then object). The name-sorted GSIs
would answer in one Query, but GSIs are eventually consistent — a client that creates an object and
reads it by name at once (``create_flow`` → ``read_flow_by_name``, deploy → ``run_deployment``)
could miss it — and they cannot tell a create-or-get which id won.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

from domain.context import Ctx
from domain.errors import ConditionFailed, ServiceUnavailable
from domain.ports import Cond, Doc, Store, TxDelete, TxPut

# DynamoDB allows 2048 bytes in a partition key; longer natural keys are hashed.
_MAX_KEY_BYTES = 1024
_TX_PAIRS = 50  # a transaction holds at most 100 items: 50 (object, guard) pairs


def _key(kind: str, *parts: str) -> str:
    raw = "/".join(parts)
    key = f"{kind}:{raw}"
    if len(key.encode("utf-8", "surrogatepass")) > _MAX_KEY_BYTES:
        key = f"{kind}#sha256:{hashlib.sha256(raw.encode('utf-8', 'surrogatepass')).hexdigest()}"
    return key


def flow(name: str) -> str:
    return _key("flow", name)


def deployment(flow_id: str, name: str) -> str:
    return _key("deployment", flow_id, name)


def work_pool(name: str) -> str:
    return _key("work_pool", name)


def work_queue(work_pool_id: str, name: str) -> str:
    return _key("work_queue", work_pool_id, name)


def variable(name: str) -> str:
    return _key("variable", name)


def block_type(slug: str) -> str:
    return _key("block_type", slug)


def block_document(block_type_id: str, name: str) -> str:
    return _key("block_document", block_type_id, name)


# ------------------------------------------------------------------------------------- reads


def owner(ctx: Ctx, key: str) -> str | None:
    """The id of the object holding the name ``key``, or None. One GetItem."""
    guard = ctx.stores.guards.get(key)
    return guard["owner_id"] if guard else None


def owners(ctx: Ctx, keys: Iterable[str]) -> set[str]:
    """The ids of the objects holding any of ``keys`` (one BatchGetItem)."""
    keys = sorted(set(keys))
    return {g["owner_id"] for g in ctx.stores.guards.get_many(keys)} if keys else set()


def lookup(ctx: Ctx, store: Store, key: str) -> Doc | None:
    """The object holding the name ``key``, or None. Two GetItems (one when the name is free)."""
    owner_id = owner(ctx, key)
    return store.get(owner_id) if owner_id else None


# ------------------------------------------------------------------------------------ writes


def same_name(doc: Doc) -> Cond:
    """The condition for writing back a renamable object read earlier: its name has not moved."""
    return Cond.eq("name", doc["name"])


def insert(ctx: Ctx, store: Store, doc: Doc, key: str, *, extra: Sequence[TxPut | TxDelete] = ()) -> None:
    """Create ``doc`` holding ``key``, atomically (with ``extra`` writes, e.g. a pool's default
    queue and its guard). ``ConditionFailed`` if the name is taken (or a transaction conflicted)."""
    ctx.stores.transact([
        TxPut(ctx.stores.guards, {"id": key, "owner_id": doc["id"]}, Cond.absent()),
        TxPut(store, doc, Cond.absent()),
        *extra,
    ])


def claim(ctx: Ctx, key: str, owner_id: str) -> TxPut:
    """The guard put of a create, for callers composing a larger transaction."""
    return TxPut(ctx.stores.guards, {"id": key, "owner_id": owner_id}, Cond.absent())


def remove(ctx: Ctx, store: Store, object_id: str, key: str, cond: Cond | None = None) -> None:
    """Delete the object and its guard in one transaction (``cond`` on the object, default: it
    exists). ``ConditionFailed`` if the condition does not hold (or a transaction conflicted)."""
    ctx.stores.transact([
        TxDelete(store, object_id, cond or Cond.exists()),
        TxDelete(ctx.stores.guards, key),
    ])


def rename(ctx: Ctx, store: Store, doc: Doc, old_name: str, old_key: str, new_key: str) -> None:
    """Write ``doc`` (already carrying its new name) and move its guard, in one transaction.

    ``ConditionFailed`` if the new name is taken, the object no longer has ``old_name`` (deleted
    or renamed meanwhile), or a transaction conflicted; the caller tells them apart by re-reading.
    """
    ctx.stores.transact([
        TxDelete(ctx.stores.guards, old_key),
        TxPut(ctx.stores.guards, {"id": new_key, "owner_id": doc["id"]}, Cond.absent()),
        TxPut(store, doc, Cond.eq("name", old_name)),
    ])


def save(ctx: Ctx, store: Store, doc: Doc, old_name: str, key_of: Callable[[str], str]) -> str:
    """Write back a renamable object read with ``old_name`` (``doc`` may carry a new name): a plain
    put on the name read, or a ``rename``. Retried while a concurrent transaction only conflicts.

    Returns ``"ok"``, ``"taken"`` (another object holds the new name) or ``"gone"`` (the object was
    deleted or renamed meanwhile).
    """
    from domain.contention import attempts

    renamed = doc["name"] != old_name
    for _ in attempts(12):
        try:
            if renamed:
                rename(ctx, store, doc, old_name, key_of(old_name), key_of(doc["name"]))
            else:
                store.put(doc, cond=Cond.eq("name", old_name))
            return "ok"
        except ConditionFailed:
            if renamed and owner(ctx, key_of(doc["name"])) not in (None, doc["id"]):
                return "taken"
            current = store.get(doc["id"])
            if current is None or current["name"] != old_name:
                return "gone"
    raise ServiceUnavailable("Service Unavailable")


def remove_many(ctx: Ctx, store: Store, pairs: Iterable[tuple[str, str]]) -> None:
    """Delete many (object id, guard key) pairs, each pair atomically (cascades), 50 per
    transaction; a conflicting transaction is retried."""
    from domain.contention import attempts

    pairs = list(dict.fromkeys(pairs))
    for start in range(0, len(pairs), _TX_PAIRS):
        ops: list[TxPut | TxDelete] = []
        for object_id, key in pairs[start:start + _TX_PAIRS]:
            ops += [TxDelete(store, object_id), TxDelete(ctx.stores.guards, key)]
        for attempt in attempts(8):
            try:
                ctx.stores.transact(ops)
                break
            except ConditionFailed:
                if attempt == 7:
                    raise


# ------------------------------------------------------------------------------------ upgrade


def backfill(ctx: Ctx) -> dict[str, int]:
    """Write the missing guards of objects stored before names had guards (an admin task for an
    existing data directory or table set, never a request path: it reads every name index).

    Returns counts: ``written``, and ``duplicates`` — objects whose name another object already
    holds (created while the first had no guard); they stay readable by id and are left to an
    operator."""
    from domain.sharded_index import query_all

    kinds: list[tuple[Store, Callable[[Doc], str]]] = [
        (ctx.stores.flows, lambda d: flow(d["name"])),
        (ctx.stores.deployments, lambda d: deployment(d["flow_id"], d["name"])),
        (ctx.stores.work_pools, lambda d: work_pool(d["name"])),
        (ctx.stores.work_queues, lambda d: work_queue(d["work_pool_id"], d["name"])),
        (ctx.stores.variables, lambda d: variable(d["name"])),
        (ctx.stores.block_types, lambda d: block_type(d["slug"])),
        (ctx.stores.block_documents, lambda d: block_document(d["block_type_id"], d["name"])),
    ]
    counts = {"written": 0, "duplicates": 0}
    for store, key_of in kinds:
        for doc in query_all(store, "by_name"):
            key = key_of(doc)
            try:
                ctx.stores.guards.put({"id": key, "owner_id": doc["id"]}, cond=Cond.absent())
                counts["written"] += 1
            except ConditionFailed:
                if owner(ctx, key) != doc["id"]:
                    counts["duplicates"] += 1
    return counts
