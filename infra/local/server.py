"""``flowplane serve``: every route on one local app, the scheduler on a loop, one process."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace

from domain.context import Ctx
from domain.settings import Settings

log = logging.getLogger("flowplane")

BANNER = """
  flowplane {version} — Prefect {prefect} compatible deployments API
  API          http://{host}:{port}/api
  UI           {ui}
  Data         {data}
  Scheduler    every {interval:g}s{sched_state}
  Auth         {auth}

  Point Prefect at it:   export PREFECT_API_URL=http://{host}:{port}/api
  Stop with Ctrl-C.
"""


def build_local_app(ctx: Ctx, api_key: str | None = None, ui_dir=None):
    """Every route under /api (CORS outermost, as the reference), and the UI at / when ``ui_dir``."""
    from handlers import _deps
    from handlers._app import build_app, cors_middleware
    from handlers.routes import routers

    _deps.use_context(ctx)
    middleware = []
    if api_key:
        from infra.local.auth import bearer_key_middleware

        middleware.append(bearer_key_middleware(api_key))
    middleware.append(cors_middleware(ctx.settings))
    app = build_app(routers(), middleware=middleware)
    if ui_dir is not None:
        from infra.local.ui import ui_settings, with_ui

        app = with_ui(app, ui_dir, ui_settings(ctx.settings.ui_api_url, ctx.settings.csrf_protection_enabled))
    return app


def local_ui(enabled: bool, host: str, port: int):
    """(UI files or None, the banner's UI line): fetched from the prefect wheel on first use, in the
    background so the API starts at once."""
    if not enabled:
        return None, "off (--no-ui)"
    from infra.local.ui import UiFiles

    files = UiFiles.prepare()
    return files, f"http://{host}:{port}/" + ("" if files.ready else "  (fetching the UI files once, in the background)")


def scheduler_loop(stop: threading.Event, interval: float) -> None:
    """Run the scheduler Lambda handler with its real-shaped event until ``stop`` is set."""
    from handlers import scheduler  # an import error here is fatal for the loop, and logged

    event = scheduler.sample_event()
    while not stop.is_set():
        try:
            scheduler.handler(event, None)
        except Exception:  # noqa: BLE001 - keep looping; the reference logs and continues
            log.exception("scheduler tick failed")
        stop.wait(interval)


def serve(host: str, port: int, *, dynamodb_endpoint: str | None = None, api_key: str | None = None,
          scheduler_interval: float = 5.0, log_level: str = "warning", ui: bool = True,
          store: str = "sqlite", data_dir: str | None = None) -> None:
    """Serve until Ctrl-C/SIGTERM. Data: SQLite in ``data_dir`` (default ``~/.flowplane``, locked for this
    process: ``infra.local.store.DataDirInUse`` if another server holds it), or the embedded moto server
    (``store='moto'``), or the tables at ``dynamodb_endpoint``."""
    import uvicorn

    from domain import settings as settings_mod
    from infra.local import store as local_store

    settings = Settings.from_env()
    if settings.table_prefix == "flowplane-":
        settings = replace(settings, table_prefix="flowplane-local-")
    settings = replace(settings, api_key=api_key or settings.api_key)
    opened = local_store.open_store(settings, store=store, data_dir=data_dir, dynamodb_endpoint=dynamodb_endpoint)
    settings = opened.settings
    ctx = Ctx(stores=opened.stores, settings=settings)
    from domain import run_counters

    rebuilt = run_counters.ensure_built(ctx)  # once, for data written before run counters existed
    if rebuilt and (rebuilt["flow_runs"] or rebuilt["task_runs"]):
        print(f"counted {rebuilt['flow_runs']} flow runs and {rebuilt['task_runs']} task runs (run counters built)",
              flush=True)
    from domain import tag_index

    tagged = tag_index.ensure_built(ctx)  # once, for data written before the tag index existed
    if tagged and any(tagged.values()):
        print(f"tag index: wrote {sum(tagged.values())} tag items for the stored objects", flush=True)
    ui_dir, ui_line = local_ui(ui, host, port)
    app = build_local_app(ctx, settings.api_key, ui_dir)

    stop = threading.Event()
    worker = None
    # the tick also marks late runs and fails expired pauses (each with its own enable setting)
    if settings.scheduler_enabled or settings.late_runs_enabled or settings.pause_expirations_enabled:
        import handlers.scheduler  # noqa: F401 - fail at start-up, not silently in the loop thread

        worker = threading.Thread(target=scheduler_loop, args=(stop, scheduler_interval), name="scheduler", daemon=True)
        worker.start()
    print(BANNER.format(
        version="0.1.0", prefect=settings_mod.PREFECT_VERSION, host=host, port=port, data=opened.description,
        interval=scheduler_interval, sched_state="" if settings.scheduler_enabled else " (disabled)",
        auth="Bearer key required" if settings.api_key else "open (loopback only)", ui=ui_line,
    ), flush=True)
    try:
        uvicorn.run(app, host=host, port=port, log_level=log_level)
    finally:
        stop.set()
        if worker is not None:
            worker.join(timeout=10)
        opened.close()
        print("flowplane stopped.", flush=True)
