"""The ``Store`` port's contract (domain/ports.py), run against every adapter (see conftest.py).

DynamoDB's semantics are the contract: conditions evaluated atomically with the write, GSIs that
hold only items with every key attribute (sparse), string sort keys in UTF-8 byte (code point)
order, range conditions, limits, batch reads and writes, all-or-nothing transactions across
tables, and the 400 KB item-size refusal.
"""

from __future__ import annotations

import threading
import uuid

import pytest

from domain.errors import ConditionFailed, TooLarge, Unprocessable
from domain.ports import Cond, TxDelete, TxPut
from infra.memory import MAX_ITEM_BYTES


def _id() -> str:
    return str(uuid.uuid4())


def flow(name: str, **extra) -> dict:
    return {"id": _id(), "name": name, **extra}


def run(deployment_id: str, created: str, state_type: str = "SCHEDULED", *, at: str | None = None,
        work_queue_id: str | None = None) -> dict:
    return {
        "id": _id(), "flow_id": "flow-1", "deployment_id": deployment_id, "state_type": state_type,
        "created": created, "next_scheduled_start_time": at or created, "work_queue_id": work_queue_id,
    }


def names(docs) -> list[str]:
    return [d["name"] for d in docs]


def ts(hour: int, minute: int = 0) -> str:
    return f"2026-03-01T{hour:02d}:{minute:02d}:00+00:00"


class TestGet:
    def test_missing_item_is_none(self, stores):
        assert stores.flows.get(_id()) is None

    def test_put_then_get_returns_the_document_unchanged(self, stores):
        doc = {"id": _id(), "name": "naïve ☃ flow", "tags": ["a", "b"], "nested": {"n": 1, "f": 1.5, "x": None},
               "flag": True}
        stores.flows.put(doc)
        assert stores.flows.get(doc["id"]) == doc

    def test_put_replaces_the_whole_document(self, stores):
        doc = flow("a", extra="old")
        stores.flows.put(doc)
        stores.flows.put({"id": doc["id"], "name": "b"})
        assert stores.flows.get(doc["id"]) == {"id": doc["id"], "name": "b"}


class TestGetMany:
    def test_returns_existing_items_once_and_skips_missing(self, stores):
        a, b = flow("a"), flow("b")
        stores.flows.put_many([a, b])
        got = stores.flows.get_many([a["id"], _id(), b["id"], a["id"]])
        assert sorted(got, key=lambda d: d["name"]) == [a, b]

    def test_no_ids_is_an_empty_list(self, stores):
        assert stores.flows.get_many([]) == []

    def test_more_ids_than_one_batch(self, stores):
        docs = [flow(f"f{i:03d}") for i in range(130)]
        stores.flows.put_many(docs)
        got = stores.flows.get_many([d["id"] for d in docs])
        assert sorted(names(got)) == [f"f{i:03d}" for i in range(130)]


class TestPutConditions:
    def test_absent_creates_a_new_item(self, stores):
        doc = flow("a")
        stores.flows.put(doc, cond=Cond.absent())
        assert stores.flows.get(doc["id"]) == doc

    def test_absent_fails_on_an_existing_item_and_keeps_it(self, stores):
        doc = flow("a")
        stores.flows.put(doc)
        with pytest.raises(ConditionFailed):
            stores.flows.put({**doc, "name": "b"}, cond=Cond.absent())
        assert stores.flows.get(doc["id"]) == doc

    def test_exists_fails_on_a_missing_item_and_writes_nothing(self, stores):
        doc = flow("a")
        with pytest.raises(ConditionFailed):
            stores.flows.put(doc, cond=Cond.exists())
        assert stores.flows.get(doc["id"]) is None

    def test_exists_replaces_an_existing_item(self, stores):
        doc = flow("a")
        stores.flows.put(doc)
        stores.flows.put({**doc, "name": "b"}, cond=Cond.exists())
        assert stores.flows.get(doc["id"])["name"] == "b"

    def test_eq_on_the_revision_succeeds_when_it_matches(self, stores):
        doc = {"id": _id(), "name": "d", "flow_id": "f", "_rev": 1}
        stores.deployments.put(doc)
        stores.deployments.put({**doc, "_rev": 2}, cond=Cond.eq("rev", 1))
        assert stores.deployments.get(doc["id"])["_rev"] == 2

    def test_eq_on_the_revision_fails_when_it_moved_on(self, stores):
        doc = {"id": _id(), "name": "d", "flow_id": "f", "_rev": 2}
        stores.deployments.put(doc)
        with pytest.raises(ConditionFailed):
            stores.deployments.put({**doc, "_rev": 3, "name": "lost"}, cond=Cond.eq("rev", 1))
        assert stores.deployments.get(doc["id"]) == doc

    def test_eq_fails_on_a_missing_item(self, stores):
        with pytest.raises(ConditionFailed):
            stores.deployments.put({"id": _id(), "name": "d", "_rev": 1}, cond=Cond.eq("rev", 0))

    def test_eq_fails_when_the_item_lacks_the_attribute(self, stores):
        doc = {"id": _id(), "name": "d", "flow_id": "f"}  # no _rev: no rev attribute
        stores.deployments.put(doc)
        with pytest.raises(ConditionFailed):
            stores.deployments.put({**doc, "_rev": 1}, cond=Cond.eq("rev", 0))

    def test_eq_none_holds_for_an_item_without_the_attribute(self, stores):
        doc = {"id": _id(), "name": "d", "flow_id": "f"}
        stores.deployments.put(doc)
        stores.deployments.put({**doc, "_rev": 1}, cond=Cond.eq("rev", None))
        with pytest.raises(ConditionFailed):
            stores.deployments.put({**doc, "_rev": 2}, cond=Cond.eq("rev", None))
        assert stores.deployments.get(doc["id"])["_rev"] == 1

    def test_eq_on_a_projected_string_attribute(self, stores):
        r = run("dep", ts(1), "SCHEDULED")
        stores.flow_runs.put(r)
        stores.flow_runs.put({**r, "state_type": "PENDING"}, cond=Cond.eq("state_type", "SCHEDULED"))
        with pytest.raises(ConditionFailed):
            stores.flow_runs.put({**r, "state_type": "RUNNING"}, cond=Cond.eq("state_type", "SCHEDULED"))
        assert stores.flow_runs.get(r["id"])["state_type"] == "PENDING"


class TestIndexKeys:
    def test_an_empty_string_index_key_is_refused_and_nothing_is_written(self, stores):
        doc = flow("")
        with pytest.raises(Exception) as exc:  # DynamoDB: ValidationException; the fakes: ValueError
            stores.flows.put(doc)
        assert type(exc.value).__name__ in {"ValueError", "PutError"}
        assert stores.flows.get(doc["id"]) is None
        assert list(stores.flows.query("by_name", "all")) == []

    def test_an_empty_string_outside_the_index_keys_is_stored(self, stores):
        doc = flow("named", description="")
        stores.flows.put(doc)
        assert stores.flows.get(doc["id"]) == doc


class TestDelete:
    def test_returns_true_when_an_item_was_deleted(self, stores):
        doc = flow("a")
        stores.flows.put(doc)
        assert stores.flows.delete(doc["id"]) is True
        assert stores.flows.get(doc["id"]) is None

    def test_returns_false_when_there_was_nothing(self, stores):
        assert stores.flows.delete(_id()) is False

    def test_exists_condition_on_a_missing_item_fails(self, stores):
        with pytest.raises(ConditionFailed):
            stores.flows.delete(_id(), cond=Cond.exists())

    def test_eq_condition_that_does_not_hold_keeps_the_item(self, stores):
        doc = {"id": _id(), "name": "d", "flow_id": "f", "_rev": 5}
        stores.deployments.put(doc)
        with pytest.raises(ConditionFailed):
            stores.deployments.delete(doc["id"], cond=Cond.eq("rev", 4))
        assert stores.deployments.get(doc["id"]) == doc
        assert stores.deployments.delete(doc["id"], cond=Cond.eq("rev", 5)) is True

    def test_delete_many_removes_each_and_ignores_missing(self, stores):
        docs = [flow(f"f{i}") for i in range(30)]
        stores.flows.put_many(docs)
        stores.flows.delete_many([d["id"] for d in docs[:27]] + [_id(), docs[0]["id"]])
        left = list(stores.flows.query("by_name", "all"))
        assert names(left) == ["f27", "f28", "f29"]

    def test_deleted_items_leave_the_indexes(self, stores):
        doc = flow("a")
        stores.flows.put(doc)
        stores.flows.delete(doc["id"])
        assert list(stores.flows.query("by_name", "all")) == []


class TestPutMany:
    def test_writes_every_item_and_overwrites_existing_ones(self, stores):
        a = flow("a")
        stores.flows.put(a)
        more = [{**a, "name": "a2"}] + [flow(f"b{i:02d}") for i in range(40)]
        stores.flows.put_many(more)
        assert names(stores.flows.query("by_name", "all")) == ["a2"] + [f"b{i:02d}" for i in range(40)]

    def test_nothing_is_fine(self, stores):
        stores.flows.put_many([])
        assert list(stores.flows.query("by_name", "all")) == []


class TestScan:
    """``scan`` (export/import only): every document once, whatever the indexes, over several pages."""

    def test_an_empty_table_scans_empty(self, stores):
        assert list(stores.flows.scan()) == []

    def test_every_document_once_across_pages_including_those_in_no_index(self, stores):
        docs = [flow(f"f{i:04d}") for i in range(530)] + [{"id": _id(), "no_name": True}]
        stores.flows.put_many(docs)
        stores.flows.delete(docs[0]["id"])
        got = list(stores.flows.scan())
        assert sorted(d["id"] for d in got) == sorted(d["id"] for d in docs[1:])
        assert {d["id"]: d for d in got}[docs[-1]["id"]] == docs[-1]


class TestQueryOrder:
    NAMES = ["b", "B", "a", "A", "_x", "10", "9", "é", "z", "Z", "ab", "a b", "~", "日本"]

    def test_string_sort_keys_sort_by_code_point(self, stores):
        stores.flows.put_many([flow(n) for n in self.NAMES])
        assert names(stores.flows.query("by_name", "all")) == sorted(self.NAMES)

    def test_descending_reverses_the_order(self, stores):
        stores.flows.put_many([flow(n) for n in self.NAMES])
        assert names(stores.flows.query("by_name", "all", descending=True)) == sorted(self.NAMES, reverse=True)

    def test_limit_cuts_after_ordering(self, stores):
        stores.flows.put_many([flow(n) for n in self.NAMES])
        assert names(stores.flows.query("by_name", "all", limit=3)) == sorted(self.NAMES)[:3]
        assert names(stores.flows.query("by_name", "all", limit=3, descending=True)) == sorted(self.NAMES)[-3:][::-1]

    def test_limit_larger_than_the_partition_returns_everything(self, stores):
        stores.flows.put_many([flow(n) for n in ["a", "b"]])
        assert names(stores.flows.query("by_name", "all", limit=50)) == ["a", "b"]

    def test_many_items_come_back_complete_and_in_order(self, stores):
        wanted = [f"n{i:04d}" for i in range(700)]
        stores.flows.put_many([flow(n) for n in reversed(wanted)])
        assert names(stores.flows.query("by_name", "all")) == wanted
        assert names(stores.flows.query("by_name", "all", descending=True, limit=600)) == wanted[::-1][:600]

    def test_time_sort_keys_order_runs_by_creation(self, stores):
        runs = [run("dep", ts(h)) for h in (5, 1, 3, 2, 4)]
        stores.flow_runs.put_many(runs)
        got = stores.flow_runs.query("by_deployment", "dep")
        assert [r["created"] for r in got] == [ts(h) for h in (1, 2, 3, 4, 5)]

    def test_a_query_reads_only_its_partition(self, stores):
        stores.flow_runs.put_many([run("dep-a", ts(1)), run("dep-b", ts(2)), run("dep-a", ts(3))])
        assert [r["created"] for r in stores.flow_runs.query("by_deployment", "dep-a")] == [ts(1), ts(3)]
        assert list(stores.flow_runs.query("by_deployment", "dep-c")) == []


class TestQueryRange:
    @pytest.fixture
    def hours(self, stores):
        stores.flow_runs.put_many([run("dep", ts(h)) for h in range(1, 9)])
        return lambda **kw: [int(r["created"][11:13]) for r in stores.flow_runs.query("by_deployment", "dep", **kw)]

    def test_sk_lte_is_inclusive(self, hours):
        from domain.timeutil import parse, sort_key

        assert hours(sk_lte=sort_key(parse(ts(3)))) == [1, 2, 3]

    def test_sk_gte_is_inclusive(self, hours):
        from domain.timeutil import parse, sort_key

        assert hours(sk_gte=sort_key(parse(ts(6)))) == [6, 7, 8]

    def test_between_is_inclusive_on_both_ends(self, hours):
        from domain.timeutil import parse, sort_key

        assert hours(sk_gte=sort_key(parse(ts(3))), sk_lte=sort_key(parse(ts(5)))) == [3, 4, 5]
        assert hours(sk_gte=sort_key(parse(ts(3))), sk_lte=sort_key(parse(ts(5))), descending=True) == [5, 4, 3]

    def test_range_with_limit_and_descending(self, hours):
        from domain.timeutil import parse, sort_key

        assert hours(sk_lte=sort_key(parse(ts(6))), descending=True, limit=2) == [6, 5]

    def test_begins_with_matches_prefixes_only(self, stores):
        stores.flows.put_many([flow(n) for n in ["ab", "abc", "abd", "a", "b", "ac", "ab\U0010ffff", "aB"]])
        assert names(stores.flows.query("by_name", "all", sk_begins="ab")) == ["ab", "abc", "abd", "ab\U0010ffff"]
        assert names(stores.flows.query("by_name", "all", sk_begins="ab", descending=True, limit=2)) == [
            "ab\U0010ffff", "abd"]
        assert names(stores.flows.query("by_name", "all", sk_begins="x")) == []

    def test_begins_with_a_non_ascii_prefix(self, stores):
        stores.flows.put_many([flow(n) for n in ["é1", "é2", "e1", "f", "ê"]])
        assert names(stores.flows.query("by_name", "all", sk_begins="é")) == ["é1", "é2"]


class TestSparseIndexes:
    def test_items_without_the_projected_keys_are_not_in_the_index(self, stores):
        scheduled = run("dep", ts(1), "SCHEDULED")
        running = run("dep", ts(2), "RUNNING")
        stores.flow_runs.put_many([scheduled, running])
        assert [r["id"] for r in stores.flow_runs.query("scheduled_by_deployment", "dep")] == [scheduled["id"]]
        assert {r["id"] for r in stores.flow_runs.query("by_deployment", "dep")} == {scheduled["id"], running["id"]}

    def test_an_update_moves_an_item_out_of_and_back_into_a_sparse_index(self, stores):
        r = run("dep", ts(1), "SCHEDULED")
        stores.flow_runs.put(r)
        stores.flow_runs.put({**r, "state_type": "PENDING"})
        assert list(stores.flow_runs.query("scheduled_by_deployment", "dep")) == []
        stores.flow_runs.put({**r, "state_type": "SCHEDULED", "next_scheduled_start_time": ts(7)})
        assert [x["next_scheduled_start_time"] for x in stores.flow_runs.query("scheduled_by_deployment", "dep")] == [
            ts(7)]

    def test_two_indexes_sharing_a_sort_key_stay_independent(self, stores):
        with_queue = run("dep", ts(1), at=ts(3), work_queue_id="q1")
        without = run("dep", ts(2), at=ts(4))
        stores.flow_runs.put_many([with_queue, without])
        assert [r["id"] for r in stores.flow_runs.query("scheduled_by_work_queue", "q1")] == [with_queue["id"]]
        assert [r["id"] for r in stores.flow_runs.query("scheduled_by_deployment", "dep")] == [
            with_queue["id"], without["id"]]

    def test_due_index_holds_only_due_deployments(self, stores):
        due = {"id": _id(), "name": "due", "flow_id": "f", "_due_shard": "0", "_due_at": ts(1)}
        idle = {"id": _id(), "name": "idle", "flow_id": "f", "_due_shard": "0"}
        stores.deployments.put_many([due, idle])
        assert names(stores.deployments.query("due", "0", sk_lte=ts(2))) == ["due"]
        assert names(stores.deployments.query("due", "0", sk_lte=ts(0))) == []


class TestTransact:
    def test_writes_every_operation_across_tables(self, stores):
        f = flow("a")
        guard = {"id": "flow:a", "owner_id": f["id"]}
        old = flow("old")
        stores.flows.put(old)
        stores.transact([TxPut(stores.flows, f, Cond.absent()), TxPut(stores.guards, guard, Cond.absent()),
                         TxDelete(stores.flows, old["id"], Cond.exists())])
        assert stores.flows.get(f["id"]) == f
        assert stores.guards.get("flow:a") == guard
        assert stores.flows.get(old["id"]) is None

    def test_one_failed_condition_writes_nothing(self, stores):
        stores.guards.put({"id": "flow:taken", "owner_id": "someone"})
        f = flow("taken")
        victim = flow("victim")
        stores.flows.put(victim)
        with pytest.raises(ConditionFailed):
            stores.transact([TxPut(stores.flows, f, Cond.absent()),
                             TxDelete(stores.flows, victim["id"]),
                             TxPut(stores.guards, {"id": "flow:taken", "owner_id": f["id"]}, Cond.absent())])
        assert stores.flows.get(f["id"]) is None
        assert stores.flows.get(victim["id"]) == victim
        assert stores.guards.get("flow:taken") == {"id": "flow:taken", "owner_id": "someone"}
        assert names(stores.flows.query("by_name", "all")) == ["victim"]

    def test_a_failed_delete_condition_writes_nothing(self, stores):
        dep = {"id": _id(), "name": "d", "flow_id": "f", "_rev": 3}
        stores.deployments.put(dep)
        f = flow("new")
        with pytest.raises(ConditionFailed):
            stores.transact([TxPut(stores.flows, f), TxDelete(stores.deployments, dep["id"], Cond.eq("rev", 2))])
        assert stores.flows.get(f["id"]) is None
        assert stores.deployments.get(dep["id"]) == dep

    def test_two_operations_on_one_item_are_refused_and_nothing_is_written(self, stores):
        f, other = flow("a"), flow("other")
        # DynamoDB answers ValidationException; every adapter refuses it up front, as a ValueError
        with pytest.raises(ValueError, match="two operations on one item"):
            stores.transact([TxPut(stores.flows, other), TxPut(stores.flows, f), TxDelete(stores.flows, f["id"])])
        assert stores.flows.get_many([f["id"], other["id"]]) == []

    def test_more_than_one_hundred_operations_are_refused(self, stores):
        docs = [flow(f"n{i}") for i in range(101)]
        with pytest.raises(ValueError, match="at most 100 items"):
            stores.transact([TxPut(stores.flows, d) for d in docs])
        assert stores.flows.get_many([d["id"] for d in docs]) == []

    def test_the_store_types_transact_is_the_same_operation(self, stores):
        f = flow("x")
        type(stores.flows).transact([TxPut(stores.flows, f, Cond.absent())])
        assert stores.flows.get(f["id"]) == f


def _doc_of_size(size: int) -> dict:
    """A document whose compact JSON is exactly ``size`` bytes."""
    doc = {"id": _id(), "name": "big", "blob": ""}
    import json

    base = len(json.dumps(doc, separators=(",", ":")))
    doc["blob"] = "x" * (size - base)
    return doc


LIMIT = MAX_ITEM_BYTES - 8 * 1024  # the documents' budget: DynamoDB's 400 KB less room for projections


class TestItemSize:
    def test_an_item_at_the_limit_is_stored(self, stores):
        doc = _doc_of_size(LIMIT)
        stores.flows.put(doc)
        assert stores.flows.get(doc["id"]) == doc

    def test_an_item_over_the_limit_is_refused_as_unprocessable_and_not_written(self, stores):
        doc = _doc_of_size(LIMIT + 1)
        with pytest.raises(TooLarge) as exc:
            stores.flows.put(doc)
        assert isinstance(exc.value, Unprocessable)  # answered 422 by handlers/_app.py
        assert "too large" in str(exc.value.detail if hasattr(exc.value, "detail") else exc.value)
        assert stores.flows.get(doc["id"]) is None

    def test_a_transaction_with_a_too_large_item_writes_nothing(self, stores):
        small = flow("small")
        with pytest.raises(TooLarge):
            stores.transact([TxPut(stores.flows, small), TxPut(stores.flows, _doc_of_size(500 * 1024))])
        assert stores.flows.get(small["id"]) is None

    def test_put_many_refuses_a_too_large_item(self, stores):
        big = _doc_of_size(500 * 1024)
        with pytest.raises(TooLarge):
            stores.flows.put_many([big])
        assert stores.flows.get(big["id"]) is None


class TestConcurrentWriters:
    def test_twenty_racing_creates_of_one_id_have_exactly_one_winner(self, stores):
        key = _id()
        wins, losses, errors = [], [], []
        start = threading.Barrier(20)

        def create(i: int) -> None:
            start.wait()
            try:
                stores.flows.put({"id": key, "name": f"w{i}"}, cond=Cond.absent())
                wins.append(i)
            except ConditionFailed:
                losses.append(i)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=create, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert errors == []
        assert (len(wins), len(losses)) == (1, 19)
        assert stores.flows.get(key)["name"] == f"w{wins[0]}"

    def test_optimistic_revision_increments_are_never_lost(self, stores):
        key = _id()
        stores.deployments.put({"id": key, "name": "d", "flow_id": "f", "_rev": 0, "hits": 0})
        errors = []

        def bump() -> None:
            for _ in range(5):
                while True:
                    cur = stores.deployments.get(key)
                    try:
                        stores.deployments.put({**cur, "_rev": cur["_rev"] + 1, "hits": cur["hits"] + 1},
                                               cond=Cond.eq("rev", cur["_rev"]))
                        break
                    except ConditionFailed:
                        continue
                    except Exception as exc:  # noqa: BLE001 - reported below
                        errors.append(exc)
                        return

        threads = [threading.Thread(target=bump) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        final = stores.deployments.get(key)
        assert (final["_rev"], final["hits"]) == (30, 30)


class TestFakesRefuseWhatAQueryCannotSay:
    """A DynamoDB Query has one sort-key condition; the DynamoDB adapter sends the range and drops
    ``begins_with`` when given both, so the fakes refuse the combination outright."""

    @pytest.mark.parametrize("fake", ["memory", "sqlite"])
    def test_begins_with_and_a_range_together_are_refused(self, fake, tmp_path):
        from domain.ports import FLOWS

        if fake == "memory":
            from infra.memory import MemoryStore

            store = MemoryStore(FLOWS)
        else:
            from infra.sqlite.store import SqliteDb, SqliteStore

            store = SqliteStore(FLOWS, SqliteDb(tmp_path / "q.db", specs=[FLOWS]))
        with pytest.raises(ValueError):
            list(store.query("by_name", "all", sk_begins="a", sk_gte="b"))
