"""``flowplane reshard`` on DynamoDB (moto): a deployed stack's runs written before the index sharding
(``all`` in ``all_pk``) move to their shards, so the merged reads find them again; runs written before
``by_state_type_sharded`` existed (no ``state_type_shard`` attribute, so not in the new GSI) are
written into it."""

from __future__ import annotations

import uuid

from domain.ports import ALL, Cond, shard_of
from domain.sharded_index import query_all, reshard
from infra.dynamo.store import DynamoStore
from tests.previous_layouts import FLOW_RUNS_BEFORE_SHARDING as UNSHARDED_FLOW_RUNS
from tests.previous_layouts import FLOW_RUNS_BEFORE_STATE_TYPE_SHARDS


def run(minute: int, rev: int, state_type: str = "SCHEDULED", state_name: str = "Scheduled") -> dict:
    at = f"2026-03-01T10:{minute:02d}:00+00:00"
    return {"id": str(uuid.uuid4()), "flow_id": "f", "state_type": state_type, "state_name": state_name,
            "created": at, "expected_start_time": at, "next_scheduled_start_time": at, "_rev": rev}


class TestReshardOnDynamoDB:
    def test_runs_written_before_the_sharding_are_found_again_after_one_reshard(self, dynamo_ctx, settings,
                                                                                  dynamo_calls):
        runs = [run(i % 4, rev=i % 3) for i in range(20)]
        DynamoStore(UNSHARDED_FLOW_RUNS, settings).put_many(runs)
        store = dynamo_ctx.stores.flow_runs
        assert list(query_all(store, "by_created")) == []
        assert len(list(store.query("by_created", ALL))) == 20

        dynamo_calls.clear()
        assert reshard([store]) == {"FlowRuns": 20}
        assert dynamo_calls.count("Scan") == 0
        want = [r["id"] for r in sorted(runs, key=lambda r: (r["created"], r["id"]))]
        assert [d["id"] for d in query_all(store, "by_created")] == want
        assert [d["id"] for d in query_all(store, "late_candidates")] == want
        assert list(store.query("by_created", ALL)) == []
        assert [store.get(r["id"]) for r in runs] == runs  # written again unchanged
        assert reshard([store]) == {}

    def test_runs_written_before_the_state_type_shards_are_written_into_them_once(self, dynamo_ctx, settings,
                                                                                  dynamo_calls):
        old = [run(i % 5, rev=1, state_type="RUNNING", state_name="Running") for i in range(24)]
        DynamoStore(FLOW_RUNS_BEFORE_STATE_TYPE_SHARDS, settings).put_many(old)
        store = dynamo_ctx.stores.flow_runs
        since = [run(10 + i, rev=1, state_type="RUNNING", state_name="Running") for i in range(3)]
        store.put_many(since)
        assert [d["id"] for d in query_all(store, "by_state_type_sharded", "RUNNING")] == [r["id"] for r in since]
        # the state_type condition attribute of an item written before reads as it did; the write moves it
        old[0] = {**old[0], "_rev": 2}
        store.put(old[0], cond=Cond.eq("state_type", "RUNNING"))

        dynamo_calls.clear()
        assert reshard([store]) == {"FlowRuns": 23}
        assert dynamo_calls.count("Scan") == 0
        runs = old + since
        want = [r["id"] for r in sorted(runs, key=lambda r: (r["created"], r["id"]))]
        assert [d["id"] for d in query_all(store, "by_state_type_sharded", "RUNNING")] == want
        for k in range(8):
            assert sorted(d["id"] for d in store.query("by_state_type_sharded", f"RUNNING#{k}")) == sorted(
                r["id"] for r in runs if shard_of(r["id"], 8) == k)
        assert [store.get(r["id"]) for r in old] == old  # written again unchanged
        assert reshard([store]) == {}
