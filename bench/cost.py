"""What each route costs on DynamoDB: requests, read units and write units per call.

Every route of the local app (``handlers.routes.routes()``) is driven through the full FastAPI app
(starlette's TestClient) against the in-memory store (``infra/memory.py``) filled in bulk to a
realistic history, and every store call is billed as DynamoDB bills it:

* ``GetItem`` (strongly consistent, as ``infra/dynamo`` reads): 1 RCU per 4 KB of the item, rounded
  up; a missing item still costs 1. ``BatchGetItem``: the same per key, 100 keys per request.
* ``Query`` (GSIs are eventually consistent): per page, the summed size of the items read rounded up
  to 4 KB, at 0.5 RCU per 4 KB (at least 0.5). A page holds ``limit`` items when the caller passes a
  limit (PynamoDB's page size is the limit) and at most 1 MB otherwise; a page is billed whole as
  soon as the caller asks for its first item, and the next page is requested only when the caller
  iterates past the last one.
* Writes: 1 WCU per 1 KB of the larger of the old and new item (``PutItem``; ``DeleteItem`` bills the
  deleted item), at least 1; ``TransactWriteItems`` 2x per item; ``BatchWriteItem`` 25 items a request.
* GSI maintenance, reported apart (``gsi_wcu``): each index whose entry a write creates, changes or
  removes costs 1 WCU per 1 KB of the entry (ALL projection: the whole item); an entry whose key
  changes costs a delete plus a put. Not doubled in transactions.

Item size is DynamoDB's: attribute names plus values (``id``, ``doc`` text, projected attributes).
Prices are us-east-1 on-demand (README, "DynamoDB cost per call").

    .venv/bin/python bench/cost.py                       # 1k deployments/100k runs; 10k/1M extrapolated
    .venv/bin/python bench/cost.py --small 200 20000 --large 2000 40000   # quicker
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import math
import pathlib
import random
import re
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from domain.ports import Stores, TableSpec, TxOp, tx_key  # noqa: E402
from infra.memory import MemoryStore  # noqa: E402

# us-east-1 on-demand since 1 Nov 2024 (https://aws.amazon.com/dynamodb/pricing/on-demand/); before: 0.25 / 1.25
READ_PRICE = 0.125  # $ per million read request units
WRITE_PRICE = 0.625  # $ per million write request units
PAGE_BYTES = 1024 * 1024
BATCH_GET = 100
BATCH_WRITE = 25


# ---------------------------------------------------------------------------------------------
# billing


def item_size(item_id: str, attrs: dict, body: str) -> int:
    """DynamoDB's size of a stored item: attribute names and values (numbers ~ digits / 2 + 1)."""
    size = 2 + len(item_id.encode()) + 3 + len(body.encode())
    for k, v in attrs.items():
        if k == "id":
            continue
        if isinstance(v, (int, float)):
            size += len(k) + len(str(abs(v)).replace(".", "")) // 2 + 2
        else:
            size += len(k) + len(str(v).encode())
    return size


def _ru(size: int, unit: int) -> int:
    return max(1, math.ceil(size / unit))


@dataclass
class Bill:
    requests: dict[str, int] = field(default_factory=dict)  # "Table.Op" -> requests
    rcu: float = 0.0
    wcu: float = 0.0
    gsi_wcu: float = 0.0
    items_read: int = 0
    bytes_read: int = 0
    items_written: int = 0

    def req(self, key: str, n: int = 1) -> None:
        self.requests[key] = self.requests.get(key, 0) + n

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    def as_dict(self) -> dict:
        return {
            "requests": self.total_requests,
            "by_request": dict(sorted(self.requests.items())),
            "items_read": self.items_read,
            "kb_read": round(self.bytes_read / 1024, 1),
            "rcu": self.rcu,
            "wcu": self.wcu,
            "gsi_wcu": self.gsi_wcu,
            "items_written": self.items_written,
            "usd_per_million": usd(self.rcu, self.wcu + self.gsi_wcu),
        }


def usd(rcu: float, wcu: float) -> float:
    """$ per million calls of something that costs ``rcu`` read and ``wcu`` write request units."""
    return round(rcu * READ_PRICE + wcu * WRITE_PRICE, 2)


class Meter:
    """Where the counting stores bill; ``bill`` is None while the world is being built."""

    def __init__(self) -> None:
        self.bill: Bill | None = None

    def start(self) -> Bill:
        self.bill = Bill()
        return self.bill

    def stop(self) -> Bill:
        bill, self.bill = self.bill, None
        return bill


# ---------------------------------------------------------------------------------------------
# the counting store: MemoryStore's semantics, DynamoDB's bill, per-partition buckets for speed


class _Items(dict):
    """``MemoryStore._items`` that also files each item under its index partitions, so a query
    reads its partition only (as DynamoDB does) instead of every item of the table."""

    def __init__(self, store: CountingStore):
        super().__init__()
        self.store = store

    def __setitem__(self, key, value):
        old = dict.get(self, key)
        if old is not None:
            self.store._unfile(key, old[0])
        dict.__setitem__(self, key, value)
        self.store._file(key, value[0])

    def pop(self, key, *default):
        old = dict.get(self, key)
        if old is not None:
            self.store._unfile(key, old[0])
        return dict.pop(self, key, *default)


class CountingStore(MemoryStore):
    meter: Meter = Meter()

    def __init__(self, spec: TableSpec):
        super().__init__(spec)
        self._items = _Items(self)
        self._parts: dict[tuple[str, str], dict[str, str]] = {}  # (index, pk) -> {id: sk}
        self._sorted: dict[tuple[str, str], list[str]] = {}  # cache: ids in sk order

    # -- partitions ------------------------------------------------------------------------------
    def _file(self, key: str, attrs: dict) -> None:
        for ix in self.spec.indexes:
            pk = attrs.get(ix.pk_attr)
            if pk is None:
                continue
            sk = attrs.get(ix.sk_attr) if ix.sk_attr else ""
            if sk is None:
                continue
            self._parts.setdefault((ix.name, pk), {})[key] = sk
            self._sorted.pop((ix.name, pk), None)

    def _unfile(self, key: str, attrs: dict) -> None:
        for ix in self.spec.indexes:
            pk = attrs.get(ix.pk_attr)
            part = self._parts.get((ix.name, pk)) if pk is not None else None
            if part is not None and part.pop(key, None) is not None:
                self._sorted.pop((ix.name, pk), None)

    def _size(self, key: str) -> int:
        cur = dict.get(self._items, key)
        return item_size(key, cur[0], cur[1]) if cur else 0

    def _entries(self, key: str) -> dict[str, tuple]:
        """index name -> (pk, sk) of the item's entries, for GSI write billing."""
        cur = dict.get(self._items, key)
        out = {}
        if cur:
            attrs = cur[0]
            for ix in self.spec.indexes:
                pk = attrs.get(ix.pk_attr)
                sk = attrs.get(ix.sk_attr) if ix.sk_attr else ""
                if pk is not None and sk is not None:
                    out[ix.name] = (pk, sk)
        return out

    # -- billing ----------------------------------------------------------------------------------
    def _bill_write(self, bill: Bill, key: str, before: tuple[int, dict], factor: int) -> None:
        old_size, old_entries = before
        new_size = self._size(key)
        new_entries = self._entries(key)
        bill.wcu += _ru(max(old_size, new_size), 1024) * factor
        bill.items_written += 1
        for name in set(old_entries) | set(new_entries):
            o, n = old_entries.get(name), new_entries.get(name)
            if o and n and o == n:
                bill.gsi_wcu += _ru(new_size, 1024)
            else:
                if o:
                    bill.gsi_wcu += _ru(old_size, 1024)
                if n:
                    bill.gsi_wcu += _ru(new_size, 1024)

    def _before(self, key: str) -> tuple[int, dict]:
        return self._size(key), self._entries(key)

    def _charged_get(self, bill: Bill, key: str) -> None:
        size = self._size(key)
        bill.rcu += _ru(size, 4096)
        if size:
            bill.items_read += 1
            bill.bytes_read += size

    # -- Store --------------------------------------------------------------------------------------
    def get(self, id):
        bill = self.meter.bill
        if bill is not None:
            bill.req(f"{self.spec.name}.GetItem")
            self._charged_get(bill, id)
        return super().get(id)

    def _bill_batch_get(self, ids: list[str]) -> None:
        bill = self.meter.bill
        if bill is not None and ids:
            bill.req(f"{self.spec.name}.BatchGetItem", math.ceil(len(ids) / BATCH_GET))
            for i in ids:
                self._charged_get(bill, i)

    def get_many(self, ids):
        ids = list(dict.fromkeys(ids))
        self._bill_batch_get(ids)
        return super().get_many(ids)

    def put(self, doc, *, cond=None):
        bill = self.meter.bill
        if bill is None:
            return super().put(doc, cond=cond)
        before = self._before(doc["id"])
        bill.req(f"{self.spec.name}.PutItem")
        try:
            super().put(doc, cond=cond)
        except Exception:
            bill.wcu += _ru(before[0], 1024)  # a failed condition still costs the write
            raise
        self._bill_write(bill, doc["id"], before, 1)
        return None

    def put_many(self, docs):
        docs = list(docs)
        bill = self.meter.bill
        if bill is None:
            return super().put_many(docs)
        bill.req(f"{self.spec.name}.BatchWriteItem", max(1, math.ceil(len(docs) / BATCH_WRITE)))
        for d in docs:
            before = self._before(d["id"])
            super().put_many([d])
            self._bill_write(bill, d["id"], before, 1)
        return None

    def delete(self, id, *, cond=None):
        bill = self.meter.bill
        if bill is None:
            return super().delete(id, cond=cond)
        before = self._before(id)
        bill.req(f"{self.spec.name}.DeleteItem")
        try:
            out = super().delete(id, cond=cond)
        except Exception:
            bill.wcu += _ru(before[0], 1024)
            raise
        self._bill_write(bill, id, before, 1)
        return out

    def delete_many(self, ids):
        ids = list(dict.fromkeys(ids))
        bill = self.meter.bill
        if bill is None:
            return super().delete_many(ids)
        if ids:
            bill.req(f"{self.spec.name}.BatchWriteItem", math.ceil(len(ids) / BATCH_WRITE))
        for i in ids:
            before = self._before(i)
            super().delete_many([i])
            self._bill_write(bill, i, before, 1)
        return None

    def add(self, id, deltas):
        bill = self.meter.bill
        if bill is None or not deltas:
            return super().add(id, deltas)
        before = self._before(id)
        bill.req(f"{self.spec.name}.UpdateItem")
        super().add(id, deltas)
        self._bill_write(bill, id, before, 1)
        return None

    def counts(self, ids):
        ids = list(dict.fromkeys(ids))
        self._bill_batch_get(ids)  # counter items are read as DynamoDB reads any item
        return super().counts(ids)

    @staticmethod
    def transact(ops: Sequence[TxOp]) -> None:
        bill = CountingStore.meter.bill
        if bill is None:
            return MemoryStore.transact(ops)
        keys = [(op.store, tx_key(op)) for op in ops]
        befores = [store._before(k) for store, k in keys]
        bill.req(f"{ops[0].store.spec.name}.TransactWriteItems")
        try:
            MemoryStore.transact(ops)
        except Exception:
            for before in befores:  # a cancelled transaction bills its items
                bill.wcu += _ru(before[0], 1024) * 2
            raise
        for (store, k), before in zip(keys, befores, strict=True):
            store._bill_write(bill, k, before, 2)
        return None

    def query(self, index, pk, *, sk_lte=None, sk_gte=None, sk_begins=None, descending=False,
              limit=None) -> Iterator:
        self.calls.append("Query")
        self.spec.index(index)
        part_key = (index, pk)
        ids = self._sorted.get(part_key)
        if ids is None:
            part = self._parts.get(part_key, {})
            ids = sorted(part, key=part.__getitem__)
            self._sorted[part_key] = ids
        part = self._parts.get(part_key, {})
        rows = ids[::-1] if descending else ids
        if sk_lte is not None or sk_gte is not None or sk_begins is not None:
            rows = [i for i in rows
                    if (sk_lte is None or part[i] <= sk_lte) and (sk_gte is None or part[i] >= sk_gte)
                    and (sk_begins is None or str(part[i]).startswith(sk_begins))]
        return self._paged(rows, limit)

    def _paged(self, rows: list[str], limit: int | None) -> Iterator:
        items = dict.__getitem__
        bill = self.meter.bill
        if limit is not None:
            rows = rows[:limit]
        pos = 0
        first = True
        while first or pos < len(rows):
            first = False
            # the page DynamoDB returns from here: `limit` items, at most 1 MB
            end, size = pos, 0
            while end < len(rows) and (limit is None or end - pos < limit):
                s = self._size(rows[end])
                if size and size + s > PAGE_BYTES:
                    break
                size += s
                end += 1
            if bill is not None:
                bill.req(f"{self.spec.name}.Query")
                bill.rcu += max(1, math.ceil(size / 4096)) * 0.5
                bill.items_read += end - pos
                bill.bytes_read += size
            for i in rows[pos:end]:
                cur = dict.get(self._items, i)
                if cur is not None:
                    yield json.loads(cur[1])
            pos = end
        del items


def counting_stores() -> Stores:
    return Stores.build(CountingStore)


# ---------------------------------------------------------------------------------------------
# the world: one of everything made through the API, then cloned in bulk

T0 = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.timezone.utc)  # "now" of the simulation (frozen clock)


class FrozenClock:
    def __init__(self, at: dt.datetime):
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, **kw) -> None:
        self.at += dt.timedelta(**kw)


def _iso(t: dt.datetime) -> str:
    return t.isoformat()


_PARAM_SCHEMA = {"title": "Parameters", "type": "object", "properties": {
    "source": {"title": "source", "position": 0, "type": "string"},
    "batch_size": {"title": "batch_size", "default": 500, "position": 1, "type": "integer"},
    "dry_run": {"title": "dry_run", "default": False, "position": 2, "type": "boolean"}},
    "required": ["source"], "definitions": {}}
_PULL = [{"prefect.deployments.steps.set_working_directory": {"directory": "/opt/prefect/flows"}}]


def _ok(r, *codes):
    if r.status_code not in (codes or (200, 201, 204)):
        raise RuntimeError(f"{r.request.method} {r.request.url}: {r.status_code} {r.text[:300]}")
    return r.json() if r.content else None


def deployment_body(flow_id: str, name: str, pool: str = "pool-0", queue: str = "default") -> dict:
    return {
        "name": name, "flow_id": flow_id, "paused": False,
        "schedules": [{"schedule": {"interval": 3600.0, "anchor_date": "2026-01-01T00:00:00+00:00",
                                    "timezone": "UTC"}, "active": True}],
        "enforce_parameter_schema": False, "parameter_openapi_schema": _PARAM_SCHEMA,
        "parameters": {"source": "s3://datalake/raw/events", "batch_size": 500}, "tags": ["etl", "nightly"],
        "pull_steps": _PULL, "work_queue_name": queue, "work_pool_name": pool,
        "path": "/opt/prefect/flows", "entrypoint": "flows/etl.py:etl", "job_variables": {"env": {"LOG_LEVEL": "INFO"}},
        "version": "3f2b9c1e8d7a6b5c4d3e2f1a0b9c8d7e", "description": "Nightly ETL of the event stream.",
    }


_POLICY = {"max_retries": 0, "retry_delay_seconds": 0, "retries": 0, "retry_delay": 0,
           "pause_keys": [], "resuming": False, "retry_type": None}


def _state(type_: str, name: str, **extra) -> dict:
    return {"state": {"type": type_, "name": name, "message": None, "state_details": {}, "data": None, **extra},
            "force": False}


def run_lifecycle(c, clock: FrozenClock, dep_id: str, *, end: str | None, tasks: int = 2,
                  logs: int = 6) -> dict:
    """A deployment run as a worker and its child process drive it (orchestration spec §6.2)."""
    run = _ok(c.post(f"deployments/{dep_id}/create_flow_run", json={
        "parameters": {"source": "s3://datalake/raw/events"}, "tags": [], "state": {"type": "SCHEDULED"}}))
    fr = run["id"]
    out = {"flow_run": fr, "task_runs": []}
    if end is None:
        return out
    clock.advance(seconds=2)
    _ok(c.post(f"flow_runs/{fr}/set_state", json=_state("PENDING", "Pending")))
    _ok(c.patch(f"flow_runs/{fr}", json={"infrastructure_pid": "ip-10-0-1-23:4242"}))
    clock.advance(seconds=3)
    _ok(c.post(f"flow_runs/{fr}/set_state", json=_state("RUNNING", "Running")))
    for t in range(tasks):
        tr = _ok(c.post("task_runs/", json={
            "state": {"type": "PENDING", "name": "Pending"}, "name": f"extract-{t}", "flow_run_id": fr,
            "task_key": "extract-3c1d9a7f", "dynamic_key": str(t), "cache_key": None, "cache_expiration": None,
            "task_version": None, "empirical_policy": {"max_retries": 0, "retry_delay_seconds": 0, "retries": 1,
                                                       "retry_delay": 1, "retry_jitter_factor": None},
            "tags": ["db"], "task_inputs": {"source": [], "batch_size": []}}))["id"]
        out["task_runs"].append(tr)
        _ok(c.post(f"task_runs/{tr}/set_state", json=_state("RUNNING", "Running")))
        clock.advance(seconds=1)
        if end == "RUNNING":
            break
        _ok(c.post(f"task_runs/{tr}/set_state", json=_state("COMPLETED", "Completed", data={
            "type": "unpersisted", "artifact_type": "result", "artifact_description": "Unpersisted result of type `int`"})))
    ts = clock.at
    _ok(c.post("logs/", json=[{
        "name": "prefect.flow_runs" if i % 2 else "prefect.task_runs", "level": 20,
        "message": f"Finished in state Completed() after processing batch {i} of 500 records from s3://datalake/raw/events",
        "timestamp": _iso(ts + dt.timedelta(milliseconds=10 * i)), "flow_run_id": fr,
        "task_run_id": out["task_runs"][0] if i % 2 == 0 and out["task_runs"] else None} for i in range(logs)]))
    if end == "RUNNING":
        return out
    clock.advance(seconds=30)
    if end == "FAILED":
        _ok(c.post(f"flow_runs/{fr}/set_state", json=_state(
            "FAILED", "Failed", message="Flow run encountered an exception: ValueError: bad record")))
    else:
        _ok(c.post(f"flow_runs/{fr}/set_state", json=_state("COMPLETED", "Completed")))
    return out


QUEUES = 10  # deployments spread over the pool's queues (default + q-0..q-8)
SCHEDULED_PER_DEPLOYMENT = 5  # future runs the scheduler keeps per deployment: not history
RUNNING_AT_ONCE = 1000  # runs in flight (PENDING/RUNNING) at any time: not history either


def seed(c, clock: FrozenClock) -> dict:
    """One of every object, made through the API as the 2.20 client makes them; returns their ids."""
    w: dict = {}
    _ok(c.post("work_pools/", json={"name": "pool-0", "type": "process", "description": "EC2 workers",
                                    "base_job_template": {}, "is_paused": False, "concurrency_limit": None}))
    w["queues"] = [_ok(c.post("work_pools/pool-0/queues", json={
        "name": f"q-{i}", "description": "", "is_paused": False, "priority": 2 + i}))["id"] for i in range(QUEUES - 1)]
    w["queue"] = w["queues"][0]
    w["default_queue"] = _ok(c.get("work_pools/pool-0/queues/default"))["id"]
    _ok(c.post("work_pools/pool-0/workers/heartbeat", json={"name": "ProcessWorker 7f3a", "heartbeat_interval_seconds": 30}))
    w["flow"] = _ok(c.post("flows/", json={"name": "etl-0", "tags": []}))["id"]
    w["deployment"] = _ok(c.post("deployments/", json=deployment_body(w["flow"], "nightly-0")))["id"]
    w["runs"] = {}
    for end in ("COMPLETED", "FAILED", "RUNNING", None):
        w["runs"][end or "SCHEDULED"] = run_lifecycle(c, clock, w["deployment"], end=end)
    w["completed_run"] = w["runs"]["COMPLETED"]["flow_run"]
    w["completed_task"] = w["runs"]["COMPLETED"]["task_runs"][0]
    w["variable"] = _ok(c.post("variables/", json={"name": "s3_bucket", "value": "datalake-prod", "tags": ["etl"]}))["id"]
    bt = _ok(c.post("block_types/", json={
        "name": "Local File System", "slug": "local-file-system", "logo_url": None, "documentation_url": None,
        "description": "Store data as a file on a local file system.", "code_example": None}))
    w["block_type"] = bt["id"]
    bs = _ok(c.post("block_schemas/", json={
        "block_type_id": bt["id"], "capabilities": ["get-directory", "read-path", "put-directory", "write-path"],
        "version": "2.20.26", "fields": {"title": "LocalFileSystem", "type": "object",
                                         "properties": {"basepath": {"title": "Basepath", "type": "string"}},
                                         "block_type_slug": "local-file-system", "secret_fields": [],
                                         "block_schema_references": {}}}))
    w["block_schema"], w["checksum"] = bs["id"], bs["checksum"]
    w["block_document"] = _ok(c.post("block_documents/", json={
        "name": "flows-storage", "data": {"basepath": "/srv/flows"}, "block_schema_id": bs["id"],
        "block_type_id": bt["id"], "is_anonymous": False}))["id"]
    w["concurrency_limit"] = _ok(c.post("concurrency_limits/", json={"tag": "db", "concurrency_limit": 20}))["id"]
    w["gcl"] = _ok(c.post("v2/concurrency_limits/", json={"name": "api-calls", "limit": 10}))["id"]
    w["artifact"] = _ok(c.post("artifacts/", json={
        "key": "daily-report", "type": "markdown", "description": "Daily ETL report",
        "data": "# Report\n\n| table | rows |\n|---|---|\n| events | 500 |", "flow_run_id": w["completed_run"],
        "task_run_id": None}))["id"]
    w["saved_search"] = _ok(c.put("saved_searches/", json={"name": "late runs", "filters": [
        {"object": "flow_run", "property": "state", "type": "state", "operation": "or", "value": ["Late"]}]}))["id"]
    w["policy"] = _ok(c.post("flow_run_notification_policies/", json={
        "state_names": ["Failed"], "tags": [], "block_document_id": w["block_document"]}))["id"]
    paused = w["runs"]["RUNNING"]["flow_run"]
    _ok(c.post(f"flow_runs/{paused}/input", json={"key": "paused-1-schema", "value": "{}", "sender": None}))
    w["flow_run_states"] = [s["id"] for s in _ok(c.get("flow_run_states/", params={"flow_run_id": w["completed_run"]}))]
    w["task_run_states"] = [s["id"] for s in _ok(c.get("task_run_states/", params={"task_run_id": w["completed_task"]}))]
    return w


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?\+00:00")


def _bundle(stores: Stores, run: dict) -> list[tuple[str, str]]:
    """(table attribute, stored text) of everything one run wrote: the run, its task runs, states,
    logs, name guards and tag items."""
    fr = run["flow_run"]
    trs = set(run["task_runs"])
    out = []
    for name in ("flow_runs", "task_runs", "flow_run_states", "task_run_states", "logs", "guards", "tag_index"):
        for key, (_, body) in dict.items(getattr(stores, name)._items):
            doc = json.loads(body)
            if key == fr or doc.get("flow_run_id") == fr or doc.get("task_run_id") in trs \
                    or (name == "guards" and (fr in key)) \
                    or (name == "tag_index" and (doc.get("object_id") == fr or doc.get("object_id") in trs)):
                out.append((name, body))
    return out


def _fresh_id() -> str:
    h = f"{random.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{h[16:20]}-{h[20:]}"


class Cloner:
    """Copies of stored texts with fresh ids (except ``keep`` and the ``fixed`` ones) and shifted
    times. Each text is split once into literal parts, ids and times (a template), so a copy is a join."""

    def __init__(self, stores: Stores, keep: set[str]):
        self.stores = stores
        self.keep = keep
        self._templates: dict[str, list] = {}

    def _template(self, body: str) -> list:
        tpl = self._templates.get(body)
        if tpl is None:
            tpl, pos = [], 0
            for m in re.finditer(f"{_UUID.pattern}|{_TIME.pattern}", body):
                tpl.append(body[pos:m.start()])
                tok = m.group(0)
                tpl.append(("u" if _UUID.fullmatch(tok) else "t", tok))
                pos = m.end()
            tpl.append(body[pos:])
            self._templates[body] = tpl
        return tpl

    def text(self, body: str, fixed: dict[str, str], ids: dict[str, str], shift: dt.timedelta,
             times: dict[str, str]) -> str:
        out = []
        for part in self._template(body):
            if isinstance(part, str):
                out.append(part)
                continue
            kind, tok = part
            if kind == "u":
                new = fixed.get(tok)
                if new is None:
                    if tok in self.keep:
                        new = tok
                    else:
                        new = ids.get(tok)
                        if new is None:
                            new = ids[tok] = _fresh_id()
            else:
                new = times.get(tok)
                if new is None:
                    v = dt.datetime.fromisoformat(tok) + shift
                    new = times[tok] = v.isoformat() if "." in tok else v.replace(microsecond=0).isoformat()
            out.append(new)
        return "".join(out)

    def put(self, table: str, body: str) -> None:
        store = getattr(self.stores, table)
        doc = json.loads(body)
        store._items[doc["id"]] = (store.spec.project(doc), body)


def populate(stores: Stores, w: dict, deployments: int, runs: int, *, start: int = 0, total: int | None = None,
             log=print) -> None:
    """Clone the seed into ``deployments`` deployments (over ``deployments // 4`` flows and the
    pool's queues) and runs ``start..runs``, dealt round-robin over the deployments: each
    deployment's first 5 runs SCHEDULED in the coming day, its 6th RUNNING (for the first 1 000
    deployments), then one in ten FAILED and the rest COMPLETED, spread over the past 30 days, each
    with its task runs, states and logs. So history grows; what is scheduled or in flight does not."""
    t = time.time()
    queues = [w["default_queue"]] + w["queues"]
    qnames = ["default"] + [f"q-{i}" for i in range(QUEUES - 1)]
    keep = {w[k] for k in ("flow", "deployment", "default_queue", "block_document", "block_type")} | set(queues)
    cl = Cloner(stores, keep)
    flows = max(1, deployments // 4)
    if start == 0:
        w["flow_ids"] = [w["flow"]]
        w["dep_ids"] = [w["deployment"]]
        w["dep_queue"] = [0]
        flow_text = dict.__getitem__(stores.flows._items, w["flow"])[1]
        flow_guard = dict.__getitem__(stores.guards._items, "flow:etl-0")[1]
        for j in range(1, flows):
            fixed = {w["flow"]: str(uuid.uuid4())}
            for table, body in (("flows", flow_text), ("guards", flow_guard)):
                cl.put(table, cl.text(body.replace("etl-0", f"etl-{j}"), fixed, {}, dt.timedelta(0), {}))
            w["flow_ids"].append(fixed[w["flow"]])
        dep_text = dict.__getitem__(stores.deployments._items, w["deployment"])[1]
        dep_guard = dict.__getitem__(stores.guards._items, f"deployment:{w['flow']}/nightly-0")[1]
        dep_tags = [("tag_index", body) for _, body in dict.values(stores.tag_index._items)
                    if json.loads(body).get("object_id") == w["deployment"]]
        for i in range(1, deployments):
            ids = {}
            q = i % QUEUES
            fixed = {w["flow"]: w["flow_ids"][i % flows], w["default_queue"]: queues[q],
                     w["deployment"]: str(uuid.uuid4())}
            for table, body in (("deployments", dep_text), ("guards", dep_guard), *dep_tags):
                body = body.replace("nightly-0", f"nightly-{i}").replace('"work_queue_name":"default"',
                                                                          f'"work_queue_name":"{qnames[q]}"')
                cl.put(table, cl.text(body, fixed, ids, dt.timedelta(0), {}))
            w["dep_ids"].append(fixed[w["deployment"]])
            w["dep_queue"].append(q)
        log(f"  {flows} flows, {deployments} deployments ({time.time() - t:.0f} s)")
    bundles = {k: _bundle(stores, v) for k, v in w["runs"].items()}
    span = dt.timedelta(days=30).total_seconds()
    for n in range(start, runs):
        d, k = n % deployments, n // deployments  # the k-th run of deployment d
        kind = ("SCHEDULED" if k < SCHEDULED_PER_DEPLOYMENT else
                "RUNNING" if k == SCHEDULED_PER_DEPLOYMENT and d < RUNNING_AT_ONCE else
                "FAILED" if k % 10 == 6 else "COMPLETED")
        q = w["dep_queue"][d]
        if kind == "SCHEDULED":
            shift = dt.timedelta(minutes=10 + (n * 7919) % (24 * 60))
        elif kind == "RUNNING":
            shift = -dt.timedelta(minutes=(n * 7919) % 60)
        else:
            # finished runs: the newest an hour ago, then evenly back over 30 days
            first = (SCHEDULED_PER_DEPLOYMENT + 1) * deployments
            shift = -dt.timedelta(seconds=span * (max(0, n - first) / max(total or runs, 1)) + 3600)
        fixed = {w["deployment"]: w["dep_ids"][d], w["flow"]: w["flow_ids"][d % flows],
                 w["default_queue"]: queues[q]}
        ids, times = {}, {}
        for table, body in bundles[kind]:
            if q:
                body = body.replace('"work_queue_name":"default"', f'"work_queue_name":"{qnames[q]}"') \
                           .replace('"_wq_name":"default"', f'"_wq_name":"{qnames[q]}"')
            cl.put(table, cl.text(body, fixed, ids, shift, times))
        if n and n % 20000 == 0:
            log(f"  {n} runs ({time.time() - t:.0f} s)")
    log(f"  {runs} runs stored ({time.time() - t:.0f} s)")


# ---------------------------------------------------------------------------------------------
# what each route is sent: the client's bodies (orchestration spec §6, infra/local/events.py SAMPLES)
# aimed at existing objects; `setup` (not billed) makes what a destructive call consumes

NOW = "{now}"  # replaced by the simulation's now (+ offset where a poll looks ahead)


def _new_run(c, w, **_) -> dict:
    return {"id": _ok(c.post(f"deployments/{w['deployment']}/create_flow_run", json={
        "parameters": {"source": "s3://datalake/raw/events"}, "tags": [], "state": {"type": "SCHEDULED"}}))["id"]}


def _running_run(c, w, **_) -> dict:
    fr = _new_run(c, w)["id"]
    _ok(c.post(f"flow_runs/{fr}/set_state", json=_state("PENDING", "Pending")))
    _ok(c.post(f"flow_runs/{fr}/set_state", json=_state("RUNNING", "Running")))
    return {"id": fr}


def _new_task_run(c, w, **_) -> dict:
    fr = _running_run(c, w)["id"]
    tr = _ok(c.post("task_runs/", json={"state": {"type": "PENDING", "name": "Pending"}, "name": "load-0",
                                        "flow_run_id": fr, "task_key": "load-9a8b", "dynamic_key": "0",
                                        "tags": ["db"], "task_inputs": {}}))["id"]
    return {"id": tr, "flow_run": fr}


def _running_task_run(c, w, **_) -> dict:
    out = _new_task_run(c, w)
    _ok(c.post(f"task_runs/{out['id']}/set_state", json=_state("RUNNING", "Running")))
    return out


def _paused_run(c, w, **_) -> dict:
    fr = _running_run(c, w)["id"]
    _ok(c.post(f"flow_runs/{fr}/set_state", json=_state("PAUSED", "Paused", state_details={
        "pause_timeout": "2026-06-01T13:00:00+00:00", "pause_reschedule": False, "pause_key": "1"})))
    return {"id": fr}


def _tmp_flow(c, w, **_) -> dict:
    f = _ok(c.post("flows/", json={"name": f"tmp-{_fresh_id()[:8]}", "tags": []}))["id"]
    d = _ok(c.post("deployments/", json=deployment_body(f, "tmp")))["id"]
    for _ in range(3):
        _ok(c.post(f"deployments/{d}/create_flow_run", json={"state": {"type": "SCHEDULED"}}))
    return {"id": f, "deployment": d}


def _tmp_deployment(c, w, **_) -> dict:
    d = _ok(c.post("deployments/", json=deployment_body(w["flow"], f"tmp-{_fresh_id()[:8]}")))["id"]
    _ok(c.post(f"deployments/{d}/schedule", json={"end_time": "2026-06-03T12:00:00+00:00"}))
    return {"id": d}


def _polled_before(path: str, body: dict):
    """Setup of a poll: the same poll once, unbilled, then the coalescing window (5 s) passes, so the
    billed poll costs what every later one does: one poll-record write per queue or set of
    deployments. (A set's first poll, or the first of deployments never polled, writes each of
    them once.)"""

    def setup(c, w, **_) -> dict:
        from handlers import _deps

        _ok(c.post(path, json=body))
        _deps.context().clock.advance(seconds=10)
        return {}

    return setup


def _schedule_id(c, w, **_) -> dict:
    d = _tmp_deployment(c, w)["id"]
    return {"id": d, "schedule_id": _ok(c.get(f"deployments/{d}/schedules"))[0]["id"]}


def _named(kind: str):
    def make(c, w, **_) -> dict:
        name = f"tmp-{_fresh_id()[:8]}"
        if kind == "variable":
            return {"id": _ok(c.post("variables/", json={"name": name.replace("-", "_"), "value": "x"}))["id"],
                    "name": name.replace("-", "_")}
        if kind == "queue":
            return {"id": _ok(c.post("work_pools/pool-0/queues", json={"name": name}))["id"], "name": name}
        if kind == "pool":
            _ok(c.post("work_pools/", json={"name": name, "type": "process"}))
            return {"work_pool_name": name, "name": name}
        if kind == "block_document":
            return {"id": _ok(c.post("block_documents/", json={
                "name": name, "data": {"basepath": "/tmp"}, "block_schema_id": w["block_schema"],
                "block_type_id": w["block_type"]}))["id"]}
        if kind == "concurrency_limit":
            return {"id": _ok(c.post("concurrency_limits/", json={"tag": name, "concurrency_limit": 1}))["id"],
                    "tag": name}
        if kind == "gcl":
            _ok(c.post("v2/concurrency_limits/", json={"name": name, "limit": 1}))
            return {"id_or_name": name}
        if kind == "artifact":
            return {"id": _ok(c.post("artifacts/", json={"key": name, "type": "markdown", "data": "# x",
                                                         "flow_run_id": w["completed_run"]}))["id"]}
        if kind == "saved_search":
            return {"id": _ok(c.put("saved_searches/", json={"name": name, "filters": []}))["id"]}
        if kind == "policy":
            return {"id": _ok(c.post("flow_run_notification_policies/", json={
                "state_names": ["Crashed"], "tags": [], "block_document_id": w["block_document"]}))["id"]}
        if kind == "worker":
            _ok(c.post("work_pools/pool-0/workers/heartbeat", json={"name": name}))
            return {"name": name}
        if kind == "input":
            _ok(c.post(f"flow_runs/{w['completed_run']}/input", json={"key": name, "value": "1"}))
            return {"id": w["completed_run"], "key": name}
        if kind == "block_type":
            bt = _ok(c.post("block_types/", json={"name": name, "slug": name}))["id"]
            return {"id": bt}
        if kind == "block_schema":
            bt = _ok(c.post("block_types/", json={"name": name, "slug": name}))["id"]
            return {"id": _ok(c.post("block_schemas/", json={"block_type_id": bt, "fields": {
                "title": name, "type": "object", "properties": {}}, "capabilities": []}))["id"]}
        raise KeyError(kind)
    return make


_WINDOW = {"after_": "2026-05-31T12:00:00+00:00", "before_": "2026-06-01T12:00:00+00:00"}
_PAGE = {"offset": 0, "limit": 10}


def requests_for(w: dict) -> dict[str, dict]:
    """function id -> {path params, json, params, setup}: the body a real caller sends."""
    dep, fr, tr, flow = w["deployment"], w["completed_run"], w["completed_task"], w["flow"]
    poll_before = _iso(w.get("t_measure", T0) + dt.timedelta(seconds=10))  # a worker looks 10 s ahead
    serve_poll = {"deployment_ids": w["dep_ids"][:10], "scheduled_before": poll_before, "limit": 10}
    worker_poll = {"work_queue_names": [], "scheduled_before": poll_before}
    agent_poll = {"limit": 10, "scheduled_before": poll_before}
    return {
        # flows
        "FlowsCreateFunction": {"json": {"name": "etl-0", "tags": []}},  # the client's upsert of an existing flow
        "FlowsReadFunction": {"path": {"id": flow}},
        "FlowsReadByNameFunction": {"path": {"name": "etl-0"}},
        "FlowsUpdateFunction": {"path": {"id": flow}, "json": {"tags": ["etl"]}},
        "FlowsDeleteFunction": {"setup": _tmp_flow},
        "FlowsFilterFunction": {"json": {"flows": {"name": {"any_": ["etl-0"]}}, **_PAGE}},
        "FlowsCountFunction": {"json": {}},
        # deployments
        "DeploymentsCreateFunction": {"json": deployment_body(flow, "nightly-0")},  # RunnerDeployment.apply upsert
        "DeploymentsReadFunction": {"path": {"id": dep}},
        "DeploymentsReadByNameFunction": {"path": {"flow_name": "etl-0", "deployment_name": "nightly-0"}},
        "DeploymentsUpdateFunction": {"path": {"id": dep}, "json": {"paused": False}},
        "DeploymentsDeleteFunction": {"setup": _tmp_deployment},
        "DeploymentsFilterFunction": {"json": {"deployments": {"tags": {"all_": ["etl"]}}, "offset": 0, "limit": 50,
                                               "sort": "NAME_ASC"}},
        "DeploymentsCountFunction": {"json": {}},
        "DeploymentsGetScheduledFlowRunsFunction": {"json": serve_poll, "setup": _polled_before(
            "deployments/get_scheduled_flow_runs", serve_poll)},
        "DeploymentsCreateFlowRunFunction": {"path": {"id": dep}, "json": {
            "parameters": {"source": "s3://datalake/raw/events"}, "tags": [], "state": {"type": "SCHEDULED"},
            "idempotency_key": None, "work_queue_name": None, "job_variables": {}}},
        "DeploymentsPauseDeploymentFunction": {"setup": _tmp_deployment, "json": None},
        "DeploymentsResumeDeploymentFunction": {"setup": _tmp_deployment, "json": None},
        "DeploymentsSetScheduleActiveFunction": {"setup": _tmp_deployment, "json": None},
        "DeploymentsSetScheduleInactiveFunction": {"setup": _tmp_deployment, "json": None},
        "DeploymentsScheduleFunction": {"setup": _tmp_deployment, "json": {"end_time": "2026-06-04T12:00:00+00:00"}},
        "DeploymentsSchedulesReadFunction": {"path": {"id": dep}},
        "DeploymentsSchedulesCreateFunction": {"setup": _tmp_deployment, "json": [{
            "schedule": {"cron": "0 3 * * *", "timezone": "UTC"}, "active": True}]},
        "DeploymentsSchedulesUpdateFunction": {"setup": _schedule_id, "json": {"active": False}},
        "DeploymentsSchedulesDeleteFunction": {"setup": _schedule_id},
        "DeploymentsWorkQueueCheckFunction": {"path": {"id": dep}},
        # flow runs
        "FlowRunsCreateFunction": {"json": {
            "state": {"type": "PENDING", "name": "Pending"}, "name": None, "flow_id": flow, "deployment_id": None,
            "flow_version": "1f2e3d", "parameters": {"x": 3}, "context": {}, "parent_task_run_id": None,
            "infrastructure_document_id": None, "empirical_policy": _POLICY, "tags": [], "idempotency_key": None}},
        "FlowRunsReadFunction": {"path": {"id": fr}},
        "FlowRunsUpdateFunction": {"setup": _new_run, "json": {"infrastructure_pid": "ip-10-0-1-23:4243"}},
        "FlowRunsDeleteFunction": {"setup": _new_run},
        "FlowRunsSetStateFunction": {"setup": _new_run, "json": _state("PENDING", "Pending")},
        "FlowRunsFilterFunction": {"json": {"flow_runs": {"deployment_id": {"any_": [dep]}}, "sort": "START_TIME_DESC",
                                            "offset": 0, "limit": 10}},
        "FlowRunsCountFunction": {"json": {"flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}}},
        "FlowRunsHistoryFunction": {"json": {"history_start": _WINDOW["after_"], "history_end": _WINDOW["before_"],
                                             "history_interval_seconds": 3600}},
        "FlowRunsLatenessFunction": {"json": {"flow_runs": {"expected_start_time": _WINDOW}}},
        "FlowRunsGraphV2Function": {"path": {"id": fr}},
        "FlowRunsResumeFunction": {"setup": _paused_run, "json": {"run_input": None}},
        "FlowRunsInputCreateFunction": {"path": {"id": fr}, "json": {"key": "k-{n}", "value": "{}", "sender": None}},
        "FlowRunsInputFilterFunction": {"path": {"id": w["runs"]["RUNNING"]["flow_run"]},
                                        "json": {"prefix": "paused-1", "limit": 1, "exclude_keys": []}},
        "FlowRunsInputReadFunction": {"path": {"id": w["runs"]["RUNNING"]["flow_run"], "key": "paused-1-schema"}},
        "FlowRunsInputDeleteFunction": {"setup": _named("input")},
        "FlowRunStatesReadFunction": {"path": {"id": w["flow_run_states"][-1]}},
        "FlowRunStatesByFlowRunFunction": {"params": {"flow_run_id": fr}},
        "UiFlowRunsHistoryFunction": {"json": {"sort": "EXPECTED_START_TIME_DESC", "limit": 1000, "offset": 0,
                                               "flow_runs": {"expected_start_time": _WINDOW}}},
        # task runs
        "TaskRunsCreateFunction": {"setup": _running_run, "json": {
            "state": {"type": "PENDING", "name": "Pending"}, "name": "extract-0", "flow_run_id": "{id}",
            "task_key": "extract-3c1d9a7f", "dynamic_key": "0", "cache_key": None, "cache_expiration": None,
            "task_version": None, "empirical_policy": {"max_retries": 0, "retry_delay_seconds": 0, "retries": 1,
                                                       "retry_delay": 1, "retry_jitter_factor": None},
            "tags": ["db"], "task_inputs": {"source": []}}, "path_free": True},
        "TaskRunsReadFunction": {"path": {"id": tr}},
        "TaskRunsUpdateFunction": {"path": {"id": tr}, "json": {"name": "extract-0"}},
        "TaskRunsDeleteFunction": {"setup": _new_task_run},
        "TaskRunsSetStateFunction": {"setup": _new_task_run, "json": _state("RUNNING", "Running")},
        "TaskRunStatesReadFunction": {"path": {"id": w["task_run_states"][-1]}},
        "TaskRunStatesByTaskRunFunction": {"params": {"task_run_id": tr}},
        "TaskRunsFilterFunction": {"json": {"flow_runs": {"id": {"any_": [fr]}}, "sort": "EXPECTED_START_TIME_DESC",
                                            **_PAGE}},
        "TaskRunsCountFunction": {"json": {"flow_runs": {"id": {"any_": [fr]}}}},
        "TaskRunsHistoryFunction": {"json": {"history_start": _WINDOW["after_"], "history_end": _WINDOW["before_"],
                                             "history_interval_seconds": 3600}},
        "UiTaskRunsCountFunction": {"json": {"flow_runs": {"id": {"any_": [fr]}}}},
        "UiTaskRunsDashboardCountsFunction": {"json": {"task_runs": {"start_time": _WINDOW}}},
        # work pools, queues, workers
        "WorkPoolsCreateFunction": {"json": {"name": "pool-{n}", "type": "process", "base_job_template": {}}},
        "WorkPoolsReadFunction": {"path": {"work_pool_name": "pool-0"}},
        "WorkPoolsUpdateFunction": {"path": {"work_pool_name": "pool-0"}, "json": {"description": "EC2 workers"}},
        "WorkPoolsDeleteFunction": {"setup": _named("pool")},
        "WorkPoolsFilterFunction": {"json": {"work_pools": {"name": {"any_": ["pool-0"]}}, **_PAGE}},
        "WorkPoolsCountFunction": {"json": {}},
        "WorkPoolsQueueCreateFunction": {"path": {"work_pool_name": "pool-0"}, "json": {"name": "extra-{n}"}},
        "WorkPoolsQueueReadFunction": {"path": {"work_pool_name": "pool-0", "name": "default"}},
        "WorkPoolsQueueUpdateFunction": {"path": {"work_pool_name": "pool-0", "name": "q-0"}, "json": {"priority": 2}},
        "WorkPoolsQueueDeleteFunction": {"setup": _named("queue"), "path": {"work_pool_name": "pool-0"}},
        "WorkPoolsQueueFilterFunction": {"path": {"work_pool_name": "pool-0"},
                                         "json": {"work_queues": None, "limit": None, "offset": None}},
        "WorkPoolsWorkerHeartbeatFunction": {"path": {"work_pool_name": "pool-0"},
                                             "json": {"name": "ProcessWorker 7f3a", "heartbeat_interval_seconds": 30}},
        "WorkPoolsWorkersFilterFunction": {"path": {"work_pool_name": "pool-0"}, "json": _PAGE},
        "WorkPoolsWorkersDeleteFunction": {"setup": _named("worker"), "path": {"work_pool_name": "pool-0"}},
        "WorkPoolsGetScheduledFlowRunsFunction": {"path": {"name": "pool-0"}, "json": worker_poll, "setup": _polled_before(
            "work_pools/pool-0/get_scheduled_flow_runs", worker_poll)},
        "WorkQueuesCreateFunction": {"json": {"name": "agentq-{n}"}},
        "WorkQueuesReadFunction": {"path": {"id": w["default_queue"]}},
        "WorkQueuesReadByNameFunction": {"path": {"name": "default"}},
        "WorkQueuesUpdateFunction": {"path": {"id": w["queue"]}, "json": {"priority": 2}},
        "WorkQueuesDeleteFunction": {"setup": _named("queue")},
        "WorkQueuesStatusFunction": {"path": {"id": w["default_queue"]}},
        "WorkQueuesGetRunsFunction": {"path": {"id": w["default_queue"]}, "json": agent_poll, "setup": _polled_before(
            f"work_queues/{w['default_queue']}/get_runs", agent_poll)},
        "WorkQueuesFilterFunction": {"json": _PAGE},
        # variables
        "VariablesCreateFunction": {"json": {"name": "var_{n}", "value": "x", "tags": []}},
        "VariablesReadFunction": {"path": {"id": w["variable"]}},
        "VariablesReadByNameFunction": {"path": {"name": "s3_bucket"}},
        "VariablesUpdateFunction": {"path": {"id": w["variable"]}, "json": {"value": "datalake-prod"}},
        "VariablesUpdateByNameFunction": {"path": {"name": "s3_bucket"}, "json": {"value": "datalake-prod"}},
        "VariablesDeleteFunction": {"setup": _named("variable")},
        "VariablesDeleteByNameFunction": {"setup": _named("variable")},
        "VariablesFilterFunction": {"json": {"variables": {"name": {"like_": "s3_"}}, **_PAGE, "sort": "NAME_ASC"}},
        "VariablesCountFunction": {"json": {}},
        # blocks
        "BlockTypesCreateFunction": {"json": {"name": "Local File System", "slug": "local-file-system"}},
        "BlockTypesReadFunction": {"path": {"id": w["block_type"]}},
        "BlockTypesReadBySlugFunction": {"path": {"slug": "local-file-system"}},
        "BlockTypesUpdateFunction": {"path": {"id": w["block_type"]},
                                     "json": {"description": "Store data as a file on a local file system."}},
        "BlockTypesDeleteFunction": {"setup": _named("block_type")},
        "BlockTypesReadDocumentsFunction": {"path": {"slug": "local-file-system"}},
        "BlockTypesReadDocumentByNameFunction": {"path": {"slug": "local-file-system",
                                                          "block_document_name": "flows-storage"}},
        "BlockSchemasCreateFunction": {"json": {
            "block_type_id": w["block_type"], "capabilities": ["get-directory", "read-path", "put-directory",
                                                               "write-path"],
            "version": "2.20.26", "fields": {"title": "LocalFileSystem", "type": "object",
                                             "properties": {"basepath": {"title": "Basepath", "type": "string"}},
                                             "block_type_slug": "local-file-system", "secret_fields": [],
                                             "block_schema_references": {}}}},
        "BlockSchemasReadFunction": {"path": {"id": w["block_schema"]}},
        "BlockSchemasReadByChecksumFunction": {"path": {"checksum": w["checksum"]}},
        "BlockSchemasDeleteFunction": {"setup": _named("block_schema")},
        "BlockDocumentsCreateFunction": {"json": {"name": "store-{n}", "data": {"basepath": "/srv"},
                                                  "block_schema_id": w["block_schema"],
                                                  "block_type_id": w["block_type"], "is_anonymous": False}},
        "BlockDocumentsReadFunction": {"path": {"id": w["block_document"]}},
        "BlockDocumentsUpdateFunction": {"path": {"id": w["block_document"]},
                                         "json": {"data": {"basepath": "/srv/flows"}, "merge_existing_data": True}},
        "BlockDocumentsDeleteFunction": {"setup": _named("block_document")},
        # logs, artifacts, limits
        "LogsCreateFunction": {"json": [{
            "name": "prefect.flow_runs", "level": 20, "message": f"Processed batch {i} of 500 records",
            "timestamp": f"2026-06-01T12:00:0{i}.123456+00:00", "flow_run_id": fr, "task_run_id": None}
            for i in range(5)]},
        "LogsFilterFunction": {"json": {"logs": {"flow_run_id": {"any_": [fr]}, "level": {"ge_": 0}},
                                        "sort": "TIMESTAMP_ASC", "offset": 0, "limit": 200}},
        "ArtifactsCreateFunction": {"json": {"key": "daily-report", "type": "markdown", "description": None,
                                             "data": "# Report", "flow_run_id": fr, "task_run_id": None}},
        "ArtifactsReadFunction": {"path": {"id": w["artifact"]}},
        "ArtifactsReadLatestFunction": {"path": {"key": "daily-report"}},
        "ArtifactsUpdateFunction": {"path": {"id": w["artifact"]}, "json": {"description": "Daily ETL report"}},
        "ArtifactsDeleteFunction": {"setup": _named("artifact")},
        "ArtifactsFilterFunction": {"json": {"artifacts": {"key": {"any_": ["daily-report"]}}, "sort": "ID_DESC",
                                             **_PAGE}},
        "ConcurrencyLimitsReadFunction": {"path": {"id": w["concurrency_limit"]}},
        "ConcurrencyLimitsReadByTagFunction": {"path": {"tag": "db"}},
        "ConcurrencyLimitsResetByTagFunction": {"setup": _named("concurrency_limit"), "json": {"slot_override": None}},
        "ConcurrencyLimitsDeleteFunction": {"setup": _named("concurrency_limit")},
        "ConcurrencyLimitsDeleteByTagFunction": {"setup": _named("concurrency_limit")},
        "ConcurrencyLimitsCreateFunction": {"json": {"tag": "db", "concurrency_limit": 20}},
        "ConcurrencyLimitsV2ReadFunction": {"path": {"id_or_name": "api-calls"}},
        "ConcurrencyLimitsV2UpdateFunction": {"path": {"id_or_name": "api-calls"}, "json": {"limit": 10}},
        "ConcurrencyLimitsV2DeleteFunction": {"setup": _named("gcl")},
        "ConcurrencyLimitsV2IncrementFunction": {"json": {"names": ["api-calls"], "slots": 1, "mode": "concurrency"}},
        "ConcurrencyLimitsV2DecrementFunction": {"json": {"names": ["api-calls"], "slots": 1,
                                                          "occupancy_seconds": 1.5}},
        "SavedSearchesReadFunction": {"path": {"id": w["saved_search"]}},
        "SavedSearchesDeleteFunction": {"setup": _named("saved_search")},
        "FlowRunNotificationPoliciesReadFunction": {"path": {"id": w["policy"]}},
        "FlowRunNotificationPoliciesUpdateFunction": {"path": {"id": w["policy"]}, "json": {"is_active": True}},
        "FlowRunNotificationPoliciesDeleteFunction": {"setup": _named("policy")},
        "FlowRunNotificationPoliciesCreateFunction": {"json": {
            "state_names": ["Failed"], "tags": [], "block_document_id": w["block_document"]}},
    }


def shapes_for(w: dict) -> list[tuple[str, str, dict]]:
    """(label, function id, spec): the count and filter shapes the UI and workers send most."""
    dep, flow, q = w["deployment"], w["flow"], w["default_queue"]
    day = {"after_": "2026-05-31T12:00:00+00:00", "before_": "2026-06-01T12:00:00+00:00"}
    fr_count = "FlowRunsCountFunction"
    tr_count = "TaskRunsCountFunction"
    one_poll = {"deployment_ids": [dep], "scheduled_before": _iso(w["t_measure"] + dt.timedelta(seconds=10)),
                "limit": 10}
    return [
        ("flow_runs/count: all runs", fr_count, {"json": {}}),
        ("flow_runs/count: state type COMPLETED", fr_count,
         {"json": {"flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}}}),
        ("flow_runs/count: state name Late", fr_count, {"json": {"flow_runs": {"state": {"name": {"any_": ["Late"]}}}}}),
        ("flow_runs/count: one deployment", fr_count, {"json": {"deployments": {"id": {"any_": [dep]}}}}),
        ("flow_runs/count: one flow", fr_count, {"json": {"flows": {"id": {"any_": [flow]}}}}),
        ("flow_runs/count: one work queue", fr_count, {"json": {"work_pool_queues": {"id": {"any_": [q]}}}}),
        ("flow_runs/count: one work pool", fr_count, {"json": {"work_pools": {"name": {"any_": ["pool-0"]}}}}),
        ("flow_runs/count: expected start in the last 24 h", fr_count,
         {"json": {"flow_runs": {"expected_start_time": day}}}),
        ("flow_runs/count: FAILED or CRASHED in the last 24 h (dashboard)", fr_count, {"json": {"flow_runs": {
            "state": {"type": {"any_": ["FAILED", "CRASHED"]}}, "expected_start_time": day}}}),
        ("flow_runs/count: one deployment, COMPLETED", fr_count, {"json": {
            "flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}, "deployments": {"id": {"any_": [dep]}}}}),
        ("task_runs/count: all task runs", tr_count, {"json": {}}),
        ("task_runs/count: COMPLETED, started in the last 24 h (dashboard)", tr_count, {"json": {"task_runs": {
            "state": {"type": {"any_": ["COMPLETED"]}}, "start_time": day}}}),
        ("task_runs/count: one flow run", tr_count, {"json": {"flow_runs": {"id": {"any_": [w["completed_run"]]}}}}),
        ("flow_runs/filter: one deployment, limit 10", "FlowRunsFilterFunction", {"json": {
            "flow_runs": {"deployment_id": {"any_": [dep]}}, "sort": "EXPECTED_START_TIME_DESC", "limit": 10}}),
        ("flow_runs/filter: one deployment, COMPLETED, limit 10", "FlowRunsFilterFunction", {"json": {
            "flow_runs": {"deployment_id": {"any_": [dep]}, "state": {"type": {"any_": ["COMPLETED"]}}},
            "sort": "EXPECTED_START_TIME_DESC", "limit": 10}}),
        ("flow_runs/filter: tag, limit 50", "FlowRunsFilterFunction", {"json": {
            "flow_runs": {"tags": {"all_": ["nightly"]}}, "limit": 50}}),
        ("flow_runs/filter: worker cancellation check (CANCELLING in a pool)", "FlowRunsFilterFunction", {"json": {
            "flow_runs": {"state": {"type": {"any_": ["CANCELLING"]}}}, "work_pools": {"name": {"any_": ["pool-0"]}}}}),
        ("deployments/filter: tag, limit 50", "DeploymentsFilterFunction", {"json": {
            "deployments": {"tags": {"all_": ["etl"]}}, "limit": 50, "sort": "NAME_ASC"}}),
        ("deployments/get_scheduled_flow_runs: 1 deployment", "DeploymentsGetScheduledFlowRunsFunction", {
            "json": one_poll, "setup": _polled_before("deployments/get_scheduled_flow_runs", one_poll)}),
        ("logs/filter: one flow run, limit 200", "LogsFilterFunction", {"json": {
            "logs": {"flow_run_id": {"any_": [w["completed_run"]]}}, "sort": "TIMESTAMP_ASC", "limit": 200}}),
        ("logs/filter: all logs, newest 200", "LogsFilterFunction", {"json": {"sort": "TIMESTAMP_DESC", "limit": 200}}),
    ]


# ---------------------------------------------------------------------------------------------
# running it


class World:
    """A counting context, the full local app and the seed, at one scale."""

    def __init__(self):
        from starlette.testclient import TestClient

        from domain.context import Ctx
        from domain.settings import Settings
        from handlers import _deps
        from handlers._app import build_app
        from handlers.routes import routers

        self.clock = FrozenClock(T0)
        self.ctx = Ctx(stores=counting_stores(), settings=Settings(table_prefix="bench-"), clock=self.clock)
        _deps.use_context(self.ctx)
        self._tc = TestClient(build_app(routers()), base_url="http://testserver/api/", raise_server_exceptions=False)
        self.client = self._tc.__enter__()
        self.client.headers["X-PREFECT-API-VERSION"] = "0.8.4"
        self.client.headers["User-Agent"] = "prefect/2.20.26 (API 0.8.4)"
        self.w = seed(self.client, self.clock)
        # every measured call starts here: after the seed's own times, so "now" never runs backwards
        self.t_measure = self.w["t_measure"] = self.clock.at + dt.timedelta(minutes=1)
        self.deployments = 1
        self.runs = 0
        self._n = 0

    def grow(self, deployments: int, runs: int, total: int | None = None, log=print) -> None:
        from domain import run_counters

        populate(self.ctx.stores, self.w, deployments, runs, start=self.runs, total=total, log=log)
        # the cloned history is written around the run write paths, so its counters are built
        # here (unbilled), as `flowplane counters rebuild` would: counts then answer what they say
        run_counters.rebuild(self.ctx)
        self.deployments, self.runs = deployments, runs
        gc.collect()

    def close(self) -> None:
        from handlers import _deps

        self._tc.__exit__(None, None, None)
        _deps.use_context(None)

    def _fmt(self, value, vars_: dict):
        if isinstance(value, str):
            return value.replace("{n}", str(self._n)).replace("{id}", str(vars_.get("id", "")))
        if isinstance(value, list):
            return [self._fmt(v, vars_) for v in value]
        if isinstance(value, dict):
            return {k: self._fmt(v, vars_) for k, v in value.items()}
        return value

    def call(self, route, spec: dict | None) -> tuple[int, Bill]:
        """One billed request to ``route``, as ``spec`` (``requests_for``) describes it."""
        from infra.local.events import PARAM_SAMPLES, SAMPLES, _fill, _param_names

        self._n += 1
        sample = SAMPLES.get(route.function_id, {})
        spec = spec if spec is not None else {"json": sample.get("body"), "params": sample.get("query"),
                                              "path": sample.get("path", {})}
        vars_ = dict(spec.get("path") or {})
        if spec.get("setup"):
            made = spec["setup"](self.client, self.w)
            vars_ = {**made, **vars_}
        params = {n: str(vars_.get(n, PARAM_SAMPLES.get(n, "sample"))) for n in _param_names(route.path)}
        if spec.get("path_free"):
            params = {}
        url = _fill(route.path, params).lstrip("/")
        body = self._fmt(spec.get("json"), vars_) if "json" in spec else None
        self.clock.advance(seconds=1)
        bill = CountingStore.meter.start()
        try:
            r = self.client.request(route.method, url, json=body, params=spec.get("params"))
        finally:
            CountingStore.meter.stop()
        return r.status_code, bill


SMALL_TABLE = 50_000


def snapshot(stores: Stores) -> dict:
    """What ``restore`` needs: every table's keys, and the items of the small tables."""
    snap = {}
    for name in vars(stores):
        items = getattr(stores, name)._items
        snap[name] = dict(dict.items(items)) if len(items) < SMALL_TABLE else set(dict.keys(items))
    return snap


def restore(stores: Stores, snap: dict) -> None:
    """Undo what a measuring pass wrote, so every pass sees the same world."""
    for name, before in snap.items():
        items = getattr(stores, name)._items
        for key in [k for k in dict.keys(items) if k not in before]:
            items.pop(key)
        if isinstance(before, dict):
            for key, value in before.items():
                if dict.get(items, key) is not value:
                    items[key] = value


def measure(world: World, routes, log=print) -> dict[str, dict]:
    """Each route once, in route order, then the shapes of ``shapes_for``; every call sees the world
    as it was built. Keys: function ids, and the shapes' labels."""
    specs = requests_for(world.w)
    out = {}
    t = time.time()
    snap = snapshot(world.ctx.stores)
    world.clock.at = world.t_measure
    for route in routes:
        status, bill = world.call(route, specs.get(route.function_id))
        out[route.function_id] = {"status": status, **bill.as_dict()}
    by_id = {r.function_id: r for r in routes}
    for label, fid, spec in shapes_for(world.w):
        if fid in by_id:
            status, bill = world.call(by_id[fid], spec)
            out[label] = {"status": status, **bill.as_dict()}
    restore(world.ctx.stores, snap)
    world.clock.at = world.t_measure
    log(f"  {len(routes)} routes measured ({time.time() - t:.0f} s)")
    return out


def extrapolate(a: dict, b: dict, factor: float) -> dict:
    """``b + (b - a) * factor`` for every number (a, b measured at two history sizes)."""
    out = {}
    for k, v in b.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "status":
            out[k] = round(v + (v - a[k]) * factor, 1)
        elif isinstance(v, dict) and k == "by_request":
            out[k] = {op: round(n + (n - a[k].get(op, 0)) * factor, 1) for op, n in v.items()}
        else:
            out[k] = v
    return out


def _num(v) -> str:
    if isinstance(v, float) and v != int(v):
        return f"{v:,.1f}"
    return f"{int(v):,}"


@dataclass
class Row:
    """A table row: a route, or a request shape labelled by its ``function_id``."""

    method: str
    path: str
    function_id: str


def table(routes, small: dict, large: dict, grows: set[str]) -> str:
    lines = [
        "| route | status | requests | items read | RCU | WCU + GSI WCU | $ / M calls | requests @1M | items read @1M "
        "| RCU @1M | $ / M calls @1M |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for route in routes:
        s, g = small[route.function_id], large[route.function_id]
        for b in (s, g):
            b["usd_per_million"] = usd(b["rcu"], b["wcu"] + b["gsi_wcu"])
        flag = " **grows**" if route.function_id in grows else ""
        lines.append(
            f"| `{(route.method + ' ' + route.path).strip()}`{flag} | {s['status']} | {_num(s['requests'])} | {_num(s['items_read'])} "
            f"| {_num(s['rcu'])} | {_num(s['wcu'])} + {_num(s['gsi_wcu'])} | {s['usd_per_million']:,.2f} "
            f"| {_num(g['requests'])} | {_num(g['items_read'])} | {_num(g['rcu'])} | {g['usd_per_million']:,.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--small", nargs=2, type=int, default=[1000, 100_000], metavar=("DEPLOYMENTS", "RUNS"))
    ap.add_argument("--large", nargs=2, type=int, default=[10_000, 200_000], metavar=("DEPLOYMENTS", "RUNS"),
                    help="simulated at RUNS/2 and RUNS, extrapolated linearly to --target")
    ap.add_argument("--target", type=int, default=1_000_000, help="runs the large scale is extrapolated to")
    ap.add_argument("--only", default="", help="substring of function ids to measure")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "cost.json"))
    ap.add_argument("--render", metavar="JSON", help="print the table of an earlier run (at today's prices)")
    args = ap.parse_args(argv)
    if args.render:
        return render(pathlib.Path(args.render), pathlib.Path(args.out))
    random.seed(12)
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    from handlers.routes import routes as all_routes

    routes = [r for r in all_routes() if args.only in r.function_id]

    log(f"small: {args.small[0]} deployments / {args.small[1]} runs")
    world = World()
    world.grow(*args.small, log=log)
    small = measure(world, routes, log)
    world.close()
    del world
    gc.collect()

    d, runs = args.large
    log(f"large: {d} deployments / {runs // 2} then {runs} runs")
    world = World()
    world.grow(d, runs // 2, total=runs, log=log)
    half = measure(world, routes, log)
    world.grow(d, runs, total=runs, log=log)
    full = measure(world, routes, log)
    world.close()
    factor = (args.target - runs) / (runs - runs // 2)
    large = {k: extrapolate(half[k], full[k], factor) for k in full}
    grows = {k for k in full if full[k]["requests"] != half[k]["requests"] or full[k]["items_read"] != half[k]["items_read"]}

    shape_rows = [Row("", label, label) for label in small if label not in {r.function_id for r in routes}]
    md = table(routes, small, large, grows) + "\n\n" + table(shape_rows, small, large, grows)
    print(md)
    result = {
        "prices": {"read_request_unit_per_million": READ_PRICE, "write_request_unit_per_million": WRITE_PRICE,
                   "region": "us-east-1", "mode": "on-demand"},
        "scales": {"small": {"deployments": args.small[0], "runs": args.small[1]},
                   "large_measured": [{"deployments": d, "runs": runs // 2}, {"deployments": d, "runs": runs}],
                   "large": {"deployments": d, "runs": args.target,
                             "extrapolated": args.target != runs}},
        "history_per_run": "a finished run has 2 task runs (3 states each), 4 flow-run states, 6 logs, 2 name "
                           "guards; per deployment 5 runs SCHEDULED in the next day, 1 RUNNING (first 1 000 "
                           "deployments), then 10% FAILED and the rest COMPLETED over the past 30 days",
        "grows_with_history": sorted(grows),
        "routes": [{"function": r.function_id, "method": r.method, "path": r.path,
                    "small": small[r.function_id], "large_half": half[r.function_id],
                    "large_full": full[r.function_id], "large": large[r.function_id]} for r in routes],
        "shapes": [{"shape": r.function_id, "small": small[r.function_id], "large_half": half[r.function_id],
                    "large_full": full[r.function_id], "large": large[r.function_id]} for r in shape_rows],
    }
    pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    log(f"wrote {args.out}")
    return 0


def render(src: pathlib.Path, out: pathlib.Path) -> int:
    """Print the table of an earlier run and write its JSON to ``out`` at today's prices."""
    data = json.loads(src.read_text())
    rows = [Row(r["method"], r["path"], r["function"]) for r in data["routes"]]
    shapes = [Row("", r["shape"], r["shape"]) for r in data.get("shapes", [])]
    small = {r["function"]: r["small"] for r in data["routes"]} | {r["shape"]: r["small"] for r in data.get("shapes", [])}
    large = {r["function"]: r["large"] for r in data["routes"]} | {r["shape"]: r["large"] for r in data.get("shapes", [])}
    grows = set(data["grows_with_history"])
    print(table(rows, small, large, grows) + "\n\n" + table(shapes, small, large, grows))
    data["prices"].update({"read_request_unit_per_million": READ_PRICE, "write_request_unit_per_million": WRITE_PRICE})
    out.write_text(json.dumps(data, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
