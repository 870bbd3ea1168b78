"""POST /deployments/filter and /count, plus the flows and flow_runs filters that join deployments
(spec §3.5, §3.6, §2.5, §4.8; §8 items 55–76). No request may Scan (the ``dynamo_calls`` guard)."""

import datetime as dt
import uuid

import pytest

DAY = {"interval": 86400, "anchor_date": "2020-01-01T00:00:00+00:00"}


def names(resp) -> list[str]:
    assert resp.status_code == 200, resp.text
    return [d["name"] for d in resp.json()]


def deploy(client, flow_id, name, **body) -> dict:
    r = client.post("deployments/", json={"name": name, "flow_id": flow_id, **body})
    assert r.status_code == 201, r.text
    return r.json()


def flow_run(client, dep_id, **body) -> dict:
    r = client.post(f"deployments/{dep_id}/create_flow_run", json=body)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def flow(client):
    return client.post("flows/", json={"name": "my-flow"}).json()


@pytest.fixture
def xy(client, flow):
    """'My Deployment X' and 'My Deployment Y' (Y with is_schedule_active false)."""
    x = deploy(client, flow["id"], "My Deployment X", schedule=DAY)
    y = deploy(client, flow["id"], "My Deployment Y", schedule=DAY, is_schedule_active=False)
    return x, y


@pytest.fixture
def three(client, flow):
    """'My Deployment', 'Another Deployment' [tb12], 'Yet Another Deployment' [tb12, goat] paused."""
    return (
        deploy(client, flow["id"], "My Deployment"),
        deploy(client, flow["id"], "Another Deployment", tags=["tb12"]),
        deploy(client, flow["id"], "Yet Another Deployment", tags=["tb12", "goat"], paused=True),
    )


class TestFilterDeployments:
    def test_no_body_returns_all_by_name(self, client, xy):
        r = client.post("deployments/filter")
        assert names(r) == ["My Deployment X", "My Deployment Y"]
        assert r.json()[0]["status"] == "NOT_READY"

    def test_empty_store_is_empty_list(self, client):
        r = client.post("deployments/filter")
        assert r.status_code == 200
        assert r.json() == []

    def test_name_any(self, client, xy):
        assert names(client.post("deployments/filter", json={"deployments": {"name": {"any_": ["My Deployment X"]}}})) \
            == ["My Deployment X"]
        assert names(client.post("deployments/filter",
                                 json={"deployments": {"name": {"any_": ["My Deployment 123"]}}})) == []

    def test_flow_name_any(self, client, flow, xy):
        r = client.post("deployments/filter", json={"flows": {"name": {"any_": [flow["name"]]}}})
        assert names(r) == ["My Deployment X", "My Deployment Y"]

    def test_deployment_and_flow_criteria_are_anded(self, client, xy):
        r = client.post("deployments/filter", json={
            "deployments": {"name": {"any_": ["My Deployment X"]}}, "flows": {"name": {"any_": ["not a flow name"]}}})
        assert names(r) == []

    def test_limit_offset_and_name_sorts(self, client, xy):
        assert len(client.post("deployments/filter", json={"limit": 1}).json()) == 1
        assert names(client.post("deployments/filter", json={"offset": 1})) == ["My Deployment Y"]
        assert names(client.post("deployments/filter", json={"sort": "NAME_ASC"}))[0] == "My Deployment X"
        assert names(client.post("deployments/filter", json={"sort": "NAME_DESC"})) == [
            "My Deployment Y", "My Deployment X"]

    def test_three_deployments_filters(self, client, flow, three):
        my, another, yet = three
        post = lambda body: names(client.post("deployments/filter", json=body))  # noqa: E731
        assert post({}) == ["Another Deployment", "My Deployment", "Yet Another Deployment"]
        assert len(post({"limit": 1})) == 1
        assert post({"offset": 1, "limit": 1}) == ["My Deployment"]
        assert post({"deployments": {"id": {"any_": [another["id"]]}}}) == ["Another Deployment"]
        assert post({"deployments": {"name": {"any_": ["Another Deployment"]}}}) == ["Another Deployment"]
        assert post({"deployments": {"paused": {"eq_": True}}}) == ["Yet Another Deployment"]
        assert post({"deployments": {"paused": {"eq_": False}}}) == ["Another Deployment", "My Deployment"]
        assert post({"deployments": {"is_schedule_active": {"eq_": False}}}) == ["Yet Another Deployment"]
        assert post({"deployments": {"tags": {"all_": ["goat"]}}}) == ["Yet Another Deployment"]
        assert post({"deployments": {"tags": {"all_": ["tb12"]}}}) == ["Another Deployment", "Yet Another Deployment"]
        assert post({"deployments": {"tags": {"is_null_": True}}}) == ["My Deployment"]

    def test_tags_and_flow_id(self, client, flow, three):
        body = {"deployments": {"tags": {"all_": ["goat"]}}, "flows": {"id": {"any_": [flow["id"]]}}}
        assert names(client.post("deployments/filter", json=body)) == ["Yet Another Deployment"]
        body["flows"]["id"]["any_"] = [str(uuid.uuid4())]
        assert names(client.post("deployments/filter", json=body)) == []

    def test_flow_run_and_task_run_filters(self, client, three):
        yet = three[2]
        run = flow_run(client, yet["id"])
        assert names(client.post("deployments/filter", json={"flow_runs": {"id": {"any_": [run["id"]]}}})) == [
            "Yet Another Deployment"]
        assert names(client.post("deployments/filter",
                                 json={"flow_runs": {"id": {"any_": [str(uuid.uuid4())]}}})) == []
        tr = client.post("task_runs/", json={"flow_run_id": run["id"], "task_key": "t", "dynamic_key": "0"})
        assert tr.status_code == 201, tr.text
        assert names(client.post("deployments/filter", json={"task_runs": {"id": {"any_": [tr.json()["id"]]}}})) == [
            "Yet Another Deployment"]
        assert names(client.post("deployments/filter",
                                 json={"task_runs": {"id": {"any_": [str(uuid.uuid4())]}}})) == []

    def test_empty_flow_runs_filter_keeps_deployments_with_runs(self, client, three):
        flow_run(client, three[2]["id"])
        assert names(client.post("deployments/filter", json={"flow_runs": {}})) == ["Yet Another Deployment"]
        assert names(client.post("deployments/filter", json={"flow_runs": None})) == [
            "Another Deployment", "My Deployment", "Yet Another Deployment"]

    def test_flow_run_state_filter(self, client, three):
        flow_run(client, three[0]["id"], state={"type": "RUNNING"})
        flow_run(client, three[1]["id"])
        body = {"flow_runs": {"state": {"type": {"any_": ["RUNNING"]}}}}
        assert names(client.post("deployments/filter", json=body)) == ["My Deployment"]

    def test_like_is_case_insensitive_substring(self, client, flow):
        for n in ("Marvin", "sad-marvin", "zeta", "apple"):
            deploy(client, flow["id"], n)
        r = client.post("deployments/filter", json={"deployments": {"name": {"like_": "MARV"}}})
        assert names(r) == ["Marvin", "sad-marvin"]

    def test_name_sort_is_code_point_order(self, client, flow):
        for n in ("zeta", "apple", "Marvin", "sad-marvin"):
            deploy(client, flow["id"], n)
        assert names(client.post("deployments/filter")) == ["Marvin", "apple", "sad-marvin", "zeta"]
        assert names(client.post("deployments/filter", json={"sort": "NAME_DESC"})) == [
            "zeta", "sad-marvin", "apple", "Marvin"]

    def test_created_and_updated_sorts(self, client, flow, clock):
        clock.freeze(dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc))
        b = deploy(client, flow["id"], "b")
        clock.advance(seconds=10)
        deploy(client, flow["id"], "a")
        clock.advance(seconds=10)
        deploy(client, flow["id"], "c")
        assert names(client.post("deployments/filter", json={"sort": "CREATED_DESC"})) == ["c", "a", "b"]
        clock.advance(seconds=10)
        assert client.patch(f"deployments/{b['id']}", json={"description": "touched"}).status_code == 204
        assert names(client.post("deployments/filter", json={"sort": "UPDATED_DESC"})) == ["b", "c", "a"]
        assert names(client.post("deployments/filter", json={"sort": "UPDATED_DESC", "offset": 1, "limit": 1})) == ["c"]

    def test_tags_all_empty_and_is_null_false(self, client, three):
        assert names(client.post("deployments/filter", json={"deployments": {"tags": {"all_": []}}})) == [
            "Another Deployment", "My Deployment", "Yet Another Deployment"]
        assert names(client.post("deployments/filter", json={"deployments": {"tags": {"is_null_": False}}})) == [
            "Another Deployment", "Yet Another Deployment"]

    def test_or_operator_returns_the_union(self, client, flow):
        deploy(client, flow["id"], "zeta")
        deploy(client, flow["id"], "tagged", tags=["x"])
        deploy(client, flow["id"], "neither")
        body = {"deployments": {"operator": "or_", "name": {"any_": ["zeta"]}, "tags": {"all_": ["x"]}}}
        assert names(client.post("deployments/filter", json=body)) == ["tagged", "zeta"]
        body["deployments"]["operator"] = "and_"
        assert names(client.post("deployments/filter", json=body)) == []

    def test_bad_operator_is_422_enum(self, client):
        r = client.post("deployments/filter", json={"deployments": {"operator": "xor_"}})
        assert r.status_code == 422
        (err,) = r.json()["exception_detail"]
        assert err["loc"] == ["body", "deployments", "operator"]
        assert err["type"] == "type_error.enum"

    def test_unknown_criteria_key_is_422_extra(self, client):
        r = client.post("deployments/filter", json={"deployments": {"bogus": {}}})
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [{"loc": ["body", "deployments", "bogus"],
                                                  "msg": "extra fields not permitted", "type": "value_error.extra"}]

    def test_work_queue_name_compares_the_stored_column(self, client, flow):
        client.post("work_pools/", json={"name": "pool", "type": "test-type"})
        deploy(client, flow["id"], "queue-only", work_queue_name="q1")
        deploy(client, flow["id"], "pool-only", work_pool_name="pool")
        deploy(client, flow["id"], "pool-and-queue", work_pool_name="pool", work_queue_name="default")
        body = {"deployments": {"work_queue_name": {"any_": ["q1", "default"]}}}
        assert names(client.post("deployments/filter", json=body)) == ["pool-and-queue", "queue-only"]

    def test_work_pool_and_queue_filters(self, client, flow):
        r = client.post("work_pools/", json={"name": "pool", "type": "test-type"})
        assert r.status_code == 201, r.text
        deploy(client, flow["id"], "in-pool", work_pool_name="pool")
        deploy(client, flow["id"], "queue-only", work_queue_name="q1")
        deploy(client, flow["id"], "no-queue")
        post = lambda body: names(client.post("deployments/filter", json=body))  # noqa: E731
        assert post({"work_pools": {"name": {"any_": ["pool"]}}}) == ["in-pool"]
        assert post({"work_pools": {"type": {"any_": ["prefect-agent"]}}}) == ["queue-only"]
        assert post({"work_pool_queues": {"name": {"startswith_": ["Q"]}}}) == ["queue-only"]
        assert post({"work_pool_queues": {"name": {"any_": ["default"]}}}) == ["in-pool"]
        assert post({"work_pools": {}}) == ["in-pool", "queue-only"]
        assert post({"work_pool_queues": {}}) == ["in-pool", "queue-only"]

    def test_limit_above_default_is_422(self, client):
        r = client.post("deployments/filter", json={"limit": 201})
        assert r.status_code == 422
        assert r.json() == {"detail": "Invalid limit: must be less than or equal to 200."}

    def test_negative_limit_is_422(self, client):
        r = client.post("deployments/filter", json={"limit": -1})
        assert r.status_code == 422
        assert r.json() == {"detail": "Invalid limit: must be greater than or equal to 0."}

    def test_negative_offset_is_422_envelope(self, client):
        r = client.post("deployments/filter", json={"offset": -1})
        assert r.status_code == 422
        (err,) = r.json()["exception_detail"]
        assert err["loc"] == ["body", "offset"]
        assert err["msg"] == "ensure this value is greater than or equal to 0"

    def test_unknown_sort_is_422_envelope(self, client):
        r = client.post("deployments/filter", json={"sort": "BOGUS"})
        assert r.status_code == 422
        (err,) = r.json()["exception_detail"]
        assert err["loc"] == ["body", "sort"]
        assert err["type"] == "type_error.enum"

    def test_limit_zero_is_empty(self, client, xy):
        r = client.post("deployments/filter", json={"limit": 0})
        assert r.status_code == 200
        assert r.json() == []

    def test_numeric_string_limit_is_coerced(self, client, xy):
        assert len(client.post("deployments/filter", json={"limit": "1"}).json()) == 1

    def test_nulls_behave_as_absent(self, client, xy):
        r = client.post("deployments/filter", json={"limit": None, "offset": None, "sort": None, "deployments": None})
        assert names(r) == ["My Deployment X", "My Deployment Y"]

    def test_non_object_body_is_422(self, client):
        r = client.post("deployments/filter", json=[])
        assert r.status_code == 422
        assert r.json()["exception_message"] == "Invalid request received."

    def test_client_read_deployments_body(self, client, flow):
        deploy(client, flow["id"], "client-dep")
        deploy(client, flow["id"], "other-dep")
        body = {"flows": {"id": None, "name": {"any_": None, "like_": "my-fl"}, "tags": None}, "flow_runs": None,
                "task_runs": None,
                "deployments": {"id": None, "name": {"any_": ["client-dep"], "like_": None}, "is_schedule_active": None,
                                "tags": None, "work_queue_name": None},
                "work_pools": None, "work_pool_queues": None, "limit": 10, "offset": 0, "sort": None}
        assert names(client.post("deployments/filter", json=body)) == ["client-dep"]

    def test_unselective_filter_issues_no_scan(self, client, three, dynamo_calls):
        dynamo_calls.clear()
        r = client.post("deployments/filter", json={"deployments": {"name": {"like_": "deploy"}}, "sort": "CREATED_DESC"})
        assert r.status_code == 200
        assert len(r.json()) == 3
        assert "Scan" not in dynamo_calls

    def test_id_filter_is_a_batch_get(self, client, three, dynamo_calls):
        dynamo_calls.clear()
        r = client.post("deployments/filter", json={"deployments": {"id": {"any_": [three[0]["id"], three[1]["id"]]}}})
        assert names(r) == ["Another Deployment", "My Deployment"]
        assert list(dynamo_calls) == ["BatchGetItem"]


class TestCountDeployments:
    def test_no_body_is_a_bare_integer(self, client, three):
        r = client.post("deployments/count")
        assert r.status_code == 200
        assert r.json() == 3
        assert r.text == "3"

    def test_count_with_filters(self, client, three):
        assert client.post("deployments/count", json={"deployments": {"tags": {"all_": ["tb12"]}}}).json() == 2
        assert client.post("deployments/count", json={"deployments": {"tags": {"all_": ["x"]}}}).json() == 0
        assert client.post("deployments/count", json={"deployments": {"paused": {"eq_": True}}}).json() == 1

    def test_empty_store_counts_zero(self, client):
        assert client.post("deployments/count", json={}).json() == 0

    def test_bad_filter_is_422(self, client):
        assert client.post("deployments/count", json={"deployments": {"nope": 1}}).status_code == 422


class TestFilterFlows:
    def test_flows_with_matching_deployments(self, client, flow, three):
        client.post("flows/", json={"name": "lonely-flow"})
        r = client.post("flows/filter", json={"deployments": {"tags": {"all_": ["goat"]}}})
        assert names(r) == ["my-flow"]
        assert names(client.post("flows/filter", json={"deployments": {"name": {"any_": ["nope"]}}})) == []

    def test_flows_without_deployments(self, client, flow, three):
        client.post("flows/", json={"name": "lonely-flow"})
        assert names(client.post("flows/filter", json={"flows": {"deployment": {"is_null_": True}}})) == ["lonely-flow"]
        assert names(client.post("flows/filter", json={"flows": {"deployment": {"is_null_": False}}})) == ["my-flow"]

    def test_flows_by_deployment_id(self, client, flow, three):
        client.post("flows/", json={"name": "lonely-flow"})
        r = client.post("flows/filter", json={"deployments": {"id": {"any_": [three[0]["id"]]}}})
        assert names(r) == ["my-flow"]

    def test_flows_by_work_pool(self, client, flow):
        client.post("work_pools/", json={"name": "pool", "type": "test-type"})
        other = client.post("flows/", json={"name": "other-flow"}).json()
        deploy(client, flow["id"], "a", work_pool_name="pool")
        deploy(client, other["id"], "b")
        assert names(client.post("flows/filter", json={"work_pools": {"name": {"any_": ["pool"]}}})) == ["my-flow"]

    def test_flow_limit_rules(self, client):
        r = client.post("flows/filter", json={"limit": 201})
        assert r.status_code == 422
        assert r.json() == {"detail": "Invalid limit: must be less than or equal to 200."}


class TestFilterFlowRuns:
    def test_runs_by_deployment_id(self, client, three):
        my, another, _ = three
        r1 = flow_run(client, my["id"])
        flow_run(client, another["id"])
        r = client.post("flow_runs/filter", json={"flow_runs": {"deployment_id": {"any_": [my["id"]]}}})
        assert r.status_code == 200
        assert [run["id"] for run in r.json()] == [r1["id"]]

    def test_runs_by_deployment_filter(self, client, three):
        flow_run(client, three[0]["id"])
        r2 = flow_run(client, three[2]["id"])
        r = client.post("flow_runs/filter", json={"deployments": {"tags": {"all_": ["goat"]}}})
        assert [run["id"] for run in r.json()] == [r2["id"]]

    def test_runs_by_state_and_work_queue_name(self, client, flow):
        dep = deploy(client, flow["id"], "d", work_queue_name="wq")
        scheduled = flow_run(client, dep["id"])
        running = flow_run(client, dep["id"], state={"type": "RUNNING"})
        post = lambda body: [r["id"] for r in client.post("flow_runs/filter", json=body).json()]  # noqa: E731
        assert post({"flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}}) == [scheduled["id"]]
        assert post({"flow_runs": {"state": {"name": {"any_": ["Running"]}}}}) == [running["id"]]
        assert sorted(post({"flow_runs": {"work_queue_name": {"any_": ["wq"]}}})) == sorted(
            [scheduled["id"], running["id"]])
        assert post({"flow_runs": {"work_queue_name": {"any_": ["other"]}}}) == []

    def test_runs_without_deployment(self, client, three):
        flow_run(client, three[0]["id"])
        r = client.post("flow_runs/filter", json={"flow_runs": {"deployment_id": {"is_null_": True}}})
        assert r.status_code == 200
        assert r.json() == []

    def test_runs_filter_limit_rules(self, client):
        r = client.post("flow_runs/filter", json={"limit": -1})
        assert r.status_code == 422
        assert r.json() == {"detail": "Invalid limit: must be greater than or equal to 0."}
