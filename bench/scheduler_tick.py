"""Benchmark (not a test): one scheduler tick with 1 000 and 10 000 deployments.

What is measured, per deployment count N (a third each: hourly interval, daily 09:00 New York cron,
15-minute interval — what a fleet of `flow.serve()` deployments looks like):

* ``all due``     — freshly created deployments, no runs: the tick materialises everything.
* ``settle``      — 31 s later: the second look every written deployment gets (no new runs).
* ``nothing due`` — steady state between due times. Goal: one DynamoDB request.
* ``top-up``      — the next hour boundary + 1 s: the hourly and 15-minute deployments each need
                    one run, the daily ones are not due.

Stores: DynamoDB requests are counted with a botocore hook on moto (in-process ``mock_aws``) — they
are deterministic and are what AWS bills. moto is a functional stand-in, not a performance model
(its Query reads the whole table), so moto runs only where it is not the bottleneck (1 000; and
``nothing due`` at 10 000). Wall time and runs/s of the scheduler's own work come from the
in-memory store (partition-indexed here, so the fake's scans do not dominate); its request count
per operation equals DynamoDB's except that a Query is one request however many 1 MB pages it
would span — the ``due`` Query's page count on DynamoDB is estimated from item bytes.

Reference: the Prefect 2.20.26 server's Scheduler service (``prefect.server.services.scheduler``,
``run_once``) on SQLite, same deployments and schedules, one loop from no runs (``all due``, repeated after
deleting the runs) and further loops (``nothing due``), run in the reference venv (``/work/prefect-ref`` or ``$PREFECT_REF_PYTHON``) in the same
run. Ratios are reference time / flowplane time (in-memory store), medians of ``--reps`` samples —
the machines are shared, single times are noise: >1 means flowplane is faster. For ``nothing
due`` the honest comparison is cost, not speed: one DynamoDB Query (single-digit ms on AWS, a
fixed request price) against the reference's selection join over every deployment and run.

Prints a table and writes ``bench/results/scheduler_tick.json``.
Usage: ``python bench/scheduler_tick.py [--sizes 1000 10000] [--no-reference] [--no-moto]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from domain.context import Ctx  # noqa: E402
from domain.ports import Stores  # noqa: E402
from domain.settings import Settings  # noqa: E402
from infra.memory import MemoryStore, check_size  # noqa: E402

UTC = dt.timezone.utc
RESULTS = ROOT / "bench" / "results" / "scheduler_tick.json"
REFERENCE_PYTHON = os.environ.get("PREFECT_REF_PYTHON", "/work/prefect-ref/bin/python")
SCHEDULES = [
    {"interval": 3600, "anchor_date": "2020-01-01T00:00:00+00:00", "timezone": "UTC"},
    {"cron": "0 9 * * *", "timezone": "America/New_York", "day_or": True},
    {"interval": 900, "anchor_date": "2020-01-01T00:05:00+00:00", "timezone": "UTC"},
]
MB = 1024 * 1024


# ------------------------------------------------------------------------------------ stores


class IndexedMemoryStore(MemoryStore):
    """The in-memory fake with per-partition GSI maps, so a Query costs its partition, not the table."""

    def __init__(self, spec):
        super().__init__(spec)
        self._parts: dict[str, dict[str, dict[str, str]]] = {ix.name: {} for ix in spec.indexes}

    def _unindex(self, id: str) -> None:
        cur = self._items.get(id)
        if cur is None:
            return
        attrs = cur[0]
        for ix in self.spec.indexes:
            pk = attrs.get(ix.pk_attr)
            if pk is not None:
                self._parts[ix.name].get(pk, {}).pop(id, None)

    def _index(self, id: str) -> None:
        attrs = self._items[id][0]
        for ix in self.spec.indexes:
            pk = attrs.get(ix.pk_attr)
            if pk is None or (ix.sk_attr and attrs.get(ix.sk_attr) is None):
                continue
            self._parts[ix.name].setdefault(pk, {})[id] = attrs.get(ix.sk_attr) if ix.sk_attr else ""

    def put(self, doc, *, cond=None):
        self.calls.append("PutItem")
        body = json.dumps(doc)
        check_size(self.spec.name, body)
        with self._lock:
            self._check(doc["id"], cond)
            self._unindex(doc["id"])
            self._items[doc["id"]] = (self.spec.project(doc), body)
            self._index(doc["id"])

    def put_many(self, docs):
        self.calls.append("BatchWriteItem")
        with self._lock:
            for d in docs:
                self._unindex(d["id"])
                self._items[d["id"]] = (self.spec.project(d), json.dumps(d))
                self._index(d["id"])

    def delete(self, id, *, cond=None):
        self.calls.append("DeleteItem")
        with self._lock:
            self._check(id, cond)
            self._unindex(id)
            return self._items.pop(id, None) is not None

    def query(self, index, pk, *, sk_lte=None, sk_gte=None, sk_begins=None, descending=False, limit=None):
        self.calls.append("Query")
        with self._lock:
            rows = []
            for id, sk in self._parts[index].get(pk, {}).items():
                if sk_lte is not None and not sk <= sk_lte:
                    continue
                if sk_gte is not None and not sk >= sk_gte:
                    continue
                if sk_begins is not None and not str(sk).startswith(sk_begins):
                    continue
                rows.append((sk, self._items[id][1]))
        rows.sort(key=lambda r: r[0], reverse=descending)
        for _, body in rows[:limit] if limit is not None else rows:
            yield json.loads(body)


class Clock:
    def __init__(self, at: dt.datetime):
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


def memory_ctx(clock: Clock) -> Ctx:
    return Ctx(stores=Stores.build(IndexedMemoryStore), settings=Settings(table_prefix="bench-"), clock=clock)


def memory_calls(ctx: Ctx) -> Counter:
    c = Counter()
    for name in ("deployments", "flow_runs"):
        c.update(getattr(ctx.stores, name).calls)
    return c


def reset_calls(ctx: Ctx) -> None:
    for name in ("deployments", "flow_runs"):
        getattr(ctx.stores, name).calls.clear()


# ----------------------------------------------------------------------------------- fixtures


def create_deployments(ctx: Ctx, n: int) -> None:
    from domain.services import deployments, flows
    from domain.services.deployment_models import DeploymentCreate

    flow, _ = flows.create(ctx, flows.FlowCreate(name="bench-flow"))
    for i in range(n):
        deployments.create(ctx, DeploymentCreate.model_validate({
            "name": f"deployment-{i:05d}", "flow_id": flow["id"], "tags": ["bench"],
            "schedules": [{"schedule": SCHEDULES[i % len(SCHEDULES)]}]}))


def due_query_pages(ctx: Ctx, now: dt.datetime) -> int:
    """DynamoDB returns at most 1 MB per Query page: pages the ``due`` Query would take."""
    from domain.timeutil import sort_key

    store = ctx.stores.deployments
    size = sum(len(store._items[i][1]) + 200 for i, sk in store._parts["due"].get("0", {}).items()
               if sk <= sort_key(now))
    return max(1, -(-size // MB))


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, (time.perf_counter() - t) * 1000


# --------------------------------------------------------------------------------- flowplane


def scenario_times(now: dt.datetime) -> dict[str, dt.datetime]:
    next_hour = (now + dt.timedelta(hours=1)).replace(minute=0, second=1, microsecond=0)
    return {"all due": now, "settle": now + dt.timedelta(seconds=31),
            "nothing due": now + dt.timedelta(seconds=40), "top-up": next_hour}


def snapshot(ctx: Ctx) -> dict:
    out = {}
    for name in ("flows", "deployments", "flow_runs"):
        st = getattr(ctx.stores, name)
        out[name] = (dict(st._items), {ix: {pk: dict(m) for pk, m in parts.items()} for ix, parts in st._parts.items()})
    return out


def restore(ctx: Ctx, snap: dict) -> None:
    for name, (items, parts) in snap.items():
        st = getattr(ctx.stores, name)
        st._items = dict(items)
        st._parts = {ix: {pk: dict(m) for pk, m in p.items()} for ix, p in parts.items()}


def median(xs: list[float]) -> float:
    xs = sorted(xs)
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2


def run_memory(n: int, now: dt.datetime, reps: int) -> list[dict]:
    from domain.services import scheduler

    clock = Clock(now - dt.timedelta(seconds=5))
    ctx = memory_ctx(clock)
    _, setup_ms = timed(lambda: create_deployments(ctx, n))
    fresh = snapshot(ctx)
    rows = []
    for name, at in scenario_times(now).items():
        samples = []
        for _rep in range(reps if name in ("all due", "nothing due") else 1):
            if name == "all due":
                restore(ctx, fresh)
            clock.at = at
            reset_calls(ctx)
            pages = due_query_pages(ctx, at)
            result, ms = timed(lambda: scheduler.tick(ctx))
            samples.append(ms)
        calls = memory_calls(ctx)
        requests = sum(calls.values()) + (pages - 1)  # extra 1 MB pages of the due Query
        rows.append(row("flowplane (memory)", n, name, result, median(samples), calls, requests, due_pages=pages,
                        samples_ms=[round(x, 3) for x in samples]))
    rows[0]["setup_ms"] = round(setup_ms)
    return rows


def run_moto(n: int, now: dt.datetime, scenarios: tuple[str, ...]) -> list[dict]:
    import boto3
    import botocore.client
    from moto import mock_aws

    from domain.services import scheduler
    from infra.dynamo.store import dynamo_stores
    from infra.template import create_tables

    calls: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self, operation_name, api_params):
        if self.meta.service_model.service_name == "dynamodb":
            calls.append(operation_name)
        return original(self, operation_name, api_params)

    # prepare the data on the in-memory store, then load it into moto with batch writes
    clock = Clock(now - dt.timedelta(seconds=5))
    mem = memory_ctx(clock)
    create_deployments(mem, n)
    times = scenario_times(now)
    first = scenarios[0]
    if first != "all due":  # bring the fleet to the state before ``first``
        for name, at in times.items():
            if name == first:
                break
            clock.at = at
            scheduler.tick(mem)

    rows = []
    botocore.client.BaseClient._make_api_call = recording
    try:
        with mock_aws():
            settings = Settings(table_prefix="bench-")
            create_tables(boto3.client("dynamodb", region_name=settings.region), settings)
            ctx = Ctx(stores=dynamo_stores(settings), settings=settings, clock=clock)
            for name in ("flows", "deployments", "flow_runs"):
                getattr(ctx.stores, name).put_many(getattr(mem.stores, name).dump())
            for name in scenarios:
                clock.at = times[name]
                calls.clear()
                result, ms = timed(lambda: scheduler.tick(ctx))
                c = Counter(calls)
                rows.append(row("flowplane (moto)", n, name, result, ms, c, sum(c.values())))
    finally:
        botocore.client.BaseClient._make_api_call = original
    return rows


def row(store, n, scenario, result, ms, calls, requests, **extra) -> dict:
    return {"store": store, "deployments": n, "scenario": scenario, "requests": requests,
            "by_operation": dict(sorted(calls.items())), "due": result.deployments, "runs": result.scheduled,
            "ms": round(ms, 3), "runs_per_s": round(result.scheduled / (ms / 1000)) if result.scheduled else None,
            **extra}


# --------------------------------------------------------------------------------- reference

REFERENCE_SCRIPT = r'''
import asyncio, datetime, json, os, sys, time
n = int(sys.argv[1])
from prefect.server.database.dependencies import provide_database_interface
from prefect.server import models, schemas
from prefect.server.services.scheduler import Scheduler
import sqlalchemy as sa

SCHEDULES = json.loads(sys.argv[2])

def make(s):
    if "cron" in s:
        return schemas.schedules.CronSchedule(cron=s["cron"], timezone=s["timezone"])
    return schemas.schedules.IntervalSchedule(interval=datetime.timedelta(seconds=s["interval"]),
                                              anchor_date=s["anchor_date"], timezone=s["timezone"])

async def main():
    db = provide_database_interface()
    await db.create_db()
    t = time.perf_counter()
    async with db.session_context(begin_transaction=True) as session:
        flow = await models.flows.create_flow(session=session, flow=schemas.core.Flow(name="bench-flow"))
        for i in range(n):
            await models.deployments.create_deployment(session=session, deployment=schemas.core.Deployment(
                name=f"deployment-{i:05d}", flow_id=flow.id, tags=["bench"],
                schedules=[schemas.core.DeploymentSchedule(schedule=make(SCHEDULES[i % len(SCHEDULES)]), active=True)]))
    setup = time.perf_counter() - t
    out = {"setup_ms": round(setup * 1000)}
    reps = int(sys.argv[3])

    async def count_runs():
        async with db.session_context() as session:
            return (await session.execute(sa.select(sa.func.count()).select_from(db.FlowRun))).scalar()

    async def loop_once():
        # run_once, not start(loops=1): LoopService.start logs and swallows errors, and a loop
        # that failed must not pass for a fast one
        service = Scheduler(handle_signals=False)
        t = time.perf_counter()
        await service.run_once()
        return (time.perf_counter() - t) * 1000

    samples = []
    for rep in range(reps):
        if rep:  # back to "no runs": every deployment is due again
            async with db.session_context(begin_transaction=True) as session:
                await session.execute(sa.delete(db.FlowRunState))
                await session.execute(sa.delete(db.FlowRun))
        samples.append(await loop_once())
        runs = await count_runs()
    out["all due"] = {"samples_ms": [round(x, 1) for x in samples], "runs": runs}
    samples = [await loop_once() for _ in range(reps)]
    out["nothing due"] = {"samples_ms": [round(x, 1) for x in samples], "runs": await count_runs() - runs}
    print(json.dumps(out))

asyncio.run(main())
'''


def run_reference(n: int, reps: int, timeout: float) -> dict:
    if not pathlib.Path(REFERENCE_PYTHON).exists():
        return {"error": f"no reference venv at {REFERENCE_PYTHON} (set PREFECT_REF_PYTHON)"}
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "PREFECT_HOME": home, "PREFECT_LOGGING_LEVEL": "WARNING",
               "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home}/ref.db"}
        try:
            proc = subprocess.run([REFERENCE_PYTHON, "-c", REFERENCE_SCRIPT, str(n), json.dumps(SCHEDULES), str(reps)],
                                  capture_output=True, text=True, timeout=timeout, env=env, cwd=home)
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {timeout:.0f} s"}
    if proc.returncode != 0:
        return {"error": (proc.stderr or proc.stdout).strip().splitlines()[-1:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------- report


def table(rows: list[dict]) -> str:
    head = f"{'store':<22}{'N':>7}  {'scenario':<12}{'requests':>9}{'due':>7}{'runs':>7}{'ms':>10}{'runs/s':>9}  by operation"
    lines = [head, "-" * len(head)]
    for r in rows:
        ops = ", ".join(f"{k} {v}" for k, v in r.get("by_operation", {}).items())
        if r.get("due_pages", 1) > 1:
            ops += f" (+{r['due_pages'] - 1} due-Query pages)"
        req = "" if r.get("requests") is None else r["requests"]
        due = "" if r.get("due") is None else r["due"]
        rps = r.get("runs_per_s") or ""
        lines.append(f"{r['store']:<22}{r['deployments']:>7}  {r['scenario']:<12}{req:>9}{due:>7}{r['runs']:>7}"
                     f"{r['ms']:>10.2f}{rps:>9}  {ops}")
    lines.append("ms: median of the samples in the JSON (all due / nothing due repeated --reps times)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    p.add_argument("--no-reference", action="store_true")
    p.add_argument("--no-moto", action="store_true")
    p.add_argument("--reference-timeout", type=float, default=3600)
    p.add_argument("--reps", type=int, default=3, help="repetitions of 'all due' and 'nothing due' (median)")
    args = p.parse_args(argv)

    import logging

    logging.getLogger("flowplane").setLevel(logging.WARNING)
    now = dt.datetime.now(UTC).replace(microsecond=0)
    rows: list[dict] = []
    reference: dict[int, dict] = {}
    for n in args.sizes:
        print(f"· flowplane, in-memory store, {n} deployments …", file=sys.stderr, flush=True)
        rows += run_memory(n, now, args.reps)
        if not args.no_moto:
            scenarios = ("all due", "settle", "nothing due") if n <= 1000 else ("nothing due",)
            print(f"· flowplane, moto, {n} deployments ({', '.join(scenarios)}) …", file=sys.stderr, flush=True)
            rows += run_moto(n, now, scenarios)
        if not args.no_reference:
            print(f"· reference Scheduler (prefect 2.20.26, SQLite), {n} deployments …", file=sys.stderr, flush=True)
            reference[n] = run_reference(n, args.reps, args.reference_timeout)
            ref = reference[n]
            if "error" not in ref:
                for name in ("all due", "nothing due"):
                    ms = median(ref[name]["samples_ms"])
                    ref[name]["ms"] = ms
                    runs = ref[name]["runs"]
                    rows.append({"store": "reference (SQLite)", "deployments": n, "scenario": name, "requests": None,
                                 "by_operation": {}, "due": None, "runs": runs, "ms": ms,
                                 "runs_per_s": round(runs / (ms / 1000)) if runs else None,
                                 "samples_ms": ref[name]["samples_ms"]})

    ratios = []
    for n, ref in reference.items():
        if "error" in ref:
            continue
        for name in ("all due", "nothing due"):
            ours = next(r for r in rows if r["store"] == "flowplane (memory)" and r["deployments"] == n
                        and r["scenario"] == name)
            ratios.append({"deployments": n, "scenario": name, "reference_ms": ref[name]["ms"], "flowplane_ms": ours["ms"],
                           "reference_over_flowplane": round(ref[name]["ms"] / ours["ms"], 1) if ours["ms"] else None})

    print(table(rows))
    if ratios:
        print("\nreference Scheduler time / flowplane tick time (same machine, same run; >1 = flowplane faster)")
        for r in ratios:
            print(f"  {r['deployments']:>6} deployments  {r['scenario']:<12} {r['reference_ms']:>10.1f} ms / "
                  f"{r['flowplane_ms']:>8.2f} ms = {r['reference_over_flowplane']}x")
    for n, ref in reference.items():
        if "error" in ref:
            print(f"\nreference at {n}: not measured — {ref['error']}")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "benchmark": "scheduler_tick", "when": now.isoformat(), "python": platform.python_version(),
        "machine": platform.machine(), "cpus": os.cpu_count(), "schedules": SCHEDULES,
        "notes": [
            "requests: DynamoDB requests of one tick (moto: botocore hook; memory: store calls, plus the extra "
            "1 MB pages the due Query would take on DynamoDB)",
            "ms on moto is not a performance model (its Query reads the whole table); compare wall time on the "
            "memory store, requests on moto",
            "reference: prefect 2.20.26 Scheduler.run_once() on SQLite (errors propagate); 'all due' repeated "
            "after deleting every run; its 'nothing due' still runs the selection join over every deployment "
            "and run",
        ],
        "rows": rows, "reference": {str(k): v for k, v in reference.items()}, "ratios": ratios,
    }, indent=2) + "\n")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
