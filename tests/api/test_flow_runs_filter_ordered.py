"""/flow_runs/filter by deployment sorted by expected start time: answered from the
``by_deployment_expected`` index in order (stopping once the page is full) — the same page the
general path (read, sort, cut) gives, ties broken by id."""

import pytest

from tests.api.flow_run_support import make_deployment, make_flow

BASE = "2031-05-01T10:00:{:02d}+00:00"


@pytest.fixture
def runs(client):
    flow_id = make_flow(client, "ordered")
    deps = [make_deployment(client, flow_id, f"d{i}") for i in range(2)]
    made = []
    for i in range(12):
        dep = deps[i % 2]
        at = BASE.format(i // 3)  # three runs share each second: ties broken by id
        r = client.post(f"deployments/{dep}/create_flow_run",
                        json={"state": {"type": "SCHEDULED", "state_details": {"scheduled_time": at}}})
        assert r.status_code == 201, r.text
        made.append(r.json())
    return deps, made


def expected(made, deps, descending, state=None):
    rows = [r for r in made if r["deployment_id"] in deps and (state is None or r["state_type"] == state)]
    return [r["id"] for r in sorted(rows, key=lambda r: (r["expected_start_time"], r["id"]), reverse=descending)]


def page(client, deps, sort, **kw):
    body = {"flow_runs": {"deployment_id": {"any_": deps}, **kw.pop("flow_runs", {})}, "sort": sort, **kw}
    r = client.post("flow_runs/filter", json=body)
    assert r.status_code == 200, r.text
    return [x["id"] for x in r.json()]


class TestOrderedDeploymentFilter:
    @pytest.mark.parametrize("sort, descending", [("EXPECTED_START_TIME_DESC", True), ("EXPECTED_START_TIME_ASC", False)])
    def test_one_deployment_pages_in_expected_start_order_with_id_tiebreak(self, client, runs, sort, descending):
        deps, made = runs
        want = expected(made, deps[:1], descending)
        assert page(client, deps[:1], sort) == want
        assert page(client, deps[:1], sort, limit=2, offset=1) == want[1:3]

    def test_several_deployments_are_merged_in_order(self, client, runs):
        deps, made = runs
        want = expected(made, deps, True)
        assert page(client, deps, "EXPECTED_START_TIME_DESC", limit=7) == want[:7]

    def test_other_criteria_still_apply_before_the_page_is_cut(self, client, runs):
        deps, made = runs
        r = client.post(f"flow_runs/{made[0]['id']}/set_state", json={"state": {"type": "CANCELLED"}, "force": True})
        assert r.status_code == 201, r.text
        got = page(client, deps, "EXPECTED_START_TIME_ASC", limit=3,
                   flow_runs={"state": {"type": {"any_": ["SCHEDULED"]}}})
        assert got == [i for i in expected(made, deps, False) if i != made[0]["id"]][:3]


class TestRunsByWorkPool:
    def test_pool_and_queue_filters_read_queues_and_pools_in_batches_not_per_run(self, client, dynamo_calls):
        assert client.post("work_pools/", json={"name": "P", "type": "process"}).status_code == 201
        flow_id = make_flow(client, "pooled")
        dep = make_deployment(client, flow_id, "on-p", work_pool_name="P")
        for _ in range(6):
            assert client.post(f"deployments/{dep}/create_flow_run", json={}).status_code == 201
        dynamo_calls.clear()
        # (the filter: a count of this shape is read from the run counters, domain/services/run_counts.py)
        r = client.post("flow_runs/filter", json={"work_pools": {"name": {"any_": ["P"]}}})
        assert (r.status_code, len(r.json())) == (200, 6)
        assert dynamo_calls.count("GetItem") == 0
        assert dynamo_calls.count("BatchGetItem") == 2  # the chunk's queues, then their pools
        none = client.post("flow_runs/count", json={"work_pools": {"name": {"any_": ["other"]}},
                                                    "work_pool_queues": {"name": {"any_": ["default"]}}})
        assert (none.status_code, none.json()) == (200, 0)
        only_q = client.post("flow_runs/count", json={"work_pool_queues": {"name": {"any_": ["default"]}}})
        assert (only_q.status_code, only_q.json()) == (200, 6)
