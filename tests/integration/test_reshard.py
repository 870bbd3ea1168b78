"""``flowplane reshard`` on DynamoDB (moto): a deployed stack's runs written before the index sharding
(``all`` in ``all_pk``) move to their shards, so the merged reads find them again."""

from __future__ import annotations

import dataclasses
import uuid

from domain.ports import ALL, FLOW_RUNS
from domain.sharded_index import query_all, reshard
from infra.dynamo.store import DynamoStore

# FlowRuns as the previous template's code wrote it: every index one partition
UNSHARDED_FLOW_RUNS = dataclasses.replace(
    FLOW_RUNS, indexes=tuple(dataclasses.replace(ix, shards=1) for ix in FLOW_RUNS.indexes))


def run(minute: int, rev: int) -> dict:
    at = f"2026-03-01T10:{minute:02d}:00+00:00"
    return {"id": str(uuid.uuid4()), "flow_id": "f", "state_type": "SCHEDULED", "state_name": "Scheduled",
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
