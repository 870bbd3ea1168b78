"""The fuzz suite's machinery: the reference's OpenAPI document cut down to the routes flowplane
serves, and the whole local app over in-memory stores (DynamoDB's key, index and size rules) that
start every generated request from the same seeded state.

``openapi-2.20.json`` beside this file is the reference server's document, copied verbatim from
``shared/reference/`` (``test_the_copy_is_the_reference_document`` keeps it so). The operations
kept are derived from the app's route table (``handlers.routes.routes()``), matched on method and
path shape (``/work_pools/{name}`` is the reference's ``/work_pools/{work_pool_name}``).

Determinism: every request starts from a snapshot of the seeded stores, with a frozen clock and
``uuid.uuid4`` drawn from a generator reset for each request, so a failing case replays exactly.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import pathlib
import random
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

DOCUMENT = pathlib.Path(__file__).with_name("openapi-2.20.json")
API_VERSION = "0.8.4"
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.timezone.utc)
_VERSION_HEADER = "x-prefect-api-version"


def shape(path: str) -> str:
    """``/work_pools/{work_pool_name}/queues/{name}`` → ``/work_pools/{}/queues/{}``."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def served_operations() -> set[tuple[str, str]]:
    """(method, path shape) of every HTTP route of the app."""
    from handlers.routes import routes

    return {(r.method.lower(), shape(r.path)) for r in routes()}


def served_document() -> dict[str, Any]:
    """The reference's document with only the operations flowplane serves. The optional
    ``x-prefect-api-version`` header parameter is dropped (every request sends a valid one: a
    random version string is a 400 before the route runs, which would spend the budget on one
    check already covered by ``tests/api``)."""
    doc = json.loads(DOCUMENT.read_text())
    served = served_operations()
    paths: dict[str, Any] = {}
    for path, item in doc["paths"].items():
        kept = {}
        for method, operation in item.items():
            if (method, shape(path)) not in served:
                continue
            operation = copy.deepcopy(operation)
            params = [p for p in operation.get("parameters", []) if p.get("name", "").lower() != _VERSION_HEADER]
            if params:
                operation["parameters"] = params
            else:
                operation.pop("parameters", None)
            kept[method] = operation
        if kept:
            paths[path] = kept
    doc["paths"] = paths
    doc["servers"] = [{"url": "/api"}]
    for model in doc["components"]["schemas"].values():
        _optional_fields_are_nullable(model)
    return doc


def _optional_fields_are_nullable(model: dict) -> None:
    """The reference's document comes from pydantic v1, which writes ``Optional[X] = None`` as plain
    ``X``: not required and without a ``default`` (v1 leaves a ``None`` default out). The reference
    answers ``null`` for such fields and accepts it in bodies, so the document is read as saying so."""
    required = set(model.get("required", ()))
    for name, prop in model.get("properties", {}).items():
        if name in required or "default" in prop:
            continue
        model["properties"][name] = {"anyOf": [prop, {"type": "null"}]}


@contextmanager
def seeded_uuid4(seed: int | str) -> Iterator[None]:
    """``uuid.uuid4`` from a generator seeded with ``seed`` while the block runs."""
    rng = random.Random(seed)
    original = uuid.uuid4

    def uuid4() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    uuid.uuid4 = uuid4
    try:
        yield
    finally:
        uuid.uuid4 = original


class FuzzApp:
    """The full local app over memory stores, reset to the seeded snapshot before each request."""

    def __init__(self) -> None:
        from starlette.testclient import TestClient

        from domain.context import Ctx
        from domain.ports import Stores
        from domain.settings import Settings
        from handlers import _deps
        from handlers._app import build_app
        from handlers.routes import routers
        from infra.memory import MemoryStore
        from tests.fuzz.seed import seed

        self.app = build_app(routers())
        self.ctx = Ctx(stores=Stores.build(MemoryStore), settings=Settings(table_prefix="fuzz-"), clock=lambda: NOW)
        _deps.use_context(self.ctx)
        try:
            with seeded_uuid4("seed"), TestClient(self.app, base_url="http://testserver/api/") as client:
                client.headers[_VERSION_HEADER] = API_VERSION
                self.seeded = seed(client)
        finally:
            _deps.use_context(None)
        self._snapshot = {name: dict(store._items) for name, store in self._stores()}

    def _stores(self) -> Iterator[tuple[str, Any]]:
        for name in vars(self.ctx.stores):
            yield name, getattr(self.ctx.stores, name)

    @contextmanager
    def seeded_state(self, seed: str) -> Iterator[None]:
        """The app's context while the block runs, back in the seeded state (items are replaced,
        never mutated, so a shallow copy is a snapshot), with ids drawn from ``seed``."""
        from handlers import _deps

        for name, store in self._stores():
            store._items = dict(self._snapshot[name])
            store.calls.clear()
        _deps.use_context(self.ctx)
        try:
            with seeded_uuid4(seed):
                yield
        finally:
            _deps.use_context(None)


_APP: list[FuzzApp] = []


def fuzz_app() -> FuzzApp:
    """The one seeded app of this process, built on first use (the schema's hooks need its seeded
    values while pytest collects, before any fixture runs)."""
    if not _APP:
        _APP.append(FuzzApp())
    return _APP[0]
