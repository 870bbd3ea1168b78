"""Sharded indexes (``Index.shards``) on every adapter: items spread over the shards' partitions
and ``query_all`` merges them into one order, ties by id, whatever order an adapter gives ties."""

from __future__ import annotations

import uuid

from domain.ports import ALL, FLOW_RUNS, shard_of
from domain.sharded_index import query_all


def ts(minute: int) -> str:
    return f"2026-03-01T10:{minute:02d}:00+00:00"


def run(created: str) -> dict:
    return {"id": str(uuid.uuid4()), "flow_id": "f", "state_type": "COMPLETED", "created": created,
            "expected_start_time": created}


class TestShardedFlowRunIndexes:
    def test_runs_are_spread_over_the_shards_of_by_created_and_none_left_in_all(self, stores):
        shards = FLOW_RUNS.index("by_created").shards
        runs = [run(ts(i % 60)) for i in range(120)]
        stores.flow_runs.put_many(runs)
        per_shard = {k: {d["id"] for d in stores.flow_runs.query("by_created", f"{ALL}#{k}")} for k in range(shards)}
        assert per_shard == {k: {r["id"] for r in runs if shard_of(r["id"], shards) == k} for k in range(shards)}
        assert all(per_shard.values())  # 120 random ids leave no shard empty (p < 1e-6)
        assert list(stores.flow_runs.query("by_created", ALL)) == []

    def test_query_all_gives_creation_order_with_ties_by_id_on_every_adapter(self, stores):
        runs = [run(ts(i % 7)) for i in range(40)]  # ~6 runs share each creation time
        stores.flow_runs.put_many(runs)
        want = sorted(runs, key=lambda r: (r["created"], r["id"]))
        assert [d["id"] for d in query_all(stores.flow_runs, "by_created")] == [r["id"] for r in want]
        assert [d["id"] for d in query_all(stores.flow_runs, "by_created", descending=True, limit=9)] == [
            r["id"] for r in reversed(want)][:9]

    def test_a_moved_run_leaves_its_old_entry(self, stores):
        r = run(ts(1))
        stores.flow_runs.put(r)
        stores.flow_runs.put({**r, "expected_start_time": ts(5)})
        from domain.timeutil import parse, sort_key

        got = list(query_all(stores.flow_runs, "by_expected_start", sk_lte=sort_key(parse(ts(2)))))
        assert got == []
        assert [d["id"] for d in query_all(stores.flow_runs, "by_expected_start")] == [r["id"]]
