"""Cold start: every function of template.yaml in a fresh interpreter, vs the reference's create_app().

Not a test. For each function, N times (interleaved across functions to spread machine noise):
a fresh ``python`` process with the function's environment from template.yaml imports the handler
module and serves its event from ``events/`` — Lambda's INIT plus the first invoke. The child
measures ``import`` and ``first invoke`` itself (``cold`` = their sum, what the budget applies to);
the parent also records the whole process wall time (interpreter start and exit included).

DynamoDB is a moto server in *this* process (``FLOWPLANE_DYNAMODB_ENDPOINT``), so the child pays for
importing boto3/botocore/pynamodb and for real HTTP round trips, as on Lambda — an in-process moto
would preload botocore and hide that cost. The store is empty, so reads are 404s after one GetItem.

The reference is measured in the same run when a venv with ``prefect==2.20.26`` exists (default
``/work/prefect-ref``; ``--reference-python``): a fresh interpreter importing
``prefect.server.api.server`` and calling ``create_app()`` — its import-and-build, no request served.

Budget (issue 5): every function <= 0.6 s median, the median function <= 0.5 s.

    python bench/cold_start.py [--runs 5] [--only Flows] [--reference-python PATH] [--enforce]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BUDGET_MAX_S = 0.6
BUDGET_MEDIAN_S = 0.5
DEFAULT_REFERENCE = pathlib.Path("/work/prefect-ref/bin/python")

# Runs in the child. Nothing is imported before t0 except what the interpreter already loaded.
CHILD = r"""
import time
c0 = time.process_time()
t0 = time.perf_counter()
import importlib, sys
mod = importlib.import_module(sys.argv[1])
handler = getattr(mod, sys.argv[2])
t1 = time.perf_counter()
c1 = time.process_time()
import json
with open(sys.argv[3], encoding="utf-8") as fh:
    event = json.load(fh)

class Context:
    function_name = sys.argv[4]
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:" + sys.argv[4]
    memory_limit_in_mb = 1024
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    log_group_name = "/aws/lambda/" + sys.argv[4]
    log_stream_name = "bench"
    def get_remaining_time_in_millis(self):
        return 29000

c2 = time.process_time()
t2 = time.perf_counter()
result = handler(event, Context())
t3 = time.perf_counter()
c3 = time.process_time()
status = result.get("statusCode") if isinstance(result, dict) else None
print(json.dumps({"import": t1 - t0, "invoke": t3 - t2, "cpu": (c1 - c0) + (c3 - c2), "status": status,
                  "modules": len(sys.modules)}))
"""

REFERENCE_CHILD = r"""
import time
t0 = time.perf_counter()
from prefect.server.api.server import create_app
app = create_app()
t1 = time.perf_counter()
import json
print(json.dumps({"create_app": t1 - t0}))
"""


def _function_table() -> list[dict]:
    from infra.local import invoke
    from infra.local.events import EVENTS
    from infra.template import load

    template = load()
    out = []
    for fid in invoke.functions(template):
        spec = invoke.resolve_function(fid, template)
        module, _, attr = spec.handler.rpartition(".")
        out.append({"function": fid, "module": module, "attr": attr, "spec": spec,
                    "event": str(EVENTS / f"{fid}.json")})
    return out


def _start_store():
    import logging

    from infra.local import invoke
    from infra.local import store as local_store

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    return local_store.start(invoke.local_settings())


def _child_env(fn: dict, settings) -> dict:
    from infra.local import invoke

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "FLOWPLANE_"))}
    env.update(invoke.runtime_env(fn["spec"], settings))
    env.setdefault("AWS_ACCESS_KEY_ID", "flowplane-local")
    env.setdefault("AWS_SECRET_ACCESS_KEY", "flowplane-local")
    env["PYTHONPATH"] = str(ROOT)
    return env


def _run(cmd: list[str], env: dict, cwd: str) -> tuple[dict, float]:
    t0 = time.perf_counter()
    out = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1]), wall


def measure_functions(functions: list[dict], runs: int, python: str) -> dict[str, dict]:
    store = _start_store()
    try:
        samples: dict[str, list[dict]] = {f["function"]: [] for f in functions}
        envs = {f["function"]: _child_env(f, store.settings) for f in functions}
        for i in range(runs):
            for f in functions:  # interleaved: machine noise spreads over every function
                cmd = [python, "-c", CHILD, f["module"], f["attr"], f["event"], f["spec"].function_name]
                data, wall = _run(cmd, envs[f["function"]], str(ROOT))
                data["process"] = wall
                samples[f["function"]].append(data)
            print(f"  run {i + 1}/{runs} done", file=sys.stderr, flush=True)
    finally:
        store.stop()
    out = {}
    for fid, runs_ in samples.items():
        def med(k: str, runs_: list[dict] = runs_) -> float:
            return statistics.median(r[k] for r in runs_)

        out[fid] = {
            "import_s": round(med("import"), 4),
            "invoke_s": round(med("invoke"), 4),
            "cold_s": round(statistics.median(r["import"] + r["invoke"] for r in runs_), 4),
            "cold_cpu_s": round(med("cpu"), 4),
            "process_s": round(med("process"), 4),
            "status": runs_[0]["status"],
            "modules": runs_[0]["modules"],
        }
    return out


def measure_reference(python: pathlib.Path, runs: int) -> dict | None:
    if not python.exists():
        return None
    times, walls = [], []
    with tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PREFECT_"))}
        env.update(PREFECT_HOME=home, PREFECT_API_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{home}/p.db")
        for _ in range(runs):
            data, wall = _run([str(python), "-c", REFERENCE_CHILD], env, home)
            times.append(data["create_app"])
            walls.append(wall)
    return {"python": str(python), "create_app_s": round(statistics.median(times), 4),
            "process_s": round(statistics.median(walls), 4), "runs": runs}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=int(os.environ.get("COLD_START_RUNS", "5")))
    p.add_argument("--only", default=None, help="only functions whose id contains this text")
    p.add_argument("--reference-python", type=pathlib.Path, default=DEFAULT_REFERENCE)
    p.add_argument("--python", default=sys.executable, help="interpreter for the handlers (default: this one)")
    p.add_argument("--json-out", type=pathlib.Path, default=ROOT / "bench" / "results" / "cold_start.json")
    p.add_argument("--enforce", action="store_true", help="exit 1 when the budget is not met")
    args = p.parse_args(argv)

    functions = [f for f in _function_table() if not args.only or args.only in f["function"]]
    print(f"cold start: {len(functions)} functions x {args.runs} runs (fresh interpreter each)", file=sys.stderr)
    load_before = os.getloadavg()
    results = measure_functions(functions, args.runs, args.python)
    reference = measure_reference(args.reference_python, args.runs)
    load_after = os.getloadavg()

    def verdict(key: str) -> dict:
        values = [r[key] for r in results.values()]
        median_fn = statistics.median(values)
        worst = max(results, key=lambda k: results[k][key])
        over = sorted(k for k, r in results.items() if r[key] > BUDGET_MAX_S)
        return {"median_s": round(median_fn, 4), "worst": worst, "worst_s": results[worst][key], "over": over,
                "met": not over and median_fn <= BUDGET_MEDIAN_S}

    wall, cpu = verdict("cold_s"), verdict("cold_cpu_s")

    print(f"\n{'function':<42}{'import':>8}{'invoke':>8}{'cold':>8}{'cpu':>8}{'process':>9}{'status':>7}{'mods':>6}")
    for fid, r in sorted(results.items(), key=lambda kv: -kv[1]["cold_s"]):
        flag = " !" if r["cold_s"] > BUDGET_MAX_S else ""
        print(f"{fid:<42}{r['import_s']:>8.3f}{r['invoke_s']:>8.3f}{r['cold_s']:>8.3f}{r['cold_cpu_s']:>8.3f}"
              f"{r['process_s']:>9.3f}{r['status'] if r['status'] is not None else '-':>7}{r['modules']:>6}{flag}")
    print(f"\nload average {load_before[0]:.2f} before, {load_after[0]:.2f} after, on {os.cpu_count()} CPUs "
          "(wall time is only meaningful on an idle machine; cpu = the child's CPU time, load-independent-ish)")
    for name, v in (("wall", wall), ("cpu", cpu)):
        state = "WITHIN BUDGET" if v["met"] else f"OVER BUDGET ({len(v['over'])} over {BUDGET_MAX_S}s)"
        print(f"{name:>4}: median function {v['median_s']:.3f} s (budget {BUDGET_MEDIAN_S}), "
              f"worst {v['worst_s']:.3f} s {v['worst']} (budget {BUDGET_MAX_S}): {state}")
    if reference:
        print(f"reference create_app() {reference['create_app_s']:.3f} s (process {reference['process_s']:.3f} s): "
              f"median function {wall['median_s'] / reference['create_app_s']:.2f}x of it, "
              f"worst {wall['worst_s'] / reference['create_app_s']:.2f}x")
    else:
        print(f"reference: skipped — no Prefect 2.20 venv at {args.reference_python} "
              f"(python3 -m venv /work/prefect-ref && /work/prefect-ref/bin/pip install prefect==2.20.26)")
    ok = wall["met"]

    report = {
        "benchmark": "cold_start",
        "runs": args.runs,
        "python": sys.version.split()[0],
        "load_average": [round(load_before[0], 2), round(load_after[0], 2)],
        "cpus": os.cpu_count(),
        "budget": {"max_s": BUDGET_MAX_S, "median_s": BUDGET_MEDIAN_S},
        "wall": wall,
        "cpu": cpu,
        "reference": reference,
        "ratio_median_to_reference": round(wall["median_s"] / reference["create_app_s"], 3) if reference else None,
        "functions": results,
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(text + "\n", encoding="utf-8")
    return 1 if args.enforce and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
