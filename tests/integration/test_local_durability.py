"""``flowplane serve`` keeps every acknowledged write: a real server process on a temporary data
directory, written to through the HTTP API, killed (SIGKILL) or stopped (SIGINT), started again on
the same directory — and everything it answered 2xx for is still there. A second server on the
same directory refuses to start, with a message that says why."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

FLOWPLANE = Path(sys.executable).with_name("flowplane")
STARTUP_TIMEOUT = 30.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One ``flowplane serve --data-dir DIR`` process with its output in files."""

    def __init__(self, data_dir: Path, home: Path, logs: Path):
        self.data_dir, self.home, self.logs = data_dir, home, logs
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/api"
        self.proc: subprocess.Popen | None = None
        self.n = 0

    def cmd(self) -> list[str]:
        return [str(FLOWPLANE), "serve", "--host", "127.0.0.1", "--port", str(self.port), "--data-dir",
                str(self.data_dir), "--no-ui", "--scheduler-interval", "0.5"]

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "FLOWPLANE_"))}
        env.update(HOME=str(self.home), PYTHONUNBUFFERED="1")
        return env

    def output(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.logs.glob("*.log")))

    def start(self) -> Server:
        self.n += 1
        out = open(self.logs / f"{self.n}.out.log", "wb")
        err = open(self.logs / f"{self.n}.err.log", "wb")
        self.proc = subprocess.Popen(self.cmd(), stdout=out, stderr=err, env=self.env(), cwd=str(self.home))
        out.close()
        err.close()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                pytest.fail(f"server exited with {self.proc.returncode}\n{self.output()}")
            if time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"server did not answer /health in {STARTUP_TIMEOUT}s\n{self.output()}")
            time.sleep(0.1)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def interrupt(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(20)

    def call(self, method: str, path: str, **kw) -> httpx.Response:
        return httpx.request(method, f"{self.url}/{path}", timeout=10, **kw)


@pytest.fixture
def server(tmp_path):
    data, home, logs = tmp_path / "data", tmp_path / "home", tmp_path / "logs"
    home.mkdir()
    logs.mkdir()
    srv = Server(data, home, logs)
    yield srv
    srv.kill()


def _write_everything(srv: Server) -> dict:
    """Flows, a deployment with a schedule, a variable, a manual flow run, the scheduler's runs and a
    state change: each answered 2xx. Returns what must be found again."""
    flow = srv.call("POST", "flows/", json={"name": "durable-flow"})
    assert flow.status_code == 201, flow.text
    flow = flow.json()
    dep = srv.call("POST", "deployments/", json={
        "name": "durable-dep", "flow_id": flow["id"], "parameters": {"x": 1}, "tags": ["t1"],
        "schedules": [{"schedule": {"interval": 3600, "anchor_date": "2026-01-01T00:00:00+00:00"}, "active": True}],
    })
    assert dep.status_code == 201, dep.text
    dep = dep.json()
    var = srv.call("POST", "variables/", json={"name": "durable_var", "value": "kept", "tags": ["a"]})
    assert var.status_code == 201, var.text
    manual = srv.call("POST", f"deployments/{dep['id']}/create_flow_run", json={"parameters": {"x": 2}})
    assert manual.status_code == 201, manual.text
    manual = manual.json()
    state = srv.call("POST", f"flow_runs/{manual['id']}/set_state",
                     json={"state": {"type": "CANCELLED", "name": "Cancelled"}, "force": True})
    assert state.status_code in (200, 201), state.text
    deadline = time.monotonic() + 10
    while True:  # the scheduler loop materialises the interval schedule's runs
        runs = srv.call("POST", "flow_runs/filter", json={"flow_runs": {"deployment_id": {"any_": [dep["id"]]}}})
        assert runs.status_code == 200, runs.text
        if len(runs.json()) >= 4:
            break
        assert time.monotonic() < deadline, f"no scheduled runs after 10 s: {runs.json()}\n{srv.output()}"
        time.sleep(0.2)
    return {"flow": flow, "deployment": dep, "variable": var.json(), "manual_run": manual,
            "runs": {r["id"]: r for r in runs.json()}}


def _assert_all_found(srv: Server, before: dict) -> None:
    flow = srv.call("GET", f"flows/{before['flow']['id']}")
    assert flow.status_code == 200 and flow.json() == before["flow"]
    assert srv.call("GET", "flows/name/durable-flow").json()["id"] == before["flow"]["id"]
    dep = srv.call("GET", f"deployments/{before['deployment']['id']}")
    assert dep.status_code == 200, dep.text
    for key in ("id", "name", "flow_id", "parameters", "tags", "schedules", "created"):
        assert dep.json()[key] == before["deployment"][key], key
    assert srv.call("GET", "deployments/name/durable-flow/durable-dep").json()["id"] == before["deployment"]["id"]
    var = srv.call("GET", "variables/name/durable_var")
    assert var.status_code == 200 and var.json() == before["variable"]
    manual = srv.call("GET", f"flow_runs/{before['manual_run']['id']}")
    assert manual.status_code == 200, manual.text
    assert (manual.json()["parameters"], manual.json()["state_type"]) == ({"x": 2}, "CANCELLED")
    runs = srv.call("POST", "flow_runs/filter",
                    json={"flow_runs": {"deployment_id": {"any_": [before["deployment"]["id"]]}}}).json()
    found = {r["id"]: r for r in runs}
    assert set(before["runs"]) <= set(found)
    for run_id, run in before["runs"].items():
        assert (found[run_id]["name"], found[run_id]["expected_start_time"]) == (
            run["name"], run["expected_start_time"])
    # the deployment's scheduled runs are still served by the sparse index the runner polls
    scheduled = srv.call("POST", "deployments/get_scheduled_flow_runs",
                         json={"deployment_ids": [before["deployment"]["id"]],
                               "scheduled_before": "2100-01-01T00:00:00+00:00"})
    assert scheduled.status_code == 200 and len(scheduled.json()) >= 3, scheduled.text


class TestDurability:
    def test_acknowledged_writes_survive_kill_9_and_then_ctrl_c(self, server):
        """One data directory through two crashes' worth of restarts (each start costs seconds)."""
        server.start()
        before = _write_everything(server)
        server.kill()  # SIGKILL: no shutdown code runs, the lock file stays behind
        assert server.proc.returncode == -signal.SIGKILL
        server.start()
        _assert_all_found(server, before)
        assert "flowplane.db (SQLite)" in server.output()  # the banner says where the data lives

        later = server.call("POST", "variables/", json={"name": "written_after_restart", "value": 2})
        assert later.status_code == 201, later.text
        assert server.interrupt() == 0  # Ctrl-C: a clean stop
        assert "flowplane stopped." in server.output()
        server.start()
        _assert_all_found(server, before)
        assert server.call("GET", "variables/name/written_after_restart").json() == later.json()

    def test_a_second_server_on_the_same_data_dir_exits_with_a_clear_message(self, server, tmp_path):
        server.start()
        other = subprocess.run(
            [*server.cmd()[:5], str(_free_port()), *server.cmd()[6:]],
            env=server.env(), capture_output=True, text=True, timeout=60, cwd=str(server.home))
        assert other.returncode != 0
        assert f"the data directory {server.data_dir.resolve()} is in use by another flowplane server " \
               f"(pid {server.proc.pid})" in other.stderr
        assert server.call("GET", "health").status_code == 200  # the first one is untouched


class TestDataDirLock:
    def test_a_held_directory_refuses_a_second_holder_until_released(self, tmp_path):
        from infra.local.store import DataDirInUse, lock_data_dir

        first = lock_data_dir(tmp_path / "d")
        with pytest.raises(DataDirInUse) as exc:
            lock_data_dir(tmp_path / "d")
        assert f"(pid {os.getpid()})" in str(exc.value) and "--data-dir DIR" in str(exc.value)
        first.release()
        lock_data_dir(tmp_path / "d").release()

    def test_open_store_puts_the_database_in_the_data_dir_and_closes_cleanly(self, tmp_path):
        from domain.settings import Settings
        from infra.local.store import open_store

        opened = open_store(Settings(data_dir=str(tmp_path / "env-dir")))
        opened.stores.variables.put({"id": "v", "name": "n"})
        assert opened.description == f"{tmp_path / 'env-dir' / 'flowplane.db'} (SQLite)"
        opened.close()
        again = open_store(Settings(), data_dir=tmp_path / "env-dir")  # --data-dir wins; lock was released
        assert again.stores.variables.get("v") == {"id": "v", "name": "n"}
        again.close()


class TestTickOnTheServersData:
    def test_flowplane_tick_schedules_runs_for_a_deployment_in_the_data_dir(self, tmp_path, _full_app, capsys):
        import json as jsonlib

        from starlette.testclient import TestClient

        from domain.context import Ctx
        from domain.settings import Settings
        from handlers import _deps
        from infra.local import tick
        from infra.sqlite.store import SqliteDb, sqlite_stores

        db = SqliteDb(tmp_path / "flowplane.db")
        _deps.use_context(Ctx(stores=sqlite_stores(db), settings=Settings()))
        try:
            with TestClient(_full_app, base_url="http://testserver/api/") as c:
                flow_id = c.post("flows/", json={"name": "ticked"}).json()["id"]
                dep = c.post("deployments/", json={"name": "d", "flow_id": flow_id,
                                                   "schedules": [{"schedule": {"interval": 3600}}]})
                assert dep.status_code == 201, dep.text
        finally:
            _deps.use_context(None)
            db.close()

        assert tick.main(["--data-dir", str(tmp_path), "--json"]) == 0
        out = jsonlib.loads(capsys.readouterr().out)
        assert (out["deployments"], out["scheduled"]) == (1, 3)
        db = SqliteDb(tmp_path / "flowplane.db")
        runs = list(sqlite_stores(db).flow_runs.query("scheduled_by_deployment", dep.json()["id"]))
        assert len(runs) == 3
        db.close()
