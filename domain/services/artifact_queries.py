"""Artifact filters and counts (orchestration spec §1.12): ``/artifacts/filter``, ``/count``,
``/latest/filter``, ``/latest/count``.

Planned like the other filters: ids -> BatchGetItem, ``key``/``flow_run_id``/``task_run_id``
``any_`` -> one Query per value, ``flow_runs.id.any_`` / ``task_runs.id.any_`` -> the artifacts
of those runs; otherwise the ``by_created`` (artifacts) or ``by_key`` (collections) index, read in
order and cut early when that order is the requested one. The ``flow_runs``/``flows``/``deployments`` and ``task_runs``
filters are evaluated on each artifact's flow run / task run (the reference's EXISTS joins),
read in batches.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import Any, ClassVar

from domain.context import Ctx
from domain.filters import (
    DeploymentFilter,
    FlowFilter,
    FlowRunFilter,
    TaskRunFilter,
    _FilterModel,
    _TopLevelFilter,
    _UuidAny,
    like_pattern,
)
from domain.parsing import Embedded
from domain.ports import Doc
from domain.services.artifacts import collection_id, collection_to_wire, public_id, to_wire
from domain.services.queries import FlowRunQuery, Page, StoreContext, _runs_matching, check_limit
from domain.sharded_index import query_all
from domain.timeutil import parse

# ------------------------------------------------------------------------------------ filters


class ArtifactSort(StrEnum):
    CREATED_DESC = "CREATED_DESC"
    UPDATED_DESC = "UPDATED_DESC"
    ID_DESC = "ID_DESC"
    KEY_DESC = "KEY_DESC"
    KEY_ASC = "KEY_ASC"


class _Key(_FilterModel):
    """``any_``, ``like_`` (ILIKE '%v%') and ``exists_`` (not null) on the key."""

    any_: list[str] | None = None
    like_: str | None = None
    exists_: bool | None = None

    def _terms(self, doc, ctx):
        key = doc.get("key")
        if self.any_ is not None:
            allowed = self._str_set("any_", self.any_)
            yield lambda: key is not None and key in allowed
        if self.like_ is not None:
            pattern = like_pattern(f"%{self.like_}%")
            yield lambda: isinstance(key, str) and pattern.fullmatch(key) is not None
        if self.exists_ is not None:
            yield lambda: (key is not None) is self.exists_


class _Type(_FilterModel):
    """``any_`` / ``not_any_`` on the type (SQL: a null type is in neither, ``not_any_: []`` is true)."""

    any_: list[str] | None = None
    not_any_: list[str] | None = None

    def _terms(self, doc, ctx):
        kind = doc.get("type")
        if self.any_ is not None:
            allowed = self._str_set("any_", self.any_)
            yield lambda: kind is not None and kind in allowed
        if self.not_any_ is not None:
            excluded = self._str_set("not_any_", self.not_any_)
            yield lambda: not excluded or (kind is not None and kind not in excluded)


class _FlowRunId(_UuidAny):
    doc_key = "flow_run_id"


class _TaskRunId(_UuidAny):
    doc_key = "task_run_id"


class _LatestId(_UuidAny):
    doc_key = "latest_id"


class ArtifactFilter(_TopLevelFilter):
    id: _UuidAny | None = None
    key: _Key | None = None
    flow_run_id: _FlowRunId | None = None
    task_run_id: _TaskRunId | None = None
    type: _Type | None = None


class ArtifactCollectionFilter(_TopLevelFilter):
    latest_id: _LatestId | None = None
    key: _Key | None = None
    flow_run_id: _FlowRunId | None = None
    task_run_id: _TaskRunId | None = None
    type: _Type | None = None


class _Related(Embedded):
    flow_runs: FlowRunFilter | None = None
    task_runs: TaskRunFilter | None = None
    flows: FlowFilter | None = None
    deployments: DeploymentFilter | None = None


class ArtifactCount(_Related):
    BODY_ORDER: ClassVar[tuple[str, ...]] = (  # the reference's parameter order
        "artifacts", "flow_runs", "task_runs", "flows", "deployments")
    artifacts: ArtifactFilter | None = None


class ArtifactQuery(ArtifactCount, Page):
    BODY_ORDER: ClassVar[tuple[str, ...]] = (  # the reference's parameter order
        "limit", "sort", "offset", "artifacts", "flow_runs", "task_runs", "flows", "deployments")
    sort: ArtifactSort = ArtifactSort.ID_DESC


class CollectionCount(_Related):
    BODY_ORDER: ClassVar[tuple[str, ...]] = (  # the reference's parameter order
        "artifacts", "flow_runs", "task_runs", "flows", "deployments")
    artifacts: ArtifactCollectionFilter | None = None


class CollectionQuery(CollectionCount, Page):
    BODY_ORDER: ClassVar[tuple[str, ...]] = (  # the reference's parameter order
        "limit", "sort", "offset", "artifacts", "flow_runs", "task_runs", "flows", "deployments")
    sort: ArtifactSort = ArtifactSort.ID_DESC


# -------------------------------------------------------------------------------------- reads


def _sorted(docs: Iterable[Doc], sort: ArtifactSort) -> list[Doc]:
    """The reference's ORDER BY (NULL keys first ascending, as SQLite does); ties by (public) id."""
    docs = list(docs)
    if sort in (ArtifactSort.KEY_ASC, ArtifactSort.KEY_DESC):
        def key(d: Doc) -> tuple:
            return (d.get("key") is not None, d.get("key") or "", public_id(d))

        return sorted(docs, key=key, reverse=sort is ArtifactSort.KEY_DESC)
    field = {ArtifactSort.CREATED_DESC: "created", ArtifactSort.UPDATED_DESC: "updated"}.get(sort)
    if field is None:  # ID_DESC
        return sorted(docs, key=public_id, reverse=True)
    return sorted(docs, key=lambda d: (parse(d[field]), public_id(d)), reverse=True)


def _artifact_candidates(ctx: Ctx, q: ArtifactCount) -> tuple[Iterable[Doc], bool]:
    """(candidates, in CREATED_DESC order)."""
    store = ctx.stores.artifacts
    f = q.artifacts
    if f is not None:
        if (wanted := f._any_hint("id", uuid=True)) is not None:
            return store.get_many(sorted(wanted)), False
        if (keys := f._any_hint("key", uuid=False)) is not None:
            return _per_partition(store, "by_key", [k for k in keys if k]), False
        for name, index in (("flow_run_id", "by_flow_run"), ("task_run_id", "by_task_run")):
            if (values := f._any_hint(name, uuid=True)) is not None:
                return _per_partition(store, index, values), False
    if q.flow_runs is not None and (run_ids := q.flow_runs.exact_ids()) is not None:
        return _per_partition(store, "by_flow_run", run_ids), False
    if q.task_runs is not None and (task_ids := q.task_runs.exact_ids()) is not None:
        return _per_partition(store, "by_task_run", task_ids), False
    return query_all(store, "by_created", descending=True), True


def _collection_candidates(ctx: Ctx, q: CollectionCount, sort: ArtifactSort) -> tuple[Iterable[Doc], bool]:
    """(candidates, in ``sort`` order)."""
    store = ctx.stores.artifact_collections
    f = q.artifacts
    if f is not None and (keys := f._any_hint("key", uuid=False)) is not None:
        return store.get_many(sorted(collection_id(k) for k in keys)), False
    if sort in (ArtifactSort.KEY_ASC, ArtifactSort.KEY_DESC):
        rows = query_all(store, "by_key", descending=sort is ArtifactSort.KEY_DESC)
        # the empty key is not indexed; the reference sorts it first ascending
        empty = store.get(collection_id(""))
        if empty is None:
            return rows, True
        return (itertools.chain([empty], rows) if sort is ArtifactSort.KEY_ASC
                else itertools.chain(rows, [empty])), True
    empty = store.get(collection_id(""))
    return itertools.chain(query_all(store, "by_key"), [empty] if empty else []), False


def _per_partition(store, index: str, values: Iterable[str]) -> Iterator[Doc]:
    return itertools.chain.from_iterable(store.query(index, v) for v in sorted(values))


def _chunks(rows: Iterable[Doc], n: int = 100) -> Iterator[list[Doc]]:
    it = iter(rows)
    while chunk := list(itertools.islice(it, n)):
        yield chunk


def _matching(ctx: Ctx, q: ArtifactCount | CollectionCount, candidates: Iterable[Doc]) -> Iterator[Doc]:
    """Candidates that match ``q.artifacts`` and whose flow run / task run match the related filters."""
    f = q.artifacts
    fctx = StoreContext(ctx)
    run_q = FlowRunQuery(flow_runs=q.flow_runs, flows=q.flows, deployments=q.deployments)
    joins_runs = q.flow_runs is not None or q.flows is not None or q.deployments is not None
    for chunk in _chunks(candidates):
        rows = [d for d in chunk if f is None or f.matches(d)]
        if rows and joins_runs:
            runs = ctx.stores.flow_runs.get_many({d["flow_run_id"] for d in rows if d.get("flow_run_id")})
            ok = {r["id"] for r in _runs_matching(ctx, run_q, runs, fctx)}
            rows = [d for d in rows if d.get("flow_run_id") in ok]
        if rows and q.task_runs is not None:
            tasks = ctx.stores.task_runs.get_many({d["task_run_id"] for d in rows if d.get("task_run_id")})
            ok = {t["id"] for t in tasks if q.task_runs.matches(t, fctx)}
            rows = [d for d in rows if d.get("task_run_id") in ok]
        yield from rows


def filter_artifacts(ctx: Ctx, q: ArtifactQuery) -> list[dict[str, Any]]:
    limit = check_limit(ctx, q.limit)
    candidates, by_created = _artifact_candidates(ctx, q)
    rows = _matching(ctx, q, candidates)
    if by_created and q.sort is ArtifactSort.CREATED_DESC:
        page = list(itertools.islice(rows, q.offset, q.offset + limit))
    else:
        page = _sorted(rows, q.sort)[q.offset:q.offset + limit]
    return [to_wire(d) for d in page]


def count_artifacts(ctx: Ctx, q: ArtifactCount) -> int:
    candidates, _ = _artifact_candidates(ctx, q)
    return sum(1 for _ in _matching(ctx, q, candidates))


def filter_latest(ctx: Ctx, q: CollectionQuery) -> list[dict[str, Any]]:
    limit = check_limit(ctx, q.limit)
    candidates, ordered = _collection_candidates(ctx, q, q.sort)
    rows = _matching(ctx, q, candidates)
    if ordered:
        page = list(itertools.islice(rows, q.offset, q.offset + limit))
    else:
        page = _sorted(rows, q.sort)[q.offset:q.offset + limit]
    return [collection_to_wire(d) for d in page]


def count_latest(ctx: Ctx, q: CollectionCount) -> int:
    candidates, _ = _collection_candidates(ctx, q, ArtifactSort.ID_DESC)
    return sum(1 for _ in _matching(ctx, q, candidates))
