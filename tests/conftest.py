"""Shared fixtures.

Rings: ``unit`` (domain on in-memory stores, no moto), ``integration`` (DynamoDB adapter on moto,
tables created from template.yaml), ``api`` (the HTTP contract through the full local app on
moto), ``handlers`` (each Lambda function invoked with its event through Mangum).

Every test that touches DynamoDB runs under ``dynamo_calls``: a botocore hook that records each
DynamoDB operation and fails the test if any route issues a Scan.
"""

from __future__ import annotations

import datetime as dt
import os

import pytest

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.pop("AWS_PROFILE", None)

from domain.context import Ctx  # noqa: E402
from domain.ports import Stores  # noqa: E402
from domain.settings import Settings  # noqa: E402
from infra.memory import MemoryStore  # noqa: E402


class Clock:
    """A controllable clock: real time by default, frozen/advanced by tests."""

    def __init__(self):
        self.frozen: dt.datetime | None = None

    def __call__(self) -> dt.datetime:
        return self.frozen or dt.datetime.now(dt.timezone.utc)

    def freeze(self, at: dt.datetime | None = None) -> dt.datetime:
        self.frozen = at or dt.datetime.now(dt.timezone.utc)
        return self.frozen

    def advance(self, **kw) -> dt.datetime:
        self.frozen = self() + dt.timedelta(**kw)
        return self.frozen


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings() -> Settings:
    return Settings(table_prefix="test-")


@pytest.fixture
def memory_ctx(settings, clock) -> Ctx:
    return Ctx(stores=Stores.build(MemoryStore), settings=settings, clock=clock)


class DynamoCalls(list):
    def count(self, op: str | None = None) -> int:  # type: ignore[override]
        return len(self) if op is None else sum(1 for o in self if o == op)


@pytest.fixture
def dynamo_calls(monkeypatch) -> DynamoCalls:
    import botocore.client

    calls = DynamoCalls()
    original = botocore.client.BaseClient._make_api_call

    def recording(self, operation_name, api_params):
        if self.meta.service_model.service_name == "dynamodb":
            if operation_name == "Scan":
                raise AssertionError("a Scan was issued: request paths must use keys and indexes")
            calls.append(operation_name)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return calls


@pytest.fixture(scope="session")
def _moto_session():
    """One moto mock for the whole session (per xdist worker); tables are emptied per test."""
    from moto import mock_aws

    _isolate_moto_writes()
    with mock_aws():
        yield


def _isolate_moto_writes() -> None:
    """Give moto DynamoDB's write isolation. moto applies a transaction's writes one by one and
    rolls a failed one back by restoring copies of whole tables, so concurrent writers (threads in
    a race test) could see or erase each other's half-done transactions, which DynamoDB never
    allows; one lock around moto's write paths restores that guarantee."""
    import functools
    import threading

    from moto.dynamodb.models import DynamoDBBackend

    if getattr(DynamoDBBackend, "_flowplane_isolated", False):
        return
    lock = threading.RLock()
    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        original = getattr(DynamoDBBackend, name)

        @functools.wraps(original)
        def locked(self, *args, _original=original, **kwargs):
            with lock:
                return _original(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, locked)
    DynamoDBBackend._flowplane_isolated = True


def _fresh_tables(settings: Settings, template: dict | None = None) -> None:
    """Every table of template.yaml, empty: items are cleared in moto's backend (no Scan, no
    CreateTable per test). A test that ran its own ``mock_aws`` may have reset the backend, so
    missing tables are created again."""
    import boto3
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from infra.template import create_tables, load, tables

    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][settings.region]
    template = template or load()
    wanted = {settings.table(logical) for logical in tables(template)}
    if not wanted <= set(backend.tables):
        create_tables(boto3.client("dynamodb", region_name=settings.region), settings, template)
    for name in wanted:
        backend.tables[name].items.clear()


@pytest.fixture
def fresh_tables(_moto_session):
    """``fresh_tables(settings[, template])``: that settings' tables, empty, in the session mock."""
    return _fresh_tables


@pytest.fixture
def dynamo_ctx(_moto_session, settings, clock, dynamo_calls):
    from infra.dynamo.store import dynamo_stores

    _fresh_tables(settings)
    dynamo_calls.clear()
    yield Ctx(stores=dynamo_stores(settings), settings=settings, clock=clock)


@pytest.fixture(scope="session")
def _full_app():
    """Every route in one app, built once: the app holds no state, the context is per request."""
    from handlers._app import build_app
    from handlers.routes import routers

    return build_app(routers())


@pytest.fixture
def app(_full_app, dynamo_ctx):
    from handlers import _deps

    _deps.use_context(dynamo_ctx)
    yield _full_app
    _deps.use_context(None)


@pytest.fixture
def client(app):
    from starlette.testclient import TestClient

    with TestClient(app, base_url="http://testserver/api/", raise_server_exceptions=False) as c:
        c.headers["X-PREFECT-API-VERSION"] = "0.8.4"
        yield c
