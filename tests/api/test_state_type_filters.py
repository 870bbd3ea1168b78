"""Filters by state type alone (no deployment, flow, queue or tag) read FlowRuns'
``by_state_type_sharded`` (issue 12 item 5): each state type spread over 8 stored partitions
``<type>#<k>`` (k = ``shard_of(id, 8)``), so no state type - every run enters and leaves RUNNING - is
one GSI partition's write cap. The answer must be exactly what reading every run and testing it
gives (``by_created``, the general path): same runs, same order, offset and limit applied."""

from __future__ import annotations

import contextlib

import pytest

from domain.ports import shard_of
from tests.api.flow_run_support import (
    create_run,
    deployment_run,
    make_deployment,
    make_flow,
    propose,
    same_answer,
)

SHARDS = 8
RUN_SORTS = ["ID_DESC", "EXPECTED_START_TIME_DESC", "EXPECTED_START_TIME_ASC", "NAME_ASC", "START_TIME_DESC"]


@contextlib.contextmanager
def every_run_read(monkeypatch):
    """Plan as if the filter named no state types: every run read through ``by_created`` and tested."""
    from domain.filters import FlowRunFilter

    with monkeypatch.context() as m:
        m.setattr(FlowRunFilter, "exact_state_types", lambda self: None)
        yield


def ask(client, monkeypatch, path: str, body: dict):
    """The answer of ``path`` as routed, asserted equal to the answer from every run."""
    return same_answer(client, path, body, lambda: every_run_read(monkeypatch))


def ids(rows):
    return [r["id"] for r in rows]


def state(types: list[str]) -> dict:
    return {"flow_runs": {"state": {"type": {"any_": types}}}}


@pytest.fixture
def runs(client):
    """24 scheduled deployment runs (three share each expected start, so ties are broken by id), some
    moved on to RUNNING, COMPLETED and CANCELLED, and ad-hoc RUNNING runs without a deployment."""
    flow = make_flow(client, "states")
    dep = make_deployment(client, flow, "d")
    made = []
    for i in range(24):
        at = f"2031-05-01T10:00:{i // 3:02d}+00:00"
        made.append(deployment_run(client, dep, {"type": "SCHEDULED", "state_details": {"scheduled_time": at}}))
    for i, to in [(0, "RUNNING"), (1, "RUNNING"), (5, "RUNNING"), (6, "COMPLETED"), (9, "CANCELLED"), (13, "RUNNING")]:
        r = propose(client, made[i]["id"], to, force=True)
        assert r.status_code == 201, r.text
    made += [create_run(client, flow, state={"type": "RUNNING"}) for _ in range(3)]
    return {r["id"]: r for r in client.post("flow_runs/filter", json={}).json()}  # as they are now


def stored_partitions(dynamo_ctx, state_type: str) -> dict[int, set[str]]:
    return {k: {d["id"] for d in dynamo_ctx.stores.flow_runs.query("by_state_type_sharded", f"{state_type}#{k}")}
            for k in range(SHARDS)}


class TestFilterFlowRunsByStateType:
    @pytest.mark.parametrize("sort", RUN_SORTS)
    @pytest.mark.parametrize("types", [["SCHEDULED"], ["RUNNING", "CANCELLED"]])
    def test_pages_match_reading_every_run(self, client, monkeypatch, runs, sort, types):
        body = {**state(types), "sort": sort}
        everything = ask(client, monkeypatch, "flow_runs/filter", body)
        assert sorted(ids(everything)) == sorted(i for i, r in runs.items() if r["state_type"] in types)
        for offset, limit in [(0, 5), (3, 4), (len(everything) - 2, 5), (len(everything), 3)]:
            got = ask(client, monkeypatch, "flow_runs/filter", {**body, "offset": offset, "limit": limit})
            assert ids(got) == ids(everything)[offset:offset + limit]

    def test_other_criteria_apply_to_the_state_types_runs(self, client, monkeypatch, runs):
        body = {"flow_runs": {"state": {"type": {"any_": ["RUNNING"]}}, "deployment_id": {"is_null_": True}},
                "sort": "EXPECTED_START_TIME_ASC"}
        got = ask(client, monkeypatch, "flow_runs/filter", body)
        assert len(got) == 3 and {(r["deployment_id"], r["state_type"]) for r in got} == {(None, "RUNNING")}

    def test_the_count_reads_the_same_runs(self, client, dynamo_ctx, runs):
        from domain.services import queries
        from domain.services.queries import FlowRunQuery, StoreContext

        body = state(["SCHEDULED", "COMPLETED"])
        q = FlowRunQuery.model_validate(body)
        read = sum(1 for _ in queries._runs_matching(dynamo_ctx, q, queries._run_candidates(dynamo_ctx, q),
                                                     StoreContext(dynamo_ctx)))
        assert read == sum(1 for r in runs.values() if r["state_type"] in ("SCHEDULED", "COMPLETED")) == 19
        assert client.post("flow_runs/count", json=body).json() == read

    def test_reads_each_state_types_shards_once(self, client, runs, dynamo_calls, monkeypatch):
        from infra.dynamo.store import DynamoStore

        read: list[tuple[str, str]] = []
        original = DynamoStore.query

        def query(self, index, pk, **kw):
            read.append((f"{self.spec.name}.{index}", pk))
            return original(self, index, pk, **kw)

        monkeypatch.setattr(DynamoStore, "query", query)
        dynamo_calls.clear()
        r = client.post("flow_runs/filter", json={**state(["RUNNING", "CANCELLED"]), "limit": 3})
        assert r.status_code == 200 and len(r.json()) == 3
        assert sorted(read) == sorted(("FlowRuns.by_state_type_sharded", f"{t}#{k}")
                                      for t in ("CANCELLED", "RUNNING") for k in range(SHARDS))
        assert dynamo_calls.count("Query") == 2 * SHARDS  # a small partition is one page


class TestStateTypePartitions:
    def test_each_run_is_in_the_partition_of_its_shard(self, dynamo_ctx, runs):
        for state_type in ("SCHEDULED", "RUNNING", "COMPLETED", "CANCELLED"):
            want = {k: {i for i, r in runs.items() if r["state_type"] == state_type and shard_of(i, SHARDS) == k}
                    for k in range(SHARDS)}
            assert stored_partitions(dynamo_ctx, state_type) == want
        scheduled = stored_partitions(dynamo_ctx, "SCHEDULED")
        assert sum(1 for part in scheduled.values() if part) > 1  # 18 runs: spread, not one partition

    def test_a_state_change_moves_the_run_between_state_types(self, client, monkeypatch, dynamo_ctx, runs):
        run_id = next(i for i, r in runs.items() if r["state_type"] == "SCHEDULED")
        k = shard_of(run_id, SHARDS)
        assert propose(client, run_id, "PENDING").status_code == 201
        assert run_id not in stored_partitions(dynamo_ctx, "SCHEDULED")[k]
        assert stored_partitions(dynamo_ctx, "PENDING")[k] == {run_id}
        assert ids(ask(client, monkeypatch, "flow_runs/filter", state(["PENDING"]))) == [run_id]
        assert client.delete(f"flow_runs/{run_id}").status_code == 204
        assert stored_partitions(dynamo_ctx, "PENDING") == {k: set() for k in range(SHARDS)}
        assert ask(client, monkeypatch, "flow_runs/filter", state(["PENDING"])) == []
