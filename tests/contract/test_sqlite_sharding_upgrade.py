"""A local SQLite store written before the constant-partition indexes were sharded holds ``all``
in their key columns; opening it re-projects those rows once (``all`` -> ``all#<k>``), so every
read through ``query_all`` finds them, in the same order as before. One written before FlowRuns'
``by_state_type_sharded`` gets its ``state_type_shard`` column the same way, and its state-type
filters answer what ``by_state_type`` answered."""

from __future__ import annotations

import uuid

import pytest

from domain.context import Ctx
from domain.errors import ConditionFailed
from domain.filters import sort_documents
from domain.ports import ALL, FLOW_RUNS, Cond, shard_of
from domain.services import queries
from domain.sharded_index import query_all
from domain.timeutil import parse, sort_key
from infra.sqlite.store import SqliteDb, SqliteStore, _Layout, sqlite_stores
from tests.previous_layouts import FLOW_RUNS_BEFORE_SHARDING as UNSHARDED_FLOW_RUNS
from tests.previous_layouts import FLOW_RUNS_BEFORE_STATE_TYPE_SHARDS


def ts(minute: int) -> str:
    return f"2026-03-01T10:{minute:02d}:00+00:00"


def run(minute: int, state_type: str = "COMPLETED", name: str = "Completed") -> dict:
    at = ts(minute)
    return {"id": str(uuid.uuid4()), "flow_id": "f", "state_type": state_type, "state_name": name,
            "created": at, "expected_start_time": at, "next_scheduled_start_time": at}


class TestOpeningAStoreWrittenBeforeSharding:
    def test_the_all_partitions_are_re_projected_to_their_shards_once(self, tmp_path):
        path = tmp_path / "flowplane.db"
        runs = [run(i % 9) for i in range(30)] + [run(20 + i, "SCHEDULED", "Scheduled") for i in range(5)]
        old = SqliteDb(path, specs=[UNSHARDED_FLOW_RUNS])
        SqliteStore(UNSHARDED_FLOW_RUNS, old).put_many(runs)
        assert {r[0] for r in old.read('SELECT all_pk FROM "FlowRuns"')} == {ALL}
        old.close()

        stores = sqlite_stores(path)
        db = stores.flow_runs.db
        shards = FLOW_RUNS.index("by_created").shards
        rows = dict(db.read('SELECT id, all_pk FROM "FlowRuns"'))
        assert rows == {r["id"]: f"{ALL}#{shard_of(r['id'], shards)}" for r in runs}
        late = dict(db.read('SELECT id, late_pk FROM "FlowRuns" WHERE late_pk IS NOT NULL'))
        assert late == {r["id"]: f"{ALL}#{shard_of(r['id'], 4)}" for r in runs[30:]}
        assert list(stores.flow_runs.query("by_created", ALL)) == []

        by_created = sorted(runs, key=lambda r: (r["created"], r["id"]))
        assert [d["id"] for d in query_all(stores.flow_runs, "by_created")] == [r["id"] for r in by_created]
        assert [d["id"] for d in query_all(stores.flow_runs, "late_candidates", sk_lte=sort_key(parse(ts(22))))] == [
            r["id"] for r in runs[30:33]]
        (signature,) = db.read("SELECT signature FROM _flowplane_schema WHERE tbl = 'FlowRuns'")[0]
        assert signature == _Layout(FLOW_RUNS).signature  # the next open finds nothing to redo
        db.close()

    def test_a_sharded_store_opened_again_keeps_its_rows(self, tmp_path):
        path = tmp_path / "flowplane.db"
        stores = sqlite_stores(path)
        runs = [run(i) for i in range(10)]
        stores.flow_runs.put_many(runs)
        stores.flow_runs.db.close()
        again = sqlite_stores(path)
        assert [d["id"] for d in query_all(again.flow_runs, "by_created")] == [r["id"] for r in runs]
        again.flow_runs.db.close()


class TestOpeningAStoreWrittenBeforeTheStateTypeShards:
    @staticmethod
    def old_store(path, runs):
        old = SqliteDb(path, specs=[FLOW_RUNS_BEFORE_STATE_TYPE_SHARDS])
        store = SqliteStore(FLOW_RUNS_BEFORE_STATE_TYPE_SHARDS, old)
        store.put_many(runs)
        before = {t: [d["id"] for d in query_all(store, "by_state_type", t)] for t in ("COMPLETED", "SCHEDULED")}
        old.close()
        return before

    def test_state_type_partitions_answer_what_by_state_type_answered(self, tmp_path, settings):
        path = tmp_path / "flowplane.db"
        runs = [run(i % 7) for i in range(40)] + [run(20 + i % 3, "SCHEDULED", "Scheduled") for i in range(9)]
        before = self.old_store(path, runs)
        assert len(before["COMPLETED"]) == 40 and len(before["SCHEDULED"]) == 9

        stores = sqlite_stores(path)
        db = stores.flow_runs.db
        shards = FLOW_RUNS.index("by_state_type_sharded").shards
        assert shards == 8
        assert dict(db.read('SELECT id, state_type_shard FROM "FlowRuns"')) == {
            r["id"]: f"{r['state_type']}#{shard_of(r['id'], shards)}" for r in runs}
        for state_type, want in before.items():
            assert [d["id"] for d in query_all(stores.flow_runs, "by_state_type_sharded", state_type)] == want
            assert [d["id"] for d in query_all(stores.flow_runs, "by_state_type_sharded", state_type,
                                               descending=True, limit=5)] == want[::-1][:5]
        ctx = Ctx(stores=stores, settings=settings)
        for sort in ("EXPECTED_START_TIME_DESC", "ID_DESC"):
            body = {"flow_runs": {"state": {"type": {"any_": ["SCHEDULED", "COMPLETED"]}}}, "sort": sort,
                    "offset": 5, "limit": 20}
            got = queries.filter_flow_runs(ctx, queries.FlowRunQuery.model_validate(body))
            assert [d["id"] for d in got] == [d["id"] for d in sort_documents(runs, sort)][5:25]
        (signature,) = db.read("SELECT signature FROM _flowplane_schema WHERE tbl = 'FlowRuns'")[0]
        assert signature == _Layout(FLOW_RUNS).signature
        db.close()

    def test_the_state_type_condition_attribute_is_kept(self, tmp_path):
        path = tmp_path / "flowplane.db"
        scheduled = run(1, "SCHEDULED", "Scheduled")
        self.old_store(path, [scheduled])
        stores = sqlite_stores(path)
        stores.flow_runs.put({**scheduled, "state_type": "PENDING"}, cond=Cond.eq("state_type", "SCHEDULED"))
        with pytest.raises(ConditionFailed):
            stores.flow_runs.put({**scheduled, "state_type": "RUNNING"}, cond=Cond.eq("state_type", "SCHEDULED"))
        assert [d["id"] for d in query_all(stores.flow_runs, "by_state_type_sharded", "PENDING")] == [scheduled["id"]]
        assert list(query_all(stores.flow_runs, "by_state_type_sharded", "SCHEDULED")) == []
        stores.flow_runs.db.close()
