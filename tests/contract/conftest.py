"""The store contract's adapters: every test in this folder runs once per ``Store`` implementation.

* ``memory`` — ``infra.memory.MemoryStore`` (the unit tests' fake),
* ``sqlite`` — ``infra.sqlite.store.SqliteStore`` on a temporary file (the local server's store),
* ``dynamo`` — ``infra.dynamo.store.DynamoStore`` on the session's moto mock, tables emptied per test.
"""

from __future__ import annotations

import pytest

from domain.ports import Stores

ADAPTERS = ("memory", "sqlite", "dynamo")


@pytest.fixture(params=ADAPTERS)
def adapter(request) -> str:
    return request.param


@pytest.fixture
def stores(adapter, request, tmp_path, settings) -> Stores:
    if adapter == "memory":
        from infra.memory import MemoryStore

        yield Stores.build(MemoryStore)
    elif adapter == "sqlite":
        from infra.sqlite.store import SqliteDb, sqlite_stores

        db = SqliteDb(tmp_path / "contract.db")
        yield sqlite_stores(db)
        db.close()
    else:
        from infra.dynamo.store import dynamo_stores

        fresh_tables = request.getfixturevalue("fresh_tables")
        fresh_tables(settings)
        yield dynamo_stores(settings)
