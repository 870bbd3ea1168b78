"""The tag index (domain/tag_index.py): items kept in step with an object's tags, and the backfill
that gives objects stored before the index their items."""

from __future__ import annotations

from domain import tag_index
from domain.ports import TxDelete, TxPut
from domain.services import queries


def _dep(id_, name, tags):
    return {"id": id_, "name": name, "flow_id": "f", "tags": tags}


class TestOps:
    def test_a_new_object_gets_one_item_per_distinct_tag(self, memory_ctx):
        ops = tag_index.ops(memory_ctx, "deployment", None, _dep("d1", "prod", ["a", "b", "a"]))
        assert [(type(o), o.doc["id"], o.doc["order_sk"]) for o in ops] == [
            (TxPut, "deployment#a#d1", "prod\x00d1"), (TxPut, "deployment#b#d1", "prod\x00d1")]

    def test_unchanged_tags_write_nothing_and_changed_ones_move(self, memory_ctx):
        old = _dep("d1", "prod", ["a", "b"])
        assert tag_index.ops(memory_ctx, "deployment", old, {**old, "paused": True}) == []
        ops = tag_index.ops(memory_ctx, "deployment", old, {**old, "tags": ["b", "c"]})
        assert {(type(o).__name__, getattr(o, "id", None) or o.doc["id"]) for o in ops} == {
            ("TxPut", "deployment#c#d1"), ("TxDelete", "deployment#a#d1")}
        assert all(isinstance(o, TxDelete) for o in tag_index.ops(memory_ctx, "flow_run", {"id": "r", "tags": ["x"]},
                                                                    None))

    def test_runs_are_ordered_by_id_and_long_tags_are_hashed(self, memory_ctx):
        (op,) = tag_index.ops(memory_ctx, "flow_run", None, {"id": "r1", "tags": ["t" * 3000]})
        assert op.doc["order_sk"] == "r1"
        assert op.doc["tag_pk"].startswith("flow_run#sha256:") and len(op.doc["tag_pk"]) < 100


class TestTableSpecs:
    def test_no_table_has_more_gsis_than_dynamodb_allows(self):
        from domain.ports import ALL_TABLES, FLOW_RUNS

        assert all(len(spec.indexes) <= 20 for spec in ALL_TABLES)
        assert len(FLOW_RUNS.indexes) == 18  # room for two more: say so in the serves= of a new one


class TestBackfill:
    def test_objects_stored_before_the_index_are_found_by_tag_after_it(self, memory_ctx):
        stores = memory_ctx.stores
        stores.deployments.put({**_dep("d1", "prod", ["etl"]), "created": "2026-01-01T00:00:00+00:00"})
        stores.deployments.put({**_dep("d2", "dev", ["other"]), "created": "2026-01-01T00:00:00+00:00"})
        q = queries.DeploymentQuery.model_validate({"deployments": {"tags": {"all_": ["etl"]}}})
        assert queries.filter_deployments(memory_ctx, q) == []
        assert tag_index.ensure_built(memory_ctx) == {"deployment": 2, "flow_run": 0, "task_run": 0}
        assert [d["id"] for d in queries.filter_deployments(memory_ctx, q)] == ["d1"]
        assert tag_index.ensure_built(memory_ctx) is None  # once
        assert tag_index.backfill(memory_ctx)["deployment"] == 2  # idempotent puts
        assert len(list(stores.tag_index.query("by_tag", "deployment#etl"))) == 1
