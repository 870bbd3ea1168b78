"""The Prefect 2.20 UI beside the local API (``flowplane serve``; ``--no-ui`` turns it off).

No built UI lives in this repository. The first start fetches the one ``prefect==2.20.26`` wheel
with pip (``pip download --no-deps``: only that file, none of prefect's dependencies), extracts
``prefect/server/ui/`` into ``~/.flowplane/ui/2.20.26/build/`` and, as the reference does at start,
replaces ``/PREFECT_UI_SERVE_BASE_REPLACE_PLACEHOLDER`` in its text files with the serve base
(``/`` -> ``""``). A marker file holding ``<version>:<base>`` tells later starts the copy is ready.

When the files are not cached yet they are fetched in a background thread (``UiFiles.prepare``):
the API answers at once and UI pages answer 503 until the files are ready. The app then answers
``GET /ui-settings`` (``{"api_url", "csrf_enabled", "flags"}``, what the SPA
reads first) and serves the files at ``/`` with the reference's SPA fallback to ``index.html``
(never for ``/api/...``: an unknown API path stays a 404).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from domain.settings import PREFECT_VERSION

PLACEHOLDER = "/PREFECT_UI_SERVE_BASE_REPLACE_PLACEHOLDER"
WHEEL_UI_PREFIX = "prefect/server/ui/"
MARKER = "UI_SERVE_BASE"  # the reference's name for the same marker
# the reference only rewrites these
TEXT_EXTENSIONS = (".txt", ".html", ".css", ".js", ".json")
# what the 2.20.26 reference answers in ui-settings "flags" by default (its enabled experiments)
DEFAULT_FLAGS = (
    "states_on_flow_run_graph", "deployment_status", "work_pools", "work_queue_status",
    "enhanced_cancellation", "workers", "workspace_dashboard", "artifacts_on_flow_run_graph", "artifacts",
)


class UiUnavailable(RuntimeError):
    """The UI files could not be fetched or extracted (the API still serves)."""


def cache_dir(home: Path | None = None, version: str = PREFECT_VERSION) -> Path:
    return (home or Path.home()) / ".flowplane" / "ui" / version


def ui_settings(api_url: str, csrf_enabled: bool = False, flags: tuple[str, ...] = DEFAULT_FLAGS) -> dict:
    return {"api_url": api_url, "csrf_enabled": csrf_enabled, "flags": list(flags)}


def replace_placeholder(directory: Path, base: str) -> int:
    """Replace the placeholder with the stripped base in every text file; returns files changed."""
    stripped = base.rstrip("/")
    changed = 0
    for path in sorted(directory.rglob("*")):
        if not path.is_file() or not path.name.endswith(TEXT_EXTENSIONS):
            continue
        text = path.read_text(encoding="utf-8")
        if PLACEHOLDER in text:
            path.write_text(text.replace(PLACEHOLDER, stripped), encoding="utf-8")
            changed += 1
    return changed


def download_wheel(dest: Path, version: str = PREFECT_VERSION) -> Path:
    """``pip download`` exactly one file: the prefect wheel (no dependencies)."""
    dest.mkdir(parents=True, exist_ok=True)
    found = sorted(dest.glob(f"prefect-{version}-*.whl"))
    if found:
        return found[0]
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
           f"prefect=={version}", "-d", str(dest)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    found = sorted(dest.glob(f"prefect-{version}-*.whl"))
    if proc.returncode != 0 or not found:
        raise UiUnavailable(f"could not fetch prefect=={version} with pip: {proc.stderr.strip()[-500:]}")
    return found[0]


def extract_ui(wheel: Path, target: Path) -> int:
    """Extract ``prefect/server/ui/**`` from ``wheel`` into ``target``; returns the file count."""
    count = 0
    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            if info.is_dir() or not info.filename.startswith(WHEEL_UI_PREFIX):
                continue
            rel = Path(info.filename[len(WHEEL_UI_PREFIX):])
            if rel.is_absolute() or ".." in rel.parts:
                continue
            out = target / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
            count += 1
    if not (target / "index.html").is_file():
        raise UiUnavailable(f"{wheel.name} holds no {WHEEL_UI_PREFIX}index.html")
    return count


def ensure_ui(root: Path | None = None, *, base: str = "/", version: str = PREFECT_VERSION,
              wheel: Path | None = None) -> Path:
    """The ready-to-serve UI directory (fetched, extracted and rewritten on first use)."""
    root = root or cache_dir(version=version)
    build = root / "build"
    key = f"{version}:{base}"
    marker = build / MARKER
    if marker.is_file() and marker.read_text(encoding="utf-8") == key:
        return build
    wheel = wheel or download_wheel(root / "wheel", version)
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="build-", dir=root))
    try:
        extract_ui(wheel, staging)
        replace_placeholder(staging, base)
        (staging / MARKER).write_text(key, encoding="utf-8")
        if build.exists():
            shutil.rmtree(build)
        os.replace(staging, build)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return build


class UiFiles:
    """The UI directory, possibly still being fetched in a background thread (``prepare``), so the
    API answers at once on a first start; UI pages answer 503 until the files are ready."""

    def __init__(self, path: Path | None = None, error: str | None = None):
        self.path, self.error = path, error
        self._thread = None

    @property
    def ready(self) -> bool:
        return self.path is not None

    @classmethod
    def prepare(cls, root: Path | None = None, *, base: str = "/", wait: bool = False) -> UiFiles:
        files = cls()
        root = root or cache_dir()
        marker = root / "build" / MARKER
        if marker.is_file() and marker.read_text(encoding="utf-8") == f"{PREFECT_VERSION}:{base}":
            files.path = root / "build"
            return files

        def fetch() -> None:
            try:
                files.path = ensure_ui(root, base=base)
            except (UiUnavailable, OSError) as exc:
                files.error = str(exc)
                import logging

                logging.getLogger("flowplane").warning("Prefect UI not served: %s", exc)

        import threading

        files._thread = threading.Thread(target=fetch, name="ui-fetch", daemon=True)
        files._thread.start()
        if wait:
            files.join()
        return files

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)


def with_ui(api_app, build: Path | UiFiles, settings_doc: dict):
    """An ASGI app: ``/api`` and below to ``api_app`` untouched (its 404s and 405s stay the API's),
    everything else to the UI — ``GET /ui-settings`` and the SPA with its fallback to index.html."""
    from starlette.exceptions import HTTPException
    from starlette.middleware.gzip import GZipMiddleware
    from starlette.responses import HTMLResponse, JSONResponse
    from starlette.staticfiles import StaticFiles

    files = build if isinstance(build, UiFiles) else UiFiles(build)

    class SPAStaticFiles(StaticFiles):
        async def get_response(self, path: str, scope):
            try:
                return await super().get_response(path, scope)
            except HTTPException as exc:
                if exc.status_code != 404:
                    raise
                return await super().get_response("index.html", scope)

    static: dict = {}

    async def ui_app(scope, receive, send):
        if scope["type"] == "http" and scope.get("path") == "/ui-settings" and scope["method"] in ("GET", "HEAD"):
            await JSONResponse(settings_doc)(scope, receive, send)
            return
        if not files.ready:
            text = (f"The Prefect UI could not be prepared: {files.error}" if files.error else
                    f"The Prefect UI is being prepared (prefect=={PREFECT_VERSION}, once); reload in a few seconds.")
            await HTMLResponse(f"<!doctype html><p>{text}</p>", status_code=503,
                               headers={"retry-after": "5"})(scope, receive, send)
            return
        if "app" not in static:
            static["app"] = GZipMiddleware(SPAStaticFiles(directory=str(files.path), html=True))
        await static["app"](scope, receive, send)

    async def app(scope, receive, send):
        path = scope.get("path", "") if scope["type"] in ("http", "websocket") else ""
        if scope["type"] == "lifespan" or path == "/api" or path.startswith("/api/"):
            await api_app(scope, receive, send)
        else:
            await ui_app(scope, receive, send)

    app.api_app = api_app  # type: ignore[attr-defined]
    app.ui_files = files  # type: ignore[attr-defined]
    return app
