"""The DynamoDB adapter retries a transaction DynamoDB cancelled only for a conflict with another
transaction (nothing was written), and reports a failed condition at once as ``ConditionFailed``.

Counters make conflicts likely: every run write adds to a few shared counter items, and DynamoDB
cancels a transaction that touches an item another transaction is writing (``TransactionConflict``).
moto never reports one, so the connection is stubbed here."""

from __future__ import annotations

import pytest
from pynamodb.exceptions import CancellationReason, TransactWriteError, VerboseClientError

from domain.errors import ConditionFailed
from domain.ports import COUNTERS, FLOWS, TxAdd, TxPut
from domain.settings import Settings
from infra.dynamo import store as dynamo_store
from infra.dynamo.store import DynamoStore


def _cancelled(*codes: str | None) -> TransactWriteError:
    reasons = [None if c is None else CancellationReason(code=c) for c in codes]
    cause = VerboseClientError({"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"}},
                               "TransactWriteItems", cancellation_reasons=reasons)
    return TransactWriteError("Failed to write transaction items", cause)


@pytest.fixture
def stores(monkeypatch):
    monkeypatch.setattr(dynamo_store, "CONFLICT_BACKOFF_S", 0)
    settings = Settings(table_prefix="test-")
    return DynamoStore(FLOWS, settings), DynamoStore(COUNTERS, settings)


def _script(monkeypatch, store: DynamoStore, outcomes: list) -> list:
    calls = []

    def transact_write_items(**kwargs):
        calls.append(kwargs)
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome

    conn = store.model._get_connection().connection
    monkeypatch.setattr(conn, "transact_write_items", transact_write_items)
    return calls


def _ops(flows, counters):
    return [TxPut(flows, {"id": "f1", "name": "a"}), TxAdd(counters, "flow_run:all#0", {"RUNNING|Running": 1})]


class TestTransactionConflicts:
    def test_a_conflict_is_retried_until_the_transaction_goes_through(self, monkeypatch, stores):
        calls = _script(monkeypatch, stores[0], [_cancelled(None, "TransactionConflict"),
                                                 _cancelled("TransactionConflict", None), None])
        DynamoStore.transact(_ops(*stores))
        assert len(calls) == 3
        assert calls[0]["update_items"][0]["UpdateExpression"] == "ADD #c0 :c0"

    def test_a_failed_condition_is_not_retried(self, monkeypatch, stores):
        calls = _script(monkeypatch, stores[0], [_cancelled("ConditionalCheckFailed", None)])
        with pytest.raises(ConditionFailed):
            DynamoStore.transact(_ops(*stores))
        assert len(calls) == 1

    def test_a_failed_condition_beside_a_conflict_is_not_retried(self, monkeypatch, stores):
        calls = _script(monkeypatch, stores[0], [_cancelled("ConditionalCheckFailed", "TransactionConflict")])
        with pytest.raises(ConditionFailed):
            DynamoStore.transact(_ops(*stores))
        assert len(calls) == 1

    def test_conflicts_that_persist_end_as_condition_failed(self, monkeypatch, stores):
        attempts = dynamo_store.CONFLICT_ATTEMPTS
        calls = _script(monkeypatch, stores[0], [_cancelled(None, "TransactionConflict")] * attempts)
        with pytest.raises(ConditionFailed):
            DynamoStore.transact(_ops(*stores))
        assert len(calls) == attempts
