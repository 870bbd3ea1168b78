"""The Prefect 2.20 UI in headless Chromium against a live ``flowplane serve`` (``make e2e-ui``).

One server per session (the project venv's ``flowplane serve`` on a free loopback port, its data in a
temporary ``--data-dir``, the UI from the cached prefect wheel), seeded through the real 2.20 client
(``seed.py``: a flow run with task runs, a subflow and logs, a work pool, a deployment, a variable,
a block). The UI is then driven twice over its 11 pages: same origin, and cross-origin (the UI at
``127.0.0.1``, its ``api_url`` at ``localhost``: every call is a CORS request), and its forms and remaining pages are opened (same origin,
not submitted). Screenshots go to
``$FLOWPLANE_E2E_UI_OUT`` (default: a temporary directory, printed in the summary).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FLOWPLANE = ROOT / ".venv" / "bin" / "flowplane"
OUT = Path(os.environ.get("FLOWPLANE_E2E_UI_OUT") or tempfile.mkdtemp(prefix="flowplane-e2e-ui-"))
OUT.mkdir(parents=True, exist_ok=True)
sys.path.insert(0, str(HERE))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def server():
    port = _free_port()
    data = Path(tempfile.mkdtemp(prefix="flowplane-e2e-ui-data-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    log = open(OUT / "server.log", "w")  # noqa: SIM115 - kept open for the session
    proc = subprocess.Popen([str(FLOWPLANE), "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--scheduler-interval", "2", "--data-dir", str(data)],
                            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=str(data))
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 180
    while not (_up(f"{base}/api/health") and _up(f"{base}/")):  # / is 503 while the UI files are fetched
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.exit(f"flowplane serve did not come up: {(OUT / 'server.log').read_text()[-3000:]}", 1)
        time.sleep(0.5)
    yield {"base": base, "port": port}
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="session")
def ids(server):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    # (the default INFO logging level: the run's logs must reach the API for the flow-run page)
    env.update(PREFECT_API_URL=f"{server['base']}/api", PREFECT_HOME=tempfile.mkdtemp(prefix="prefect-home-"))
    out = subprocess.run([sys.executable, str(HERE / "seed.py")], capture_output=True, text=True, env=env,
                         timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def same_origin(server, ids):
    from drive import drive
    from test_pages import EXPECTED_TEXT

    return {p["name"]: p for p in drive(server["base"], ids, OUT / "same-origin", host=server["base"],
                                        expect=EXPECTED_TEXT)["pages"]}


@pytest.fixture(scope="session")
def forms(server, ids):
    from drive import FORM_PAGES, drive
    from test_pages import EXPECTED_TEXT

    return {p["name"]: p for p in drive(server["base"], ids, OUT / "forms", host=server["base"],
                                        pages=FORM_PAGES, expect=EXPECTED_TEXT)["pages"]}


@pytest.fixture(scope="session")
def cross_origin(server, ids):
    from drive import drive
    from test_pages import EXPECTED_TEXT

    api = f"http://localhost:{server['port']}/api"
    return {p["name"]: p for p in drive(server["base"], ids, OUT / "cross-origin", api=api,
                                        host=f"http://localhost:{server['port']}", expect=EXPECTED_TEXT)["pages"]}


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(f"e2e-ui screenshots and server log: {OUT}")
