"""Log reads: ``POST /logs/filter`` planned on an index (orchestration spec §1.8, behaviour 110).

A filter never reads more than it must:

* ``flow_run_id.any_`` (when it is a necessary condition) -> one Query of ``by_flow_run`` per id;
* else ``task_run_id.any_`` -> ``by_task_run`` per id;
* else the ``by_time`` index, whose ``all`` partition is split into ``LOG_TIME_SHARDS`` shards (an
  all-logs partition keyed by a constant would cap the whole deployment's log writes at one GSI
  partition's throughput).

A necessary ``timestamp`` criterion becomes the Query's key condition on ``ts_sk``, the partitions
(and shards) are merged in time order by ``domain.sharded_index``, remaining criteria are applied in
memory, and reading stops after ``offset + limit`` matches. Each partition is read in chunks sized
from ``offset + limit``, then doubling, so a page costs about what it returns when the key
condition is the whole filter, and what it has to look at otherwise. DynamoDB TTL deletes expired
logs up to days late, so reads skip items past their ``_expires_at``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import Any

from domain.context import Ctx
from domain.filters import _FilterModel, _TimeRange, _TopLevelFilter, _UuidAny
from domain.ports import ALL, Doc
from domain.services.logs import to_wire
from domain.services.queries import Page, check_limit
from domain.sharded_index import query_partitions
from domain.timeutil import sort_key


class LogSort(StrEnum):
    TIMESTAMP_ASC = "TIMESTAMP_ASC"
    TIMESTAMP_DESC = "TIMESTAMP_DESC"


class LogFilterLevel(_FilterModel):
    """``ge_`` / ``le_`` on the numeric level."""

    ge_: int | None = None
    le_: int | None = None

    def _terms(self, doc, ctx):
        if self.ge_ is not None:
            yield lambda: doc.get("level") is not None and doc["level"] >= self.ge_
        if self.le_ is not None:
            yield lambda: doc.get("level") is not None and doc["level"] <= self.le_


class LogFilterTimestamp(_TimeRange):
    doc_key = "timestamp"


class LogFilterFlowRunId(_UuidAny):
    doc_key = "flow_run_id"


class LogFilterTaskRunId(_UuidAny):
    doc_key = "task_run_id"


class LogFilter(_TopLevelFilter):
    """The reference's LogFilter: no ``name`` criterion (an unknown key, so a 422)."""

    level: LogFilterLevel | None = None
    timestamp: LogFilterTimestamp | None = None
    flow_run_id: LogFilterFlowRunId | None = None
    task_run_id: LogFilterTaskRunId | None = None


class LogQuery(Page):
    logs: LogFilter | None = None
    sort: LogSort = LogSort.TIMESTAMP_ASC


# ------------------------------------------------------------------------------------- reads


def _bounds(f: LogFilter | None) -> tuple[str | None, str | None]:
    """``ts_sk`` key-condition bounds from a necessary ``timestamp`` criterion."""
    ts = f._sole_or_anded("timestamp") if f is not None else None
    if ts is None:
        return None, None
    low = sort_key(ts.after_) if ts.after_ is not None else None
    # what follows the timestamp starts with "#" + a digit, below "#~": every log at exactly
    # ``before_`` is included
    high = f"{sort_key(ts.before_)}#~" if ts.before_ is not None else None
    return low, high


def _partitions(f: LogFilter | None) -> tuple[str, list[str]]:
    """(index, partition keys) of the most selective necessary criterion."""
    if f is not None:
        for name, index in (("flow_run_id", "by_flow_run"), ("task_run_id", "by_task_run")):
            wanted = f._any_hint(name, uuid=True)
            if wanted is not None:
                return index, sorted(wanted)
    return "by_time", [ALL]


def filter_logs(ctx: Ctx, q: LogQuery) -> list[dict[str, Any]]:
    """POST /logs/filter -> ``[Log]`` in timestamp order (ties in id order), offset/limit."""
    limit = check_limit(ctx, q.limit)
    f = q.logs
    index, pks = _partitions(f)
    low, high = _bounds(f)
    if low is not None and high is not None and low > high:
        return []
    descending = q.sort is LogSort.TIMESTAMP_DESC
    wanted = q.offset + limit
    if wanted == 0 or not pks:
        return []
    now = ctx.now().timestamp()

    def live(rows: Iterable[Doc]) -> Iterator[Doc]:
        for d in rows:
            if d.get("_expires_at") is not None and d["_expires_at"] <= now:
                continue
            if f is None or f.matches(d):
                yield d

    rows = query_partitions(ctx.stores.logs, index, pks, sk_gte=low, sk_lte=high, descending=descending,
                            expect=wanted)
    page = list(itertools.islice(live(rows), wanted))
    return [to_wire(d) for d in page[q.offset:]]
