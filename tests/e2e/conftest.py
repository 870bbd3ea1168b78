"""End-to-end fixtures: a live ``flowplane serve`` driven by the real Prefect 2.20 client and CLI.

This suite runs from its own venv (``.e2e-venv``, ``prefect==2.20.26``) with its own pytest config
(``tests/e2e/pytest.ini``); the project's ``tests/conftest.py`` is never loaded and no flowplane
package is imported here: the only contract is HTTP.

* The server is the project venv's ``flowplane serve`` on a free loopback port with a temporary
  HOME and ``--scheduler-interval 2``, started once per session and stopped with SIGINT (then
  SIGKILL). Its stdout/stderr are printed if it fails to start and, in the terminal summary,
  whenever a test failed.
* ``FLOWPLANE_E2E_STORE=moto`` starts it with ``--store moto`` (the in-memory DynamoDB adapter) instead
  of the default SQLite store, whose file must appear under the temporary HOME (``make e2e-moto``).
* ``FLOWPLANE_E2E_API_URL=http://host:port/api`` runs the suite against an already running server
  instead (e.g. the reference ``prefect server start``, to check that the suite itself is right).
* The environment is fixed before Prefect is first imported (Prefect reads its settings at import):
  ``PREFECT_API_URL``, a temporary ``PREFECT_HOME``, ``PREFECT_LOGGING_LEVEL=WARNING``, and no
  ``PREFECT_API_KEY`` or other inherited ``PREFECT_*`` setting.
* ``async def`` tests are run with ``asyncio.run`` under a timeout (no plugin needed); they open
  the client themselves with ``prefect.client.orchestration.get_client()``.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FLOWPLANE = Path(os.environ.get("FLOWPLANE_E2E_SERVER_BIN", ROOT / ".venv" / "bin" / "flowplane"))
PREFECT_CLI = Path(sys.executable).with_name("prefect")
STARTUP_TIMEOUT = 60.0
TEST_TIMEOUT = float(os.environ.get("FLOWPLANE_E2E_TEST_TIMEOUT", "120"))
# the server's store: sqlite (flowplane serve's default, data under the temporary HOME) or moto (make e2e-moto)
STORE = os.environ.get("FLOWPLANE_E2E_STORE", "sqlite")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- environment, fixed before anything imports prefect --------------------------------------------
_ORIGINAL_ENV = dict(os.environ)
_EXTERNAL_API = os.environ.get("FLOWPLANE_E2E_API_URL", "").rstrip("/") or None
_PORT = None if _EXTERNAL_API else _free_port()
API_URL = _EXTERNAL_API or f"http://127.0.0.1:{_PORT}/api"
BASE_URL = API_URL[: -len("/api")] if API_URL.endswith("/api") else API_URL
_WORKDIR = Path(tempfile.mkdtemp(prefix="flowplane-e2e-"))
PREFECT_HOME = _WORKDIR / "prefect-home"
SERVER_HOME = _WORKDIR / "server-home"
SERVER_STDOUT = _WORKDIR / "server.stdout.log"
SERVER_STDERR = _WORKDIR / "server.stderr.log"
PREFECT_HOME.mkdir()
SERVER_HOME.mkdir()

for _key in [k for k in os.environ if k.startswith("PREFECT_")]:
    del os.environ[_key]
os.environ.update(
    PREFECT_API_URL=API_URL,
    PREFECT_HOME=str(PREFECT_HOME),
    PREFECT_LOGGING_LEVEL="WARNING",
    # rich tables (prefect deployment ls, work-pool ls) must not truncate names in a pipe
    COLUMNS="400",
)


def _server_env() -> dict[str, str]:
    env = {k: v for k, v in _ORIGINAL_ENV.items() if not k.startswith("PREFECT_API_") or
           k.startswith("PREFECT_API_SERVICES_")}
    env.pop("PREFECT_API_KEY", None)
    env.pop("FLOWPLANE_DATA_DIR", None)  # the SQLite store goes under the temporary HOME
    env["HOME"] = str(SERVER_HOME)
    env["PYTHONUNBUFFERED"] = "1"
    return env


# the embedded moto server's access log: one line per DynamoDB call, noise when reading a failure
_MOTO_ACCESS = re.compile(r'^\S+ - - \[[^]]*\] ".*HTTP/1\.1.*" \d{3} -$')


def _tail(path: Path, lines: int = 200) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "<none>"
    kept = [ln for ln in text.splitlines() if not _MOTO_ACCESS.match(ln)]
    return "\n".join(kept[-lines:]) or "<empty>"


def server_logs() -> str:
    return (f"--- flowplane serve stdout ({SERVER_STDOUT}) ---\n{_tail(SERVER_STDOUT)}\n"
            f"--- flowplane serve stderr ({SERVER_STDERR}) ---\n{_tail(SERVER_STDERR)}")


def _health_ok() -> bool:
    try:
        with urllib.request.urlopen(f"{API_URL}/health", timeout=2) as resp:
            return resp.status == 200 and resp.read().strip() == b"true"
    except (urllib.error.URLError, OSError):
        return False


_server_proc: subprocess.Popen | None = None


@pytest.fixture(scope="session", autouse=True)
def server():
    """The live server's API URL (``http://127.0.0.1:<port>/api``) for the whole session."""
    global _server_proc
    if _EXTERNAL_API:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not _health_ok():
            if time.monotonic() > deadline:
                pytest.fail(f"FLOWPLANE_E2E_API_URL={API_URL} does not answer GET /health", pytrace=False)
            time.sleep(0.5)
        yield API_URL
        return

    if not FLOWPLANE.exists():
        pytest.fail(f"{FLOWPLANE} not found: run `make install` (make e2e does)", pytrace=False)
    cmd = [str(FLOWPLANE), "serve", "--host", "127.0.0.1", "--port", str(_PORT), "--scheduler-interval", "2",
           "--store", STORE, "--no-ui"]  # the API suites need no UI (make e2e-ui covers it)
    with open(SERVER_STDOUT, "wb") as out, open(SERVER_STDERR, "wb") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=_server_env(), cwd=str(SERVER_HOME))
    _server_proc = proc
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not _health_ok():
        if proc.poll() is not None:
            pytest.fail(f"`{' '.join(cmd)}` exited with {proc.returncode} before answering "
                        f"GET /api/health\n{server_logs()}", pytrace=False)
        if time.monotonic() > deadline:
            _stop(proc)
            pytest.fail(f"`{' '.join(cmd)}` did not answer GET /api/health within {STARTUP_TIMEOUT:.0f}s\n"
                        f"{server_logs()}", pytrace=False)
        time.sleep(0.25)
    if STORE == "sqlite" and not (SERVER_HOME / ".flowplane" / "flowplane.db").exists():
        _stop(proc)
        pytest.fail(f"the SQLite store is not in the server's HOME ({SERVER_HOME}/.flowplane)\n{server_logs()}",
                    pytrace=False)
    try:
        yield API_URL
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    failed = terminalreporter.stats.get("failed") or terminalreporter.stats.get("error")
    if failed and not _EXTERNAL_API:
        terminalreporter.section("flowplane serve output")
        terminalreporter.write_line(server_logs())
    if _server_proc is not None and _server_proc.returncode not in (None, 0):
        terminalreporter.write_line(f"flowplane serve exited with {_server_proc.returncode}")


def pytest_unconfigure(config):
    if _server_proc is not None and _server_proc.poll() is None:  # interrupted session
        _stop(_server_proc)
    if os.environ.get("FLOWPLANE_E2E_KEEP_TMP") != "1":
        shutil.rmtree(_WORKDIR, ignore_errors=True)


def pytest_collection_modifyitems(session, config, items):
    """Foundation checks first: one of them asserts the server has no flow runs yet."""
    items.sort(key=lambda item: 0 if item.path.name == "test_foundation.py" else 1)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Run ``async def`` tests with ``asyncio.run`` (bounded by TEST_TIMEOUT seconds)."""
    fn = pyfuncitem.obj
    if not inspect.iscoroutinefunction(fn):
        return None
    kwargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}

    async def bounded():
        return await asyncio.wait_for(fn(**kwargs), TEST_TIMEOUT)

    asyncio.run(bounded())
    return True


# --- helpers for tests ------------------------------------------------------------------------------


@pytest.fixture
def uid() -> str:
    """A short unique suffix: every test names its objects uniquely on the shared server."""
    return uuid.uuid4().hex[:10]


def prefect_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the real ``prefect`` CLI from the e2e venv against the server."""
    return subprocess.run([str(PREFECT_CLI), *args], capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ), cwd=str(_WORKDIR))


@pytest.fixture
def cli():
    return prefect_cli
