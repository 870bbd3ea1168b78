"""A local SQLite store written before the constant-partition indexes were sharded holds ``all``
in their key columns; opening it re-projects those rows once (``all`` -> ``all#<k>``), so every
read through ``query_all`` finds them, in the same order as before."""

from __future__ import annotations

import dataclasses
import uuid

from domain.ports import ALL, FLOW_RUNS, shard_of
from domain.sharded_index import query_all
from domain.timeutil import parse, sort_key
from infra.sqlite.store import SqliteDb, SqliteStore, _Layout, sqlite_stores

# FlowRuns as stored before sharding: the same indexes, every one a single partition
UNSHARDED_FLOW_RUNS = dataclasses.replace(
    FLOW_RUNS, indexes=tuple(dataclasses.replace(ix, shards=1) for ix in FLOW_RUNS.indexes))


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
