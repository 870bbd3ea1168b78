"""Logs: batch insert and time-ordered reads planned on an index (orchestration spec §1.8).

Storage. Each log is one item with a fresh uuid4 ``id`` and a private sort key ``_ts_sk`` =
fixed-width UTC timestamp, then the time it was received and its position in its request, then
the id: logs with equal timestamps stay distinct and come back in the order they were sent, as
from the reference (SQLite breaks the tie by insertion order, reversed for TIMESTAMP_DESC). ``_expires_at`` (epoch seconds, now + ``history_retention``) lets DynamoDB
TTL delete old logs; TTL deletion lags expiry by up to days, so reads skip expired items.

Reads. ``POST /logs/filter`` never reads more than it must:

* ``flow_run_id.any_`` (when it is a necessary condition) -> one Query of ``by_flow_run`` per id;
* else ``task_run_id.any_`` -> ``by_task_run`` per id;
* else the ``by_time`` index, whose partition is split into ``TIME_SHARDS`` shards (an all-logs
  partition keyed by a constant would cap the whole deployment's log writes at one GSI partition's
  throughput); the shards are read in parallel order and merged.

A necessary ``timestamp`` criterion becomes the Query's key condition on ``ts_sk``, the partitions
are merged in time order, remaining criteria are applied in memory, and reading stops after
``offset + limit`` matches. When the key condition is the whole filter, each Query is also told
to return at most ``offset + limit`` items, so a page costs what it returns.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, TypeAdapter

from domain import ids
from domain.context import Ctx
from domain.errors import TooLarge
from domain.filters import DateTimeIn, _FilterModel, _TimeRange, _TopLevelFilter, _UuidAny
from domain.parsing import parse_list
from domain.ports import Doc, log_time_shards
from domain.services.queries import Page, check_limit
from domain.timeutil import iso_utc, sort_key

WIRE_KEYS = ("id", "created", "updated", "name", "level", "message", "timestamp", "flow_run_id", "task_run_id")

# A log item must fit a DynamoDB item (400 KB) with its projected attributes; the reference
# accepts messages of up to 1 000 000 characters (the client drops longer ones).
MAX_LOG_ITEM_BYTES = 380 * 1024


def _str_scalar(value: Any) -> Any:
    """pydantic v1 ``str`` semantics (the reference): numbers become their ``str()``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def _int_truncated(value: Any) -> Any:
    """pydantic v1 ``int`` semantics: a float is truncated (``20.5`` -> ``20``)."""
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    return value


Text = Annotated[str, BeforeValidator(_str_scalar)]
Level = Annotated[int, BeforeValidator(_int_truncated)]


class LogCreate(BaseModel):
    """One element of the ``POST /logs/`` array (unknown keys are refused)."""

    model_config = ConfigDict(extra="forbid")
    name: Text
    level: Level
    message: Text
    timestamp: DateTimeIn
    flow_run_id: UUID | None = None
    task_run_id: UUID | None = None


LOG_LIST = TypeAdapter(list[LogCreate])


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


def to_wire(doc: Doc) -> dict[str, Any]:
    return {k: doc.get(k) for k in WIRE_KEYS}


def parse_logs(body: Any) -> list[LogCreate]:
    return parse_list(LOG_LIST, body)


# ------------------------------------------------------------------------------------ writes


def _doc(log: LogCreate, now: str, now_sk: str, position: int, expires_at: int) -> Doc:
    log_id = ids.new_id()
    timestamp = iso_utc(log.timestamp)
    return {
        "id": log_id,
        "created": now,
        "updated": now,
        "name": log.name,
        "level": log.level,
        "message": log.message,
        "timestamp": timestamp,
        "flow_run_id": str(log.flow_run_id) if log.flow_run_id else None,
        "task_run_id": str(log.task_run_id) if log.task_run_id else None,
        "_ts_sk": f"{sort_key(log.timestamp)}#{now_sk}#{position:06d}#{log_id}",
        "_expires_at": expires_at,
    }


def create_logs(ctx: Ctx, logs: list[LogCreate]) -> None:
    """POST /logs/ -> 201 ``null``. Every item is checked against the item-size limit before any
    is written, so a refused batch (422) writes nothing; the batch is written with BatchWriteItem
    (25 items a request, unprocessed items retried by the adapter)."""
    now_dt = ctx.now()
    now = iso_utc(now_dt)
    expires_at = int((now_dt + ctx.settings.history_retention).timestamp())
    now_sk = sort_key(now_dt)
    docs = [_doc(log, now, now_sk, i, expires_at) for i, log in enumerate(logs)]
    for index, doc in enumerate(docs):
        if len(doc["message"].encode()) + len(doc["name"].encode()) > MAX_LOG_ITEM_BYTES:
            raise TooLarge(f"Log {index} is too large to store (DynamoDB items are limited to 400 KB).")
    if docs:
        ctx.stores.logs.put_many(docs)


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


def _partitions(f: LogFilter | None) -> tuple[str, list[str], set[str]]:
    """(index, partition keys, criteria the key condition fully answers)."""
    if f is not None:
        for name, index in (("flow_run_id", "by_flow_run"), ("task_run_id", "by_task_run")):
            wanted = f._any_hint(name, uuid=True)
            if wanted is not None:
                return index, sorted(wanted), {name, "timestamp"}
    return "by_time", log_time_shards(), {"timestamp"}


def _exact(f: LogFilter | None, covered: set[str]) -> bool:
    """Whether every row the key condition returns matches the filter."""
    if f is None:
        return True
    present = {n for n in type(f).model_fields if isinstance(getattr(f, n), _FilterModel)}
    if len(present) > 1 and f.operator.value == "or_":
        return False
    return present <= covered


class _Counted:
    """A stream of one Query that remembers whether it hit its cap."""

    def __init__(self, rows: Iterator[Doc], cap: int | None):
        self.rows, self.cap, self.seen = rows, cap, 0

    def __iter__(self) -> Iterator[Doc]:
        for d in self.rows:
            self.seen += 1
            yield d

    @property
    def capped(self) -> bool:
        return self.cap is not None and self.seen >= self.cap


def _read(ctx: Ctx, index: str, pks: Iterable[str], low: str | None, high: str | None,
          descending: bool, per_query: int | None) -> tuple[Iterator[Doc], list[_Counted]]:
    streams = [_Counted(ctx.stores.logs.query(index, pk, sk_gte=low, sk_lte=high, descending=descending,
                                              limit=per_query), per_query)
               for pk in pks]
    if len(streams) == 1:
        return iter(streams[0]), streams
    return heapq.merge(*streams, key=lambda d: d["_ts_sk"], reverse=descending), streams


def filter_logs(ctx: Ctx, q: LogQuery) -> list[dict[str, Any]]:
    """POST /logs/filter -> ``[Log]`` in timestamp order (ties in id order), offset/limit."""
    limit = check_limit(ctx, q.limit)
    f = q.logs
    index, pks, covered = _partitions(f)
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

    exact = _exact(f, covered)
    rows, streams = _read(ctx, index, pks, low, high, descending, wanted if exact else None)
    page = list(itertools.islice(live(rows), wanted))
    if len(page) < wanted and any(s.capped for s in streams):
        # expired-but-not-yet-deleted items used up a capped read: read again, uncapped
        rows, _ = _read(ctx, index, pks, low, high, descending, None)
        page = list(itertools.islice(live(rows), wanted))
    return [to_wire(d) for d in page[q.offset:]]
