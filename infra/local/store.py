"""The local runtime's stores: SQLite in a data directory (the default of ``flowplane serve``), or a
DynamoDB-compatible endpoint — an embedded moto server or ``--dynamodb-endpoint`` — with the
template's tables created."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from domain.ports import Stores
from domain.settings import Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_fake_credentials() -> None:
    """Local endpoints need *some* credentials; never overrides real ones."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "flowplane-local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "flowplane-local")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


class EmbeddedMotoServer:
    """moto's DynamoDB on a loopback port, answering one request at a time.

    moto's backend is not thread-safe: ``TransactWriteItems`` deep-copies every table while another
    request thread may be writing one ("dictionary changed size during iteration" → a 500 and a lost
    write). The HTTP server still takes connections on threads (keep-alive works), but the backend is
    entered under one lock and each response body is read out before the lock is released."""

    def __init__(self, port: int | None = None):
        self.port = port or _free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._server = None
        self._thread: threading.Thread | None = None

    def start(self) -> EmbeddedMotoServer:
        from moto.server import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        backend = DomainDispatcherApplication(create_backend_app)
        lock = threading.Lock()

        def serial(environ, start_response):
            with lock:
                body = backend(environ, start_response)
                try:
                    return [b"".join(body)]
                finally:
                    getattr(body, "close", lambda: None)()

        self._server = make_server("127.0.0.1", self.port, serial, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="flowplane-moto")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None


@dataclass
class LocalStore:
    endpoint: str
    settings: Settings
    _server: object | None = None
    new_indexes: list[str] = field(default_factory=list)  # "<table>.<index>" added to older tables

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()  # type: ignore[attr-defined]
            self._server = None


def start(settings: Settings, endpoint: str | None = None) -> LocalStore:
    """An embedded moto server on a free loopback port unless ``endpoint`` is given; tables created."""
    import boto3

    ensure_fake_credentials()
    server = None
    if not endpoint:
        import logging

        # the embedded store's per-request access log is noise for people running `make serve`
        logging.getLogger("werkzeug").setLevel(logging.WARNING)

        server = EmbeddedMotoServer().start()
        endpoint = server.endpoint
    settings = replace(settings, dynamodb_endpoint=endpoint)
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=settings.region)
    from infra.template import create_tables

    created = create_tables(client, settings)
    return LocalStore(endpoint=endpoint, settings=settings, _server=server,
                      new_indexes=[c for c in created if "." in c])


# --------------------------------------------------------------------------------------------
# The SQLite data directory of `flowplane serve` (the default store)

DB_FILE = "flowplane.db"
LOCK_FILE = "flowplane.lock"


class DataDirInUse(RuntimeError):
    """Another process (a running ``flowplane serve``) holds the data directory's lock."""


def default_data_dir(settings: Settings) -> Path:
    """``FLOWPLANE_DATA_DIR`` if set, else ``~/.flowplane``."""
    return Path(settings.data_dir).expanduser() if settings.data_dir else Path.home() / ".flowplane"


@dataclass
class DataDir:
    """A data directory held with an exclusive ``flock`` on its lock file until ``release()``."""

    path: Path
    _fd: int | None = None

    @property
    def db_path(self) -> Path:
        return self.path / DB_FILE

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


def lock_data_dir(path: Path | str) -> DataDir:
    """Create ``path`` if needed and lock it for this process, or raise ``DataDirInUse``.

    The lock is an exclusive, non-blocking ``fcntl.flock`` on ``<path>/flowplane.lock``: the kernel
    drops it when the process exits however it exits (kill -9 included), so a stale lock file never
    blocks a restart. The file holds the owner's pid, for the error message.
    """
    import fcntl

    path = Path(path).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    lock_path = path / LOCK_FILE
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        try:
            owner = os.pread(fd, 32, 0).decode(errors="replace").strip()
        finally:
            os.close(fd)
        who = f" (pid {owner})" if owner.isdigit() else ""
        raise DataDirInUse(
            f"the data directory {path} is in use by another flowplane server{who}. Stop that server, "
            f"or give this one its own directory with --data-dir DIR (or FLOWPLANE_DATA_DIR).") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return DataDir(path=path, _fd=fd)


@dataclass
class OpenStore:
    """The stores a local command runs on, what to call them in a banner, and how to close them."""

    stores: Stores
    settings: Settings
    description: str
    _close: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        while self._close:
            self._close.pop()()


def open_store(settings: Settings, *, store: str = "sqlite", data_dir: Path | str | None = None,
               dynamodb_endpoint: str | None = None, lock: bool = True) -> OpenStore:
    """The local stores: SQLite in ``data_dir`` (default), the embedded moto server (``store='moto'``)
    or the DynamoDB tables at ``dynamodb_endpoint`` (which wins over ``store``).

    ``lock`` takes the data directory's lock (``DataDirInUse`` if a server holds it); a one-shot
    command may skip it: SQLite serialises its writes with the server's, and conditions still hold.
    """
    if dynamodb_endpoint or store == "moto":
        from infra.dynamo.store import dynamo_stores

        local = start(settings, dynamodb_endpoint)
        what = f"DynamoDB at {local.endpoint}" + (" (embedded moto server, in memory: lost on exit)"
                                                  if not dynamodb_endpoint else "")
        stores = dynamo_stores(local.settings)
        if local.new_indexes:  # tables of an older flowplane: put their items into the new indexes
            from domain.sharded_index import reshard

            reshard(vars(stores).values())
        return OpenStore(stores, local.settings, what, [local.stop])
    if store != "sqlite":
        raise ValueError(f"unknown store {store!r} (sqlite or moto)")
    from infra.sqlite.store import SqliteDb, sqlite_stores

    path = Path(data_dir).expanduser() if data_dir else default_data_dir(settings)
    closers: list[Callable[[], None]] = []
    if lock:
        held = lock_data_dir(path)
        closers.append(held.release)
        path = held.path
    try:
        db = SqliteDb(path / DB_FILE)
    except BaseException:
        for close in reversed(closers):
            close()
        raise
    closers.append(db.close)
    return OpenStore(sqlite_stores(db), settings, f"{path / DB_FILE} (SQLite)", closers)
