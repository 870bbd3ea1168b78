"""Maintained counts of flow runs and task runs, so ``/flow_runs/count`` and ``/task_runs/count``
read a handful of counter items instead of every run ever stored (issue 12 item 2).

What is counted. Every flow run is counted in the dimension ``all`` and in the dimensions of its
``deployment_id``, ``flow_id`` and ``work_queue_id`` (when set); every task run in ``all`` (a flow
run's task runs are already one narrow ``by_flow_run`` query). Within a dimension there is one
counter per (state type, state name) pair, so a count by type, by name, by both or in total is a
sum over the counters of the dimension's items.

Where. Item ``<kind>:<dimension>:<value>#<shard>`` of the ``Counters`` table (``all`` has no value),
``shard`` a stable hash of the run id: a dimension's writes are spread over
``settings.run_counter_shards_all`` (``all``) or ``settings.run_counter_shards`` items, so no one
item takes every run's writes (an item takes ~1 000 writes/s). A read sums the shards: one
``counts`` (BatchGetItem) for every item a count needs.

When. ``ops`` is a contributor of ``domain.run_companions``: every write of a run — create, state
change, PATCH, delete, the scheduler's inserts and deletes, the cascades — adds ``-1`` to the old
pair and ``+1`` to the new one in the same transaction as the run, conditioned on the run, so the
counters cannot drift. A change that moves nothing (e.g. a PATCH of tags) adds nothing; ``run_companions``
merges the adds to one item of a transaction.

Existing data. A store written before counters existed is brought up to date by ``rebuild``
(``flowplane counters rebuild``; the local server runs it once when ``BUILT`` is missing): it
computes every dimension's counters from the runs and adds the difference to what is stored, so
it is idempotent and safe to re-run on a quiet store.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator

from domain.context import Ctx
from domain.ports import ALL, Doc, TxAdd, TxOp
from domain.sharded_index import every

FLOW_RUN = "flow_run"
TASK_RUN = "task_run"

# (dimension, document key) per kind; ``all`` is every run of the kind
DIMENSIONS: dict[str, tuple[tuple[str, str | None], ...]] = {
    FLOW_RUN: ((ALL, None), ("deployment", "deployment_id"), ("flow", "flow_id"), ("work_queue", "work_queue_id")),
    TASK_RUN: ((ALL, None),),
}

# the marker item: present once the store's counters are complete (``rebuild`` or a fresh store)
BUILT = "counters:built"
BUILT_VERSION = 1


# ------------------------------------------------------------------------------ naming


def pair(doc: Doc) -> str:
    """The counter name of a run's state: ``<TYPE>|<name>``, or ``<TYPE>`` when it has no name
    (state types have no ``|``; an empty type is a run without a state)."""
    state_type, name = doc.get("state_type") or "", doc.get("state_name")
    return state_type if name is None else f"{state_type}|{name}"


def unpair(counter: str) -> tuple[str | None, str | None]:
    """``(state_type, state_name)`` of a counter name (``None`` where the run has none)."""
    state_type, bar, name = counter.partition("|")
    return (state_type or None, name if bar else None)


def shard(run_id: str, shards: int) -> int:
    """The shard of a run: its uuid's first 32 bits (crc32 of any other id) modulo ``shards``."""
    try:
        n = int(run_id[:8], 16)
    except ValueError:
        n = zlib.crc32(run_id.encode())
    return n % shards


def shards_of(ctx: Ctx, dimension: str) -> int:
    return ctx.settings.run_counter_shards_all if dimension == ALL else ctx.settings.run_counter_shards


def item_ids(ctx: Ctx, kind: str, dimension: str, value: str | None = None) -> list[str]:
    """Every shard item of one dimension value (``value`` None for ``all``)."""
    base = f"{kind}:{dimension}" if value is None else f"{kind}:{dimension}:{value}"
    return [f"{base}#{k}" for k in range(shards_of(ctx, dimension))]


def _items_of(ctx: Ctx, kind: str, doc: Doc) -> Iterator[str]:
    for dimension, key in DIMENSIONS[kind]:
        value = None if key is None else doc.get(key)
        if key is not None and not value:
            continue
        base = f"{kind}:{dimension}" if value is None else f"{kind}:{dimension}:{value}"
        yield f"{base}#{shard(doc['id'], shards_of(ctx, dimension))}"


# ------------------------------------------------------------------------------ writes


def deltas(ctx: Ctx, kind: str, old: Doc | None, new: Doc | None) -> dict[str, dict[str, int]]:
    """Item id -> counter deltas for one run going from ``old`` to ``new`` (zeros left out)."""
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for doc, sign in ((old, -1), (new, 1)):
        if doc is None:
            continue
        name = pair(doc)
        for item in _items_of(ctx, kind, doc):
            out[item][name] = out[item].get(name, 0) + sign
    return {item: d for item, d in ((i, {n: v for n, v in d.items() if v}) for i, d in out.items()) if d}


def ops(ctx: Ctx, kind: str, old: Doc | None, new: Doc | None) -> list[TxOp]:
    """The counter writes of one run write (a ``run_companions`` contributor); one ``TxAdd`` per item."""
    if kind not in DIMENSIONS:
        return []
    return [TxAdd(ctx.stores.counters, item, d) for item, d in deltas(ctx, kind, old, new).items()]


# ------------------------------------------------------------------------------ reads


def read(ctx: Ctx, kind: str, dimension: str, values: Iterable[str | None]) -> dict[str | None, dict[str, int]]:
    """Per dimension value, its counters summed over the shards: one ``counts`` batch for all."""
    wanted = {v: item_ids(ctx, kind, dimension, v) for v in values}
    got = ctx.stores.counters.counts([i for ids in wanted.values() for i in ids])
    out: dict[str | None, dict[str, int]] = {}
    for value, ids in wanted.items():
        total: dict[str, int] = {}
        for i in ids:
            for name, n in got.get(i, {}).items():
                total[name] = total.get(name, 0) + n
        out[value] = total
    return out


def is_built(ctx: Ctx) -> bool:
    return BUILT in ctx.stores.counters.counts([BUILT])


def mark_built(ctx: Ctx) -> None:
    """Say the counters are complete (a fresh store: no run exists yet, nothing to count)."""
    if not is_built(ctx):
        ctx.stores.counters.add(BUILT, {"version": BUILT_VERSION})


# ------------------------------------------------------------------------------ rebuild


def rebuild(ctx: Ctx) -> dict[str, int]:
    """Recompute every counter from the stored runs and add the difference to what is stored.

    Reads every run (through the ``by_created`` indexes) and every deployment, flow and work queue
    (so a dimension whose runs are all gone is zeroed too); returns runs counted per kind and the
    number of counter items changed. Idempotent. Run it on a quiet store: a run written while it
    reads may be counted twice or not at all until the next rebuild."""
    target: dict[str, dict[str, int]] = defaultdict(dict)
    counted = {FLOW_RUN: 0, TASK_RUN: 0}
    for kind, store in ((FLOW_RUN, ctx.stores.flow_runs), (TASK_RUN, ctx.stores.task_runs)):
        for doc in every(store, "by_created"):
            counted[kind] += 1
            for item, d in deltas(ctx, kind, None, doc).items():
                for name, n in d.items():
                    target[item][name] = target[item].get(name, 0) + n
    known = set(target)
    for kind in (FLOW_RUN, TASK_RUN):
        known.update(item_ids(ctx, kind, ALL))
    for dimension, store in (("deployment", ctx.stores.deployments), ("flow", ctx.stores.flows),
                             ("work_queue", ctx.stores.work_queues)):
        for doc in every(store, "by_name"):
            known.update(item_ids(ctx, FLOW_RUN, dimension, doc["id"]))
    ids = sorted(known)
    current: dict[str, dict[str, int]] = {}
    for start in range(0, len(ids), 100):
        current.update(ctx.stores.counters.counts(ids[start:start + 100]))
    changed = 0
    for item in ids:
        want, have = target.get(item, {}), current.get(item, {})
        diff = {name: want.get(name, 0) - have.get(name, 0) for name in set(want) | set(have)}
        diff = {n: v for n, v in diff.items() if v}
        if diff:
            ctx.stores.counters.add(item, diff)
            changed += 1
    mark_built(ctx)
    return {"flow_runs": counted[FLOW_RUN], "task_runs": counted[TASK_RUN], "items_changed": changed}


def ensure_built(ctx: Ctx) -> dict[str, int] | None:
    """``rebuild`` when the store's counters were never built (a store from before counters, or a
    fresh one: then it only writes the marker); None when they were."""
    if is_built(ctx):
        return None
    return rebuild(ctx)
