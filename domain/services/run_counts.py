"""``/flow_runs/count`` and ``/task_runs/count`` without reading history, where the query allows.

Two cheaper paths than the general one (``queries.count_*``: every candidate run read and tested):

* **Counters** (``domain/run_counters.py``) answer a filter that only asks for state types / state
  names (``flow_runs.state``) within at most one dimension: deployments (``flow_runs.deployment_id.any_``
  and/or ``deployments.id.any_``), flows (``flows.id.any_`` or ``flows.name.any_``), work queues
  (``work_pool_queues.id.any_`` and/or ``work_pools.id.any_``/``name.any_``, i.e. the pool's queues),
  or every run. Cost: one BatchGetItem of the dimension's counter shards (plus a batch read of the
  named deployments / flows / queues / pools, which must exist for a run to match, as in the general
  path), whatever the history. Each (value, state pair) counter is tested with the filter itself on
  a document holding only those fields, so type/name ``operator`` semantics stay the filters'.
* **Windows**: a flow-run filter with an ``expected_start_time`` range reads only the runs of the
  window through ``by_expected_start``; a task-run filter with a ``start_time`` range through
  ``by_start`` — the cost follows the window, not the history.

Anything else (tags, names, subflow filters, ``task_runs`` filters on flow runs, ...) takes the
general path. ``None`` from a function here means "not this path".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain import name_guards, run_counters, sharded_index
from domain.context import Ctx
from domain.filters import Operator
from domain.ports import Doc
from domain.timeutil import sort_key

# ------------------------------------------------------------------------------ shape checks


def _only(f: Any, allowed: set[str]) -> bool:
    """Whether every criterion of top-level filter ``f`` outside ``allowed`` is absent or matches
    everything, and the present criteria are and-ed (an ``or_`` of several is not a scope)."""
    present = 0
    for name in type(f).model_fields:
        child = getattr(f, name)
        if name == "operator" or child is None or child.matches_everything():
            continue
        if name not in allowed:
            return False
        present += 1
    return not (getattr(f, "operator", Operator.and_) is Operator.or_ and present > 1)


def _ids(f: Any, field: str) -> set[str] | None:
    crit = getattr(f, field)
    if crit is None or crit.any_ is None:
        return None
    return {str(v).lower() for v in crit.any_}


def _names(f: Any, field: str) -> set[str] | None:
    crit = getattr(f, field)
    if crit is None or crit.any_ is None or getattr(crit, "like_", None) is not None:
        return None
    return {str(v) for v in crit.any_}


def _existing(store, ids: Iterable[str]) -> set[str]:
    return {d["id"] for d in store.get_many(sorted(ids))} if ids else set()


def _deployment_scope(ctx: Ctx, q: Any) -> set[str] | None | bool:
    """Deployment ids every matching run has, None when the query has no deployment criterion, or
    False when it has one counters cannot answer."""
    scope: set[str] | None = None
    fr = q.flow_runs
    if fr is not None and fr.deployment_id is not None and not fr.deployment_id.matches_everything():
        scope = fr.exact_deployment_ids()
        if scope is None:
            return False
    d = q.deployments
    if d is not None:  # the general path keeps only runs whose deployment exists and matches
        if not _only(d, {"id"}) or (ids := _ids(d, "id")) is None:
            return False
        ids = _existing(ctx.stores.deployments, ids)
        scope = ids if scope is None else scope & ids
    return scope


def _flow_scope(ctx: Ctx, q: Any) -> set[str] | None | bool:
    f = q.flows
    if f is None:
        return None
    if not _only(f, {"id", "name"}) or (f.id is not None) == (f.name is not None):
        return False
    ids = _ids(f, "id") if f.id is not None else None
    if f.name is not None:
        names = _names(f, "name")
        if names is None:
            return False
        ids = name_guards.owners(ctx, map(name_guards.flow, names))
    if ids is None:
        return False
    return _existing(ctx.stores.flows, ids)


def _queue_scope(ctx: Ctx, q: Any) -> set[str] | None | bool:
    """Queue ids every matching run has: the named queues (``work_pool_queues.id.any_``) or the
    queues of the named pools (``work_pools.id.any_`` / ``name.any_``: what the UI's work-pool pages
    send), those tested with any ``work_pool_queues`` filter (e.g. queue names), as the general path."""
    wp, wq = getattr(q, "work_pools", None), getattr(q, "work_pool_queues", None)
    if wp is None and wq is None:
        return None
    if wq is not None and wq.uses_context():
        return False
    if wp is None:
        if not _only(wq, {"id"}) or (ids := _ids(wq, "id")) is None:
            return False
        return {d["id"] for d in ctx.stores.work_queues.get_many(sorted(ids)) if wq.matches(d)}
    if not _only(wp, {"id", "name"}) or (wp.id is not None) == (wp.name is not None):
        return False
    if wp.id is not None:
        pools = _ids(wp, "id")
    else:
        names = _names(wp, "name")
        pools = None if names is None else name_guards.owners(ctx, map(name_guards.work_pool, names))
    if pools is None:
        return False
    return {qd["id"] for p in sorted(_existing(ctx.stores.work_pools, pools))
            for qd in ctx.stores.work_queues.query("by_pool", p) if wq is None or wq.matches(qd)}


# ------------------------------------------------------------------------------ flow runs


def _fake(counter: str, **extra: Any) -> Doc:
    state_type, state_name = run_counters.unpair(counter)
    return {"state_type": state_type, "state_name": state_name, **extra}


def _sum(counters: dict[str | None, dict[str, int]], test, key: str | None) -> int:
    total = 0
    for value, pairs in counters.items():
        for counter, n in pairs.items():
            if n and test(_fake(counter, **({key: value} if key else {}))):
                total += n
    return total


def count_flow_runs_from_counters(ctx: Ctx, q: Any) -> int | None:
    fr = q.flow_runs
    if q.task_runs is not None:  # even ``{}``: the general path keeps runs that have a task run
        return None
    if fr is not None and (fr.uses_context() or not _only(fr, {"state", "deployment_id"})):
        return None
    scopes = {}
    for kind, fn in (("deployment", _deployment_scope), ("flow", _flow_scope), ("work_queue", _queue_scope)):
        scope = fn(ctx, q)
        if scope is False:
            return None
        if scope is not None:
            scopes[kind] = scope
    if len(scopes) > 1:
        return None

    def test(doc: Doc) -> bool:
        return fr is None or fr.matches(doc)

    if not scopes:
        return _sum(run_counters.read(ctx, run_counters.FLOW_RUN, run_counters.ALL, [None]), test, None)
    (kind, values), = scopes.items()
    if not values:
        return 0
    counters = run_counters.read(ctx, run_counters.FLOW_RUN, kind, sorted(values))
    return _sum(counters, test, "deployment_id" if kind == "deployment" else None)


def _window(crit: Any) -> tuple[str | None, str | None] | None:
    if crit is None or (crit.before_ is None and crit.after_ is None):
        return None
    if getattr(crit, "is_null_", None) is True:
        return None
    return (sort_key(crit.after_) if crit.after_ is not None else None,
            sort_key(crit.before_) if crit.before_ is not None else None)


def _window_of(f: Any, field: str) -> tuple[str | None, str | None] | None:
    """The inclusive sort-key range of an and-ed time criterion of ``f``, or None."""
    if f is None:
        return None
    return _window(f._sole_or_anded(field))


def flow_run_window(ctx: Ctx, q: Any) -> Iterable[Doc] | None:
    """The runs of the filter's ``expected_start_time`` window (a superset of the matches), or None
    when the general path has a narrower start: run ids, or a deployment's or flow's own partition
    (whose cost follows that deployment's or flow's runs, not everyone's in the window)."""
    fr = q.flow_runs
    if fr is None or fr.exact_ids() is not None or fr.exact_deployment_ids() is not None:
        return None
    if q.deployments is not None and q.deployments.exact_ids() is not None:
        return None
    if q.flows is not None and (q.flows.exact_ids() is not None or q.flows.exact_names() is not None):
        return None
    window = _window_of(fr, "expected_start_time")
    if window is None:
        return None
    return sharded_index.every(ctx.stores.flow_runs, "by_expected_start", sk_gte=window[0], sk_lte=window[1])


def count_flow_runs(ctx: Ctx, q: Any) -> int | None:
    """The count from counters or from the window's runs, or None (take the general path)."""
    n = count_flow_runs_from_counters(ctx, q)
    if n is not None:
        return n
    candidates = flow_run_window(ctx, q)
    if candidates is None:
        return None
    from domain.services.queries import StoreContext, _runs_matching

    return sum(1 for _ in _runs_matching(ctx, q, candidates, StoreContext(ctx)))


# ------------------------------------------------------------------------------ task runs


def count_task_runs_from_counters(ctx: Ctx, q: Any) -> int | None:
    if q.flow_runs is not None or q.flows is not None or q.deployments is not None:
        return None
    t = q.task_runs
    if t is not None and (t.uses_context() or not _only(t, {"state"})):
        return None
    counters = run_counters.read(ctx, run_counters.TASK_RUN, run_counters.ALL, [None])
    return _sum(counters, lambda doc: t is None or t.matches(doc), None)


def task_run_window(ctx: Ctx, q: Any) -> Iterable[Doc] | None:
    """The task runs of the filter's ``start_time`` window (a superset of the matches), or None."""
    t = q.task_runs
    if t is None or t.exact_ids() is not None or t.exact_flow_run_ids() is not None:
        return None
    if q.flow_runs is not None and q.flow_runs.exact_ids() is not None:
        return None  # the general path reads those flow runs' task runs (by_flow_run)
    window = _window_of(t, "start_time")
    if window is None:
        return None
    return sharded_index.every(ctx.stores.task_runs, "by_start", sk_gte=window[0], sk_lte=window[1])
