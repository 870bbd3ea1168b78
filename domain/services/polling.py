"""Polling by workers and agents (orchestration spec §1.9, §1.10, §4.4): which scheduled runs a
poll hands out, what a poll records, and the READY/NOT_READY statuses that follow from it.

Access paths (FlowRuns indexes, ``domain/ports.py``), all sparse so a poll's cost follows the
runs it concerns and never the finished runs stored:

* worker poll (``POST /work_pools/{name}/get_scheduled_flow_runs``): one Query of
  ``scheduled_by_work_queue`` per candidate queue (``next_scheduled_start_time`` range pushed
  into the key condition); concurrency limits count a queue's PENDING/RUNNING runs with one Query
  of ``active_by_work_queue`` — only for queues (or a pool) that have a limit;
* agent poll (``POST /work_queues/{id}/get_runs``): ``scheduled_by_work_queue_name`` and
  ``active_by_work_queue_name`` — the reference matches runs to a queue by their stored
  ``work_queue_name``, across pools (quirk Q9). A queue with a legacy tag/deployment ``filter``
  reads its deployments' scheduled runs (``scheduled_by_deployment``) or, with tags only, the
  SCHEDULED runs (``by_state_type_sharded``, its shards read in turn) — a deprecated feature,
  filtered and ordered in memory;
* queue status: ``late_by_work_queue`` (runs whose state is named ``Late``).

Bookkeeping (after responding) writes at most one item per poll and ``POLL_WRITE_INTERVAL``,
whatever the number of deployments polled (issue 12): the reference's per-deployment
``status``/``last_polled`` updates are derived when a deployment is read
(``deployment_polls``) from the item one write updates for the whole poll:

* worker/agent polls: the queue's own ``last_polled`` (NOT_READY -> READY; PAUSED stays),
  written unless it is less than ``POLL_WRITE_INTERVAL`` old, conditioned on the queue being
  unchanged since it was read so a poll never undoes a concurrent PATCH. A deployment stored
  READY on that queue reads ``last_polled = max(own, queue's)`` — exactly the foreman's rule
  (READY while either is within 60 s). A deployment stored NOT_READY (never polled since it
  joined the queue) is found through the sparse ``not_ready_by_work_queue`` index — one Query per
  polled queue, usually empty — and written once: stored READY, it follows its queue from then on;
* ``flow.serve()`` polls (``/deployments/get_scheduled_flow_runs``): one ``PollRecords`` item
  per polled set of deployment ids (``poll_set_id``), written at most once per interval. When a
  set is first seen its deployments get a pointer to it (``_poll_sets``, written once, with
  ``status = READY``); a deployment reads the newest ``last_polled`` of its own and its records'.

Deployment reads batch-read the queues and poll records of a page (one BatchGetItem per table).
A deployment's ``updated`` reads as its derived ``last_polled`` when newer (the reference's poll
bumps it). Coalesced polls make ``last_polled`` lag the latest poll by less than
``POLL_WRITE_INTERVAL``; nothing else changes.

Statuses are derived when read (no foreman loop): a stored READY queue or deployment reads as
READY while its (derived) ``last_polled`` is within the foreman's timeout (60 s), else NOT_READY —
what the reference's foreman would have stored, without its up-to-15 s lag. Work pools: ``workers``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, BeforeValidator

from domain.context import Ctx
from domain.errors import ConditionFailed, ObjectNotFound
from domain.parsing import Embedded, body_datetime
from domain.ports import Cond, Doc
from domain.sharded_index import every
from domain.timeutil import UTC, ensure_aware, iso_utc, parse, sort_key

# (not domain.filters' DateTimeIn: deployment and queue reads import this module for their
# status, and the filter models would add ~90 ms to their cold start)
DateTimeIn = Annotated[dt.datetime, BeforeValidator(body_datetime),
                       AfterValidator(lambda v: ensure_aware(v).astimezone(UTC))]

POLL_WRITE_INTERVAL = dt.timedelta(seconds=5)
MAX_POLL_SETS = 8  # poll-record pointers a deployment keeps (serve() restarts with other sets add one)
MAX_RUNS_PER_QUEUE = 1000  # the reference's implicit caps (queue_limit, worker_limit)
MAX_RUNS_PER_POOL = 1000
WORKER_ACTIVE_TYPES = frozenset(("PENDING", "RUNNING"))
AGENT_ACTIVE_TYPES = frozenset(("PENDING", "RUNNING", "CANCELLING"))
HEALTH_CHECK_POLICY = {"maximum_late_runs": 0, "maximum_seconds_since_last_polled": 60}

# the core FlowRun shape of a WorkerFlowRunResponse (no work_pool_*; work_queue_id near the end)
CORE_FLOW_RUN_KEYS = (
    "id", "created", "updated", "name", "flow_id", "state_id", "deployment_id", "deployment_version",
    "work_queue_name", "flow_version", "parameters", "idempotency_key", "context", "empirical_policy", "tags",
    "parent_task_run_id", "state_type", "state_name", "run_count", "expected_start_time",
    "next_scheduled_start_time", "start_time", "end_time", "total_run_time", "estimated_run_time",
    "estimated_start_time_delta", "auto_scheduled", "infrastructure_document_id", "infrastructure_pid",
    "created_by", "work_queue_id", "state", "job_variables",
)


def queue_not_found(queue_id: str, *, period: bool = True) -> ObjectNotFound:
    return ObjectNotFound(f"Work queue with id {queue_id} not found{'.' if period else ''}")


# ------------------------------------------------------------------------------ request models


class WorkerPoll(Embedded):
    work_queue_names: list[str] | None = None
    scheduled_before: DateTimeIn | None = None
    scheduled_after: DateTimeIn | None = None
    limit: int | None = None


class AgentPoll(Embedded):
    limit: int | None = None
    scheduled_before: DateTimeIn | None = None
    agent_id: UUID | None = None  # accepted; the agent record it would upsert is not readable in 2.20


@dataclass
class Poll:
    """What a poll records once it has answered (``record``)."""

    queues: list[Doc] = field(default_factory=list)
    now: dt.datetime | None = None


# ------------------------------------------------------------------------------------- statuses


def polled_status(stored: str | None, last_polled: str | None, now: dt.datetime, timeout_seconds: int) -> str | None:
    """A stored READY becomes NOT_READY once ``last_polled`` is older than the timeout (§4.4)."""
    if stored != "READY":
        return stored
    if last_polled and now - parse(last_polled) <= dt.timedelta(seconds=timeout_seconds):
        return "READY"
    return "NOT_READY"


def queue_status(ctx: Ctx, queue: Doc, now: dt.datetime | None = None) -> str | None:
    return polled_status(queue.get("status"), queue.get("last_polled"), now or ctx.now(),
                         ctx.settings.foreman_work_queue_last_polled_timeout_seconds)


def poll_set_id(dep_ids: Iterable[str]) -> str:
    """The ``PollRecords`` id of a ``flow.serve()`` poll: the hash of its sorted, distinct ids."""
    joined = "\n".join(sorted({str(d) for d in dep_ids}))
    return "deployments:" + hashlib.sha256(joined.encode()).hexdigest()


def _newest(stamps: Iterable[str | None]) -> str | None:
    return max((s for s in stamps if s), key=parse, default=None)


def deployment_polls(ctx: Ctx, docs: list[Doc], now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """``status``, ``last_polled`` and ``updated`` of each deployment as the reference would
    report them (module docstring): its own, its queue's (when stored READY) and its poll records'
    ``last_polled``, newest wins. One BatchGetItem per table for the whole page, none when no
    deployment has been polled."""
    now = now or ctx.now()
    queue_ids = sorted({d["work_queue_id"] for d in docs if d.get("status") == "READY" and d.get("work_queue_id")})
    set_ids = sorted({s for d in docs for s in d.get("_poll_sets") or ()})
    queues = {q["id"]: q for q in ctx.stores.work_queues.get_many(queue_ids)} if queue_ids else {}
    records = {r["id"]: r for r in ctx.stores.poll_records.get_many(set_ids)} if set_ids else {}
    timeout = dt.timedelta(seconds=ctx.settings.foreman_deployment_last_polled_timeout_seconds)
    out = []
    for d in docs:
        polled = d.get("status") == "READY"
        stamps = [d.get("last_polled")]
        if polled and d.get("work_queue_id") in queues:
            stamps.append(queues[d["work_queue_id"]].get("last_polled"))
        for set_id in d.get("_poll_sets") or ():
            if (stamp := (records.get(set_id) or {}).get("last_polled")) is not None:
                stamps.append(stamp)
                polled = True
        last = _newest(stamps)
        status = d.get("status")
        if polled:
            status = "READY" if last and now - parse(last) <= timeout else "NOT_READY"
        out.append({"status": status, "last_polled": last, "updated": _newest([d.get("updated"), last])})
    return out


def keep_queue_poll(deployment: Doc, queue: Doc | None) -> None:
    """A deployment leaving ``queue`` keeps the ``last_polled`` it had from it (stored READY only)."""
    if deployment.get("status") == "READY" and queue is not None:
        deployment["last_polled"] = _newest([deployment.get("last_polled"), queue.get("last_polled")])


def carry_over(ctx: Ctx, before: Doc | None, after: Doc) -> None:
    """A deployment rewritten (upsert, PATCH) keeps its poll bookkeeping: its poll-record pointers,
    and, when it moves to another queue, the ``last_polled`` its old queue gave it."""
    if before is None:
        return
    if before.get("_poll_sets"):
        after["_poll_sets"] = before["_poll_sets"]
    old_queue = before.get("work_queue_id")
    if old_queue and old_queue != after.get("work_queue_id") and before.get("status") == "READY":
        keep_queue_poll(after, ctx.stores.work_queues.get(old_queue))


# ------------------------------------------------------------------------------------- helpers


def _sched_key(run: Doc) -> str:
    return sort_key(parse(run["next_scheduled_start_time"]))


def _earliest(rows: Iterable[Doc], n: int) -> list[Doc]:
    """The first ``n`` runs of a time-ordered stream by (next_scheduled_start_time, id): reads
    past the n-th only while the time ties, so the cut is exact."""
    out: list[Doc] = []
    if n <= 0:
        return out
    for run in rows:
        if len(out) >= n and _sched_key(run) != _sched_key(out[n - 1]):
            break
        out.append(run)
    out.sort(key=lambda r: (_sched_key(r), r["id"]))
    return out[:n]


def _count_active(ctx: Ctx, index: str, key: str, types: frozenset[str]) -> int:
    return sum(1 for r in ctx.stores.flow_runs.query(index, key) if r.get("state_type") in types)


def core_flow_run(doc: Doc, now: dt.datetime) -> dict[str, Any]:
    """The core ``FlowRun`` of a worker poll item: the stored ``work_queue_name``, ``state``
    null (quirk Q13)."""
    from domain.services import flow_runs

    wire = flow_runs.to_wire(doc, now)
    out = {k: wire.get(k) for k in CORE_FLOW_RUN_KEYS}
    out["work_queue_name"] = doc.get("work_queue_name")
    out["state"] = None
    return out


def _not_in_process(run: Doc) -> bool:
    return (run.get("empirical_policy") or {}).get("retry_type") != "in_process"


# --------------------------------------------------------------------------------- worker poll


def get_scheduled_flow_runs(ctx: Ctx, pool_name: str, body: WorkerPoll) -> tuple[list[dict[str, Any]], Poll]:
    """POST /work_pools/{name}/get_scheduled_flow_runs (§1.9). Returns (response, what to record)."""
    from domain.services import work_pools, work_queues
    from domain.services.queries import check_limit

    limit = check_limit(ctx, body.limit)
    pool = work_pools.get_pool_or_404(ctx, pool_name)
    names = list(dict.fromkeys(body.work_queue_names or []))
    if names:
        queues = []
        for name in names:
            queue = work_queues.find_in_pool(ctx, pool["id"], name)
            if queue is None:
                raise work_queues.not_found_in_pool(pool_name, name)
            queues.append(queue)
    else:
        queues = work_queues.pool_queues(ctx, pool["id"])
    now = ctx.now()
    picked = [] if pool.get("is_paused") else _pick(ctx, pool, queues, body, limit, all_queues=not names)
    response = [{"work_pool_id": pool["id"], "work_queue_id": queue["id"], "flow_run": core_flow_run(run, now)}
                for queue, run in picked]
    return response, Poll(queues=queues, now=now)


def _pick(ctx: Ctx, pool: Doc, queues: list[Doc], body: WorkerPoll, limit: int, *,
          all_queues: bool) -> list[tuple[Doc, Doc]]:
    from domain.services import work_queues

    active: dict[str, int] = {}

    def active_in(queue_id: str) -> int:
        if queue_id not in active:
            active[queue_id] = _count_active(ctx, "active_by_work_queue", queue_id, WORKER_ACTIVE_TYPES)
        return active[queue_id]

    pool_cap = min(limit, MAX_RUNS_PER_POOL)
    if pool.get("concurrency_limit") is not None:
        counted = queues if all_queues else work_queues.pool_queues(ctx, pool["id"])
        pool_cap = min(pool_cap, max(0, pool["concurrency_limit"] - sum(active_in(q["id"]) for q in counted)))
    if pool_cap <= 0:
        return []
    before = sort_key(body.scheduled_before) if body.scheduled_before else None
    after = sort_key(body.scheduled_after) if body.scheduled_after else None
    picked: list[tuple[Doc, Doc]] = []
    for queue in queues:
        if queue.get("is_paused"):
            continue
        cap = min(pool_cap, MAX_RUNS_PER_QUEUE)
        if queue.get("concurrency_limit") is not None:
            cap = min(cap, max(0, queue["concurrency_limit"] - active_in(queue["id"])))
        if cap <= 0:
            continue
        rows = ctx.stores.flow_runs.query("scheduled_by_work_queue", queue["id"], sk_lte=before, sk_gte=after)
        picked.extend((queue, run) for run in _earliest(filter(_not_in_process, rows), cap))
    picked.sort(key=lambda qr: (qr[0].get("priority") or 0, _sched_key(qr[1]), qr[1]["id"]))
    return picked[:pool_cap]


# ---------------------------------------------------------------------------------- agent poll


def get_runs(ctx: Ctx, queue_id: str, body: AgentPoll) -> tuple[list[dict[str, Any]], Poll]:
    """POST /work_queues/{id}/get_runs (§1.10). Returns (FlowRunResponses, what to record)."""
    from domain.services import flow_runs, work_queues
    from domain.services.queries import check_limit

    limit = check_limit(ctx, body.limit)
    queue = work_queues.read_queue(ctx, queue_id)
    if queue is None:
        raise queue_not_found(queue_id)
    now = ctx.now()
    if queue.get("is_paused"):
        runs: list[Doc] = []
    elif queue.get("filter") is None:
        runs = _runs_by_queue_name(ctx, queue, body, limit)
    else:
        runs = _runs_by_legacy_filter(ctx, queue, body, limit)
    return [flow_runs.to_wire(r, now) for r in runs], Poll(queues=[queue], now=now)


def _runs_by_queue_name(ctx: Ctx, queue: Doc, body: AgentPoll, limit: int) -> list[Doc]:
    cap = limit
    if queue.get("concurrency_limit") is not None:
        busy = _count_active(ctx, "active_by_work_queue_name", queue["name"], AGENT_ACTIVE_TYPES)
        cap = min(cap, max(0, queue["concurrency_limit"] - busy))
    if cap <= 0:
        return []
    before = sort_key(body.scheduled_before) if body.scheduled_before else None
    return _earliest(ctx.stores.flow_runs.query("scheduled_by_work_queue_name", queue["name"], sk_lte=before), cap)


def _runs_by_legacy_filter(ctx: Ctx, queue: Doc, body: AgentPoll, limit: int) -> list[Doc]:
    """The deprecated tag/deployment queue: runs with every filter tag and a deployment (one of
    ``deployment_ids`` when given), SCHEDULED, due before ``scheduled_before``."""
    from domain.filters import FlowRunFilter

    f = queue["filter"] or {}
    dep_ids = f.get("deployment_ids")
    run_filter = FlowRunFilter.model_validate({
        "tags": {"all_": f.get("tags")}, "deployment_id": {"any_": dep_ids, "is_null_": False},
    })
    cap = limit
    if queue.get("concurrency_limit") is not None:
        busy = sum(1 for t in sorted(WORKER_ACTIVE_TYPES)
                   for r in every(ctx.stores.flow_runs, "by_state_type_sharded", t) if run_filter.matches(r))
        cap = min(cap, max(0, queue["concurrency_limit"] - busy))
    if cap <= 0:
        return []
    before = sort_key(body.scheduled_before) if body.scheduled_before else None
    if dep_ids is not None:
        rows: Iterator[Doc] = itertools.chain.from_iterable(
            ctx.stores.flow_runs.query("scheduled_by_deployment", str(d), sk_lte=before) for d in dict.fromkeys(dep_ids))
    else:
        rows = (r for r in every(ctx.stores.flow_runs, "by_state_type_sharded", "SCHEDULED")
                if r.get("next_scheduled_start_time") and (before is None or _sched_key(r) <= before))
    matching = sorted((r for r in rows if run_filter.matches(r)), key=lambda r: (_sched_key(r), r["id"]))
    return matching[:cap]


# -------------------------------------------------------------------------------- bookkeeping


def _fresh(doc: Doc, now: dt.datetime) -> bool:
    polled = doc.get("last_polled")
    return bool(polled) and now - parse(polled) < POLL_WRITE_INTERVAL


def record(ctx: Ctx, poll: Poll) -> None:
    """After a worker/agent poll: the queues' poll records (at most one write per queue and
    ``POLL_WRITE_INTERVAL``), then the deployments on them that were never polled since they joined
    (stored NOT_READY: a sparse index, usually an empty Query), each written once."""
    now = poll.now or ctx.now()
    record_queue_polls(ctx, poll.queues, now)
    newcomers: dict[str, Doc] = {}
    for queue_id in dict.fromkeys(q["id"] for q in poll.queues):
        for dep in ctx.stores.deployments.query("not_ready_by_work_queue", queue_id):
            newcomers.setdefault(dep["id"], dep)
    mark_deployments_polled(ctx, list(newcomers.values()), now)


def record_deployment_poll(ctx: Ctx, dep_ids: list[str], now: dt.datetime | None = None) -> None:
    """After a ``flow.serve()`` poll of ``dep_ids``: one GetItem of the set's poll record, and one
    write of it unless it is fresh. A set seen for the first time first gives each of its
    deployments a pointer to the record (``_poll_sets``, newest first, at most ``MAX_POLL_SETS``)
    along with ``status = READY``, ``last_polled = now``: the record is written only once every
    pointer is, so an existing record means its deployments point to it."""
    if not dep_ids:
        return
    now = now or ctx.now()
    set_id = poll_set_id(dep_ids)
    record_doc = ctx.stores.poll_records.get(set_id)
    if record_doc is not None and _fresh(record_doc, now):
        return
    if record_doc is None:
        mark_deployments_polled(ctx, ctx.stores.deployments.get_many(dep_ids), now, poll_set=set_id)
    ctx.stores.poll_records.put({"id": set_id, "last_polled": iso_utc(now), "deployments": len(set(dep_ids))})


def record_queue_polls(ctx: Ctx, queues: Iterable[Doc], now: dt.datetime) -> list[str]:
    """``last_polled = now`` (NOT_READY -> READY), skipped while fresh (module docstring).
    Returns the ids of the queues written."""
    from domain.ports import epoch_us

    stamp = iso_utc(now)
    written = []
    for doc in {q["id"]: q for q in queues}.values():
        for _ in range(2):
            if doc.get("status") != "NOT_READY" and _fresh(doc, now):
                break
            new = {**doc, "last_polled": stamp, "updated": stamp}
            if doc.get("status") == "NOT_READY":
                new["status"] = "READY"
            try:
                ctx.stores.work_queues.put(new, cond=Cond.eq("updated_us", epoch_us(doc.get("updated"))))
                written.append(doc["id"])
                break
            except ConditionFailed:  # changed since read: apply to the current version once more
                doc = ctx.stores.work_queues.get(doc["id"])
                if doc is None:
                    break
    return written


def mark_deployments_polled(ctx: Ctx, deployments: Iterable[Doc], now: dt.datetime | None = None, *,
                            poll_set: str | None = None) -> None:
    """Deployments covered by a poll: ``status = READY``, ``last_polled = now`` (bumps
    ``updated``), and with ``poll_set`` a pointer to that poll record. Skipped when that changes
    nothing within ``POLL_WRITE_INTERVAL``. One conditional put per deployment on its revision, a
    re-read only when a concurrent write won."""
    from domain.services.deployments import mutate

    now = now or ctx.now()
    stamp = iso_utc(now)

    def change(d: Doc) -> None:
        d["status"] = "READY"
        d["last_polled"] = stamp
        d["updated"] = stamp
        if poll_set is not None:
            sets = [poll_set, *(s for s in d.get("_poll_sets") or () if s != poll_set)]
            d["_poll_sets"] = sets[:MAX_POLL_SETS]

    for doc in deployments:
        if (doc.get("status") == "READY" and _fresh(doc, now)
                and (poll_set is None or poll_set in (doc.get("_poll_sets") or ()))):
            continue
        rev = doc.get("_rev", 0)
        new = dict(doc)
        change(new)
        new["_rev"] = rev + 1
        try:
            try:
                ctx.stores.deployments.put(new, cond=Cond.eq("rev", rev))
            except ConditionFailed:
                mutate(ctx, doc["id"], change)
        except Exception:  # noqa: BLE001 - polling must not fail on bookkeeping (incl. a deleted deployment)
            continue


# ------------------------------------------------------------------------------- queue status


def queue_health(ctx: Ctx, queue_id: str) -> dict[str, Any]:
    """GET /work_queues/{id}/status: late runs (state named ``Late``, by ``work_queue_id``) and
    the last poll; healthy = no late run and polled within the last 60 s."""
    from domain.services import work_queues

    queue = work_queues.read_queue(ctx, queue_id)
    if queue is None:
        raise queue_not_found(queue_id, period=False)
    late = sum(1 for _ in ctx.stores.flow_runs.query("late_by_work_queue", queue_id))
    polled = queue.get("last_polled")
    # the reference compares whole seconds (pendulum ``in_seconds``)
    healthy = (late <= HEALTH_CHECK_POLICY["maximum_late_runs"] and polled is not None
               and int((ctx.now() - parse(polled)).total_seconds())
               <= HEALTH_CHECK_POLICY["maximum_seconds_since_last_polled"])
    return {"healthy": healthy, "late_runs_count": late, "last_polled": polled,
            "health_check_policy": dict(HEALTH_CHECK_POLICY)}
