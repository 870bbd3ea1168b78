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


@pytest.fixture
def dynamo_ctx(settings, clock, dynamo_calls):
    import boto3
    from moto import mock_aws

    from infra.dynamo.store import dynamo_stores
    from infra.template import create_tables

    with mock_aws():
        create_tables(boto3.client("dynamodb", region_name=settings.region), settings)
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
