"""The run hot paths, side by side with the reference: latency per call, and DynamoDB requests per call.

Not a test. In one run it starts the reference (``prefect server start``, 2.20.26, SQLite in a fresh
``PREFECT_HOME``) and ``flowplane serve`` (the local default SQLite store), seeds both identically
through their HTTP APIs (a flow, a ``process`` work pool, 10 deployments in it with one due and three
future scheduled runs each, a flow run in RUNNING, fresh task runs and ad-hoc flow runs), then times
N calls of each path after a warm-up, interleaved between the servers (alternating which goes first)
so both share the machine's noise:

* ``POST /task_runs/{id}/set_state`` PENDING→RUNNING on fresh task runs, then RUNNING→COMPLETED;
* ``POST /flow_runs/{id}/set_state`` PENDING→RUNNING on fresh ad-hoc runs, then RUNNING→COMPLETED;
* ``POST /logs/`` with 100 log lines;
* ``POST /work_pools/{pool}/get_scheduled_flow_runs`` (a worker's poll, 10 deployments, 10 due runs).

Read the ratios (flowplane / reference), not the absolute times: the machine is shared.

DynamoDB requests per call: the same calls in-process through the full local app on the DynamoDB
adapter (``infra.dynamo``) on moto, each DynamoDB operation counted with a botocore hook (as
``tests/conftest.py`` does); and read/write units from ``bench/cost.py``'s counting store (its billing
model, reused). Usage::

    .venv/bin/python bench/run_paths.py [--calls 200] [--warmup 10] [--port 4390]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable

import httpx

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from latency import stop, wait_healthy  # noqa: E402

POOL = "bench-pool"
DEPLOYMENTS = 10
LOG_LINES = 100
HEADERS = {"X-PREFECT-API-VERSION": "0.8.4", "User-Agent": "prefect/2.20.26 (API 0.8.4)"}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _iso(t: dt.datetime) -> str:
    return t.isoformat()


def _ok(r, *codes: int) -> dict | list:
    if r.status_code not in codes:
        raise RuntimeError(f"{r.request.method} {r.request.url} -> {r.status_code} {r.text[:300]}")
    return r.json() if r.content else {}


def _state(type_: str, name: str, **details) -> dict:
    return {"type": type_, "name": name, "state_details": details}


# ---------------------------------------------------------------------------------------------
# the world, made through the API (the same requests to every server)


def seed(c, fresh: int) -> dict:
    """A flow, a process pool with 10 deployments and their scheduled runs, a RUNNING flow run,
    ``fresh`` PENDING task runs of it and ``fresh`` PENDING ad-hoc flow runs."""
    flow = _ok(c.post("/flows/", json={"name": "bench-run-paths"}), 200, 201)
    _ok(c.post("/work_pools/", json={"name": POOL, "type": "process"}), 201)
    now = _now()
    for i in range(DEPLOYMENTS):
        dep = _ok(c.post("/deployments/", json={"name": f"dep-{i}", "flow_id": flow["id"], "work_pool_name": POOL,
                                                 "work_queue_name": "default", "parameters": {"i": i}}), 200, 201)
        for hours in (0, 1, 2, 3):  # one due run, three in the future (beyond the poll's horizon)
            at = now - dt.timedelta(minutes=1) if hours == 0 else now + dt.timedelta(hours=hours)
            _ok(c.post(f"/deployments/{dep['id']}/create_flow_run",
                       json={"state": _state("SCHEDULED", "Scheduled", scheduled_time=_iso(at))}), 201)
    running = _ok(c.post("/flow_runs/", json={"flow_id": flow["id"], "name": "running-run",
                                              "state": _state("PENDING", "Pending")}), 201)
    _ok(c.post(f"/flow_runs/{running['id']}/set_state", json={"state": _state("RUNNING", "Running")}), 201)
    tasks = [_ok(c.post("/task_runs/", json={"flow_run_id": running["id"], "task_key": "bench-task",
                                             "dynamic_key": str(i), "name": f"bench-task-{i}",
                                             "state": _state("PENDING", "Pending")}), 201)["id"]
             for i in range(fresh)]
    runs = [_ok(c.post("/flow_runs/", json={"flow_id": flow["id"], "name": f"adhoc-{i}",
                                            "state": _state("PENDING", "Pending")}), 201)["id"]
            for i in range(fresh)]
    return {"flow": flow["id"], "running": running["id"], "tasks": tasks, "runs": runs}


def _logs(flow_run_id: str, batch: int) -> list[dict]:
    ts = _iso(_now())
    return [{"name": "prefect.flow_runs", "level": 20, "message": f"bench line {batch}.{k}", "timestamp": ts,
             "flow_run_id": flow_run_id, "task_run_id": None} for k in range(LOG_LINES)]


Request = tuple[str, str, Callable[[], object], int]  # method, path, body maker, expected status


def paths(w: dict) -> dict[str, Callable[[int], Request]]:
    """Each measured path: call number -> the request (a fresh object per call where state moves)."""
    def set_state(kind: str, ids: list[str], type_: str, name: str):
        return lambda i: ("POST", f"/{kind}/{ids[i]}/set_state", lambda: {"state": _state(type_, name)}, 201)

    return {
        "task run set_state PENDING→RUNNING": set_state("task_runs", w["tasks"], "RUNNING", "Running"),
        "task run set_state RUNNING→COMPLETED": set_state("task_runs", w["tasks"], "COMPLETED", "Completed"),
        "flow run set_state PENDING→RUNNING": set_state("flow_runs", w["runs"], "RUNNING", "Running"),
        "flow run set_state RUNNING→COMPLETED": set_state("flow_runs", w["runs"], "COMPLETED", "Completed"),
        f"POST /logs/ ({LOG_LINES} lines)": lambda i: ("POST", "/logs/", lambda: _logs(w["running"], i), 201),
        f"worker poll ({DEPLOYMENTS} deployments)": lambda i: (
            "POST", f"/work_pools/{POOL}/get_scheduled_flow_runs",
            lambda: {"work_queue_names": [], "scheduled_before": _iso(_now() + dt.timedelta(seconds=10))}, 200),
    }


def send(c, req: Request):
    method, path, body, status = req
    r = c.request(method, path, json=body())
    out = _ok(r, status)
    if path.endswith("/set_state") and out.get("status") != "ACCEPT":
        raise RuntimeError(f"{path}: {out.get('status')} {out.get('details')}")
    if path.endswith("/get_scheduled_flow_runs") and len(out) != DEPLOYMENTS:
        raise RuntimeError(f"worker poll returned {len(out)} runs, expected {DEPLOYMENTS}")
    return out


# ---------------------------------------------------------------------------------------------
# latency: both servers, interleaved


def start_servers(tmp: pathlib.Path, port: int, reference_python: str) -> dict[str, tuple[subprocess.Popen, str]]:
    env = dict(os.environ, PREFECT_HOME=str(tmp / "prefect-home"), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_UI_ENABLED="false", PREFECT_LOGGING_LEVEL="WARNING", PREFECT_SERVER_API_PORT=str(port))
    prefect = pathlib.Path(reference_python).parent / "prefect"
    servers = {}
    servers["reference"] = (subprocess.Popen(
        [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)], env=env,
        stdout=open(tmp / "reference.log", "w"), stderr=subprocess.STDOUT, start_new_session=True),
        f"http://127.0.0.1:{port}/api")
    servers["flowplane"] = (subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "flowplane"), "serve", "--data-dir", str(tmp / "flowplane"), "--host",
         "127.0.0.1", "--port", str(port + 1), "--no-ui", "--scheduler-interval", "60", "--log-level", "warning"],
        stdout=open(tmp / "flowplane.log", "w"), stderr=subprocess.STDOUT, start_new_session=True),
        f"http://127.0.0.1:{port + 1}/api")
    return servers


def _summary(ms: list[float]) -> dict:
    s = sorted(ms)
    return {"median_ms": round(statistics.median(s), 2), "p90_ms": round(s[int(0.9 * (len(s) - 1))], 2),
            "n": len(s)}


def measure_latency(clients: dict[str, httpx.Client], calls: int, warmup: int) -> dict[str, dict]:
    worlds = {name: seed(c, calls + warmup) for name, c in clients.items()}
    plans = {name: paths(w) for name, w in worlds.items()}
    names = list(clients)
    out: dict[str, dict] = {}
    for label in plans[names[0]]:
        samples: dict[str, list[float]] = {n: [] for n in names}
        t = time.time()
        for i in range(warmup + calls):
            for name in (names if i % 2 == 0 else names[::-1]):
                req = plans[name][label](i)
                t0 = time.perf_counter()
                send(clients[name], req)
                if i >= warmup:
                    samples[name].append((time.perf_counter() - t0) * 1000)
        out[label] = {n: _summary(samples[n]) for n in names}
        fp, ref = out[label]["flowplane"], out[label]["reference"]
        out[label]["ratio_median"] = round(fp["median_ms"] / ref["median_ms"], 2)
        out[label]["ratio_p90"] = round(fp["p90_ms"] / ref["p90_ms"], 2)
        print(f"  {label}: {time.time() - t:.0f} s", flush=True)
    return out


# ---------------------------------------------------------------------------------------------
# DynamoDB requests per call: in-process, the full local app on the DynamoDB adapter on moto


def _app_client(ctx):
    from starlette.testclient import TestClient

    from handlers import _deps
    from handlers._app import build_app
    from handlers.routes import routers

    _deps.use_context(ctx)
    tc = TestClient(build_app(routers()), base_url="http://testserver/api/", raise_server_exceptions=True)
    tc.headers.update(HEADERS)
    return tc


def count_dynamo(calls: int = 5) -> dict[str, dict]:
    """Each path ``calls`` times on moto, counting DynamoDB operations per call (botocore hook)."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    import boto3
    import botocore.client
    from moto import mock_aws

    from domain.context import Ctx
    from domain.settings import Settings
    from handlers import _deps
    from infra.dynamo.store import dynamo_stores
    from infra.template import create_tables

    ops: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self, operation_name, api_params):
        if self.meta.service_model.service_name == "dynamodb":
            if operation_name == "Scan":
                raise AssertionError("a Scan was issued on a run path")
            ops.append(operation_name)
        return original(self, operation_name, api_params)

    out = {}
    with mock_aws():
        settings = Settings(table_prefix="bench-")
        create_tables(boto3.client("dynamodb", region_name=settings.region), settings)
        ctx = Ctx(stores=dynamo_stores(settings), settings=settings)
        botocore.client.BaseClient._make_api_call = recording
        try:
            with _app_client(ctx) as c:
                plan = paths(seed(c, calls))
                for label, make in plan.items():
                    per_call = []
                    for i in range(calls):
                        ops.clear()
                        send(c, make(i))
                        per_call.append(Counter(ops))
                    out[label] = {"requests": [sum(p.values()) for p in per_call],
                                  "first_call": dict(sorted(per_call[0].items())),
                                  "by_operation": dict(sorted(per_call[-1].items()))}
        finally:
            botocore.client.BaseClient._make_api_call = original
            _deps.use_context(None)
    return out


def count_units(calls: int = 5) -> dict[str, dict]:
    """Read and write units per call on ``bench/cost.py``'s counting store (its billing model)."""
    import cost

    from domain.context import Ctx
    from domain.settings import Settings
    from handlers import _deps

    ctx = Ctx(stores=cost.counting_stores(), settings=Settings(table_prefix="bench-"))
    out = {}
    try:
        with _app_client(ctx) as c:
            plan = paths(seed(c, calls))
            for label, make in plan.items():
                bills = []
                for i in range(calls):
                    cost.CountingStore.meter.start()
                    try:
                        send(c, make(i))
                    finally:
                        bills.append(cost.CountingStore.meter.stop())
                last = bills[-1].as_dict()
                out[label] = {"requests": last["requests"], "rcu": last["rcu"], "wcu": last["wcu"],
                              "gsi_wcu": last["gsi_wcu"], "usd_per_million": last["usd_per_million"]}
    finally:
        _deps.use_context(None)
    return out


# ---------------------------------------------------------------------------------------------


def table(out: dict) -> str:
    rows = ["| path | flowplane median / p90 | reference median / p90 | ratio median (p90) | DynamoDB requests "
            "per call | RCU / WCU (+GSI WCU) |", "|---|---|---|---|---|---|"]
    for label, lat in out["latency"].items():
        fp, ref = lat["flowplane"], lat["reference"]
        dyn = out["dynamodb"][label]
        by_op = ", ".join(f"{v} {k}" for k, v in dyn["by_operation"].items())
        reqs = f"{dyn['requests'][-1]} ({by_op})"
        if dyn["first_call"] != dyn["by_operation"]:
            first = ", ".join(f"{v} {k}" for k, v in dyn["first_call"].items())
            reqs = f"first {dyn['requests'][0]} ({first}), then {reqs}"
        units = out["units"][label]
        rows.append(f"| {label} | {fp['median_ms']:.1f} / {fp['p90_ms']:.1f} ms | {ref['median_ms']:.1f} / "
                    f"{ref['p90_ms']:.1f} ms | **{lat['ratio_median']:.2f}x** ({lat['ratio_p90']:.2f}x) | "
                    f"{reqs} | {units['rcu']:g} / {units['wcu']:g} (+{units['gsi_wcu']:g}) |")
    return "\n".join(rows)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--calls", type=int, default=200, help="timed calls per path and server")
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--port", type=int, default=4390, help="the reference's port; flowplane takes the next one")
    p.add_argument("--reference-python", default=str(ROOT / ".e2e-venv" / "bin" / "python"))
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / "run_paths.json"))
    args = p.parse_args()
    if not pathlib.Path(args.reference_python).exists():
        print(f"no reference venv at {args.reference_python}: run `make e2e` once to create it")
        return 2
    t = time.time()
    out: dict = {"date": _now().strftime("%Y-%m-%d %H:%M UTC"), "calls": args.calls, "warmup": args.warmup,
                 "deployments": DEPLOYMENTS, "log_lines": LOG_LINES,
                 "flowplane_store": "local SQLite (flowplane serve default)",
                 "reference": "prefect 2.20.26 server, SQLite"}
    print("DynamoDB requests per call (in-process, moto) ...", flush=True)
    out["dynamodb"] = count_dynamo()
    out["units"] = count_units()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = pathlib.Path(tmpdir)
        servers = start_servers(tmp, args.port, args.reference_python)
        clients = {}
        try:
            for name, (proc, url) in servers.items():
                wait_healthy(url, proc)
                clients[name] = httpx.Client(base_url=url, timeout=60, headers=HEADERS)
            print(f"servers up ({time.time() - t:.0f} s); latency, {args.calls} calls per path ...", flush=True)
            out["latency"] = measure_latency({"flowplane": clients["flowplane"], "reference": clients["reference"]},
                                             args.calls, args.warmup)
        finally:
            for c in clients.values():
                c.close()
            for proc, _ in servers.values():
                stop(proc)
    out["seconds"] = round(time.time() - t)
    print()
    print(table(out))
    pathlib.Path(args.out).write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    print(f"\nJSON: {args.out} ({out['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
