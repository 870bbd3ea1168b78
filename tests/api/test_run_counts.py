"""``/flow_runs/count`` and ``/task_runs/count`` answered from counters (domain/run_counters.py) or a
time window's index equal the general path's answer, after every kind of run write: API creates,
deployment runs, the scheduler's inserts, state changes, Late through the late-runs service, PATCH,
deletes, task-run deletes with their flow run, and the flow deletion cascade."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from domain.services import queries, run_counts
from domain.services.queries import FlowRunQuery, StoreContext, TaskRunQuery
from tests.api.flow_run_support import accept, create_run, deployment_run, make_deployment, make_flow
from tests.api.task_run_support import create_task

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 1, 12, tzinfo=UTC)


def general_flow_run_count(ctx, body: dict) -> int:
    """The count as the general path computes it: every candidate run read and tested."""
    q = FlowRunQuery.model_validate(body)
    return sum(1 for _ in queries._runs_matching(ctx, q, queries._run_candidates(ctx, q), StoreContext(ctx)))


def general_task_run_count(ctx, body: dict) -> int:
    q = TaskRunQuery.model_validate(body)
    return sum(1 for _ in queries._tasks_matching(ctx, q, queries._task_candidates(ctx, q)))


def _iso(t: dt.datetime) -> str:
    return t.isoformat()


@pytest.fixture
def world(client, dynamo_ctx, clock) -> dict[str, Any]:
    """Two flows, a pool with two queues, deployments on each, runs in many states."""
    clock.freeze(T0)
    pool = client.post("work_pools/", json={"name": "pool", "type": "process"})
    assert pool.status_code == 201, pool.text
    q2 = client.post("work_pools/pool/queues", json={"name": "q2"})
    assert q2.status_code == 201, q2.text
    default_q = client.get("work_pools/pool/queues/default").json()
    fa, fb, fc = make_flow(client, "flow-a"), make_flow(client, "flow-b"), make_flow(client, "flow-c")
    d1 = make_deployment(client, fa, "d1", work_pool_name="pool")
    d2 = make_deployment(client, fb, "d2", work_pool_name="pool", work_queue_name="q2")
    d3 = make_deployment(client, fc, "d3", schedules=[{"schedule": {"interval": 3600, "anchor_date": _iso(T0)}}])
    runs = []
    for i in range(4):
        runs.append(deployment_run(client, d1, state={"type": "SCHEDULED", "state_details": {
            "scheduled_time": _iso(T0 + dt.timedelta(minutes=i))}}))
    for _ in range(3):
        runs.append(deployment_run(client, d2))
    adhoc = [create_run(client, fa, state={"type": "PENDING"}), create_run(client, fb, state={"type": "RUNNING"}),
             create_run(client, fc)]
    # state changes
    accept(client, runs[4]["id"], "PENDING")
    accept(client, runs[4]["id"], "RUNNING")
    accept(client, runs[4]["id"], "COMPLETED")
    accept(client, runs[5]["id"], "PENDING")
    accept(client, runs[5]["id"], "RUNNING")
    accept(client, runs[5]["id"], "FAILED")
    accept(client, adhoc[0]["id"], "RUNNING")
    accept(client, adhoc[0]["id"], "COMPLETED", name="Cached")
    # PATCH (tags: moves no counter) and a delete
    assert client.patch(f"flow_runs/{adhoc[1]['id']}", json={"tags": ["x"]}).status_code == 204
    assert client.delete(f"flow_runs/{runs[6]['id']}").status_code == 204
    # the scheduler inserts d3's runs
    from domain.services import run_services, scheduler

    scheduler.tick(dynamo_ctx)
    # task runs, one deleted with its flow run
    doomed = create_run(client, fc, state={"type": "RUNNING"})
    for i, fr in enumerate([adhoc[1], adhoc[1], doomed, adhoc[1]]):
        t = create_task(client, fr["id"], dynamic_key=str(i), state={"type": "PENDING"})
        if i == 1:
            accept(client, t["id"], "RUNNING", runs="task_runs")
        if i == 3:
            accept(client, t["id"], "RUNNING", runs="task_runs")
            accept(client, t["id"], "COMPLETED", runs="task_runs")
    assert client.delete(f"flow_runs/{doomed['id']}").status_code == 204
    # Late: d1's scheduled runs are overdue an hour later
    clock.advance(hours=1)
    marked = run_services.mark_late_runs(dynamo_ctx)
    assert marked is not None
    return {"pool": pool.json(), "q2": q2.json(), "default_q": default_q, "flows": (fa, fb, fc),
            "deployments": (d1, d2, d3), "runs": runs, "adhoc": adhoc}


STATE_SHAPES = [
    None,
    {"state": {"type": {"any_": ["SCHEDULED"]}}},
    {"state": {"type": {"any_": ["COMPLETED", "FAILED", "CRASHED"]}}},
    {"state": {"name": {"any_": ["Late"]}}},
    {"state": {"type": {"any_": ["SCHEDULED"]}, "name": {"any_": ["Scheduled"]}}},
    {"state": {"operator": "or_", "type": {"any_": ["RUNNING"]}, "name": {"any_": ["Late", "Cached"]}}},
    {"state": {"type": {"any_": []}}},
]


def _with(flow_runs: dict | None, **rest) -> dict:
    body = dict(rest)
    if flow_runs is not None:
        body["flow_runs"] = flow_runs
    return body


def counter_shapes(w) -> list[dict]:
    d1, d2, d3 = w["deployments"]
    fa, fb, fc = w["flows"]
    shapes = []
    for fr in STATE_SHAPES:
        shapes += [
            _with(fr),
            _with(fr, deployments={"id": {"any_": [d1, d2]}}),
            _with({**(fr or {}), "deployment_id": {"any_": [d1]}}),
            _with({**(fr or {}), "deployment_id": {"any_": [d3, d2]}}, deployments={"id": {"any_": [d3]}}),
            _with(fr, flows={"id": {"any_": [fa, fc]}}),
            _with(fr, flows={"name": {"any_": ["flow-b", "nope"]}}),
            _with(fr, work_pools={"name": {"any_": ["pool"]}}),
            _with(fr, work_pools={"id": {"any_": [w["pool"]["id"]]}}),
            _with(fr, work_pool_queues={"id": {"any_": [w["q2"]["id"]]}}),
            _with(fr, work_pools={"name": {"any_": ["pool"]}}, work_pool_queues={"name": {"any_": ["q2"]}}),
            _with(fr, work_pools={"name": {"any_": ["pool", "no-such-pool"]}}, work_pool_queues={}),
        ]
    return shapes


def general_shapes(w) -> list[dict]:
    d1, _, _ = w["deployments"]
    fa, _, _ = w["flows"]
    late = {"after_": _iso(T0 - dt.timedelta(minutes=1)), "before_": _iso(T0 + dt.timedelta(hours=3))}
    return [
        {"flow_runs": {"tags": {"all_": ["x"]}}},
        {"flow_runs": {"name": {"like_": "a"}, "state": {"type": {"any_": ["SCHEDULED"]}}}},
        {"flow_runs": {"deployment_id": {"is_null_": True}}},
        {"flows": {"id": {"any_": [fa]}}, "deployments": {"id": {"any_": [d1]}}},
        {"deployments": {"name": {"any_": ["d1"]}}},
        {"flow_runs": {"expected_start_time": late}},
        {"flow_runs": {"expected_start_time": late, "state": {"type": {"any_": ["SCHEDULED"]}}}},
        {"flow_runs": {"expected_start_time": {"after_": _iso(T0 + dt.timedelta(minutes=2))},
                       "parent_task_run_id": {"is_null_": True}}},
        {"flow_runs": {"operator": "or_", "deployment_id": {"any_": [d1]}, "state": {"type": {"any_": ["RUNNING"]}}}},
        {"task_runs": {}},
        {"work_pool_queues": {"name": {"any_": ["q2"]}}},
        {"flows": {"id": {"any_": [fa]}}, "flow_runs": {"expected_start_time": late}},
        {"flow_runs": {"expected_start_time": late, "tags": {"all_": ["x"]}, "parent_task_run_id": {"is_null_": True}},
         "work_pools": {"name": {"any_": ["pool"]}}},
    ]


class TestFlowRunsCount:
    def test_every_counter_shape_equals_the_general_path_and_is_read_from_counters(self, client, dynamo_ctx, world):
        for body in counter_shapes(world):
            q = FlowRunQuery.model_validate(body)
            assert run_counts.count_flow_runs_from_counters(dynamo_ctx, q) is not None, body
            r = client.post("flow_runs/count", json=body)
            assert (r.status_code, r.json()) == (200, general_flow_run_count(dynamo_ctx, body)), body

    def test_other_shapes_take_the_general_path_with_the_same_answer(self, client, dynamo_ctx, world):
        for body in general_shapes(world):
            q = FlowRunQuery.model_validate(body)
            assert run_counts.count_flow_runs_from_counters(dynamo_ctx, q) is None, body
            r = client.post("flow_runs/count", json=body)
            assert (r.status_code, r.json()) == (200, general_flow_run_count(dynamo_ctx, body)), body

    def test_the_scenario_reaches_every_state_it_counts(self, client, world):
        def count(body):
            return client.post("flow_runs/count", json=body).json()

        assert count({"flow_runs": {"state": {"name": {"any_": ["Late"]}}}}) >= 4
        assert count({"flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}}) == 2
        assert count({"flow_runs": {"state": {"name": {"any_": ["Cached"]}}}}) == 1
        assert count({"deployments": {"id": {"any_": [world["deployments"][2]]}}}) > 0  # the scheduler's runs

    def test_a_deleted_deployment_no_longer_matches_deployments_id_but_its_runs_keep_deployment_id(
            self, client, dynamo_ctx, world):
        d1 = world["deployments"][0]
        before = client.post("flow_runs/count", json={"flow_runs": {"deployment_id": {"any_": [d1]}}}).json()
        assert client.delete(f"deployments/{d1}").status_code == 204
        for body in ({"deployments": {"id": {"any_": [d1]}}}, {"flow_runs": {"deployment_id": {"any_": [d1]}}}):
            r = client.post("flow_runs/count", json=body)
            assert (r.status_code, r.json()) == (200, general_flow_run_count(dynamo_ctx, body)), body
        assert client.post("flow_runs/count", json={"deployments": {"id": {"any_": [d1]}}}).json() == 0
        assert before > 0

    def test_the_flow_deletion_cascade_is_counted(self, client, dynamo_ctx, world):
        fa = world["flows"][0]
        assert client.delete(f"flows/{fa}").status_code == 204
        for body in counter_shapes(world):
            r = client.post("flow_runs/count", json=body)
            assert (r.status_code, r.json()) == (200, general_flow_run_count(dynamo_ctx, body)), body


class TestTaskRunsCount:
    def test_counter_and_window_shapes_equal_the_general_path(self, client, dynamo_ctx, world):
        window = {"after_": _iso(T0 - dt.timedelta(hours=1)), "before_": _iso(T0 + dt.timedelta(hours=2))}
        counted = [{}, {"task_runs": {"state": {"type": {"any_": ["RUNNING", "COMPLETED"]}}}},
                   {"task_runs": {"state": {"name": {"any_": ["Pending"]}}}}]
        for body in counted:
            assert run_counts.count_task_runs_from_counters(dynamo_ctx, TaskRunQuery.model_validate(body)) is not None
        others = [{"task_runs": {"start_time": window}},
                  {"task_runs": {"start_time": window, "state": {"type": {"any_": ["COMPLETED"]}}},
                   "flow_runs": {"tags": {"all_": ["x"]}}},
                  {"flow_runs": {"id": {"any_": [world["adhoc"][1]["id"]]}}}]
        for body in counted + others:
            r = client.post("task_runs/count", json=body)
            assert (r.status_code, r.json()) == (200, general_task_run_count(dynamo_ctx, body)), body
        assert client.post("task_runs/count", json={}).json() == 3  # the doomed run's task went with it
