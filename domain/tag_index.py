"""Tag index: one small item per (object, tag), so a filter by tag reads the tagged objects only.

DynamoDB cannot index the elements of a list, and ``tags.all_`` is the filter the UI and clients
send most after ids. Each deployment, flow run and task run therefore has one ``TagIndex`` item per
distinct tag::

    id        "<kind>#<tag>#<object id>"
    tag_pk    "<kind>#<tag>"              the ``by_tag`` partition: every object of a kind with that tag
    order_sk  the object's default sort   deployments: name, U+0000, id (NAME_ASC/NAME_DESC);
                                          runs: id (ID_DESC)

written and deleted in the same transaction as the object (``ops``), so an object's tag items never
disagree with its tags. Items carry no copy of the object: a read takes the ids from the index in
order, batch-gets the objects and evaluates the whole filter on them, so an item left by an
interrupted upgrade or a cascade costs a read, never a wrong answer.

An object with more than ``MAX_TAG_ITEMS`` distinct tags has one item in its kind's overflow
partition instead (its writes must fit in one transaction), which every read by tag reads too.

Names and ids never change after creation, so an object's items only move when its tags do.
Stores written before this index existed are filled in by ``backfill`` (``flowplane tag-index
backfill``); until then their tagged objects are not found by tag.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import Literal

from domain.context import Ctx
from domain.ports import Doc, Store, TxDelete, TxOp, TxPut

Kind = Literal["deployment", "flow_run", "task_run"]

_MAX_PK_BYTES = 1024  # DynamoDB allows 2048 in a partition key; longer tags are hashed
# An object with more distinct tags than this gets one "overflow" item instead of one per tag (its
# writes must fit in one transaction of at most 100 items, beside the object and its other
# companions); every read by tag reads the kind's overflow partition too, and re-checks the tags.
MAX_TAG_ITEMS = 40


def partition(kind: Kind, tag: str) -> str:
    """The ``by_tag`` partition of the objects of ``kind`` carrying ``tag``."""
    pk = f"{kind}#{tag}"
    if len(pk.encode("utf-8", "surrogatepass")) > _MAX_PK_BYTES:
        pk = f"{kind}#sha256:{hashlib.sha256(tag.encode('utf-8', 'surrogatepass')).hexdigest()}"
    return pk


def overflow(kind: Kind) -> str:
    """The partition of the objects with more than MAX_TAG_ITEMS tags (no tag partition is
    ``<kind>:...``: those are ``<kind>#<tag>``)."""
    return f"{kind}:overflow"


def order_key(kind: Kind, doc: Doc) -> str:
    """The object's position in its tag partitions: names sort by code point and U+0000 sorts below
    every character a name holds, so the index order is the NAME sort's (ties by id)."""
    if kind == "deployment":
        return f"{doc.get('name') or ''}\x00{doc['id']}"
    return doc["id"]


def items(kind: Kind, doc: Doc | None) -> dict[str, Doc]:
    """The tag items ``doc`` should have (item id -> item)."""
    if doc is None:
        return {}
    tags = list(dict.fromkeys(t for t in doc.get("tags") or () if isinstance(t, str)))
    pks = [overflow(kind)] if len(tags) > MAX_TAG_ITEMS else [partition(kind, t) for t in tags]
    return {f"{pk}#{doc['id']}": {"id": f"{pk}#{doc['id']}", "tag_pk": pk, "order_sk": order_key(kind, doc),
                                  "object_id": doc["id"]} for pk in pks}


def ops(ctx: Ctx, kind: Kind, old: Doc | None, new: Doc | None) -> list[TxOp]:
    """The writes that take ``old``'s tag items to ``new``'s (``None``: absent); [] when unchanged.
    Deployments' write paths call it, and it is a ``run_companions`` contributor for runs."""
    store = ctx.stores.tag_index
    before, after = items(kind, old), items(kind, new)
    out: list[TxOp] = [TxPut(store, item) for key, item in after.items() if before.get(key) != item]
    out += [TxDelete(store, key) for key in before if key not in after]
    return out


# ------------------------------------------------------------------------------------------ reads


def object_ids(ctx: Ctx, kind: Kind, tag: str, *, descending: bool = False, page: int | None = None) -> Iterator[str]:
    """Ids of the objects of ``kind`` carrying ``tag``, in ``order_key`` order. With ``page`` (how
    many the caller will probably take), DynamoDB is asked for about that many first and for more
    only when the caller iterates on (``domain.sharded_index``)."""
    from domain.sharded_index import query_partitions

    pks = [partition(kind, tag), overflow(kind)]  # an object is in one of them, never both
    for item in query_partitions(ctx.stores.tag_index, "by_tag", pks, descending=descending, expect=page):
        yield item["object_id"]


def fetch(store: Store, ids: Iterable[str], *, batch: int = 100) -> Iterator[Doc]:
    """The stored objects of ``ids`` in the order given (missing ones skipped), one BatchGetItem
    per ``batch`` ids, read only as the caller iterates."""
    it = iter(ids)
    while True:
        chunk: list[str] = []
        for i in it:
            chunk.append(i)
            if len(chunk) >= batch:
                break
        if not chunk:
            return
        found = {d["id"]: d for d in store.get_many(chunk)}
        yield from (found[i] for i in chunk if i in found)
        batch = min(batch * 2, 100)


# ---------------------------------------------------------------------------------------- upgrade

# the marker item (no ``tag_pk``: in no index): present once every stored object has its tag items
BUILT = "tag_index:built"


def backfill(ctx: Ctx) -> dict[str, int]:
    """Write the tag items of every stored deployment, flow run and task run and then the marker
    (an admin task, never a request path: it reads every one of them). Idempotent: items are plain
    puts of what ``items`` gives. Returns the items written per kind. Run it on a quiet store: an
    object re-tagged while it runs may keep a stale item (harmless: reads re-check the tags)."""
    from domain.sharded_index import query_all

    counts = {"deployment": 0, "flow_run": 0, "task_run": 0}
    sources: list[tuple[Kind, Store, str]] = [
        ("deployment", ctx.stores.deployments, "by_name"),
        ("flow_run", ctx.stores.flow_runs, "by_created"),
        ("task_run", ctx.stores.task_runs, "by_created"),
    ]
    for kind, store, index in sources:
        batch: list[Doc] = []
        for doc in query_all(store, index):
            batch.extend(items(kind, doc).values())
            if len(batch) >= 25:
                ctx.stores.tag_index.put_many(batch)
                counts[kind] += len(batch)
                batch = []
        if batch:
            ctx.stores.tag_index.put_many(batch)
            counts[kind] += len(batch)
    ctx.stores.tag_index.put({"id": BUILT})
    return counts


def ensure_built(ctx: Ctx) -> dict[str, int] | None:
    """``backfill`` when the store has no marker yet (a store from before the tag index, or a fresh
    one: then it only writes the marker); None when it has."""
    if ctx.stores.tag_index.get(BUILT) is not None:
        return None
    return backfill(ctx)
