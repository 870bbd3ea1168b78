"""How the DynamoDB adapter reports what DynamoDB refuses: retryable refusals are a 503 in the
reference's envelope (``ServiceUnavailable``), never an unmapped 500."""

from __future__ import annotations

import pytest
from pynamodb.exceptions import PutError

from domain.errors import ServiceUnavailable
from domain.ports import LOGS
from domain.settings import Settings
from infra.dynamo.store import DynamoStore


class _Exhausted:
    def __enter__(self):
        raise PutError("Failed to batch write items: max_retry_attempts exceeded")

    def __exit__(self, *exc):
        return False


@pytest.fixture
def store(monkeypatch):
    s = DynamoStore(LOGS, Settings(table_prefix="test-"))
    monkeypatch.setattr(s.model, "batch_write", lambda: _Exhausted())
    return s


class TestBatchWriteExhausted:
    def test_put_many_whose_items_stay_unprocessed_is_service_unavailable(self, store):
        with pytest.raises(ServiceUnavailable):
            store.put_many([{"id": "a"}])

    def test_delete_many_whose_items_stay_unprocessed_is_service_unavailable(self, store):
        with pytest.raises(ServiceUnavailable):
            store.delete_many(["a"])

    def test_other_write_errors_still_propagate(self, store, monkeypatch):
        class _Broken(_Exhausted):
            def __enter__(self):
                raise PutError("something else")

        monkeypatch.setattr(store.model, "batch_write", lambda: _Broken())
        with pytest.raises(PutError):
            store.put_many([{"id": "a"}])
