"""The ``Store`` port's counters (``add``, ``TxAdd``, ``counts``), run against every adapter.

DynamoDB's ``ADD`` is the contract: a missing item or counter starts at 0, negative deltas subtract,
a counter that comes back to 0 stays (with value 0), and an add inside a transaction is applied
exactly when every other operation's condition holds.
"""

from __future__ import annotations

import threading
import uuid

import pytest

from domain.errors import ConditionFailed
from domain.ports import Cond, TxAdd, TxDelete, TxPut


def _id() -> str:
    return str(uuid.uuid4())


class TestAdd:
    def test_adding_to_a_missing_item_creates_it_from_zero(self, stores):
        stores.counters.add("c1", {"SCHEDULED|Scheduled": 2, "RUNNING|Running": 1})
        assert stores.counters.counts(["c1"]) == {"c1": {"SCHEDULED|Scheduled": 2, "RUNNING|Running": 1}}

    def test_adds_accumulate_and_a_new_counter_starts_at_zero(self, stores):
        stores.counters.add("c1", {"a": 2})
        stores.counters.add("c1", {"a": 3, "b": 1})
        assert stores.counters.counts(["c1"]) == {"c1": {"a": 5, "b": 1}}

    def test_negative_deltas_subtract_and_zero_is_kept(self, stores):
        stores.counters.add("c1", {"a": 2, "b": 1})
        stores.counters.add("c1", {"a": -2, "b": -3})
        assert stores.counters.counts(["c1"]) == {"c1": {"a": 0, "b": -2}}

    def test_counter_names_are_arbitrary_strings(self, stores):
        names = {"SCHEDULED|Late": 1, "COMPLETED|naïve ☃ name": 2, "id": 3, "x.y[0] #z :v": 4, "PENDING": 5}
        stores.counters.add("c1", names)
        assert stores.counters.counts(["c1"]) == {"c1": names}

    def test_empty_deltas_write_nothing(self, stores):
        stores.counters.add("c1", {})
        assert stores.counters.counts(["c1"]) == {}

    def test_a_delta_that_is_not_an_int_is_refused(self, stores):
        with pytest.raises(ValueError):
            stores.counters.add("c1", {"a": 1.5})

    def test_twenty_racing_adds_all_count(self, stores):
        start = threading.Barrier(20)

        def bump() -> None:
            start.wait()
            stores.counters.add("hot", {"a": 1})

        threads = [threading.Thread(target=bump) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert stores.counters.counts(["hot"]) == {"hot": {"a": 20}}


class TestCounts:
    def test_absent_ids_are_left_out(self, stores):
        stores.counters.add("c1", {"a": 1})
        assert stores.counters.counts(["nope", "c1", "other"]) == {"c1": {"a": 1}}

    def test_no_ids_is_an_empty_dict(self, stores):
        assert stores.counters.counts([]) == {}

    def test_more_ids_than_one_batch(self, stores):
        for i in range(130):
            stores.counters.add(f"c{i}", {"n": i})
        got = stores.counters.counts([f"c{i}" for i in range(130)] + ["c0"])
        assert got == {f"c{i}": {"n": i} for i in range(130)}


class TestAddInTransactions:
    def test_an_add_commits_with_the_put_it_accompanies(self, stores):
        run = {"id": _id(), "name": "r", "flow_id": "f"}
        stores.counters.add("all#0", {"PENDING|Pending": 1})
        stores.transact([TxPut(stores.flow_runs, run, Cond.absent()),
                         TxAdd(stores.counters, "all#0", {"PENDING|Pending": 1, "RUNNING|Running": -1}),
                         TxAdd(stores.counters, "dep#1", {"PENDING|Pending": 1})])
        assert stores.flow_runs.get(run["id"]) == run
        assert stores.counters.counts(["all#0", "dep#1"]) == {
            "all#0": {"PENDING|Pending": 2, "RUNNING|Running": -1}, "dep#1": {"PENDING|Pending": 1}}

    def test_a_failing_condition_applies_no_add(self, stores):
        run = {"id": _id(), "name": "r", "flow_id": "f", "_rev": 2}
        stores.flow_runs.put(run)
        stores.counters.add("all#0", {"a": 1})
        with pytest.raises(ConditionFailed):
            stores.transact([TxAdd(stores.counters, "all#0", {"a": 1}),
                             TxAdd(stores.counters, "new", {"a": 1}),
                             TxPut(stores.flow_runs, {**run, "name": "changed"}, Cond.eq("rev", 1))])
        assert stores.counters.counts(["all#0", "new"]) == {"all#0": {"a": 1}}
        assert stores.flow_runs.get(run["id"]) == run

    def test_an_add_commits_with_a_conditional_delete(self, stores):
        run = {"id": _id(), "name": "r", "flow_id": "f"}
        stores.flow_runs.put(run)
        stores.counters.add("all#0", {"a": 1})
        stores.transact([TxDelete(stores.flow_runs, run["id"], Cond.exists()),
                         TxAdd(stores.counters, "all#0", {"a": -1})])
        assert stores.flow_runs.get(run["id"]) is None
        assert stores.counters.counts(["all#0"]) == {"all#0": {"a": 0}}

    def test_two_operations_on_one_counter_item_are_refused(self, stores):
        with pytest.raises(ValueError, match="two operations on one item"):
            stores.transact([TxAdd(stores.counters, "x", {"a": 1}), TxAdd(stores.counters, "x", {"b": 1})])
        assert stores.counters.counts(["x"]) == {}

    def test_a_transaction_of_adds_only(self, stores):
        stores.transact([TxAdd(stores.counters, "x", {"a": 1}), TxAdd(stores.counters, "y", {"a": -1})])
        assert stores.counters.counts(["x", "y"]) == {"x": {"a": 1}, "y": {"a": -1}}
