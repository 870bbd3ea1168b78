"""Route latency and server memory: flowplane (local, moto-backed) vs the reference Prefect server.

Not a test. Both servers run on this machine in the same run; the same requests go to each and
we report medians, p95s and the flowplane/reference ratio. Absolute numbers on a shared 2-core
machine are noise; ratios measured side by side are the result. flowplane's local store is moto,
a functional stand-in whose per-request cost is higher than DynamoDB's for small tables, so these
ratios understate the deployed service. Usage:

    python bench/latency.py [--reference-python .e2e-venv/bin/python] [--requests 200] [--deployments 50]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import httpx

ROOT = pathlib.Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} not healthy after {timeout}s")


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB (from /proc)."""
    total = 0
    pids = [pid]
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        pids += [int(p) for p in out]
    except FileNotFoundError:
        pass
    for p in pids:
        try:
            for line in pathlib.Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total / 1024


def start_flowplane(tmp: pathlib.Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    exe = ROOT / ".venv" / "bin" / "flowplane"
    proc = subprocess.Popen([str(exe), "serve", "--port", str(port), "--scheduler-interval", "60"],
                            stdout=open(tmp / "flowplane.log", "w"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    return proc, f"http://127.0.0.1:{port}/api"


def start_reference(tmp: pathlib.Path, python: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(os.environ, PREFECT_HOME=str(tmp / "prefect-home"), PREFECT_API_DATABASE_CONNECTION_URL=
               f"sqlite+aiosqlite:///{tmp}/prefect.db", PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_UI_ENABLED="false", PREFECT_LOGGING_LEVEL="WARNING")
    prefect = pathlib.Path(python).parent / "prefect"
    proc = subprocess.Popen([str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=open(tmp / "reference.log", "w"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    return proc, f"http://127.0.0.1:{port}/api"


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def seed(client: httpx.Client, n: int) -> dict:
    flow = client.post("/flows/", json={"name": "bench-flow"}).json()
    ids = []
    for i in range(n):
        body = {"name": f"dep-{i:04d}", "flow_id": flow["id"], "tags": ["bench", f"t{i % 5}"],
                "parameters": {"i": i},
                "schedules": [{"schedule": {"interval": 3600, "anchor_date": "2024-01-01T00:00:00+00:00"},
                               "active": False}]}
        ids.append(client.post("/deployments/", json=body).json()["id"])
    return {"flow": flow, "ids": ids}


def scenarios(state: dict) -> dict:
    dep = state["ids"][0]
    upsert = {"name": "dep-0000", "flow_id": state["flow"]["id"], "tags": ["bench"], "parameters": {"i": 0}}
    return {
        "GET /deployments/{id}": ("GET", f"/deployments/{dep}", None),
        "GET /deployments/name/{f}/{d}": ("GET", "/deployments/name/bench-flow/dep-0001", None),
        "POST /deployments/filter (limit 20)": ("POST", "/deployments/filter",
                                                {"limit": 20, "deployments": {"tags": {"all_": ["t1"]}}}),
        "POST /deployments/count": ("POST", "/deployments/count", {}),
        "POST /deployments/ (upsert)": ("POST", "/deployments/", upsert),
        "POST .../create_flow_run": ("POST", f"/deployments/{dep}/create_flow_run", {}),
        "POST .../get_scheduled_flow_runs": ("POST", "/deployments/get_scheduled_flow_runs",
                                             {"deployment_ids": state["ids"][:5]}),
        "GET /health": ("GET", "/health", None),
    }


def measure(client: httpx.Client, method: str, path: str, body, n: int) -> dict:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = client.request(method, path, json=body)
        times.append((time.perf_counter() - t0) * 1000)
        if r.status_code >= 400:
            raise RuntimeError(f"{method} {path} -> {r.status_code} {r.text[:200]}")
    times.sort()
    return {"median_ms": statistics.median(times), "p95_ms": times[int(0.95 * (len(times) - 1))]}


def run_server(name: str, proc: subprocess.Popen, url: str, args) -> dict:
    wait_healthy(url, proc)
    with httpx.Client(base_url=url, timeout=60, headers={"X-PREFECT-API-VERSION": "0.8.4"}) as client:
        state = seed(client, args.deployments)
        results = {}
        for label, (method, path, body) in scenarios(state).items():
            measure(client, method, path, body, 5)  # warm up
            results[label] = measure(client, method, path, body, args.requests)
        results["rss_mb"] = rss_mb(proc.pid)
    return results


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reference-python", default=str(ROOT / ".e2e-venv" / "bin" / "python"))
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--deployments", type=int, default=50)
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / "latency.json"))
    args = p.parse_args()
    out: dict = {"requests_per_route": args.requests, "deployments": args.deployments}
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = pathlib.Path(tmpdir)
        proc, url = start_flowplane(tmp)
        try:
            out["flowplane"] = run_server("flowplane", proc, url, args)
        finally:
            stop(proc)
        if pathlib.Path(args.reference_python).exists():
            proc, url = start_reference(tmp, args.reference_python)
            try:
                out["reference"] = run_server("reference", proc, url, args)
            finally:
                stop(proc)
        else:
            out["reference"] = None
            print(f"(no reference client venv at {args.reference_python}: run `make e2e` once to create it)")

    print(f"\n{'route':40} {'flowplane med/p95 ms':>22} {'reference med/p95 ms':>22} {'ratio (med)':>11}")
    for label, fp in out["flowplane"].items():
        if label == "rss_mb":
            continue
        ref = (out.get("reference") or {}).get(label)
        ratio = f"{fp['median_ms'] / ref['median_ms']:.2f}x" if ref else "-"
        refs = f"{ref['median_ms']:8.2f} / {ref['p95_ms']:8.2f}" if ref else "-"
        print(f"{label:40} {fp['median_ms']:8.2f} / {fp['p95_ms']:8.2f}   {refs:>22} {ratio:>11}")
    ref_rss = (out.get("reference") or {}).get("rss_mb")
    print(f"{'server RSS (MB)':40} {out['flowplane']['rss_mb']:>22.1f} {ref_rss or 0:>22.1f}")
    pathlib.Path(args.out).write_text(json.dumps(out, indent=2))
    print(f"\nJSON: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
