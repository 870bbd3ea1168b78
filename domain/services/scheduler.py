"""The scheduler (spec §6.1, DESIGN.md "Scheduling"): its cost follows the work that is due.

A deployment that can need runs carries ``_due_at`` and sits on the sparse ``due`` index (every
write that can change its runs sets ``due_at = now``: ``deployments.set_due``). A tick:

1. Queries ``due`` with ``due_at <= now``, one Query per shard (``settings.due_shards``, default 1)
   — with nothing due that single request is the whole tick.
2. Takes the due deployments in pages of ``PREFECT_API_SERVICES_SCHEDULER_DEPLOYMENT_BATCH_SIZE``,
   re-reads each page with one consistent BatchGetItem (the index is eventually consistent; a
   deployment another tick just handled is no longer due and is skipped).
3. Applies Prefect's selection rule (§6.1) per deployment: not paused, at least one active
   schedule, and — counting its future (``next_scheduled_start_time >= now``) auto-scheduled
   SCHEDULED runs, one Query on ``scheduled_by_deployment`` — fewer than MIN_RUNS of them or the
   latest earlier than ``now + MIN_SCHEDULED_TIME``.
4. Materialises the selected ones per §5.4 (start now, end now + MAX_SCHEDULED_TIME, MIN_RUNS,
   MIN_SCHEDULED_TIME, MAX_RUNS; ``scheduling``), inserting the runs idempotently — a conditional
   put per run on its deterministic id, in chunks of ``…_INSERT_BATCH_SIZE`` issued concurrently.
5. Moves ``_due_at`` to the moment the deployment will next qualify (``next_due``) — or removes it
   when the deployment is paused or has no active schedule — with a full-document put conditioned
   on the revision it read (``rev``), bumping it. A concurrent change (which set ``due_at = now``)
   therefore wins: the put fails and the deployment stays due.

Stale runs (a deployment write racing a tick): writers put the deployment, then delete its
auto-scheduled SCHEDULED runs. The revision-conditioned put of step 5 comes *after* the inserts of
step 4, so it doubles as the check: if it succeeds, no write happened between our read and our
inserts, and any later write's delete comes after the inserts and removes them; if it fails, we
re-read the deployment and delete (conditionally on state type SCHEDULED, so a run that moved on is
never touched) every run this tick created that the deployment as it is now would not build
identically (``scheduling.discard_stale``). The writer left ``due_at = now``, so the next tick — or
the stream fast path, seconds later — refills per the new version.

Settling (a tick landing *inside* a write): a tick that reads the deployment after a writer's put
but before the writer's delete has finished sees runs that are about to vanish, and may have some of
its own fresh inserts deleted by it. Its revision check passes — the deployment did not change
again — so on its own it would move ``due_at`` past the holes. Hence a deployment written by someone
else since the scheduler's last look (``_rev != _sched_rev``) is handled like the reference's
RecentDeploymentsScheduler handles a just-updated one (§6.2): materialised *regardless* of the
selection rule (idempotent; it fills holes), and its ``due_at`` is capped at ``now + SETTLE`` for a
second such pass (``_sched_settle``) once any in-flight delete is over (API functions time out
after 29 s). That costs one Query and one put per deployment change. Both passes also remove
leftovers the writer's delete missed — on DynamoDB its Query reads an eventually consistent index,
which may not show runs inserted an instant before the write: pristine (``rev`` 0, so never moved
on nor edited) auto-scheduled runs that the current version would build differently
(``scheduling.leftovers``), deleted on condition ``rev = 0`` and re-planned. (A schedule change
cannot be told from a backfill this way; for it the writer's delete is the only cleaner.)

Concurrent ticks and ``POST …/schedule`` can only race to create the same deterministic ids, so
they never duplicate; the loser's conditional put fails and nothing is overwritten.

A failure on one deployment is logged and skipped (it stays due and is retried next tick).
``process_deployments`` is the fast path: the same processing for given deployment ids (a
DynamoDB stream batch of the Deployments table), skipping those that are not due.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, Any

from domain.context import Ctx
from domain.errors import ConditionFailed
from domain.ports import Cond
from domain.timeutil import parse, sort_key

if TYPE_CHECKING:
    from domain.services import scheduling

# ``scheduling`` (schedules, run shapes, pydantic) and ``deployments`` are imported on first use:
# a tick with nothing due needs neither, and it is what runs every minute.

log = logging.getLogger("flowplane.scheduler")

EPSILON = dt.timedelta(microseconds=1)  # sort keys have microsecond resolution
SETTLE = dt.timedelta(seconds=30)  # second look after someone else's write (module docstring)
DEFAULT_WORKERS = 8  # concurrent DynamoDB requests within one tick


# ---------------------------------------------------------------------------------------- results


@dataclass
class Outcome:
    """What a tick did with one due deployment."""

    id: str
    name: str | None = None
    # scheduled: runs created · satisfied: enough runs, only due_at moved · cleared: paused or no
    # active schedule, taken off the index · superseded: changed concurrently, left due ·
    # failed: error logged, left due · not_due: no longer due when read
    action: str = ""
    scheduled: list[str] = field(default_factory=list)  # scheduled_time (schedule zone) of created runs
    due_at: str | None = None
    stale_removed: int = 0
    error: str | None = None


@dataclass
class TickResult:
    scheduled: int = 0  # runs created
    deployments: int = 0  # due deployments examined
    materialised: int = 0  # deployments that got runs
    satisfied: int = 0
    cleared: int = 0
    superseded: int = 0
    failed: int = 0
    stale_removed: int = 0
    incomplete: bool = False  # stopped at the time budget; the rest stays due
    outcomes: list[Outcome] = field(default_factory=list)

    def add(self, o: Outcome) -> None:
        self.outcomes.append(o)
        if o.action == "not_due":
            return
        self.deployments += 1
        self.scheduled += len(o.scheduled)
        self.stale_removed += o.stale_removed
        if o.scheduled:
            self.materialised += 1
        if o.action in ("satisfied", "cleared", "superseded", "failed"):
            setattr(self, o.action, getattr(self, o.action) + 1)

    def summary(self) -> dict[str, Any]:
        return {
            "scheduled": self.scheduled, "deployments": self.deployments, "materialised": self.materialised,
            "satisfied": self.satisfied, "cleared": self.cleared, "superseded": self.superseded,
            "failed": self.failed, "stale_removed": self.stale_removed, "incomplete": self.incomplete,
        }


# ------------------------------------------------------------------------------------- selection


def needs_runs(future_runs: list[dt.datetime], now: dt.datetime, *, min_runs: int, min_time: dt.timedelta) -> bool:
    """Spec §6.1 over a deployment's future auto-scheduled SCHEDULED runs (sorted start times)."""
    if len(future_runs) < min_runs:
        return True
    return bool(future_runs) and future_runs[-1] < now + min_time


def next_due(now: dt.datetime, future_runs: list[dt.datetime], plan: list[tuple[Any, list[dt.datetime]]],
             window: scheduling.Window, *, min_runs: int, min_time: dt.timedelta,
             max_time: dt.timedelta) -> dt.datetime:
    """When the deployment will next need the scheduler, given its future auto-scheduled runs
    (after this tick's inserts) and the plan this tick computed.

    * Enough runs: the first instant the selection rule holds again — just after the run that
      leaves fewer than ``min_runs`` in the future passes, or just after the latest run comes
      within ``min_time`` of now — whichever is first.
    * Still short (the schedules could not produce more, e.g. a 60-day interval has two dates in
      100 days, or a cancelled run holds a slot): the first instant a tick could create something
      new — a planned slot passes (the plan shifts by one), the last planned slot falls within
      ``min_time`` (the plan must extend), or the next date beyond the window end enters the
      ``max_time`` horizon. With no such instant (exhausted schedules): ``now + min_time``.
    """
    from domain.schedules import get_dates

    candidates: list[dt.datetime] = []
    if not needs_runs(future_runs, now, min_runs=min_runs, min_time=min_time):
        if min_runs > 0:
            candidates.append(future_runs[-min_runs] + EPSILON)
        if future_runs:
            candidates.append(future_runs[-1] - min_time + EPSILON)
    else:
        for schedule, dates in plan:
            if dates:
                candidates.append(min(dates) + EPSILON)
                extend_at = max(dates) - min_time + EPSILON
                if extend_at > now:
                    candidates.append(extend_at)
            beyond = get_dates(schedule, n=1, start=window.end + EPSILON)
            if beyond:
                candidates.append(beyond[0] - max_time)
    if not candidates:
        return now + min_time
    return max(min(candidates), now + EPSILON)


# ------------------------------------------------------------------------------------ processing


@dataclass
class _Work:
    doc: dict
    now: dt.datetime
    outcome: Outcome
    window: scheduling.Window | None = None
    clear: bool = False
    written: bool = False  # someone else wrote the deployment since the scheduler's last look
    future: list[dt.datetime] = field(default_factory=list)  # existing future auto-scheduled runs
    plan: list[tuple[Any, list[dt.datetime]]] = field(default_factory=list)
    runs: list[dict] = field(default_factory=list)  # built, not yet known to exist
    created: list[dict] = field(default_factory=list)
    failed: bool = False

    def fail(self, exc: BaseException) -> None:
        if not self.failed:
            log.error("scheduler: deployment %s failed: %r", self.doc.get("id"), exc, exc_info=exc)
        self.failed = True
        self.outcome.action = "failed"
        self.outcome.error = repr(exc)


def _is_due(doc: dict, now: dt.datetime) -> bool:
    due = doc.get("_due_at")
    return bool(due) and due <= sort_key(now)


def _has_active_schedule(doc: dict) -> bool:
    return any(s.get("active") for s in doc.get("schedules") or [])


def _prepare(ctx: Ctx, work: _Work) -> _Work:
    """Selection rule and plan for one deployment (one Query when it has an active schedule)."""
    from domain.services import scheduling

    try:
        doc, now, s = work.doc, work.now, ctx.settings
        if doc.get("paused") or not _has_active_schedule(doc):
            work.clear = True
            return work
        existing = [r for r in ctx.stores.flow_runs.query("scheduled_by_deployment", doc["id"], sk_gte=sort_key(now))
                    if r.get("auto_scheduled") and r.get("state_type") == "SCHEDULED"]
        work.window = scheduling.default_window(ctx, start=now)
        work.written = doc.get("_rev", 0) != doc.get("_sched_rev")
        recent = work.written or doc.get("_sched_settle")  # §6.2: no "needs runs" condition
        runs: list[dict] | None = None
        if recent:  # runs of a replaced version that the writer's delete missed (module docstring)
            work.plan = scheduling.planned_by_schedule(doc, work.window)
            runs = scheduling.build_runs(doc, [d for _, dates in work.plan for d in dates], now)
            stale = scheduling.leftovers(doc, existing, now, built=runs)
            if stale:
                gone = set(scheduling.delete_pristine(ctx, [r["id"] for r in stale]))
                work.outcome.stale_removed += len(gone)
                existing = [r for r in existing if r["id"] not in gone]
        work.future = sorted(parse(r["next_scheduled_start_time"]) for r in existing)
        if not recent and not needs_runs(work.future, now, min_runs=s.scheduler_min_runs,
                                         min_time=s.scheduler_min_scheduled_time):
            return work
        if runs is None:
            work.plan = scheduling.planned_by_schedule(doc, work.window)
            runs = scheduling.build_runs(doc, [d for _, dates in work.plan for d in dates], now)
        have = {r["id"] for r in existing}
        work.runs = [r for r in runs if r["id"] not in have]
    except Exception as exc:  # noqa: BLE001 - one deployment must not stop the tick
        work.fail(exc)
    return work


def _put_run(ctx: Ctx, run: dict) -> bool | BaseException:
    from domain.services import scheduling

    try:
        return scheduling.put_absent(ctx, run)
    except Exception as exc:  # noqa: BLE001 - reported against its deployment
        return exc


def _insert(ctx: Ctx, works: list[_Work], pool: Any) -> None:
    """Conditional puts of every built run, ``INSERT_BATCH_SIZE`` at a time, concurrently."""
    jobs = [(w, r) for w in works if not w.failed for r in w.runs]
    size = max(1, ctx.settings.scheduler_insert_batch_size)
    for i in range(0, len(jobs), size):
        chunk = jobs[i:i + size]
        for (w, run), res in zip(chunk, pool.map(lambda job: _put_run(ctx, job[1]), chunk), strict=True):
            if res is True:
                w.created.append(run)
            elif isinstance(res, BaseException):
                w.fail(res)


def _zone_time(run: dict) -> str:
    return run["state"]["state_details"]["scheduled_time"]


def _finish(ctx: Ctx, work: _Work) -> _Work:
    """Move (or clear) ``_due_at`` with the revision condition; on conflict, discard stale runs."""
    from domain.services import scheduling
    from domain.services.deployments import set_due

    if work.failed:
        return work
    doc, now, s, o = work.doc, work.now, ctx.settings, work.outcome
    try:
        o.scheduled = [_zone_time(r) for r in work.created]
        rev = doc.get("_rev", 0)
        new = dict(doc)
        if work.clear:
            set_due(ctx, new)  # not active -> off the index
            o.action = "cleared"
        else:
            future = sorted([*work.future, *(parse(r["next_scheduled_start_time"]) for r in work.created)])
            when = next_due(now, future, work.plan, work.window, min_runs=s.scheduler_min_runs,
                            min_time=s.scheduler_min_scheduled_time, max_time=s.scheduler_max_scheduled_time)
            new.pop("_sched_settle", None)
            if work.written:  # written by someone else since our last look: settle (module docstring)
                when = min(when, now + SETTLE)
                new["_sched_settle"] = True
            set_due(ctx, new, when)
            o.due_at = new.get("_due_at")
            o.action = "scheduled" if work.created else "satisfied"
        new["_rev"] = new["_sched_rev"] = rev + 1
        try:
            ctx.stores.deployments.put(new, cond=Cond.eq("rev", rev))
        except ConditionFailed:
            o.action, o.due_at = "superseded", None
            if work.created:
                gone = set(scheduling.discard_stale(ctx, doc, work.window, work.created, now))
                o.stale_removed += len(gone)
                o.scheduled = [_zone_time(r) for r in work.created if r["id"] not in gone]
    except Exception as exc:  # noqa: BLE001
        work.fail(exc)
    return work


def _process(ctx: Ctx, docs: list[dict], result: TickResult, pool: Any) -> None:
    works = []
    for doc in docs:
        now = ctx.now()
        outcome = Outcome(id=doc["id"], name=doc.get("name"))
        if not _is_due(doc, now):
            outcome.action = "not_due"
            result.add(outcome)
            continue
        works.append(_Work(doc=doc, now=now, outcome=outcome))
    works = list(pool.map(lambda w: _prepare(ctx, w), works))
    _insert(ctx, works, pool)
    works = list(pool.map(lambda w: _finish(ctx, w), works))
    for w in works:
        result.add(w.outcome)


class _Serial:
    def map(self, fn, items):
        return [fn(i) for i in items]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _executor(workers: int):
    if workers <= 1:
        return _Serial()
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scheduler")


def _pages(items: Iterator[Any] | Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(items)
    while True:
        page = list(islice(it, size))
        if not page:
            return
        yield page
        if len(page) < size:
            return


def _log(result: TickResult, what: str) -> None:
    if result.scheduled or result.failed:
        log.info("%s: Scheduled %d runs (%d deployments examined, %d failed).", what, result.scheduled,
                 result.deployments, result.failed)


def tick(ctx: Ctx, *, deadline: float | None = None, workers: int = DEFAULT_WORKERS) -> TickResult:
    """One scheduler pass over the due deployments. ``deadline`` (``time.monotonic()`` value)
    stops taking new pages; what is left stays due for the next tick."""
    result = TickResult()
    batch = max(1, ctx.settings.scheduler_deployment_batch_size)
    cutoff = sort_key(ctx.now())
    with _executor(workers) as pool:
        for shard in range(max(1, ctx.settings.due_shards)):
            rows = ctx.stores.deployments.query("due", str(shard), sk_lte=cutoff)
            for page in _pages(rows, batch):
                if deadline is not None and time.monotonic() > deadline:
                    result.incomplete = True
                    _log(result, "tick")
                    return result
                _process(ctx, ctx.stores.deployments.get_many([r["id"] for r in page]), result, pool)
    _log(result, "tick")
    return result


def process_deployments(ctx: Ctx, ids: Iterable[str], *, workers: int = DEFAULT_WORKERS) -> TickResult:
    """The fast path: process just these deployments, those that are due (e.g. just changed)."""
    result = TickResult()
    batch = max(1, ctx.settings.scheduler_deployment_batch_size)
    with _executor(workers) as pool:
        for page in _pages(list(dict.fromkeys(ids)), batch):
            _process(ctx, ctx.stores.deployments.get_many(page), result, pool)
    _log(result, "fast path")
    return result
