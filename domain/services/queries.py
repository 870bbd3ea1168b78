"""Filter planning: the most selective indexed predicate first, never a Scan (DESIGN.md).

Each ``plan_*`` picks a candidate source — ids -> BatchGetItem, deterministic ids from names,
a GSI partition (flow, deployment, work queue, state type) — then every filter is evaluated in
memory on the candidates (``domain.filters``), related objects are fetched in batches, and the
result is sorted and cut by offset/limit. Only when no predicate is selective does a plan read
a constant-partition ``by_name``/``by_created`` index, in order, stopping early when it can.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

from domain import name_guards, tag_index
from domain.context import Ctx
from domain.filters import (
    DeploymentFilter,
    DeploymentSort,
    FlowFilter,
    FlowRunFilter,
    FlowRunSort,
    FlowSort,
    TaskRunFilter,
    TaskRunSort,
    WorkPoolFilter,
    WorkQueueFilter,
    sort_documents,
)
from domain.parsing import Embedded, Offset
from domain.ports import Doc
from domain.services import run_counts
from domain.sharded_index import every, query_all, query_partitions


class Page(Embedded):
    limit: int | None = None  # (the reference's order: limit, then offset)
    offset: Offset = 0


PAGING = ("limit", "offset", "sort")  # what a count route ignores (the reference's counts take no page)


class RunRelations(Embedded):
    """The related-object filters a task-run query takes (and the start of every run query's)."""

    flows: FlowFilter | None = None
    flow_runs: FlowRunFilter | None = None
    task_runs: TaskRunFilter | None = None
    deployments: DeploymentFilter | None = None


class RunFilters(RunRelations):
    """The filters flow-run and deployment queries take (routes with and without paging)."""

    work_pools: WorkPoolFilter | None = None
    work_pool_queues: WorkQueueFilter | None = None


# (bases in this order keep the paging fields first, as the reference's bodies list them)
class DeploymentQuery(RunFilters, Page):
    sort: DeploymentSort = DeploymentSort.NAME_ASC


class FlowQuery(Page):
    flows: FlowFilter | None = None
    flow_runs: FlowRunFilter | None = None
    task_runs: TaskRunFilter | None = None
    deployments: DeploymentFilter | None = None
    work_pools: WorkPoolFilter | None = None
    sort: FlowSort = FlowSort.NAME_ASC


class FlowRunQuery(RunFilters, Page):
    BODY_ORDER: ClassVar[tuple[str, ...]] = (  # the reference's parameter order
        "limit", "sort", "offset", "flows", "flow_runs", "task_runs", "deployments", "work_pools", "work_pool_queues")
    sort: FlowRunSort = FlowRunSort.ID_DESC


class TaskRunQuery(RunRelations, Page):
    BODY_ORDER: ClassVar[tuple[str, ...]] = (  # the reference's parameter order
        "limit", "sort", "offset", "flows", "flow_runs", "task_runs", "deployments")
    sort: TaskRunSort = TaskRunSort.ID_DESC


def check_limit(ctx: Ctx, limit: int | None) -> int:
    from domain.errors import Unprocessable

    default = ctx.settings.api_default_limit
    if limit is None:
        return default
    if limit < 0:
        raise Unprocessable("Invalid limit: must be greater than or equal to 0.")
    if limit > default:
        raise Unprocessable(f"Invalid limit: must be less than or equal to {default}.")
    return limit


class StoreContext:
    """``FilterContext`` backed by the stores (lookups are cached per request)."""

    def __init__(self, ctx: Ctx):
        self.ctx = ctx
        self._task_runs: dict[str, Doc | None] = {}

    def flow_has_deployments(self, flow_id: str) -> bool:
        return next(iter(self.ctx.stores.deployments.query("by_flow", flow_id, limit=1)), None) is not None

    def _task_run(self, task_run_id: str) -> Doc | None:
        if task_run_id not in self._task_runs:
            self._task_runs[task_run_id] = self.ctx.stores.task_runs.get(task_run_id)
        return self._task_runs[task_run_id]

    def task_run_flow_run_id(self, task_run_id: str) -> str | None:
        doc = self._task_run(task_run_id)
        return doc.get("flow_run_id") if doc else None

    def task_run_has_subflow(self, task_run_id: str) -> bool:
        return next(iter(self.ctx.stores.flow_runs.query("by_parent_task_run", task_run_id, limit=1)), None) is not None


def _by_id(docs: Iterable[Doc]) -> dict[str, Doc]:
    return {d["id"]: d for d in docs}


# ------------------------------------------------------------------------------ flow-run matching


def _runs_matching(ctx: Ctx, q: Any, candidates: Iterable[Doc], fctx: StoreContext, chunk_size: int = 100,
                   ) -> Iterator[Doc]:
    """Runs among ``candidates`` that match q.flow_runs/flows/deployments/work_pools/work_pool_queues/task_runs
    (``chunk_size`` candidates at a time: a caller that stops early takes no more than it needs)."""
    fr = getattr(q, "flow_runs", None)
    for chunk in _chunks(candidates, chunk_size):
        rows = [r for r in chunk if fr is None or fr.matches(r, fctx)]
        if not rows:
            continue
        if getattr(q, "flows", None) is not None:
            flows = _by_id(ctx.stores.flows.get_many({r["flow_id"] for r in rows}))
            rows = [r for r in rows if r["flow_id"] in flows and q.flows.matches(flows[r["flow_id"]], fctx)]
        if getattr(q, "deployments", None) is not None:
            deps = _by_id(ctx.stores.deployments.get_many({r["deployment_id"] for r in rows if r.get("deployment_id")}))
            rows = [r for r in rows if r.get("deployment_id") in deps
                    and q.deployments.matches(_dep_match_doc(deps[r["deployment_id"]]), fctx)]
        wp, wq = getattr(q, "work_pools", None), getattr(q, "work_pool_queues", None)
        if wp is not None or wq is not None:
            rows = _in_queues(ctx, rows, wp, wq)
        tr = getattr(q, "task_runs", None)
        if tr is not None:
            rows = [r for r in rows if any(tr.matches(t, fctx) for t in ctx.stores.task_runs.query("by_flow_run", r["id"]))]
        yield from rows


def _chunks(it: Iterable[Doc], n: int) -> Iterator[list[Doc]]:
    it = iter(it)
    while chunk := list(itertools.islice(it, n)):
        yield chunk


def _in_queues(ctx: Ctx, rows: list[Doc], wp: WorkPoolFilter | None, wq: WorkQueueFilter | None) -> list[Doc]:
    """The rows (runs or deployments) whose work queue, and its pool, match the filters: one
    BatchGetItem for the chunk's queues and one for their pools, not a GetItem per row."""
    queues = _by_id(ctx.stores.work_queues.get_many({r["work_queue_id"] for r in rows if r.get("work_queue_id")}))
    if wq is not None:
        queues = {i: q for i, q in queues.items() if wq.matches(q)}
    if wp is not None:
        pools = _by_id(ctx.stores.work_pools.get_many({q["work_pool_id"] for q in queues.values()
                                                        if q.get("work_pool_id")}))
        queues = {i: q for i, q in queues.items()
                  if q.get("work_pool_id") in pools and wp.matches(pools[q["work_pool_id"]])}
    return [r for r in rows if r.get("work_queue_id") in queues]


def _dep_match_doc(doc: Doc) -> Doc:
    return doc


def _run_dimension(ctx: Ctx, q: Any) -> tuple[str, set[str]] | None:
    """The most selective indexed dimension of a run query other than ids: ``("deployment", ids)``,
    ``("flow", ids)`` or ``("work_queue", ids)`` (queues only count with exact state types: runs have
    no plain queue index), or None."""
    fr: FlowRunFilter | None = getattr(q, "flow_runs", None)
    if fr is not None and (dep_ids := fr.exact_deployment_ids()) is not None:
        return "deployment", dep_ids
    d = getattr(q, "deployments", None)
    if d is not None and (dep_ids := d.exact_ids()) is not None:
        return "deployment", dep_ids
    f = getattr(q, "flows", None)
    if f is not None:
        flow_ids = f.exact_ids()
        if flow_ids is None and (names := f.exact_names()) is not None:
            flow_ids = name_guards.owners(ctx, map(name_guards.flow, names))
        if flow_ids is not None:
            return "flow", flow_ids
    if fr is not None and fr.exact_state_types() is not None and (
            getattr(q, "work_pools", None) is not None or getattr(q, "work_pool_queues", None) is not None):
        queue_ids = _exact_queue_ids(ctx, q.work_pools, q.work_pool_queues)
        if queue_ids is not None:
            return "work_queue", queue_ids
    return None


_STATE_INDEX = {"deployment": "by_deployment_state", "flow": "by_flow_state", "work_queue": "by_work_queue_state"}
_PLAIN_INDEX = {"deployment": "by_deployment", "flow": "by_flow"}


_UNPLANNED: Any = object()


def _run_candidates(ctx: Ctx, q: Any, dim: tuple[str, set[str]] | None = _UNPLANNED) -> Iterable[Doc]:
    fr: FlowRunFilter | None = getattr(q, "flow_runs", None)
    store = ctx.stores.flow_runs
    if fr is not None and (run_ids := fr.exact_ids()) is not None:
        return store.get_many(run_ids)
    types = fr.exact_state_types() if fr is not None else None
    if dim is _UNPLANNED:
        dim = _run_dimension(ctx, q)
    if dim is not None:
        kind, keys = dim
        if types is not None:  # the (dimension, state type) partitions only
            return itertools.chain.from_iterable(store.query(_STATE_INDEX[kind], f"{k}#{t}")
                                                 for k in sorted(keys) for t in sorted(types))
        return itertools.chain.from_iterable(store.query(_PLAIN_INDEX[kind], k) for k in sorted(keys))
    if fr is not None and (tags := fr.required_tags()):
        return tag_index.fetch(store, tag_index.object_ids(ctx, "flow_run", min(tags)))
    if types is not None:  # every run of those state types, each type's shards read in turn (the
        # caller sorts or counts them all, so no merge)
        return itertools.chain.from_iterable(every(store, "by_state_type_sharded", t) for t in sorted(types))
    return query_all(store, "by_created", descending=True)


_EXPECTED_SORTS = {"EXPECTED_START_TIME_DESC": True, "EXPECTED_START_TIME_ASC": False}


def _ordered_run_candidates(ctx: Ctx, q: FlowRunQuery, page: int, dim: tuple[str, set[str]] | None,
                            ) -> Iterable[Doc] | None:
    """Candidate runs already in the requested order (ties by id, as ``sort_documents``), read a
    page of about ``page`` items at a time, or None when the filter/sort has no such index path:

    * EXPECTED_START_TIME sorts with exact deployments (``by_deployment_expected``), or with a
      deployment / flow / work queue dimension and exact state types (``by_*_state``);
    * ID_DESC (the default) with a required tag and no other selective predicate (the tag index).

    Every run has an ``expected_start_time`` once it has a state, and every stored run has one."""
    fr = q.flow_runs
    if fr is None or fr.exact_ids() is not None:
        return None
    store = ctx.stores.flow_runs
    types = fr.exact_state_types()
    descending = _EXPECTED_SORTS.get(q.sort.value)
    if descending is not None and dim is not None:
        kind, keys = dim
        if types is not None:
            index, parts = _STATE_INDEX[kind], [f"{k}#{t}" for k in sorted(keys) for t in sorted(types)]
        elif kind == "deployment":
            index, parts = "by_deployment_expected", sorted(keys)
        else:
            return None
        if not parts:
            return None
        # the sort keys are (expected start, id): the partitions merged in the sort's order
        return query_partitions(store, index, parts, descending=descending, expect=page)
    if q.sort == FlowRunSort.ID_DESC and dim is None and (tags := fr.required_tags()):
        ids = tag_index.object_ids(ctx, "flow_run", min(tags), descending=True, page=page)
        return tag_index.fetch(store, ids, batch=min(page, 100))
    return None


def filter_flow_runs(ctx: Ctx, q: FlowRunQuery) -> list[Doc]:
    limit = check_limit(ctx, q.limit)
    fctx = StoreContext(ctx)
    page = max(1, q.offset + limit)
    dim = _run_dimension(ctx, q) if q.flow_runs is None or q.flow_runs.exact_ids() is None else None
    ordered = _ordered_run_candidates(ctx, q, page, dim)
    if ordered is not None:  # stop once the page is full
        matching = _runs_matching(ctx, q, ordered, fctx, chunk_size=min(page, 100))
        return list(itertools.islice(matching, q.offset, q.offset + limit))
    rows = list(_runs_matching(ctx, q, _run_candidates(ctx, q, dim), fctx))
    rows = sort_documents(rows, q.sort)
    return rows[q.offset:q.offset + limit]


def count_flow_runs(ctx: Ctx, q: FlowRunQuery) -> int:
    if (n := run_counts.count_flow_runs(ctx, q)) is not None:  # counters or a time window
        return n
    return sum(1 for _ in _runs_matching(ctx, q, _run_candidates(ctx, q), StoreContext(ctx)))


# --------------------------------------------------------------------------------- deployments


def _deployment_candidates(ctx: Ctx, q: DeploymentQuery, page: int | None = None) -> tuple[Iterable[Doc], bool]:
    """(candidates, in_requested_order). Ordered candidates allow stopping after offset+limit;
    ``page`` (offset+limit, for a filter) is how many DynamoDB is asked for first."""
    store = ctx.stores.deployments
    d, f = q.deployments, q.flows
    if d is not None and (dep_ids := d.exact_ids()) is not None:
        return store.get_many(dep_ids), False
    flow_ids = None
    if f is not None:
        flow_ids = f.exact_ids()
        if flow_ids is None and (names := f.exact_names()) is not None:
            flow_ids = name_guards.owners(ctx, map(name_guards.flow, names))
    if d is not None and flow_ids is not None and (names := d.exact_names()) is not None:
        keys = [name_guards.deployment(fi, n) for fi in flow_ids for n in names]
        return store.get_many(name_guards.owners(ctx, keys)), False
    if flow_ids is not None:
        return itertools.chain.from_iterable(store.query("by_flow", x) for x in sorted(flow_ids)), False
    queue_ids = _exact_queue_ids(ctx, q.work_pools, q.work_pool_queues)
    if queue_ids is not None:
        return itertools.chain.from_iterable(store.query("by_work_queue", x) for x in sorted(queue_ids)), False
    fr = q.flow_runs
    if fr is not None and (run_ids := fr.exact_ids()) is not None:
        dep_ids = {r["deployment_id"] for r in ctx.stores.flow_runs.get_many(run_ids) if r.get("deployment_id")}
        return store.get_many(dep_ids), False
    by_name = q.sort in (DeploymentSort.NAME_ASC, DeploymentSort.NAME_DESC)
    if d is not None and (tags := d.required_tags()):  # the tag index: name order, like by_name
        ids = tag_index.object_ids(ctx, "deployment", min(tags), descending=q.sort == DeploymentSort.NAME_DESC,
                                   page=page if by_name else None)
        return tag_index.fetch(store, ids, batch=min(page or 100, 100)), by_name
    if by_name:
        return query_all(store, "by_name", descending=q.sort == DeploymentSort.NAME_DESC, expect=page), True
    return query_all(store, "by_name"), False


def _exact_queue_ids(ctx: Ctx, wp: WorkPoolFilter | None, wq: WorkQueueFilter | None) -> set[str] | None:
    if wq is not None and (qids := wq.exact_ids()) is not None:
        return qids
    pool_ids = None
    if wp is not None:
        pool_ids = wp.exact_ids()
        if pool_ids is None and (names := wp.exact_names()) is not None:
            pool_ids = name_guards.owners(ctx, map(name_guards.work_pool, names))
    if pool_ids is None:
        return None
    if wq is not None and (qnames := wq.exact_names()) is not None:
        return name_guards.owners(ctx, [name_guards.work_queue(p, n) for p in pool_ids for n in qnames])
    return {q["id"] for p in sorted(pool_ids) for q in ctx.stores.work_queues.query("by_pool", p)}


def _deployments_matching(ctx: Ctx, q: DeploymentQuery, candidates: Iterable[Doc], chunk_size: int = 100,
                          ) -> Iterator[Doc]:
    fctx = StoreContext(ctx)
    for chunk in _chunks(candidates, chunk_size):
        rows = [r for r in chunk if q.deployments is None or q.deployments.matches(r, fctx)]
        if rows and q.flows is not None:
            flows = _by_id(ctx.stores.flows.get_many({r["flow_id"] for r in rows}))
            rows = [r for r in rows if r["flow_id"] in flows and q.flows.matches(flows[r["flow_id"]], fctx)]
        if rows and (q.work_pools is not None or q.work_pool_queues is not None):
            rows = _in_queues(ctx, rows, q.work_pools, q.work_pool_queues)
        if rows and (q.flow_runs is not None or q.task_runs is not None):
            sub = FlowRunQuery(flow_runs=q.flow_runs, task_runs=q.task_runs)
            rows = [r for r in rows
                    if next(_runs_matching(ctx, sub, ctx.stores.flow_runs.query("by_deployment", r["id"]), fctx), None)]
        yield from rows


def filter_deployments(ctx: Ctx, q: DeploymentQuery) -> list[Doc]:
    limit = check_limit(ctx, q.limit)
    page = max(1, q.offset + limit)
    candidates, ordered = _deployment_candidates(ctx, q, page)
    matching = _deployments_matching(ctx, q, candidates, min(page, 100) if ordered else 100)
    if ordered:
        return list(itertools.islice(matching, q.offset, q.offset + limit))
    return sort_documents(list(matching), q.sort)[q.offset:q.offset + limit]


def count_deployments(ctx: Ctx, q: DeploymentQuery) -> int:
    candidates, _ = _deployment_candidates(ctx, q)
    return sum(1 for _ in _deployments_matching(ctx, q, candidates))


# ---------------------------------------------------------------------------------------- flows


def _flow_candidates(ctx: Ctx, q: FlowQuery) -> tuple[Iterable[Doc], bool]:
    store = ctx.stores.flows
    f = q.flows
    if f is not None:
        if (fids := f.exact_ids()) is not None:
            return store.get_many(fids), False
        if (names := f.exact_names()) is not None:
            return store.get_many(name_guards.owners(ctx, map(name_guards.flow, names))), False
    if q.deployments is not None and (dep_ids := q.deployments.exact_ids()) is not None:
        return store.get_many({d["flow_id"] for d in ctx.stores.deployments.get_many(dep_ids)}), False
    if q.sort in (FlowSort.NAME_ASC, FlowSort.NAME_DESC):
        return query_all(store, "by_name", descending=q.sort == FlowSort.NAME_DESC), True
    return query_all(store, "by_name"), False


def _flows_matching(ctx: Ctx, q: FlowQuery, candidates: Iterable[Doc]) -> Iterator[Doc]:
    fctx = StoreContext(ctx)
    for flow in candidates:
        if q.flows is not None and not q.flows.matches(flow, fctx):
            continue
        if q.deployments is not None or q.work_pools is not None:
            dq = DeploymentQuery(deployments=q.deployments, work_pools=q.work_pools)
            if next(_deployments_matching(ctx, dq, ctx.stores.deployments.query("by_flow", flow["id"])), None) is None:
                continue
        if q.flow_runs is not None or q.task_runs is not None:
            rq = FlowRunQuery(flow_runs=q.flow_runs, task_runs=q.task_runs)
            if next(_runs_matching(ctx, rq, ctx.stores.flow_runs.query("by_flow", flow["id"]), fctx), None) is None:
                continue
        yield flow


def filter_flows(ctx: Ctx, q: FlowQuery) -> list[Doc]:
    limit = check_limit(ctx, q.limit)
    candidates, ordered = _flow_candidates(ctx, q)
    matching = _flows_matching(ctx, q, candidates)
    if ordered:
        return list(itertools.islice(matching, q.offset, q.offset + limit))
    return sort_documents(list(matching), q.sort)[q.offset:q.offset + limit]


def count_flows(ctx: Ctx, q: FlowQuery) -> int:
    candidates, _ = _flow_candidates(ctx, q)
    return sum(1 for _ in _flows_matching(ctx, q, candidates))


# ------------------------------------------------------------------------------------ task runs


def _task_candidates(ctx: Ctx, q: TaskRunQuery) -> Iterable[Doc]:
    t = q.task_runs
    if t is not None:
        if (tids := t.exact_ids()) is not None:
            return ctx.stores.task_runs.get_many(tids)
        if (frids := t.exact_flow_run_ids()) is not None:
            return itertools.chain.from_iterable(ctx.stores.task_runs.query("by_flow_run", x) for x in sorted(frids))
    if q.flow_runs is not None and (rids := q.flow_runs.exact_ids()) is not None:
        return itertools.chain.from_iterable(ctx.stores.task_runs.query("by_flow_run", x) for x in sorted(rids))
    if t is not None and (tags := t.required_tags()):
        return tag_index.fetch(ctx.stores.task_runs, tag_index.object_ids(ctx, "task_run", min(tags)))
    return query_all(ctx.stores.task_runs, "by_created", descending=True)


def _tasks_matching(ctx: Ctx, q: TaskRunQuery, candidates: Iterable[Doc] | None = None, chunk_size: int = 100,
                    ) -> Iterator[Doc]:
    fctx = StoreContext(ctx)
    for chunk in _chunks(_task_candidates(ctx, q) if candidates is None else candidates, chunk_size):
        rows = [t for t in chunk if q.task_runs is None or q.task_runs.matches(t, fctx)]
        if rows and (q.flow_runs is not None or q.flows is not None or q.deployments is not None):
            runs = _by_id(ctx.stores.flow_runs.get_many({t["flow_run_id"] for t in rows if t.get("flow_run_id")}))
            rq = FlowRunQuery(flow_runs=q.flow_runs, flows=q.flows, deployments=q.deployments)
            ok = {r["id"] for r in _runs_matching(ctx, rq, runs.values(), fctx)}
            rows = [t for t in rows if t.get("flow_run_id") in ok]
        yield from rows


def _ordered_task_candidates(ctx: Ctx, q: TaskRunQuery, page: int) -> Iterable[Doc] | None:
    """Task runs of a required tag in ID_DESC (the default sort) from the tag index, read about
    ``page`` at a time, when no narrower predicate (ids, flow runs) applies; else None."""
    t = q.task_runs
    if q.sort != TaskRunSort.ID_DESC or t is None or t.exact_ids() is not None or t.exact_flow_run_ids() is not None:
        return None
    if (q.flow_runs is not None and q.flow_runs.exact_ids() is not None) or not (tags := t.required_tags()):
        return None
    ids = tag_index.object_ids(ctx, "task_run", min(tags), descending=True, page=page)
    return tag_index.fetch(ctx.stores.task_runs, ids, batch=min(page, 100))


def filter_task_runs(ctx: Ctx, q: TaskRunQuery) -> list[Doc]:
    limit = check_limit(ctx, q.limit)
    page = max(1, q.offset + limit)
    if (ordered := _ordered_task_candidates(ctx, q, page)) is not None:  # stop once the page is full
        matching = _tasks_matching(ctx, q, ordered, chunk_size=min(page, 100))
        return list(itertools.islice(matching, q.offset, q.offset + limit))
    rows = sort_documents(list(_tasks_matching(ctx, q)), q.sort)
    return rows[q.offset:q.offset + limit]


def count_task_runs(ctx: Ctx, q: TaskRunQuery) -> int:
    if (n := run_counts.count_task_runs_from_counters(ctx, q)) is not None:
        return n
    return sum(1 for _ in _tasks_matching(ctx, q, run_counts.task_run_window(ctx, q)))
