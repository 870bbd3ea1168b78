"""What only the SQLite adapter has to get right: its schema follows the table specs, queries are
index range scans, data outlives the connection, and two connections (two processes) still race safely."""

from __future__ import annotations

import threading
import time

import pytest

from domain.errors import ConditionFailed
from domain.ports import ALL_TABLES, Cond, Index, TableSpec
from infra.sqlite.store import SqliteDb, SqliteStore, sqlite_stores


def _get(key):
    return lambda d: d.get(key)


def _const(_):
    return "all"


V1 = TableSpec("Things", indexes=(Index("by_name", "all_pk", _const, "name", _get("name")),))
V2 = TableSpec("Things", indexes=(
    Index("by_name", "all_pk", _const, "name", _get("name")),
    Index("by_color", "color", _get("color"), "name", _get("name")),
), attrs=(("rev", _get("_rev")),))
V3 = TableSpec("Things", indexes=(Index("by_color", "color", _get("color"), "size_sk", _get("size")),))


def _indexes(db: SqliteDb, table: str) -> set[str]:
    rows = db.read("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND name LIKE 'ix_%'", (table,))
    return {r[0] for r in rows}


@pytest.fixture
def path(tmp_path):
    return tmp_path / "flowplane.db"


class TestSchemaFromSpecs:
    def test_every_table_and_index_of_the_specs_exists(self, path):
        db = SqliteDb(path)
        tables = {r[0] for r in db.read("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {spec.name for spec in ALL_TABLES} <= tables
        for spec in ALL_TABLES:
            assert {f"ix_{spec.name}_{ix.name}" for ix in spec.indexes} <= _indexes(db, spec.name)
        db.close()

    def test_a_new_index_on_an_existing_table_is_back_filled_on_the_next_open(self, path):
        db = SqliteDb(path, specs=[V1])
        old = SqliteStore(V1, db)
        old.put_many([{"id": "1", "name": "b", "color": "red", "_rev": 4}, {"id": "2", "name": "a", "color": "red"},
                      {"id": "3", "name": "c"}])
        db.close()

        db = SqliteDb(path, specs=[V2])
        new = SqliteStore(V2, db)
        assert [d["id"] for d in new.query("by_color", "red")] == ["2", "1"]
        assert [d["id"] for d in new.query("by_name", "all")] == ["2", "1", "3"]
        new.put({"id": "1", "name": "b", "color": "blue", "_rev": 5}, cond=Cond.eq("rev", 4))  # rev back-filled too
        assert [d["id"] for d in new.query("by_color", "blue")] == ["1"]
        assert "ix_Things_by_color" in _indexes(db, "Things")
        db.close()

    def test_an_index_that_left_the_spec_is_dropped_and_a_changed_one_rebuilt(self, path):
        db = SqliteDb(path, specs=[V2])
        SqliteStore(V2, db).put_many([{"id": "1", "name": "x", "color": "red", "size": "2"},
                                      {"id": "2", "name": "y", "color": "red", "size": "1"}])
        db.close()
        db = SqliteDb(path, specs=[V3])
        assert _indexes(db, "Things") == {"ix_Things_by_color"}
        assert [d["id"] for d in SqliteStore(V3, db).query("by_color", "red")] == ["2", "1"]
        db.close()

    def test_a_projection_that_changes_behind_the_same_names_re_projects_every_row(self, path):
        before = TableSpec("Things", indexes=(Index("by_shard", "shard", _const, "name", _get("name")),))
        after = TableSpec("Things", indexes=(Index("by_shard", "shard", lambda d: f"all#{len(d['name']) % 2}",
                                                    "name", _get("name")),))
        db = SqliteDb(path, specs=[before])
        SqliteStore(before, db).put_many([{"id": "1", "name": "a"}, {"id": "2", "name": "bb"}])
        db.close()
        db = SqliteDb(path, specs=[after])
        store = SqliteStore(after, db)
        assert [d["id"] for d in store.query("by_shard", "all#1")] == ["1"]
        assert [d["id"] for d in store.query("by_shard", "all#0")] == ["2"]
        assert list(store.query("by_shard", "all")) == []
        db.close()

    def test_the_specs_signatures_do_not_depend_on_the_process(self):
        import subprocess
        import sys

        script = ("from domain.ports import ALL_TABLES; from infra.sqlite.store import _Layout; "
                  "print([_Layout(s).signature for s in ALL_TABLES])")
        outs = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                               env={**__import__("os").environ, "PYTHONHASHSEED": seed}).stdout
                for seed in ("1", "2")}
        assert len(outs) == 1

    def test_opening_twice_changes_nothing(self, path):
        stores = sqlite_stores(path)
        stores.flows.put({"id": "f", "name": "kept"})
        stores.flows.db.close()
        db = SqliteDb(path)
        assert SqliteStore(ALL_TABLES[0], db).get("f") == {"id": "f", "name": "kept"}
        db.close()

    def test_expired_items_of_a_ttl_table_are_purged_when_the_database_opens(self, path):
        spec = TableSpec("History", indexes=(Index("by_run", "run_id", _get("run_id"), "ts_sk", _get("ts")),),
                         attrs=(("expires_at", _get("_expires_at")),), ttl_attr="expires_at")
        db = SqliteDb(path, specs=[spec])
        now = time.time()
        SqliteStore(spec, db).put_many([
            {"id": "old", "run_id": "r", "ts": "1", "_expires_at": int(now - 10)},
            {"id": "new", "run_id": "r", "ts": "2", "_expires_at": int(now + 3600)},
            {"id": "kept", "run_id": "r", "ts": "3"},
        ])
        db.close()
        db = SqliteDb(path, specs=[spec])
        assert [d["id"] for d in SqliteStore(spec, db).query("by_run", "r")] == ["new", "kept"]
        db.close()


class TestQueriesAreIndexRangeScans:
    def test_every_index_query_searches_its_index_without_sorting(self, path):
        db = SqliteDb(path)
        seen: list[str] = []
        conn = db.conn()
        conn.set_trace_callback(seen.append)
        for spec in ALL_TABLES:
            store = SqliteStore(spec, db)
            for ix in spec.indexes:
                for kw in ({}, {"sk_gte": "a", "descending": True}, {"sk_lte": "z", "sk_gte": "a", "limit": 5},
                           {"sk_begins": "ab"}):
                    seen.clear()
                    list(store.query(ix.name, "pk", **kw))
                    (sql,) = [s for s in seen if s.startswith("SELECT")]
                    conn.set_trace_callback(None)
                    plan = " ".join(str(r[-1]) for r in conn.execute("EXPLAIN QUERY PLAN " + sql))
                    conn.set_trace_callback(seen.append)
                    assert f"USING INDEX ix_{spec.name}_{ix.name}" in plan, (spec.name, ix.name, plan)
                    assert "TEMP B-TREE" not in plan, (spec.name, ix.name, plan)
        conn.set_trace_callback(None)
        db.close()


class TestTwoConnections:
    def test_creates_racing_through_two_databases_on_one_file_have_one_winner(self, path):
        a, b = sqlite_stores(path), sqlite_stores(path)
        wins, losses = [], []
        start = threading.Barrier(10)

        def create(stores, i):
            start.wait()
            try:
                stores.flows.put({"id": "same", "name": f"w{i}"}, cond=Cond.absent())
                wins.append(i)
            except ConditionFailed:
                losses.append(i)

        threads = [threading.Thread(target=create, args=(a if i % 2 else b, i)) for i in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert (len(wins), len(losses)) == (1, 9)
        assert a.flows.get("same") == b.flows.get("same") == {"id": "same", "name": f"w{wins[0]}"}
        a.flows.db.close()
        b.flows.db.close()

    def test_a_closed_database_refuses_new_connections(self, path):
        db = SqliteDb(path)
        db.close()
        errors = []

        def use():
            try:
                db.conn()
            except RuntimeError as exc:
                errors.append(exc)

        t = threading.Thread(target=use)
        t.start()
        t.join()
        assert len(errors) == 1 and "closed" in str(errors[0])
