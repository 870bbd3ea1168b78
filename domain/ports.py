"""Persistence ports: what services need from a store, and the tables' access patterns.

Every aggregate lives in its own table keyed by ``id``; an item is the entity document (a
JSON-ready dict) plus top-level attributes *projected* from it for indexes and conditions. The
projections below are the single description of each GSI: the DynamoDB adapter writes them, the
in-memory fake evaluates them, and a test checks them against ``template.yaml``.

Sparse indexes: a projection returning ``None`` leaves the item out of that index.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

Doc = dict[str, Any]

ALL = "all"  # the logical partition of "every item, in sort order" indexes (sharded: ``all#<k>``)


def shard_of(id: str, shards: int) -> int:
    """The shard (0 .. shards-1) of item ``id``: stable across processes and adapters. A uuid's first
    32 bits (uniform for uuid4 and uuid5 ids), crc32 for any other id."""
    if shards == 1:
        return 0
    try:
        n = int(id[:8], 16)
    except ValueError:
        import zlib

        n = zlib.crc32(id.encode())
    return n % shards


@dataclass(frozen=True)
class Index:
    """One GSI. ``shards`` > 1 spreads each partition ``pk(doc)`` over ``shards`` partitions
    ``<pk>#<k>`` (k = ``shard_of(id, shards)``), so one key's writes are not capped by one GSI
    partition's throughput; reads that need the partition in sort order merge the shards
    (``domain.sharded_index.query_all``). Keys of an unsharded index are ``pk(doc)`` as is."""

    name: str
    pk_attr: str
    pk: Callable[[Doc], str | None]
    sk_attr: str | None = None
    sk: Callable[[Doc], str | None] | None = None
    serves: str = ""
    shards: int = 1
    # sort keys never repeat within a partition (e.g. they end with the id): a reader knows a key's
    # items are complete once it has read one, so it need not read past a chunk's last key
    unique_sk: bool = False

    def partition(self, doc: Doc) -> str | None:
        """The stored partition key of ``doc`` in this index (None: not in the index)."""
        pk = self.pk(doc)
        if pk is None or self.shards == 1:
            return pk
        return f"{pk}#{shard_of(doc['id'], self.shards)}"

    def partitions(self, pk: str) -> list[str]:
        """The stored partition keys that together hold logical partition ``pk``."""
        return [pk] if self.shards == 1 else [f"{pk}#{k}" for k in range(self.shards)]


@dataclass(frozen=True)
class TableSpec:
    name: str
    indexes: tuple[Index, ...] = ()
    # extra top-level attributes usable in conditions (name -> projection); stored as numbers
    attrs: tuple[tuple[str, Callable[[Doc], Any]], ...] = ()
    # extra top-level string attributes usable in conditions that are no index's key (name -> projection)
    text_attrs: tuple[tuple[str, Callable[[Doc], str | None]], ...] = ()
    # a numeric attribute (epoch seconds) that DynamoDB TTL expires items by; also listed in attrs
    ttl_attr: str | None = None

    def index(self, name: str) -> Index:
        for ix in self.indexes:
            if ix.name == name:
                return ix
        raise KeyError(f"{self.name} has no index {name!r}")

    def project(self, doc: Doc) -> dict[str, Any]:
        """Top-level attributes for ``doc`` (``None`` values are omitted: sparse)."""
        out: dict[str, Any] = {}
        for ix in self.indexes:
            pk = ix.partition(doc)
            if pk is None:
                continue
            sk = ix.sk(doc) if ix.sk else None
            if ix.sk and sk is None:
                continue
            out[ix.pk_attr] = pk
            if ix.sk_attr:
                out[ix.sk_attr] = sk
        for name, fn in self.attrs + self.text_attrs:
            value = fn(doc)
            if value is not None:
                out[name] = value
        return out

    def attribute_names(self) -> set[str]:
        names = {"id"}
        for ix in self.indexes:
            names.add(ix.pk_attr)
            if ix.sk_attr:
                names.add(ix.sk_attr)
        return names


@dataclass(frozen=True)
class Cond:
    """A write condition, evaluated by the store atomically with the write.

    kind: ``absent`` (no item with this id), ``exists``, ``eq`` (top-level attribute equals value,
    e.g. the optimistic-lock revision ``rev`` or a run's ``state_type``).
    """

    kind: str
    attr: str | None = None
    value: Any = None

    @staticmethod
    def absent() -> Cond:
        return Cond("absent")

    @staticmethod
    def exists() -> Cond:
        return Cond("exists")

    @staticmethod
    def eq(attr: str, value: Any) -> Cond:
        return Cond("eq", attr, value)


@dataclass
class Page:
    items: list[Doc] = field(default_factory=list)


@dataclass(frozen=True)
class TxPut:
    """One put of a transaction (``Stores.transact``): ``doc`` into ``store``, if ``cond`` holds."""

    store: Store
    doc: Doc
    cond: Cond | None = None


@dataclass(frozen=True)
class TxDelete:
    """One delete of a transaction, if ``cond`` holds."""

    store: Store
    id: str
    cond: Cond | None = None


@dataclass(frozen=True)
class TxAdd:
    """One atomic add of a transaction: each of ``deltas`` (counter name -> int, negative to
    subtract) added to item ``id``'s counter of that name; a missing item or counter starts at 0.
    Counter names are arbitrary strings. Only for counter tables (e.g. ``COUNTERS``): an item is
    either a document or a set of counters, never both."""

    store: Store
    id: str
    deltas: Mapping[str, int]


TxOp = TxPut | TxDelete | TxAdd


def tx_key(op: TxOp) -> str:
    """The item id a transaction operation writes."""
    return op.doc["id"] if isinstance(op, TxPut) else op.id


class Store(Protocol):
    """One table. Raises ``domain.errors.ConditionFailed`` when a condition does not hold."""

    spec: TableSpec

    def get(self, id: str) -> Doc | None: ...

    def get_many(self, ids: Iterable[str]) -> list[Doc]: ...

    def put(self, doc: Doc, *, cond: Cond | None = None) -> None: ...

    def put_many(self, docs: Iterable[Doc]) -> None: ...

    def delete(self, id: str, *, cond: Cond | None = None) -> bool: ...

    def delete_many(self, ids: Iterable[str]) -> None: ...

    @staticmethod
    def transact(ops: Sequence[TxOp]) -> None:
        """All of ``ops`` (on tables of one adapter, at most 100, one item each) or none of them.

        Raises ``ConditionFailed`` when a condition does not hold (or the transaction conflicts
        with another one), and nothing is written.
        """
        ...

    def add(self, id: str, deltas: Mapping[str, int]) -> None:
        """Atomically add ``deltas`` to item ``id``'s counters (see ``TxAdd``)."""
        ...

    def counts(self, ids: Iterable[str]) -> dict[str, dict[str, int]]:
        """The counters of each existing item among ``ids`` (one batch read); absent ids are left out."""
        ...

    def scan(self) -> Iterator[Doc]:
        """Every document of the table, in no particular order, read in pages. For moving data
        (``flowplane export``/``import``) only: never on a request path, whose reads go by key or
        index. Not for counter tables (their items are counters, not documents)."""
        ...

    def query(
        self,
        index: str,
        pk: str,
        *,
        sk_lte: str | None = None,
        sk_gte: str | None = None,
        sk_begins: str | None = None,
        descending: bool = False,
        limit: int | None = None,
    ) -> Iterator[Doc]: ...


# ---------------------------------------------------------------------------------------------
# Tables and their access patterns. Sort keys that hold times use timeutil.sort_key (fixed-width
# UTC); names sort by code point as the reference recommends.


def _get(key: str) -> Callable[[Doc], Any]:
    return lambda d: d.get(key)


def _const(_: Doc) -> str:
    """The ``all`` partition. Sharded (``Index.shards``) where every write of a busy table rewrites
    the entry (runs, task runs, deployments, artifacts, logs); one partition (1 000 WCU/s) where
    the items are written by people or at deployment time - flows (written once), pools, queues
    (one poll record per queue and poll), variables, blocks, keys, saved searches, notification
    policies - or where each item is itself the hot key (a concurrency limit takes every slot
    write, an artifact collection every artifact of its key): sharding the index would not lift
    the item's own 1 000 WCU/s."""
    return ALL


def _ts(key: str) -> Callable[[Doc], str | None]:
    from domain.timeutil import parse, sort_key

    def f(d: Doc) -> str | None:
        v = d.get(key)
        return sort_key(parse(v)) if v else None

    return f


def _when_scheduled(key: str) -> Callable[[Doc], str | None]:
    return lambda d: d.get(key) if d.get("state_type") == "SCHEDULED" else None


def epoch_us(value: str | None) -> int | None:
    if not value:
        return None
    import datetime as dt

    from domain.timeutil import parse

    return (parse(value) - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(microseconds=1)


ACTIVE_STATE_TYPES = frozenset(("PENDING", "RUNNING", "CANCELLING"))


def _when_active(key: str) -> Callable[[Doc], str | None]:
    return lambda d: d.get(key) if d.get("state_type") in ACTIVE_STATE_TYPES else None


def _sched_at(d: Doc) -> str | None:
    return _ts("next_scheduled_start_time")(d) if d.get("state_type") == "SCHEDULED" else None


def _is_named(d: Doc, state_type: str, name: str) -> bool:
    return d.get("state_type") == state_type and d.get("state_name") == name


def _is_late_candidate(d: Doc) -> bool:
    return _is_named(d, "SCHEDULED", "Scheduled") and bool(d.get("next_scheduled_start_time"))


def _with_state(key: str) -> Callable[[Doc], str | None]:
    """``<key value>#<state type>`` (composite partition of the state-type indexes), or None."""
    return lambda d: f"{d[key]}#{d['state_type']}" if d.get(key) and d.get("state_type") else None


def _expected_then_id(d: Doc) -> str:
    """Expected start (fixed width; empty when unset, which sorts first) then id: unique, in the
    order of the EXPECTED_START_TIME sorts (ties by id)."""
    return (_ts("expected_start_time")(d) or "") + "#" + d["id"]


def _pause_timeout(d: Doc) -> str | None:
    if d.get("state_type") != "PAUSED":
        return None
    timeout = ((d.get("state") or {}).get("state_details") or {}).get("pause_timeout")
    if not timeout:
        return None
    from domain.timeutil import parse, sort_key

    return sort_key(parse(timeout))


FLOWS = TableSpec(
    "Flows",
    indexes=(Index("by_name", "all_pk", _const, "name", _get("name"),
                   serves="flows filter/count sorted by name; like_ on names (one partition: a flow's entry "
                          "is written when it is created, ~1 000 flows/s)"),),
)

DEPLOYMENTS = TableSpec(
    "Deployments",
    indexes=(
        Index("by_flow", "flow_id", _get("flow_id"), "name", _get("name"),
              serves="flows filter -> deployments; flow deletion cascade; 'flow has deployments'"),
        Index("by_name", "all_pk", _const, "name", _get("name"), shards=4,
              serves="deployments filter/count, NAME_ASC/NAME_DESC with offset/limit (4 shards: every "
                     "deployment write - PATCH, poll bookkeeping, the scheduler's due_at - rewrites the entry)"),
        Index("by_work_queue", "work_queue_id", _get("work_queue_id"), "name", _get("name"),
              serves="work_pools / work_pool_queues filters; queue and pool deletion"),
        Index("due", "due_shard", lambda d: d.get("_due_shard") if d.get("_due_at") else None,
              "due_at", lambda d: d.get("_due_at"),
              serves="scheduler tick: only deployments whose runs need topping up (sparse)"),
        Index("not_ready_by_work_queue", "not_ready_wq",
              lambda d: d.get("work_queue_id") if d.get("status") == "NOT_READY" else None, "name", _get("name"),
              serves="poll bookkeeping: deployments a poll must mark READY although their queue's poll "
                     "record is fresh (e.g. created since) — sparse, so usually an empty Query"),
    ),
    attrs=(("rev", _get("_rev")),),
)

FLOW_RUNS = TableSpec(
    "FlowRuns",
    indexes=(
        Index("scheduled_by_deployment", "sched_deployment_id", _when_scheduled("deployment_id"),
              "sched_at", lambda d: _ts("next_scheduled_start_time")(d) if d.get("state_type") == "SCHEDULED" else None,
              serves="get_scheduled_flow_runs, deleting scheduled runs, scheduler top-up (sparse: SCHEDULED only)"),
        Index("scheduled_by_work_queue", "sched_work_queue_id", _when_scheduled("work_queue_id"),
              "sched_at", lambda d: _ts("next_scheduled_start_time")(d) if d.get("state_type") == "SCHEDULED" else None,
              serves="worker and agent polling of a queue's scheduled runs (sparse: SCHEDULED only)"),
        Index("by_deployment", "deployment_id", _get("deployment_id"), "created_sk", _ts("created"),
              serves="flow_runs filters by deployment, 'deployment has runs'"),
        Index("by_flow", "flow_id", _get("flow_id"), "created_sk", _ts("created"),
              serves="flow deletion cascade, flow_runs filters by flow"),
        Index("by_deployment_expected", "deployment_id", _get("deployment_id"), "expected_id_sk",
              lambda d: (_ts("expected_start_time")(d) + "#" + d["id"]) if d.get("expected_start_time") else None,
              serves="flow_runs filter of a deployment sorted by expected start time (the UI's and "
                     "clients' common shape): reads offset+limit runs in order, ties by id as the sort"),
        Index("by_state_type_sharded", "state_type_shard", _get("state_type"), "created_sk", _ts("created"),
              shards=8,
              serves="flow_runs filters by state type alone (8 shards per state type: every run enters and "
                     "leaves RUNNING, 6-12 WCU, which one partition capped at ~80-160 runs/s; README 'Hot "
                     "partitions'). Replaces by_state_type, whose key was the ``state_type`` condition "
                     "attribute itself (now a text attribute): a new key schema needs a new GSI name"),
        Index("by_created", "all_pk", _const, "created_sk", _ts("created"), shards=8,
              serves="unselective flow_runs filters, in creation order (8 shards: every run write "
                     "rewrites the entry, ~18 WCU per run; README 'Hot partitions')"),
        Index("by_parent_task_run", "parent_task_run_id", _get("parent_task_run_id"), "created_sk", _ts("created"),
              serves="subflow lookups: task_runs.subflow_runs and flow_runs.parent_flow_run_id (sparse)"),
        Index("by_expected_start", "all_pk", _const, "expected_sk", _ts("expected_start_time"), shards=8,
              serves="UI: run histories, lateness and the flow-runs scatter over an expected_start_time window "
                     "(8 shards, as by_created)"),
        # polling and the run services (domain/services/polling.py, run_services.py): each sparse,
        # so a query's cost follows the runs concerned, never the finished runs stored
        Index("active_by_work_queue", "active_work_queue_id", _when_active("work_queue_id"), "active_state",
              _when_active("state_type"),
              serves="worker polling: PENDING/RUNNING runs per queue for queue and pool concurrency "
                     "limits (sparse: PENDING, RUNNING, CANCELLING only)"),
        Index("scheduled_by_work_queue_name", "sched_work_queue_name", _when_scheduled("work_queue_name"),
              "sched_at", _sched_at,
              serves="agent polling (get_runs): SCHEDULED runs by their stored work_queue_name, any pool "
                     "(quirk Q9; sparse: SCHEDULED only)"),
        Index("active_by_work_queue_name", "active_work_queue_name", _when_active("work_queue_name"),
              "active_state", _when_active("state_type"),
              serves="agent polling: a queue's concurrency limit counts PENDING/RUNNING/CANCELLING runs "
                     "by stored work_queue_name (sparse)"),
        Index("late_candidates", "late_pk", lambda d: ALL if _is_late_candidate(d) else None,
              "sched_at", lambda d: _sched_at(d) if _is_late_candidate(d) else None, shards=4,
              serves="late runs: SCHEDULED runs named exactly 'Scheduled', by next_scheduled_start_time; "
                     "a tick reads only the overdue ones (sparse; 4 shards: every scheduled run enters "
                     "and leaves, ~6 WCU, and the scheduler inserts in bursts)"),
        Index("late_by_work_queue", "late_work_queue_id",
              lambda d: d.get("work_queue_id") if d.get("state_name") == "Late" else None,
              "created_sk", _ts("created"),
              serves="work queue status: late_runs_count of a queue (sparse: runs whose state is named Late)"),
        Index("paused_by_timeout", "paused_pk", lambda d: ALL if _pause_timeout(d) else None,
              "pause_timeout_sk", _pause_timeout,
              serves="pause expiry: PAUSED runs by their state's pause_timeout (sparse: PAUSED with a "
                     "timeout only, quirk Q11; one partition: a pause writes ~6 WCU, ~160 pauses/s)"),
        # state type by deployment / flow / work queue (issue 12 item 4): a filter with both the
        # dimension and exact state types reads only those runs, in expected-start order, and stops
        # after offset+limit. 18 of DynamoDB's 20 GSIs per table with these three.
        Index("by_deployment_state", "deployment_state", _with_state("deployment_id"), "state_exp_sk",
              _expected_then_id,
              serves="flow_runs filter/count by deployment + state type (ordered by expected start, id); "
                     "with by_flow_state and by_work_queue_state FlowRuns' GSIs 16-18 of DynamoDB's 20"),
        Index("by_flow_state", "flow_state", _with_state("flow_id"), "state_exp_sk", _expected_then_id,
              serves="flow_runs filter/count by flow + state type (ordered by expected start, id)"),
        Index("by_work_queue_state", "work_queue_state", _with_state("work_queue_id"), "state_exp_sk",
              _expected_then_id,
              serves="flow_runs filter/count by work queue (or pool) + state type, e.g. the worker's "
                     "cancellation check (ordered by expected start, id)"),
    ),
    attrs=(("rev", _get("_rev")),),
    # a run's state type as a top-level attribute (Cond.eq("state_type", ...)), as when it keyed by_state_type
    text_attrs=(("state_type", _get("state_type")),),
)

TASK_RUNS = TableSpec(
    "TaskRuns",
    indexes=(
        Index("by_flow_run", "flow_run_id", _get("flow_run_id"), "created_sk", _ts("created"),
              serves="task_runs filters joined to flow runs"),
        Index("by_created", "all_pk", _const, "created_sk", _ts("created"), shards=8,
              serves="unselective task_runs filters (8 shards: every task-run write rewrites the entry)"),
        Index("by_expected_start", "all_pk", _const, "expected_sk", _ts("expected_start_time"), shards=8,
              serves="UI: task-run history over an expected_start_time window (8 shards)"),
        Index("by_start", "all_pk", _const, "start_sk", _ts("start_time"), shards=8,
              serves="UI: dashboard task-run counts over a start_time window (sparse: started runs; 8 shards)"),
    ),
    attrs=(("rev", _get("_rev")),),
)

WORK_POOLS = TableSpec(
    "WorkPools",
    indexes=(Index("by_name", "all_pk", _const, "name", _get("name"),
                   serves="work pool filter/count (one partition: pools are written by people)"),),
)

WORK_QUEUES = TableSpec(
    "WorkQueues",
    indexes=(
        Index("by_pool", "work_pool_id", _get("work_pool_id"), "name", _get("name"),
              serves="queues of a pool, read by (pool, name), priority bookkeeping"),
        Index("by_name", "all_pk", _const, "name", _get("name"),
              serves="work queue filter across pools (one partition: at most one poll record write per "
                     "queue and poll, ~1 000 queue writes/s = 10 000 queues polled every 10 s)"),
    ),
    # ``updated`` in epoch microseconds: poll bookkeeping writes on condition that the queue is
    # unchanged since it was read (every queue write bumps ``updated``), so it never undoes a PATCH
    attrs=(("updated_us", lambda d: epoch_us(d.get("updated"))),),
)

VARIABLES = TableSpec(
    "Variables",
    indexes=(Index("by_name", "all_pk", _const, "name", _get("name"), serves="variable filter/count; hydration"),),
)

BLOCK_TYPES = TableSpec(
    "BlockTypes",
    indexes=(Index("by_name", "all_pk", _const, "name", _get("name"), serves="block type filter"),),
)

BLOCK_SCHEMAS = TableSpec(
    "BlockSchemas",
    indexes=(
        Index("by_checksum", "checksum", _get("checksum"), "version_sk", lambda d: d.get("version") or "",
              serves="read block schema by checksum (+version)"),
        Index("by_block_type", "block_type_id", _get("block_type_id"), "created_sk", _ts("created"),
              serves="block schema filter by type"),
    ),
)

BLOCK_DOCUMENTS = TableSpec(
    "BlockDocuments",
    indexes=(
        Index("by_block_type", "block_type_id", _get("block_type_id"), "name", lambda d: d.get("name") or "",
              serves="block documents of a type, by name"),
        Index("by_name", "all_pk", _const, "name", lambda d: d.get("name") or "", serves="block document filter"),
    ),
)

API_KEYS = TableSpec(
    "ApiKeys",
    indexes=(Index("by_created", "all_pk", _const, "created_sk", _ts("created"),
                   serves="`flowplane api-key list` (admin CLI only; the authorizer reads one key by id)"),),
)

def _expires(d: Doc) -> Any:
    return d.get("_expires_at")


FLOW_RUN_STATES = TableSpec(
    "FlowRunStates",
    indexes=(Index("by_flow_run", "flow_run_id", _get("flow_run_id"), "ts_sk", _ts("timestamp"),
                   serves="GET /flow_run_states/?flow_run_id= (state history in time order)"),),
    attrs=(("expires_at", _expires),),
    ttl_attr="expires_at",
)

TASK_RUN_STATES = TableSpec(
    "TaskRunStates",
    indexes=(
        Index("by_task_run", "task_run_id", _get("task_run_id"), "ts_sk", _ts("timestamp"),
              serves="GET /task_run_states/?task_run_id= (state history in time order)"),
        Index("by_cache_key", "cache_key", lambda d: d.get("_cache_key"), "ts_sk", _ts("timestamp"),
              serves="task-run cache retrieval: newest COMPLETED state with a cache key (sparse)"),
    ),
    attrs=(("expires_at", _expires),),
    ttl_attr="expires_at",
)

# The all-logs time index is split into shards: one constant partition would cap every run's log
# writes at a single GSI partition's throughput (time-ordered keys defeat split-for-heat).
LOG_TIME_SHARDS = 4


LOGS = TableSpec(
    "Logs",
    indexes=(
        Index("by_flow_run", "flow_run_id", _get("flow_run_id"), "ts_sk", lambda d: d.get("_ts_sk"),
              unique_sk=True, serves="logs of a flow run in time order"),
        Index("by_task_run", "task_run_id", _get("task_run_id"), "ts_sk", lambda d: d.get("_ts_sk"),
              unique_sk=True, serves="logs of a task run in time order"),
        Index("by_time", "time_shard", _const, "ts_sk", lambda d: d.get("_ts_sk"), shards=LOG_TIME_SHARDS,
              unique_sk=True,
              serves="unselective log filters, in time order (LOG_TIME_SHARDS shards, merged on read)"),
    ),
    attrs=(("expires_at", _expires),),
    ttl_attr="expires_at",
)

def _online_until(d: Doc) -> str | None:
    """When a worker stops counting as ONLINE: last heartbeat + 3 x (interval or 30 s)."""
    return d.get("_online_until")


WORKERS = TableSpec(
    "Workers",
    # id = uuid5(pool id, name) (domain/services/workers.py): a heartbeat is an upsert by key
    indexes=(Index("by_pool", "work_pool_id", _get("work_pool_id"), "online_until", _online_until,
                   serves="workers of a pool (filter, pool deletion); pool READY = one item with "
                          "online_until > now (a Query with limit 1)"),),
)

CONCURRENCY_LIMITS = TableSpec(
    "ConcurrencyLimits",
    indexes=(Index("by_tag", "all_pk", _const, "tag", lambda d: d.get("tag") or None,
                   serves="tag concurrency limit filter (sorted by tag); task-run slot bookkeeping by tag "
                          "(the empty tag is not indexed: read through its guard)"),),
    attrs=(("rev", _get("_rev")),),
)

ARTIFACTS = TableSpec(
    "Artifacts",
    indexes=(
        Index("by_key", "key", lambda d: d.get("key") or None, "created_sk", _ts("created"),
              serves="artifacts of a key, newest last: the next latest when the latest is deleted; key filters"),
        Index("by_flow_run", "flow_run_id", _get("flow_run_id"), "created_sk", _ts("created"),
              serves="artifacts of a flow run"),
        Index("by_task_run", "task_run_id", _get("task_run_id"), "created_sk", _ts("created"),
              serves="artifacts of a task run (the UI's task-run artifacts tab)"),
        Index("by_created", "all_pk", _const, "created_sk", _ts("created"), shards=4,
              serves="unselective artifact filters (4 shards: result artifacts come with task runs)"),
    ),
    attrs=(("rev", _get("_rev")),),  # set once PATCHed; artifacts written by orchestration have none
)

ARTIFACT_COLLECTIONS = TableSpec(
    "ArtifactCollections",
    # id = uuid5 of the key (domain/services/artifacts.py), so the upsert is one conditional write
    indexes=(Index("by_key", "all_pk", _const, "key", lambda d: d.get("key") or None,
                   serves="latest artifact per key, by key (/artifacts/latest/filter)"),),
    attrs=(("rev", _get("_rev")),),
)

FLOW_RUN_INPUTS = TableSpec(
    "FlowRunInputs",
    indexes=(Index("by_flow_run", "flow_run_id", _get("flow_run_id"), "key", _get("key"),
                   serves="flow-run inputs by key prefix"),),
)

GUARDS = TableSpec(
    "Guards",
    # id = "<kind>:<natural key>" (e.g. "deployment:<flow id>/<name>"), doc {"id", "owner_id"}:
    # written in the same transaction as the object it guards, so names stay unique while object
    # ids stay fresh uuid4s.
)

SAVED_SEARCHES = TableSpec(
    "SavedSearches",
    # id = saved_searches.search_id(name): the reference upserts a saved search by its unique name
    indexes=(Index("by_name", "all_pk", _const, "name", _get("name"),
                   serves="saved_searches/filter (sorted by name, offset/limit)"),),
)

GLOBAL_CONCURRENCY_LIMITS = TableSpec(
    "GlobalConcurrencyLimits",
    # /v2/concurrency_limits; one name per limit through a guard item "concurrency_limit_v2:<name>"
    indexes=(Index("by_name", "all_pk", _const, "name", lambda d: d.get("name") or None,
                   serves="v2 concurrency limit filter (sorted by name, offset/limit)"),),
    attrs=(("rev", _get("_rev")),),
)

FLOW_RUN_NOTIFICATION_POLICIES = TableSpec(
    "FlowRunNotificationPolicies",
    indexes=(Index("by_id", "all_pk", _const, "id_sk", _get("id"),
                   serves="flow_run_notification_policies/filter (ordered by id, as the reference)"),),
)

COUNTERS = TableSpec(
    "Counters",
    # id = "<kind>:<dimension>#<shard>" (domain/run_counters.py); counters only (``TxAdd``,
    # ``Store.counts``), added to in the same transaction as the write they count
)

TAG_INDEX = TableSpec(
    "TagIndex",
    # one small item per (object, tag), id "<kind>#<tag>#<object id>" (domain/tag_index.py), written in
    # the object's own transaction: DynamoDB cannot index the elements of a list
    indexes=(Index("by_tag", "tag_pk", _get("tag_pk"), "order_sk", _get("order_sk"),
                   serves="deployments / flow_runs / task_runs filters by tags.all_: the objects with one "
                          "tag, in their default sort's order (deployments by name, runs by id)"),),
)

POLL_RECORDS = TableSpec(
    "PollRecords",
    # id = polling.poll_set_id(ids): one item per set of deployments a flow.serve() runner polls,
    # {"id", "last_polled", "deployments"}, written at most once per poll interval whatever the set's
    # size; deployments point to theirs (``_poll_sets``) and derive status/last_polled when read
)

ALL_TABLES: tuple[TableSpec, ...] = (
    FLOWS, DEPLOYMENTS, FLOW_RUNS, TASK_RUNS, WORK_POOLS, WORK_QUEUES, VARIABLES,
    BLOCK_TYPES, BLOCK_SCHEMAS, BLOCK_DOCUMENTS, API_KEYS,
    FLOW_RUN_STATES, TASK_RUN_STATES, LOGS, WORKERS, CONCURRENCY_LIMITS, ARTIFACTS,
    ARTIFACT_COLLECTIONS, FLOW_RUN_INPUTS, GUARDS, SAVED_SEARCHES, GLOBAL_CONCURRENCY_LIMITS,
    FLOW_RUN_NOTIFICATION_POLICIES, COUNTERS, TAG_INDEX, POLL_RECORDS,
)


@dataclass
class Stores:
    flows: Store
    deployments: Store
    flow_runs: Store
    task_runs: Store
    work_pools: Store
    work_queues: Store
    variables: Store
    block_types: Store
    block_schemas: Store
    block_documents: Store
    api_keys: Store
    flow_run_states: Store
    task_run_states: Store
    logs: Store
    workers: Store
    concurrency_limits: Store
    artifacts: Store
    artifact_collections: Store
    flow_run_inputs: Store
    guards: Store
    saved_searches: Store
    global_concurrency_limits: Store
    flow_run_notification_policies: Store
    counters: Store
    tag_index: Store
    poll_records: Store

    @classmethod
    def build(cls, make: Callable[[TableSpec], Store]) -> Stores:
        return cls(*(make(spec) for spec in ALL_TABLES))

    def transact(self, ops: Sequence[TxOp]) -> None:
        """Write ``ops`` atomically (see ``Store.transact``)."""
        ops = list(ops)
        if ops:
            ops[0].store.transact(ops)  # a staticmethod, looked up on the instance so wrappers delegate
