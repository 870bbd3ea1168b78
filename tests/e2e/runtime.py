"""Shared helpers for the run suites (``test_runs_*.py``): real Prefect runtimes as subprocesses.

* Every runtime (``python flow.py``, ``flow.serve()``, ``prefect worker start``, ``prefect agent
  start``) is a subprocess in its own session (process group) with the session's ``PREFECT_*``
  environment plus ``RUNTIME_ENV``; ``Runtime.stop()`` sends SIGINT to the group, then SIGKILL.
  Its stdout/stderr go to a file whose tail is quoted by every failed wait.
* ``RUNTIME_ENV`` shortens the runtimes' poll intervals (2 s instead of 10-15 s) so the suite stays
  short, and sends the flows' INFO logs to the API (the session itself runs with WARNING).
* Waits poll the API through the 2.20 client (``read_flow_run``) and fail with the run's state,
  its state history and the runtimes' output.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

import httpx
from conftest import API_URL, PREFECT_CLI, prefect_cli  # noqa: F401 - re-exported for the suites
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    FlowFilter,
    FlowFilterName,
    LogFilter,
    LogFilterFlowRunId,
    TaskRunFilter,
    TaskRunFilterFlowRunId,
)
from prefect.client.schemas.sorting import FlowRunSort, LogSort

PYTHON = sys.executable

RUNTIME_ENV = {
    "PREFECT_LOGGING_LEVEL": "INFO",  # flow and task run loggers inherit it; INFO records go to /logs/
    "PREFECT_RUNNER_POLL_FREQUENCY": "2",  # flow.serve(): scheduled-run poll, cancellation check x2
    "PREFECT_WORKER_QUERY_SECONDS": "2",  # worker: scheduled-run poll, cancellation check x2
    "PREFECT_AGENT_QUERY_INTERVAL": "2",  # agent: get_runs poll, cancellation check x2
    "PYTHONUNBUFFERED": "1",
}

TERMINAL = {"COMPLETED", "FAILED", "CANCELLED", "CRASHED"}


def runtime_env(**extra: str) -> dict[str, str]:
    return {**os.environ, **RUNTIME_ENV, **extra}


def write(directory: Path, name: str, source: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(source).lstrip())
    return path


class Runtime:
    """A subprocess in its own process group, its output in ``<log_dir>/<label>.log``."""

    def __init__(self, label: str, cmd: list[str], cwd: Path, log_dir: Path, env: dict | None = None):
        self.label = label
        self.cmd = cmd
        self.log_path = log_dir / f"{label}.log"
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen(cmd, cwd=str(cwd), env=env or runtime_env(), stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def returncode(self) -> int | None:
        return self.proc.poll()

    def output(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "<none>"
        return "\n".join(text.splitlines()[-lines:]) or "<empty>"

    def describe(self) -> str:
        return f"--- {self.label} (exit {self.returncode}): {' '.join(self.cmd)}\n{self.output()}"

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(f"{self.label} did not exit within {timeout:.0f}s\n{self.describe()}")

    async def wait_async(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"{self.label} did not exit within {timeout:.0f}s\n{self.describe()}")
            await asyncio.sleep(0.2)
        return self.proc.returncode

    def stop(self, grace: float = 15) -> None:
        """SIGINT to the whole group (runtimes shut down cleanly on it), then SIGKILL."""
        if self.proc.poll() is None:
            _signal_group(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        _signal_group(self.proc.pid, signal.SIGKILL)  # stragglers (flow run children) of the group
        if self.proc.poll() is None:
            self.proc.wait(timeout=10)


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def python_script(label: str, script: Path, log_dir: Path, *args: str) -> Runtime:
    return Runtime(label, [PYTHON, str(script), *args], cwd=script.parent, log_dir=log_dir)


def prefect_process(label: str, cwd: Path, log_dir: Path, *args: str) -> Runtime:
    return Runtime(label, [str(PREFECT_CLI), *args], cwd=cwd, log_dir=log_dir)


def pid_alive(pid: int) -> bool:
    """True when ``pid`` is a live process (a zombie waiting to be reaped counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


# --- reading runs through the API -------------------------------------------------------------------


def api(method: str, path: str, **kwargs) -> httpx.Response:
    return httpx.request(method, f"{API_URL}{path}", timeout=30, **kwargs)


def state_history(flow_run_id) -> list[tuple[str, str]]:
    """``GET /flow_run_states/?flow_run_id=`` as ``[(type, name), …]`` in timestamp order."""
    resp = api("GET", "/flow_run_states/", params={"flow_run_id": str(flow_run_id)})
    assert resp.status_code == 200, resp.text
    rows = sorted(resp.json(), key=lambda s: s["timestamp"])
    return [(s["type"], s["name"]) for s in rows]


def task_state_history(task_run_id) -> list[tuple[str, str]]:
    resp = api("GET", "/task_run_states/", params={"task_run_id": str(task_run_id)})
    assert resp.status_code == 200, resp.text
    rows = sorted(resp.json(), key=lambda s: s["timestamp"])
    return [(s["type"], s["name"]) for s in rows]


async def describe_run(client, run_id, runtimes: Iterable[Runtime] = ()) -> str:
    try:
        run = await client.read_flow_run(run_id)
        head = (f"flow run {run_id}: {run.state_type.value if run.state_type else None}/{run.state_name} "
                f"message={run.state.message if run.state else None!r} run_count={run.run_count}\n"
                f"history: {state_history(run_id)}")
    except Exception as exc:  # noqa: BLE001 - diagnostics only
        head = f"flow run {run_id}: <unreadable: {exc!r}>"
    return "\n".join([head, *(rt.describe() for rt in runtimes)])


async def wait_for_run(client, run_id, done: Callable, timeout: float, runtimes: Iterable[Runtime] = (),
                       what: str = "the expected state", every: float = 0.5):
    """Poll ``read_flow_run`` until ``done(run)``; fail with diagnostics after ``timeout`` seconds."""
    runtimes = list(runtimes)
    deadline = time.monotonic() + timeout
    while True:
        run = await client.read_flow_run(run_id)
        if done(run):
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout:.0f}s\n{await describe_run(client, run_id, runtimes)}")
        await asyncio.sleep(every)


async def wait_for_final(client, run_id, timeout: float, runtimes: Iterable[Runtime] = ()):
    return await wait_for_run(client, run_id, lambda r: r.state_type and r.state_type.value in TERMINAL,
                              timeout, runtimes, what="final state")


async def wait_for_type(client, run_id, state_type: str, timeout: float, runtimes: Iterable[Runtime] = ()):
    return await wait_for_run(client, run_id, lambda r: r.state_type and r.state_type.value == state_type,
                              timeout, runtimes, what=f"{state_type} state")


async def wait_for_value(probe: Callable, timeout: float, what: str, runtimes: Iterable[Runtime] = (),
                         every: float = 0.5):
    """Await ``probe()`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("\n".join([f"{what}: nothing within {timeout:.0f}s",
                                            *(rt.describe() for rt in runtimes)]))
        await asyncio.sleep(every)


async def runs_of_flow(client, flow_name: str):
    return await client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])),
                                       sort=FlowRunSort.EXPECTED_START_TIME_ASC)


async def task_runs_of(client, flow_run_id) -> dict:
    """The flow run's task runs by name."""
    rows = await client.read_task_runs(
        task_run_filter=TaskRunFilter(flow_run_id=TaskRunFilterFlowRunId(any_=[flow_run_id])))
    return {t.name: t for t in rows}


async def log_messages(client, flow_run_id) -> list[str]:
    logs = await client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])),
                                  sort=LogSort.TIMESTAMP_ASC)
    return [log.message for log in logs]


async def wait_for_logs(client, flow_run_id, expected: Iterable[str], timeout: float = 15,
                        runtimes: Iterable[Runtime] = ()) -> list[str]:
    """The run's log messages once every ``expected`` text is a substring of one of them."""
    expected = list(expected)

    async def probe():
        messages = await log_messages(client, flow_run_id)
        if all(any(e in m for m in messages) for e in expected):
            return messages
        return None

    try:
        return await wait_for_value(probe, timeout, f"logs {expected} of {flow_run_id}", runtimes)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nlogs: {await log_messages(client, flow_run_id)}") from None


async def artifacts_of(client, flow_run_id):
    return await client.read_artifacts(
        artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))


def new_uid() -> str:
    return uuid.uuid4().hex[:10]


# --- the 2.20 wire shapes (key order as `prefect server start` emits them) ---------------------------

FLOW_RUN_KEYS = [
    "id", "created", "updated", "name", "flow_id", "state_id", "deployment_id", "deployment_version",
    "work_queue_id", "work_queue_name", "flow_version", "parameters", "idempotency_key", "context",
    "empirical_policy", "tags", "parent_task_run_id", "state_type", "state_name", "run_count",
    "expected_start_time", "next_scheduled_start_time", "start_time", "end_time", "total_run_time",
    "estimated_run_time", "estimated_start_time_delta", "auto_scheduled", "infrastructure_document_id",
    "infrastructure_pid", "created_by", "work_pool_id", "work_pool_name", "state", "job_variables",
]
TASK_RUN_KEYS = [
    "id", "created", "updated", "name", "flow_run_id", "task_key", "dynamic_key", "cache_key",
    "cache_expiration", "task_version", "empirical_policy", "tags", "state_id", "task_inputs", "state_type",
    "state_name", "run_count", "flow_run_run_count", "expected_start_time", "next_scheduled_start_time",
    "start_time", "end_time", "total_run_time", "estimated_run_time", "estimated_start_time_delta", "state",
]
STATE_KEYS = ["id", "type", "name", "timestamp", "message", "data", "state_details"]
STATE_DETAILS_KEYS = [
    "flow_run_id", "task_run_id", "child_flow_run_id", "scheduled_time", "cache_key", "cache_expiration",
    "untrackable_result", "pause_timeout", "pause_reschedule", "pause_key", "run_input_keyset",
    "refresh_cache", "retriable", "transition_id", "task_parameters_id",
]
LOG_KEYS = ["id", "created", "updated", "name", "level", "message", "timestamp", "flow_run_id", "task_run_id"]
ARTIFACT_KEYS = ["id", "created", "updated", "key", "type", "description", "data", "metadata_", "flow_run_id",
                 "task_run_id"]
