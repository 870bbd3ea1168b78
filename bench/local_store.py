"""Local latency at scale: ``flowplane serve`` on its SQLite store vs ``prefect server start``.

Not a test. Both servers run side by side in the same run on this machine (the reference from
``.e2e-venv``, prefect 2.20.26, its own SQLite database); the same requests go to each, and the
flowplane/reference ratio of the medians is the result (absolute times on a shared 2-core machine
are noise). Both are seeded through their HTTP APIs with the same bodies, in parallel: one flow,
10 deployments without schedules (the schedulers stay idle), and flow runs spread over the
deployments — 90 % COMPLETED, 10 % SCHEDULED over the next days — up to each size in ``--sizes``.
At every size we time:

* ``get_scheduled_flow_runs`` for 1 and for 10 deployments (what a runner polls),
* ``/deployments/filter`` (all ten), ``/flow_runs/filter`` by one deployment (limit 20, newest
  expected start first, as the UI asks), ``/flow_runs/count`` (every run),
* ``POST /flow_runs/`` (the client's ``create_flow_run``) and ``POST /deployments/{id}/create_flow_run``.

Usage: ``python bench/local_store.py [--sizes 2000,10000] [--requests 20] [--port 4366]``;
writes ``bench/results/local_store.json``.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime as dt
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import httpx

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from latency import stop, wait_healthy  # noqa: E402

HEADERS = {"X-PREFECT-API-VERSION": "0.8.4"}
DEPLOYMENTS = 10
SEED_THREADS = 4
QUIET = {  # both servers: no scheduler, no late-run marking, no telemetry
    "PREFECT_API_SERVICES_SCHEDULER_ENABLED": "false",
    "PREFECT_API_SERVICES_LATE_RUNS_ENABLED": "false",
    "PREFECT_API_SERVICES_FLOW_RUN_NOTIFICATIONS_ENABLED": "false",
    "PREFECT_API_SERVICES_FOREMAN_ENABLED": "false",
    "PREFECT_API_SERVICES_CANCELLATION_CLEANUP_ENABLED": "false",
    "PREFECT_API_SERVICES_PAUSE_EXPIRATIONS_ENABLED": "false",
    "PREFECT_API_SERVICES_TASK_RUN_RECORDER_ENABLED": "false",
    "PREFECT_API_EVENTS_STREAM_OUT_ENABLED": "false",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
}


def start_flowplane(tmp: pathlib.Path, port: int) -> tuple[subprocess.Popen, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "FLOWPLANE_"))}
    env.update(QUIET, HOME=str(tmp / "home"))
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "flowplane"), "serve", "--port", str(port), "--no-ui",
         "--data-dir", str(tmp / "flowplane-data"), "--scheduler-interval", "3600"],
        env=env, stdout=open(tmp / "flowplane.log", "w"), stderr=subprocess.STDOUT, start_new_session=True)
    return proc, f"http://127.0.0.1:{port}/api"


def start_reference(tmp: pathlib.Path, port: int, python: str) -> tuple[subprocess.Popen, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(QUIET, PREFECT_HOME=str(tmp / "prefect-home"), PREFECT_UI_ENABLED="false",
               PREFECT_API_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{tmp}/prefect.db")
    prefect = pathlib.Path(python).parent / "prefect"
    proc = subprocess.Popen([str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=open(tmp / "reference.log", "w"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    return proc, f"http://127.0.0.1:{port}/api"


def _ok(r: httpx.Response) -> dict:
    if r.status_code >= 300:
        raise RuntimeError(f"{r.request.method} {r.request.url} -> {r.status_code} {r.text[:300]}")
    return r.json()


def seed_base(client: httpx.Client) -> dict:
    flow = _ok(client.post("/flows/", json={"name": "bench-local-flow"}))
    deps = [_ok(client.post("/deployments/", json={"name": f"dep-{i}", "flow_id": flow["id"], "tags": ["bench"]}))
            for i in range(DEPLOYMENTS)]
    return {"flow_id": flow["id"], "deployment_ids": [d["id"] for d in deps], "runs": 0}


def run_body(state: dict, k: int, now: dt.datetime) -> dict:
    body = {"flow_id": state["flow_id"], "deployment_id": state["deployment_ids"][k % DEPLOYMENTS],
            "name": f"bench-run-{k:06d}", "parameters": {"k": k}, "tags": ["bench"]}
    j = k // DEPLOYMENTS  # the run's number within its deployment
    if j % 10 == 0:  # every deployment: one run in ten scheduled, ten minutes apart
        at = (now + dt.timedelta(minutes=j)).isoformat()
        body["state"] = {"type": "SCHEDULED", "name": "Scheduled", "state_details": {"scheduled_time": at}}
    else:
        body["state"] = {"type": "COMPLETED", "name": "Completed"}
    return body


def seed_runs(url: str, state: dict, upto: int, now: dt.datetime) -> float:
    """Create runs ``state['runs']..upto-1`` through the API (``SEED_THREADS`` clients); seconds taken."""
    started = time.perf_counter()
    ks = list(range(state["runs"], upto))

    def work(part: list[int]) -> None:
        with httpx.Client(base_url=url, timeout=60, headers=HEADERS) as c:
            for k in part:
                _ok(c.post("/flow_runs/", json=run_body(state, k, now)))

    with cf.ThreadPoolExecutor(SEED_THREADS) as pool:
        list(pool.map(work, [ks[i::SEED_THREADS] for i in range(SEED_THREADS)]))
    state["runs"] = upto
    return time.perf_counter() - started


def scenarios(state: dict, now: dt.datetime) -> dict:
    deps = state["deployment_ids"]
    before = (now + dt.timedelta(hours=1)).isoformat()
    return {
        "get_scheduled_flow_runs (1 deployment)": (
            "POST", "/deployments/get_scheduled_flow_runs", {"deployment_ids": deps[:1], "scheduled_before": before}),
        "get_scheduled_flow_runs (10 deployments)": (
            "POST", "/deployments/get_scheduled_flow_runs", {"deployment_ids": deps, "scheduled_before": before}),
        "/deployments/filter": ("POST", "/deployments/filter", {}),
        "/flow_runs/filter by deployment (limit 20)": (
            "POST", "/flow_runs/filter", {"flow_runs": {"deployment_id": {"any_": deps[:1]}}, "limit": 20,
                                          "sort": "EXPECTED_START_TIME_DESC"}),
        "/flow_runs/count": ("POST", "/flow_runs/count", {}),
        "create_flow_run (POST /flow_runs/)": (
            "POST", "/flow_runs/", {"flow_id": state["flow_id"], "name": "bench-timed", "tags": ["timed"]}),
        "create_flow_run from deployment": ("POST", f"/deployments/{deps[-1]}/create_flow_run", {}),
    }


def measure_interleaved(clients: dict[str, httpx.Client], requests: dict[str, tuple], n: int) -> dict:
    """Median and p90 of ``n`` timed requests (after 3 untimed) per server, one request to each in
    turn (the order alternating), so load from other work on a shared machine falls on both servers
    alike instead of on whichever was being measured at the time."""
    names = list(clients)
    for name in names:
        method, path, body = requests[name]
        for _ in range(3):
            _ok(clients[name].request(method, path, json=body))
    times: dict[str, list[float]] = {name: [] for name in names}
    last: dict[str, httpx.Response] = {}
    for i in range(n):
        for name in (names if i % 2 == 0 else names[::-1]):
            method, path, body = requests[name]
            t0 = time.perf_counter()
            r = clients[name].request(method, path, json=body)
            times[name].append((time.perf_counter() - t0) * 1000)
            _ok(r)
            last[name] = r
    out = {}
    for name in names:
        ts = sorted(times[name])
        answer = last[name].json()
        shape = len(answer) if isinstance(answer, list) else answer if isinstance(answer, int) else "object"
        out[name] = {"median_ms": round(statistics.median(ts), 2), "p90_ms": round(ts[int(0.9 * (len(ts) - 1))], 2),
                     "answer": shape}
    return out


def machine() -> str:
    cpu = "?"
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, SQLite {__import__('sqlite3').sqlite_version}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="2000,10000", help="stored flow runs at which to measure (ascending)")
    p.add_argument("--requests", type=int, default=20, help="timed requests per operation and size")
    p.add_argument("--port", type=int, default=4366, help="flowplane's port; the reference uses the next one")
    p.add_argument("--reference-python", default=str(ROOT / ".e2e-venv" / "bin" / "python"))
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / "local_store.json"))
    args = p.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)

    tmp = pathlib.Path(tempfile.mkdtemp(prefix="flowplane-bench-local-"))
    (tmp / "home").mkdir()
    servers = {"flowplane": start_flowplane(tmp, args.port),
               "reference": start_reference(tmp, args.port + 1, args.reference_python)}
    results: dict = {"date": now.isoformat(), "machine": machine(), "requests": args.requests,
                     "seeding": "both through their HTTP APIs (POST /flow_runs/, 4 clients each, in parallel)",
                     "sizes": {}}
    try:
        for proc, url in servers.values():
            wait_healthy(url, proc)
        clients = {name: httpx.Client(base_url=url, timeout=120, headers=HEADERS) for name, (_, url) in servers.items()}
        states = {name: seed_base(c) for name, c in clients.items()}
        for size in sizes:
            with cf.ThreadPoolExecutor(2) as pool:
                futures = {n: pool.submit(seed_runs, servers[n][1], states[n], size, now) for n in states}
                took = {n: f.result() for n, f in futures.items()}
            print(f"seeded {size} runs: " + ", ".join(f"{n} {s:.0f}s" for n, s in took.items()), flush=True)
            row: dict = {"seed_seconds": {n: round(s, 1) for n, s in took.items()}, "ops": {}}
            plans = {name: scenarios(states[name], now) for name in clients}
            for label in plans["flowplane"]:
                row["ops"][label] = measure_interleaved(
                    clients, {name: plans[name][label] for name in clients}, args.requests)
            for by in row["ops"].values():
                by["ratio"] = round(by["flowplane"]["median_ms"] / by["reference"]["median_ms"], 2)
                by["same_answer"] = by["flowplane"]["answer"] == by["reference"]["answer"]
            results["sizes"][str(size)] = row
        for c in clients.values():
            c.close()
    finally:
        for proc, _ in servers.values():
            stop(proc)

    lines = ["| operation | runs | flowplane (SQLite) ms | reference ms | ratio | answer (items or count) |",
             "|---|---:|---:|---:|---:|---|"]
    for size, row in results["sizes"].items():
        for label, by in row["ops"].items():
            lines.append(f"| {label} | {int(size):,} | {by['flowplane']['median_ms']:.1f} | "
                         f"{by['reference']['median_ms']:.1f} | {by['ratio']:.2f} | "
                         f"{by['flowplane']['answer'] if by['same_answer'] else 'DIFFERENT: ' + str(by['flowplane']['answer']) + ' vs ' + str(by['reference']['answer'])} |")
    table = "\n".join(lines)
    print(f"\n{results['date']} — {results['machine']}\nmedians of {args.requests} requests; "
          f"ratio = flowplane / reference (below 1: flowplane is faster)\n\n{table}")
    results["table"] = table
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
