"""Items kept in step with a flow run or a task run, written in the same transaction as the run.

Counts answered from counters and filters answered from per-tag items are only exact if those
items change exactly when a run does. Every write of a run — create, state change, PATCH, delete,
the scheduler's inserts and deletes, the flow and deployment cascades — therefore asks ``ops``
for the companion writes of that change (``old`` is the stored run before, ``None`` when the run
is new; ``new`` is the run as written, ``None`` when it is deleted) and commits them in the run's
own transaction, conditioned on the run's revision, so a companion can never drift from its run.

``COMPANIONS`` lists who maintains what, in order. Each is a function
``(ctx, kind, old, new) -> list[TxOp]`` with ``kind`` ``"flow_run"`` or ``"task_run"``, that
never reads a store (the run's documents say everything it needs) and returns ``[]`` when the
change does not concern it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Literal

from domain.context import Ctx
from domain.errors import ConditionFailed
from domain.ports import Cond, Doc, Store, TxAdd, TxDelete, TxOp, TxPut

Kind = Literal["flow_run", "task_run"]
# the tables the companions write (logical names): every function that writes runs may write them
# too (infra/sam.py adds them to its policies)
TABLES = ("Counters", "TagIndex")
Companion = Callable[[Ctx, Kind, "Doc | None", "Doc | None"], list[TxOp]]

# runs deleted per transaction by ``delete_runs``: each brings its companions (counters merge per
# item, tag items do not), and a transaction holds at most 100 items
DELETE_CHUNK = 10


def _companions() -> tuple[Companion, ...]:
    # imported here: contributors live in service modules that import this one
    from domain import run_counters, tag_index

    return (run_counters.ops, tag_index.ops)


def ops(ctx: Ctx, kind: Kind, old: Doc | None, new: Doc | None) -> list[TxOp]:
    """The companion writes for one run going from ``old`` to ``new``."""
    out: list[TxOp] = []
    for companion in _companions():
        out.extend(companion(ctx, kind, old, new))
    return out


def merged(ops_: Iterable[TxOp]) -> list[TxOp]:
    """``ops_`` with additive writes to one item combined into one (DynamoDB refuses two
    operations on one item in a transaction). Puts and deletes pass through unchanged."""
    out: list[TxOp] = []
    adds: dict[tuple[int, str], int] = {}
    for op in ops_:
        if not isinstance(op, TxAdd):
            out.append(op)
            continue
        key = (id(op.store), op.id)
        if key in adds:
            total = dict(out[adds[key]].deltas)
            for name, n in op.deltas.items():
                total[name] = total.get(name, 0) + n
            out[adds[key]] = TxAdd(op.store, op.id, {k: v for k, v in total.items() if v})
        else:
            adds[key] = len(out)
            out.append(op)
    return [op for op in out if not (isinstance(op, TxAdd) and not op.deltas)]


def store_of(ctx: Ctx, kind: Kind) -> Store:
    return ctx.stores.flow_runs if kind == "flow_run" else ctx.stores.task_runs


def put(ctx: Ctx, kind: Kind, old: Doc | None, new: Doc, cond: Cond | None, extra: Sequence[TxOp] = ()) -> None:
    """Write ``new`` (if ``cond`` holds) with its companions and ``extra``: a plain conditional
    put when nothing else needs writing, else one transaction. Raises ``ConditionFailed``."""
    writes = merged([*ops(ctx, kind, old, new), *extra])
    if not writes:
        store_of(ctx, kind).put(new, cond=cond)
        return
    ctx.stores.transact([TxPut(store_of(ctx, kind), new, cond), *writes])


def delete_runs(ctx: Ctx, kind: Kind, docs: Iterable[Doc], *,
                keep: Callable[[Doc], bool] | None = None, extra: Callable[[Doc], list[TxOp]] | None = None,
                ) -> list[str]:
    """Delete the runs ``docs`` (as read) with their companions; returns the ids deleted.

    Each delete is conditioned on the run being unchanged since it was read (its revision), so
    companions are computed from what is really removed. Runs are deleted several per transaction;
    when one of them changed meanwhile, that chunk is retried run by run from a fresh read, and a
    run for which ``keep(fresh)`` is true (e.g. "no longer SCHEDULED") or that is gone is skipped.
    ``extra(doc)``: more writes to make with that run's delete (e.g. its name guard)."""
    gone: list[str] = []
    docs = [d for d in docs if keep is None or not keep(d)]
    for i in range(0, len(docs), DELETE_CHUNK):
        chunk = docs[i:i + DELETE_CHUNK]
        try:
            ctx.stores.transact(merged(op for d in chunk for op in _delete_ops(ctx, kind, d, extra)))
            gone.extend(d["id"] for d in chunk)
        except ConditionFailed:
            gone.extend(_delete_one_by_one(ctx, kind, chunk, keep, extra))
    return gone


def delete_one(ctx: Ctx, kind: Kind, doc: Doc, extra: Sequence[TxOp] = ()) -> None:
    """Delete one run as read, with its companions and ``extra``; ``ConditionFailed`` when the
    run changed (or went) since it was read."""
    ctx.stores.transact(merged([*_delete_ops(ctx, kind, doc, None), *extra]))


def _delete_ops(ctx: Ctx, kind: Kind, doc: Doc, extra: Callable[[Doc], list[TxOp]] | None) -> list[TxOp]:
    cond = Cond.eq("rev", doc["_rev"]) if "_rev" in doc else Cond.exists()
    return [TxDelete(store_of(ctx, kind), doc["id"], cond), *ops(ctx, kind, doc, None),
            *(extra(doc) if extra else ())]


def _delete_one_by_one(ctx: Ctx, kind: Kind, chunk: list[Doc], keep: Callable[[Doc], bool] | None,
                       extra: Callable[[Doc], list[TxOp]] | None) -> list[str]:
    from domain.contention import attempts

    gone = []
    store = store_of(ctx, kind)
    for doc in chunk:
        for _ in attempts():
            fresh = store.get(doc["id"])
            if fresh is None or (keep is not None and keep(fresh)):
                break
            try:
                ctx.stores.transact(merged(_delete_ops(ctx, kind, fresh, extra)))
            except ConditionFailed:
                continue
            gone.append(fresh["id"])
            break
    return gone
