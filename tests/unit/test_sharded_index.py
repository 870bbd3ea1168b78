"""Reading sharded index partitions in order (domain/sharded_index.py, ``Index.shards``) on the
in-memory store: the merge of the shards, ties, ranges, limits and early stopping."""

from __future__ import annotations

import pytest

from domain.ports import ALL, Index, TableSpec, shard_of
from domain.sharded_index import query_all, query_partitions
from infra.memory import MemoryStore


def _const(_):
    return ALL


def _name(d):
    return d.get("name")


SHARDED = TableSpec("Things", indexes=(
    Index("by_name", "all_pk", _const, "name", _name, shards=4),
    Index("by_color", "color_pk", lambda d: d.get("color"), "color_name", _name, shards=3),
))
PLAIN = TableSpec("Plain", indexes=(Index("by_name", "all_pk", _const, "name", _name),))


def uid(n: int) -> str:
    """An id whose first 32 bits are ``n``: shard ``n % shards``."""
    return f"{n:08x}-0000-4000-8000-000000000000"


class Recording(MemoryStore):
    """Records each Query's partition and limit, and how many items the Queries returned."""

    def __init__(self, spec):
        super().__init__(spec)
        self.queries: list[tuple[str, int | None]] = []
        self.returned = 0

    def query(self, index, pk, **kw):
        self.queries.append((pk, kw.get("limit")))
        for doc in super().query(index, pk, **kw):
            self.returned += 1
            yield doc


def store_with(docs, spec=SHARDED) -> Recording:
    store = Recording(spec)
    store.put_many(docs)
    return store


def ids(docs) -> list[str]:
    return [d["id"] for d in docs]


def names(docs) -> list[str]:
    return [d["name"] for d in docs]


class TestShardedProjection:
    def test_items_are_spread_over_the_shards_by_id(self):
        store = store_with([{"id": uid(n), "name": f"n{n}"} for n in range(12)])
        for k in range(4):
            assert sorted(ids(store.query("by_name", f"all#{k}"))) == [uid(n) for n in range(12) if n % 4 == k]
        assert list(store.query("by_name", ALL)) == []

    def test_the_shard_of_a_non_uuid_id_is_stable_and_in_range(self):
        assert shard_of("deployment:x/y", 8) == shard_of("deployment:x/y", 8)
        assert {shard_of(f"key-{i}", 8) for i in range(200)} == set(range(8))
        assert shard_of("anything", 1) == 0

    def test_an_unsharded_index_keeps_its_partition_key(self):
        assert PLAIN.project({"id": uid(5), "name": "a"}) == {"all_pk": "all", "name": "a"}
        assert SHARDED.project({"id": uid(5), "name": "a"})["all_pk"] == "all#1"


class TestQueryAll:
    def test_shards_are_merged_in_sort_key_order(self):
        docs = [{"id": uid(n), "name": f"n{(n * 7) % 20:02d}"} for n in range(20)]
        store = store_with(docs)
        assert names(query_all(store, "by_name")) == sorted(d["name"] for d in docs)
        assert len(store.queries) == 4

    def test_descending_reverses_the_merged_order(self):
        docs = [{"id": uid(n), "name": f"n{(n * 7) % 20:02d}"} for n in range(20)]
        assert names(query_all(store_with(docs), "by_name", descending=True)) == sorted(
            (d["name"] for d in docs), reverse=True)

    def test_ties_come_out_in_id_order_across_and_within_shards(self):
        # inserted in reverse id order, so an adapter's own tie order (insertion) is not id order
        docs = [{"id": uid(n), "name": "same" if n % 3 else f"x{n:02d}"} for n in reversed(range(24))]
        got = list(query_all(store_with(docs), "by_name"))
        want = sorted(docs, key=lambda d: (d["name"], d["id"]))
        assert ids(got) == ids(want)

    def test_descending_ties_come_out_in_descending_id_order(self):
        docs = [{"id": uid(n), "name": "b" if n < 10 else "a"} for n in range(16)]
        got = list(query_all(store_with(docs), "by_name", descending=True))
        assert ids(got) == [uid(n) for n in reversed(range(10))] + [uid(n) for n in reversed(range(10, 16))]

    def test_more_ties_than_a_chunk_are_read_completely_and_in_order(self):
        docs = [{"id": uid(n), "name": "same"} for n in reversed(range(300))] + [
            {"id": uid(1000 + n), "name": "z"} for n in range(4)]
        got = list(query_all(store_with(docs), "by_name", expect=4))
        assert ids(got) == [uid(n) for n in range(300)] + [uid(1000 + n) for n in range(4)]

    def test_sort_key_range_is_inclusive_on_both_ends(self):
        store = store_with([{"id": uid(n), "name": f"n{n:02d}"} for n in range(30)])
        assert names(query_all(store, "by_name", sk_gte="n05", sk_lte="n09")) == ["n05", "n06", "n07", "n08", "n09"]
        assert names(query_all(store, "by_name", sk_lte="n02", descending=True)) == ["n02", "n01", "n00"]
        assert names(query_all(store, "by_name", sk_gte="n28")) == ["n28", "n29"]
        assert list(query_all(store, "by_name", sk_gte="z")) == []

    def test_limit_cuts_the_merged_stream_and_bounds_each_shard_query(self):
        store = store_with([{"id": uid(n), "name": f"n{n:03d}"} for n in range(200)])
        assert names(query_all(store, "by_name", limit=5)) == ["n000", "n001", "n002", "n003", "n004"]
        assert {pk for pk, _ in store.queries} == {f"all#{k}" for k in range(4)}
        assert all(limit is not None and limit <= 6 for _, limit in store.queries)
        assert names(query_all(store, "by_name", limit=3, descending=True)) == ["n199", "n198", "n197"]
        assert list(query_all(store, "by_name", limit=0)) == []

    def test_a_reader_that_stops_early_reads_about_what_it_took(self):
        store = store_with([{"id": uid(n), "name": f"n{n:04d}"} for n in range(2000)])
        stream = query_all(store, "by_name", expect=40)
        assert names(next(stream) for _ in range(40)) == [f"n{n:04d}" for n in range(40)]
        assert len(store.queries) == 4
        assert store.returned <= 4 * 21

    def test_reading_on_past_the_first_chunks_continues_in_order(self):
        store = store_with([{"id": uid(n), "name": f"n{(n * 37) % 1500:04d}"} for n in range(1500)])
        assert names(query_all(store, "by_name", expect=10)) == [f"n{n:04d}" for n in range(1500)]
        assert store.returned < 1500 + 4 * 64  # continuations re-read only the last key's items

    def test_an_unsharded_index_reads_one_partition_with_ties_by_id(self):
        store = store_with([{"id": uid(n), "name": "a" if n % 2 else "b"} for n in reversed(range(6))], PLAIN)
        assert ids(query_all(store, "by_name")) == [uid(1), uid(3), uid(5), uid(0), uid(2), uid(4)]
        assert store.queries == [("all", 64)]

    def test_another_logical_partition_is_read_through_its_shards(self):
        store = store_with([{"id": uid(n), "name": f"n{n:02d}", "color": "red" if n % 2 else "blue"}
                            for n in range(12)])
        assert names(query_all(store, "by_color", "red")) == [f"n{n:02d}" for n in range(1, 12, 2)]
        assert {pk for pk, _ in store.queries} == {"red#0", "red#1", "red#2"}

    def test_several_partitions_are_merged_into_one_order(self):
        store = store_with([{"id": uid(n), "name": f"n{n:02d}", "color": ("red", "blue", "green")[n % 3]}
                            for n in range(12)])
        got = names(query_partitions(store, "by_color", ["red", "green"], descending=True))
        assert got == [f"n{n:02d}" for n in reversed(range(12)) if n % 3 != 1]

    def test_unique_sort_keys_are_read_without_looking_past_the_page(self):
        spec = TableSpec("Logs", indexes=(Index("by_run", "run", lambda d: d.get("run"), "ts_sk",
                                                lambda d: f"{d['ts']}#{d['id']}", unique_sk=True),))
        store = store_with([{"id": uid(n), "run": "r", "ts": f"{n % 50:02d}"} for n in range(100)], spec)
        want = sorted(f"{n % 50:02d}#{uid(n)}" for n in range(100))
        stream = query_all(store, "by_run", "r", expect=10)
        assert [f"{d['ts']}#{d['id']}" for d in (next(stream) for _ in range(10))] == want[:10]
        assert (store.queries, store.returned) == ([("r", 10)], 10)
        assert [f"{d['ts']}#{d['id']}" for d in stream] == want[10:]  # chunks of 20, 40, 80 re-read one key each
        assert [limit for _, limit in store.queries] == [10, 20, 40, 80]

    def test_an_index_without_a_sort_key_cannot_be_merged(self):
        spec = TableSpec("Keys", indexes=(Index("by_owner", "owner", lambda d: d.get("owner")),))
        with pytest.raises(ValueError, match="no sort key"):
            query_all(MemoryStore(spec), "by_owner", "x")


class TestFlowRunsStateTypeShards:
    """FlowRuns ``by_state_type_sharded``: one state type's runs spread over 8 stored partitions."""

    def test_one_state_types_runs_fill_eight_partitions_and_merge_in_creation_order(self, memory_ctx):
        store = memory_ctx.stores.flow_runs
        runs = [{"id": uid(n), "flow_id": "f", "state_type": "RUNNING", "created": f"2026-03-01T10:00:{n % 5:02d}+00:00"}
                for n in range(24)]
        store.put_many(runs)
        assert store.spec.index("by_state_type_sharded").shards == 8
        for k in range(8):
            assert sorted(ids(store.query("by_state_type_sharded", f"RUNNING#{k}"))) == [uid(k), uid(k + 8), uid(k + 16)]
        assert list(store.query("by_state_type_sharded", "RUNNING")) == []
        want = [r["id"] for r in sorted(runs, key=lambda r: (r["created"], r["id"]))]
        assert ids(query_all(store, "by_state_type_sharded", "RUNNING")) == want
        assert ids(query_all(store, "by_state_type_sharded", "RUNNING", descending=True, limit=7)) == want[::-1][:7]


class TestReshard:
    """``reshard``: a deployed stack's items written before the indexes were sharded (their
    projection ``all``) move to their shards."""

    @staticmethod
    def old_item(store, doc, spec):
        import json

        store._items[doc["id"]] = (spec.project(doc), json.dumps(doc))  # as the old layout wrote it

    @staticmethod
    def completed_runs(n: int) -> list[dict]:
        return [{"id": uid(i), "flow_id": "f", "state_type": "COMPLETED", "_rev": 2,
                 "created": f"2026-03-01T10:{i:02d}:00+00:00", "expected_start_time": f"2026-03-01T10:{i:02d}:00+00:00"}
                for i in range(n)]

    def test_items_left_in_the_unsharded_partitions_move_to_their_shards_once(self, memory_ctx):
        from domain.sharded_index import reshard
        from tests.previous_layouts import FLOW_RUNS_BEFORE_SHARDING

        store = memory_ctx.stores.flow_runs
        runs = self.completed_runs(10)
        for r in runs:
            self.old_item(store, r, FLOW_RUNS_BEFORE_SHARDING)
        assert list(query_all(store, "by_created")) == []
        assert list(query_all(store, "by_state_type_sharded", "COMPLETED")) == []

        assert reshard([store, memory_ctx.stores.task_runs]) == {"FlowRuns": 10}
        assert ids(query_all(store, "by_created")) == [r["id"] for r in runs]
        assert ids(query_all(store, "by_state_type_sharded", "COMPLETED")) == [r["id"] for r in runs]
        assert list(store.query("by_created", ALL)) == []
        assert reshard([store]) == {}

    def test_runs_stored_before_the_state_type_shards_are_written_into_them_once(self, memory_ctx):
        """Sharded ``all`` indexes but ``by_state_type`` (keyed by ``state_type``): a new GSI holds
        only items carrying its key attribute, so reshard finds the others through ``by_created``."""
        from domain.sharded_index import reshard
        from tests.previous_layouts import FLOW_RUNS_BEFORE_STATE_TYPE_SHARDS

        store = memory_ctx.stores.flow_runs
        runs = self.completed_runs(12)
        for r in runs[:9]:
            self.old_item(store, r, FLOW_RUNS_BEFORE_STATE_TYPE_SHARDS)
        store.put_many(runs[9:])  # written since the upgrade: already in their shards
        assert ids(query_all(store, "by_created")) == [r["id"] for r in runs]
        assert ids(query_all(store, "by_state_type_sharded", "COMPLETED")) == [r["id"] for r in runs[9:]]

        store.calls.clear()
        assert reshard([store]) == {"FlowRuns": 9}
        assert store.calls.count("PutItem") == 9
        assert ids(query_all(store, "by_state_type_sharded", "COMPLETED")) == [r["id"] for r in runs]
        assert {k: ids(store.query("by_state_type_sharded", f"COMPLETED#{k}")) for k in range(8)} == {
            k: [r["id"] for r in runs if int(r["id"][:8], 16) % 8 == k] for k in range(8)}
        assert [store.get(r["id"]) for r in runs] == runs  # written again unchanged
        assert reshard([store]) == {}

    def test_an_item_changed_since_it_was_read_is_left_to_its_own_write(self, memory_ctx, monkeypatch):
        from domain.sharded_index import reshard
        from tests.previous_layouts import FLOW_RUNS_BEFORE_SHARDING

        old_spec = FLOW_RUNS_BEFORE_SHARDING
        store = memory_ctx.stores.flow_runs
        doc = {"id": uid(3), "flow_id": "f", "state_type": "RUNNING", "_rev": 1, "created": "2026-03-01T10:00:00+00:00"}
        self.old_item(store, doc, old_spec)
        original = store.query
        raced = []

        def racing(index, pk, **kw):
            rows = list(original(index, pk, **kw))
            if rows and not raced:  # a state change lands between the first read and the move
                raced.append(pk)
                store.put({**doc, "state_type": "COMPLETED", "_rev": 2})
            return iter(rows)

        monkeypatch.setattr(store, "query", racing)
        assert reshard([store]) == {}
        assert store.get(doc["id"])["_rev"] == 2
        assert ids(query_all(store, "by_created")) == [doc["id"]]
