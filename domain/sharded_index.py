"""Reading an index partition in sort order, whether or not it is sharded (``Index.shards``).

A sharded index keeps logical partition ``pk`` in ``shards`` stored partitions ``<pk>#<k>``
(``domain/ports.py``). ``query_all`` reads each stored partition lazily and merges them
(``heapq.merge``) into one stream ordered by ``(sort key, id)`` — descending: both reversed — the
order the SQLite adapter gives a single partition, and the order every adapter now gives ties.

Each stored partition is read in Queries of a first chunk, then doubling chunks (to
``_MAX_CHUNK``), each continuing at the last sort key read: a reader that stops after n items has
paid for about n items (plus one chunk per shard), whatever the partition holds. Sort keys need
not be unique: a continuation starts *at* the last key and skips the items already held, and the
items of the last key read are held back until the next chunk shows the key's items are complete,
so ties come out in id order on every adapter.

``expect`` (how many items the caller will probably take, e.g. offset + limit) sizes the first
chunk: with shards spread by id hash, each shard holds about ``expect / shards`` of the first
``expect`` items, so a shard's first chunk is twice that (plus one, so the last item's key is seen
complete — unless the index declares its sort keys unique, ``Index.unique_sk``: then a key read is
complete, nothing is held back, and a page of n items from one partition costs one Query of n).
``limit`` stops the stream after that many items and caps every shard's chunks.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Iterator

from domain.ports import ALL, Doc, Index, Store

_FIRST_CHUNK = 64  # a shard's first Query when the caller does not say how many it expects
_MAX_CHUNK = 1000

_Row = tuple[str, str, Doc]  # (sort key, id, doc): compared on (sort key, id) - ids are unique


def query_all(store: Store, index: str, pk: str = ALL, *, sk_gte: str | None = None, sk_lte: str | None = None,
              descending: bool = False, limit: int | None = None, expect: int | None = None) -> Iterator[Doc]:
    """Logical partition ``pk`` of ``index`` (``all`` by default) in ``(sort key, id)`` order,
    within the inclusive sort-key range, every shard merged."""
    return query_partitions(store, index, [pk], sk_gte=sk_gte, sk_lte=sk_lte, descending=descending,
                            limit=limit, expect=expect)


def every(store: Store, index: str, pk: str = ALL, *, sk_gte: str | None = None,
          sk_lte: str | None = None) -> Iterator[Doc]:
    """Every item of logical partition ``pk`` within the sort-key range, in no particular order
    (for counting and rebuilding, which need none): each stored partition read in turn, in the
    store's own pages, with no merge."""
    for part in store.spec.index(index).partitions(pk):
        yield from store.query(index, part, sk_gte=sk_gte, sk_lte=sk_lte)


def query_partitions(store: Store, index: str, pks: Iterable[str], *, sk_gte: str | None = None,
                     sk_lte: str | None = None, descending: bool = False, limit: int | None = None,
                     expect: int | None = None) -> Iterator[Doc]:
    """Several logical partitions of ``index`` (e.g. the logs of several runs) merged into one
    stream in ``(sort key, id)`` order, as ``query_all``."""
    ix = store.spec.index(index)
    if ix.sk is None or ix.sk_attr is None:
        raise ValueError(f"{store.spec.name}.{index} has no sort key to merge on")
    if limit is not None and limit <= 0:
        return iter(())
    parts = [p for pk in dict.fromkeys(pks) for p in ix.partitions(pk)]
    if not parts:
        return iter(())
    first = _first_chunk(ix, expect if expect is not None else limit)
    if limit is not None:
        first = min(first, limit if ix.unique_sk else limit + 1)
    streams = [_partition(store, ix, p, sk_gte, sk_lte, descending, first) for p in parts]
    rows = streams[0] if len(streams) == 1 else heapq.merge(*streams, reverse=descending)
    return _docs(rows, limit)


def _first_chunk(ix: Index, expect: int | None) -> int:
    if expect is None:
        return _FIRST_CHUNK
    per_shard = expect if ix.shards == 1 else 2 * math.ceil(expect / ix.shards)
    return max(2, min(per_shard + (0 if ix.unique_sk else 1), _MAX_CHUNK))


def _docs(rows: Iterable[_Row], limit: int | None) -> Iterator[Doc]:
    for n, (_, _, doc) in enumerate(rows):
        if limit is not None and n >= limit:
            return
        yield doc


def _partition(store: Store, ix: Index, part: str, low: str | None, high: str | None, descending: bool,
               size: int) -> Iterator[_Row]:
    """One stored partition in ``(sort key, id)`` order (reversed when descending), read lazily in
    chunks (see the module docstring)."""
    held: list[_Row] = []  # the items of the last key read, not yet yielded: more of them may follow
    sent: set[str] = set()  # (unique sort keys) the last key's item, yielded: a continuation re-reads it
    while True:
        rows = list(store.query(ix.name, part, sk_gte=low, sk_lte=high, descending=descending, limit=size))
        skip = sent | {r[1] for r in held}
        batch = held + [(ix.sk(d), d["id"], d) for d in rows if d["id"] not in skip]
        batch.sort(key=lambda r: (r[0], r[1]), reverse=descending)
        if len(rows) < size or not batch:  # the range is exhausted
            yield from batch
            return
        last = batch[-1][0]
        if ix.unique_sk:
            yield from batch
            held, sent = [], {batch[-1][1]}
        else:
            split = len(batch)
            while split and batch[split - 1][0] == last:
                split -= 1
            if split == 0:  # one key fills the chunk: read more of it
                held = batch
                size *= 2
                continue
            yield from batch[:split]
            held = batch[split:]
        low, high = (low, last) if descending else (last, high)
        size = min(size * 2, _MAX_CHUNK)


# ---------------------------------------------------------------------------------------- upgrade


def _unsharded_keys(ix: Index) -> list[str]:
    """The partitions an item of ``ix`` was in before the index was sharded: every index stacks
    stored unsharded is a constant-partition one (``all``); those of ``_NEW_KEYS`` were sharded
    from the start."""
    return [ALL]


# Sharded indexes keyed by an attribute that stacks deployed before them never wrote, each with an
# index of its table that holds every item. DynamoDB builds a GSI added to a table from the items
# that carry its key attribute, so the items stored before are in none of its partitions until
# written again; the complete index finds them without a Scan. (FlowRuns ``by_state_type_sharded``
# replaced ``by_state_type``, keyed by the ``state_type`` attribute itself; the three state-type
# indexes by deployment, flow and work queue came with composite keys no older run carries.)
_NEW_KEYS = {("FlowRuns", name): "by_created" for name in (
    "by_state_type_sharded", "by_deployment_state", "by_flow_state", "by_work_queue_state")}


def _missing_from(store: Store, index: str, complete: str) -> Iterator[Doc]:
    """The items ``index`` should hold and does not: those of ``complete`` whose projection puts
    them in ``index`` and whose id its logical partition does not hold. Streamed (writing an item
    again does not move it in ``complete``); only the held ids of the partitions met are kept."""
    ix = store.spec.index(index)
    held: dict[str, set[str]] = {}
    for doc in every(store, complete):
        pk = ix.pk(doc)
        if pk is None or (ix.sk is not None and ix.sk(doc) is None):
            continue
        if pk not in held:
            held[pk] = {d["id"] for d in every(store, index, pk)}
        if doc["id"] not in held[pk]:
            yield doc


def reshard(stores: Iterable[Store]) -> dict[str, int]:
    """Move what an older layout left in the unsharded partitions of now-sharded indexes (``all``
    instead of ``all#<k>``), and write the items an index keyed by a newer attribute lacks
    (``_NEW_KEYS``): each such item is written again as it is (the store re-projects it), on
    condition that it did not change meanwhile (``rev``) or, without a revision, still exists — an
    item written since is already in its shard. Returns the items written per table.

    For a deployed stack upgraded from an older template (``flowplane reshard --aws``), run while it
    is quiet; the SQLite store re-projects by itself when opened. Idempotent: a second run finds
    nothing. Never a request path (it reads whole partitions)."""
    moved: dict[str, int] = {}
    for store in stores:
        spec = store.spec
        for ix in spec.indexes:
            if ix.shards == 1 or (spec.name, ix.name) in _NEW_KEYS:
                continue
            for pk in _unsharded_keys(ix):
                _write_again(store, list(store.query(ix.name, pk)), moved)
        for (table, index), complete in _NEW_KEYS.items():
            if table == spec.name:
                _write_again(store, _missing_from(store, index, complete), moved)
    return moved


def _write_again(store: Store, docs: Iterable[Doc], moved: dict[str, int]) -> None:
    """Write each of ``docs`` again as it is, unless it changed or went since it was read."""
    from domain.errors import ConditionFailed
    from domain.ports import Cond

    has_rev = any(name == "rev" for name, _ in store.spec.attrs)
    for doc in docs:
        cond = Cond.eq("rev", doc.get("_rev")) if has_rev else Cond.exists()
        try:
            store.put(doc, cond=cond)
        except ConditionFailed:
            continue  # changed or deleted since: its own write re-projected it
        moved[store.spec.name] = moved.get(store.spec.name, 0) + 1
