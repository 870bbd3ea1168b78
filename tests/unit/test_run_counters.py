"""domain/run_counters.py: the counter writes of a run write, the reads, and the rebuild."""

from __future__ import annotations

import uuid

from domain import run_counters
from domain.ports import TxAdd

FR = run_counters.FLOW_RUN


def _run(state_type="SCHEDULED", state_name="Scheduled", **extra) -> dict:
    return {"id": str(uuid.uuid4()), "flow_id": "f1", "deployment_id": "d1", "work_queue_id": "q1",
            "state_type": state_type, "state_name": state_name, **extra}


def _item(ctx, doc, dimension, value=None) -> str:
    shards = run_counters.shards_of(ctx, dimension)
    base = f"{FR}:{dimension}" if value is None else f"{FR}:{dimension}:{value}"
    return f"{base}#{run_counters.shard(doc['id'], shards)}"


def _apply(ctx, kind, old, new) -> None:
    ops = run_counters.ops(ctx, kind, old, new)
    if ops:
        ctx.stores.transact(ops)


class TestPairNames:
    def test_type_and_name_joined_by_a_bar(self):
        assert run_counters.pair({"state_type": "SCHEDULED", "state_name": "Late"}) == "SCHEDULED|Late"

    def test_a_name_with_a_bar_round_trips(self):
        name = run_counters.pair({"state_type": "COMPLETED", "state_name": "a|b"})
        assert run_counters.unpair(name) == ("COMPLETED", "a|b")

    def test_missing_name_and_missing_state_are_told_apart_from_empty_strings(self):
        assert run_counters.unpair(run_counters.pair({"state_type": "RUNNING", "state_name": None})) == ("RUNNING", None)
        assert run_counters.unpair(run_counters.pair({"state_type": "RUNNING", "state_name": ""})) == ("RUNNING", "")
        assert run_counters.unpair(run_counters.pair({})) == (None, None)


class TestOps:
    def test_a_new_run_adds_one_to_its_pair_in_every_dimension(self, memory_ctx):
        doc = _run()
        ops = run_counters.ops(memory_ctx, FR, None, doc)
        assert all(isinstance(op, TxAdd) for op in ops)
        assert {op.id: dict(op.deltas) for op in ops} == {
            _item(memory_ctx, doc, "all"): {"SCHEDULED|Scheduled": 1},
            _item(memory_ctx, doc, "deployment", "d1"): {"SCHEDULED|Scheduled": 1},
            _item(memory_ctx, doc, "flow", "f1"): {"SCHEDULED|Scheduled": 1},
            _item(memory_ctx, doc, "work_queue", "q1"): {"SCHEDULED|Scheduled": 1},
        }

    def test_a_state_change_moves_one_from_the_old_pair_to_the_new(self, memory_ctx):
        old = _run()
        new = {**old, "state_type": "SCHEDULED", "state_name": "Late"}
        ops = run_counters.ops(memory_ctx, FR, old, new)
        assert {dict(op.deltas).get("SCHEDULED|Late") for op in ops} == {1}
        assert {dict(op.deltas).get("SCHEDULED|Scheduled") for op in ops} == {-1}
        assert len(ops) == 4

    def test_a_change_that_moves_nothing_writes_nothing(self, memory_ctx):
        old = _run()
        assert run_counters.ops(memory_ctx, FR, old, {**old, "tags": ["x"]}) == []

    def test_a_changed_dimension_value_moves_the_run(self, memory_ctx):
        old = _run()
        new = {**old, "work_queue_id": "q2"}
        ops = {op.id: dict(op.deltas) for op in run_counters.ops(memory_ctx, FR, old, new)}
        assert ops == {_item(memory_ctx, old, "work_queue", "q1"): {"SCHEDULED|Scheduled": -1},
                       _item(memory_ctx, old, "work_queue", "q2"): {"SCHEDULED|Scheduled": 1}}

    def test_unset_dimensions_are_not_counted(self, memory_ctx):
        doc = _run(deployment_id=None, work_queue_id=None)
        assert {op.id for op in run_counters.ops(memory_ctx, FR, None, doc)} == {
            _item(memory_ctx, doc, "all"), _item(memory_ctx, doc, "flow", "f1")}

    def test_a_delete_subtracts(self, memory_ctx):
        doc = _run()
        assert {dict(op.deltas)["SCHEDULED|Scheduled"] for op in run_counters.ops(memory_ctx, FR, doc, None)} == {-1}

    def test_task_runs_are_counted_in_all_only(self, memory_ctx):
        doc = {"id": str(uuid.uuid4()), "flow_run_id": "r1", "state_type": "RUNNING", "state_name": "Running"}
        ops = run_counters.ops(memory_ctx, run_counters.TASK_RUN, None, doc)
        assert [op.id.split("#")[0] for op in ops] == ["task_run:all"]

    def test_runs_spread_over_the_shards_of_all(self, memory_ctx):
        items = {run_counters.ops(memory_ctx, FR, None, _run(deployment_id=None, work_queue_id=None))[0].id
                 for _ in range(200)}
        assert items == set(run_counters.item_ids(memory_ctx, FR, "all"))
        assert len(items) == memory_ctx.settings.run_counter_shards_all


class TestRead:
    def test_sums_the_shards_of_each_value(self, memory_ctx):
        docs = [_run() for _ in range(20)] + [_run("COMPLETED", "Completed", deployment_id="d2") for _ in range(3)]
        for d in docs:
            _apply(memory_ctx, FR, None, d)
        _apply(memory_ctx, FR, docs[0], {**docs[0], "state_type": "RUNNING", "state_name": "Running"})
        got = run_counters.read(memory_ctx, FR, "deployment", ["d1", "d2", "nope"])
        assert got == {"d1": {"SCHEDULED|Scheduled": 19, "RUNNING|Running": 1},
                       "d2": {"COMPLETED|Completed": 3}, "nope": {}}
        assert run_counters.read(memory_ctx, FR, "all", [None]) == {
            None: {"SCHEDULED|Scheduled": 19, "RUNNING|Running": 1, "COMPLETED|Completed": 3}}


class TestRebuild:
    def _store_runs(self, ctx, docs):
        for d in docs:
            d.setdefault("created", "2026-03-01T00:00:00+00:00")
        ctx.stores.flow_runs.put_many(docs)  # written without counters, as before they existed

    def test_counts_runs_written_before_counters_and_marks_the_store_built(self, memory_ctx):
        docs = [_run() for _ in range(5)] + [_run("FAILED", "Failed", flow_id="f2") for _ in range(2)]
        self._store_runs(memory_ctx, docs)
        assert not run_counters.is_built(memory_ctx)
        out = run_counters.rebuild(memory_ctx)
        assert out["flow_runs"] == 7 and out["task_runs"] == 0
        assert run_counters.is_built(memory_ctx)
        assert run_counters.read(memory_ctx, FR, "flow", ["f1", "f2"]) == {
            "f1": {"SCHEDULED|Scheduled": 5}, "f2": {"FAILED|Failed": 2}}

    def test_is_idempotent_and_corrects_drifted_counters(self, memory_ctx):
        docs = [_run() for _ in range(4)]
        self._store_runs(memory_ctx, docs)
        run_counters.rebuild(memory_ctx)
        memory_ctx.stores.counters.add(run_counters.item_ids(memory_ctx, FR, "all")[0], {"RUNNING|Running": 7})
        run_counters.rebuild(memory_ctx)
        second = run_counters.rebuild(memory_ctx)
        assert second["items_changed"] == 0
        assert run_counters.read(memory_ctx, FR, "all", [None]) == {None: {"SCHEDULED|Scheduled": 4,
                                                                           "RUNNING|Running": 0}}

    def test_zeroes_a_deployment_whose_runs_are_gone(self, memory_ctx):
        memory_ctx.stores.deployments.put({"id": "d1", "name": "dep", "flow_id": "f1"})
        doc = _run()
        _apply(memory_ctx, FR, None, doc)  # counted, but the run is not stored
        run_counters.rebuild(memory_ctx)
        assert run_counters.read(memory_ctx, FR, "deployment", ["d1"]) == {"d1": {"SCHEDULED|Scheduled": 0}}

    def test_ensure_built_only_marks_a_fresh_store(self, memory_ctx):
        assert run_counters.ensure_built(memory_ctx) == {"flow_runs": 0, "task_runs": 0, "items_changed": 0}
        assert run_counters.ensure_built(memory_ctx) is None


class TestRebuildCommand:
    def test_counts_a_data_directory_written_before_counters_and_is_idempotent(self, tmp_path, capsys, settings):
        import json

        from domain.context import Ctx
        from infra.local.cli import main
        from infra.sqlite.store import SqliteDb, sqlite_stores

        db = SqliteDb(tmp_path / "flowplane.db")
        stores = sqlite_stores(db)
        docs = [_run(created="2026-03-01T00:00:00+00:00") for _ in range(3)]
        stores.flow_runs.put_many(docs)
        db.close()
        assert main(["counters", "rebuild", "--data-dir", str(tmp_path)]) == 0
        first = json.loads(capsys.readouterr().out)
        assert main(["counters", "rebuild", "--data-dir", str(tmp_path)]) == 0
        second = json.loads(capsys.readouterr().out)
        assert (first["flow_runs"], second["flow_runs"], second["items_changed"]) == (3, 3, 0)
        db = SqliteDb(tmp_path / "flowplane.db")
        ctx = Ctx(stores=sqlite_stores(db), settings=settings)
        assert run_counters.is_built(ctx)
        assert run_counters.read(ctx, FR, "deployment", ["d1"]) == {"d1": {"SCHEDULED|Scheduled": 3}}
        db.close()

    def test_refuses_a_data_directory_a_server_holds(self, tmp_path, capsys):
        from infra.local.cli import main
        from infra.local.store import lock_data_dir

        held = lock_data_dir(tmp_path)
        try:
            assert main(["counters", "rebuild", "--data-dir", str(tmp_path)]) == 3
        finally:
            held.release()
        assert "in use by another flowplane server" in capsys.readouterr().err
