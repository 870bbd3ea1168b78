"""POST /flow_runs/ and PATCH /flow_runs/{id} (orchestration spec §1.1, §1.2; behaviours 1-15)."""

import threading
import uuid

from tests.api.flow_run_support import (
    FLOW_RUN_KEYS,
    STATE_KEYS,
    create_run,
    make_deployment,
    make_flow,
    run,
    ts,
)

INTEGRITY = ("Data integrity conflict. This usually means a unique or foreign key constraint was violated. "
             "See server logs for details.")


class TestCreateFlowRun:
    def test_creates_a_pending_run_with_the_35_keys(self, client):  # 1
        flow_id = make_flow(client)
        r = client.post("flow_runs/", json={"flow_id": flow_id})
        assert r.status_code == 201
        body = r.json()
        assert list(body) == FLOW_RUN_KEYS
        assert list(body["state"]) == STATE_KEYS
        assert (body["state_type"], body["state_name"], body["run_count"]) == ("PENDING", "Pending", 0)
        assert body["state"]["state_details"]["flow_run_id"] == body["id"]
        assert ts(body["expected_start_time"]) == ts(body["state"]["timestamp"])
        assert body["state_id"] == body["state"]["id"]
        assert body["empirical_policy"] == {"max_retries": 0, "retry_delay_seconds": 0.0, "retries": None,
                                            "retry_delay": None, "pause_keys": [], "resuming": False,
                                            "retry_type": None}

    def test_idempotency_key_returns_the_first_run_unchanged_with_200(self, client):  # 2
        flow_id = make_flow(client)
        first = create_run(client, flow_id, idempotency_key="k1", name="first", tags=["a"])
        second = create_run(client, flow_id, expect=200, idempotency_key="k1", name="second", tags=["b"],
                            state={"type": "RUNNING"})
        assert second["id"] == first["id"]
        assert (second["name"], second["tags"], second["state_type"]) == ("first", ["a"], "PENDING")

    def test_idempotency_key_is_scoped_per_flow(self, client):  # 3
        a, b = make_flow(client, "a"), make_flow(client, "b")
        first = create_run(client, a, idempotency_key="same")
        other = create_run(client, b, idempotency_key="same")
        assert other["id"] != first["id"]

    def test_empty_idempotency_key_twice_is_a_conflict_quirk_q7(self, client):  # 4
        flow_id = make_flow(client)
        first = create_run(client, flow_id, idempotency_key="")
        assert first["idempotency_key"] == ""
        r = client.post("flow_runs/", json={"flow_id": flow_id, "idempotency_key": ""})
        assert (r.status_code, r.json()) == (409, {"detail": INTEGRITY})

    def test_unknown_flow_or_parent_task_run_is_409(self, client):  # 5
        r = client.post("flow_runs/", json={"flow_id": str(uuid.uuid4())})
        assert (r.status_code, r.json()) == (409, {"detail": INTEGRITY})
        flow_id = make_flow(client)
        r = client.post("flow_runs/", json={"flow_id": flow_id, "parent_task_run_id": str(uuid.uuid4())})
        assert (r.status_code, r.json()) == (409, {"detail": INTEGRITY})
        r = client.post("flow_runs/", json={"flow_id": flow_id, "infrastructure_document_id": str(uuid.uuid4())})
        assert (r.status_code, r.json()) == (409, {"detail": INTEGRITY})

    def test_an_unknown_deployment_id_is_stored_as_given(self, client):
        dep = str(uuid.uuid4())
        assert create_run(client, make_flow(client), deployment_id=dep)["deployment_id"] == dep

    def test_scheduled_without_time_is_due_now(self, client):  # 6
        flow_id = make_flow(client)
        body = create_run(client, flow_id, state={"type": "SCHEDULED"})
        scheduled = body["state"]["state_details"]["scheduled_time"]
        assert abs((ts(scheduled) - ts(body["state"]["timestamp"])).total_seconds()) < 1
        assert ts(body["next_scheduled_start_time"]) == ts(scheduled) == ts(body["expected_start_time"])

    def test_running_at_creation_counts_a_run_and_starts(self, client):  # 7
        body = create_run(client, make_flow(client), state={"type": "RUNNING"})
        assert body["run_count"] == 1
        assert ts(body["start_time"]) == ts(body["state"]["timestamp"])

    def test_unknown_key_is_422_and_null_name_draws_a_slug(self, client):  # 8
        flow_id = make_flow(client)
        r = client.post("flow_runs/", json={"flow_id": flow_id, "bogus": 1})
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["msg"] == "extra fields not permitted"
        r = client.post("flow_runs/", json={"flow_id": flow_id, "work_queue_name": "q"})
        assert r.status_code == 422
        body = create_run(client, flow_id, name=None)
        assert body["name"].count("-") >= 1

    def test_deprecated_retry_fields_fill_the_new_ones(self, client):  # 9
        body = create_run(client, make_flow(client), empirical_policy={"max_retries": 2, "retry_delay_seconds": 5})
        assert (body["empirical_policy"]["retries"], body["empirical_policy"]["retry_delay"]) == (2, 5)

    def test_racing_creates_with_one_key_make_one_run(self, client):
        flow_id = make_flow(client)
        answers = []

        def go():
            answers.append(client.post("flow_runs/", json={"flow_id": flow_id, "idempotency_key": "race"}))

        threads = [threading.Thread(target=go) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(a.status_code for a in answers) == [200, 200, 200, 201]
        assert len({a.json()["id"] for a in answers}) == 1

    def test_one_key_per_flow_across_ad_hoc_and_deployment_runs(self, client):
        flow_id = make_flow(client)
        dep = make_deployment(client, flow_id)
        from_dep = client.post(f"deployments/{dep}/create_flow_run", json={"idempotency_key": "shared"}).json()
        again = create_run(client, flow_id, expect=200, idempotency_key="shared")
        assert again["id"] == from_dep["id"]
        adhoc = create_run(client, flow_id, idempotency_key="adhoc-first")
        r = client.post(f"deployments/{dep}/create_flow_run", json={"idempotency_key": "adhoc-first"})
        assert (r.status_code, r.json()["id"]) == (200, adhoc["id"])

    def test_a_deleted_run_frees_its_idempotency_key(self, client):
        flow_id = make_flow(client)
        first = create_run(client, flow_id, idempotency_key="again")
        assert client.delete(f"flow_runs/{first['id']}").status_code == 204
        second = create_run(client, flow_id, idempotency_key="again")
        assert second["id"] != first["id"]


class TestUpdateFlowRun:
    def test_patch_writes_only_the_given_keys(self, client):  # 10
        created = create_run(client, make_flow(client), tags=["t"], parameters={"x": 1})
        r = client.patch(f"flow_runs/{created['id']}", json={"name": "renamed", "infrastructure_pid": "123"})
        assert r.status_code == 204
        body = run(client, created["id"])
        assert (body["name"], body["infrastructure_pid"], body["tags"], body["parameters"]) == (
            "renamed", "123", ["t"], {"x": 1})

    def test_unknown_id_empty_body_and_extra_key(self, client):  # 11
        r = client.patch(f"flow_runs/{uuid.uuid4()}", json={"name": "x"})
        assert (r.status_code, r.json()) == (404, {"detail": "Flow run not found"})
        created = create_run(client, make_flow(client))
        assert client.patch(f"flow_runs/{created['id']}", json={}).status_code == 204
        assert client.patch(f"flow_runs/{created['id']}", json={"bogus": 1}).status_code == 422

    def test_explicit_nulls_as_the_reference(self, client):
        created = create_run(client, make_flow(client), flow_version="v1", tags=["a"])
        rid = created["id"]
        client.patch(f"flow_runs/{rid}", json={"infrastructure_pid": "p"})
        for key in ("infrastructure_pid", "flow_version", "job_variables"):
            assert client.patch(f"flow_runs/{rid}", json={key: None}).status_code == 204
            assert run(client, rid)[key] is None
        for key in ("tags", "parameters", "empirical_policy"):
            r = client.patch(f"flow_runs/{rid}", json={key: None})
            assert r.status_code == 422
            assert r.json()["exception_detail"] == [
                {"loc": ["body", key], "msg": "none is not an allowed value", "type": "type_error.none.not_allowed"}]
        assert run(client, rid)["tags"] == ["a"]

    def test_null_name_draws_a_new_slug_quirk_q6(self, client):  # 12
        created = create_run(client, make_flow(client), name="fixed-name")
        assert client.patch(f"flow_runs/{created['id']}", json={"name": None}).status_code == 204
        name = run(client, created["id"])["name"]
        assert name != "fixed-name" and "-" in name

    def test_job_variables_on_a_pending_run_are_refused(self, client):  # 13
        created = create_run(client, make_flow(client))
        r = client.patch(f"flow_runs/{created['id']}", json={"job_variables": {"a": 1}})
        assert (r.status_code, r.json()) == (
            400, {"detail": "Job variables for a flow run in state PENDING cannot be updated"})

    def test_job_variables_on_a_scheduled_adhoc_run_need_a_deployment(self, client):  # 14
        created = create_run(client, make_flow(client), state={"type": "SCHEDULED"})
        r = client.patch(f"flow_runs/{created['id']}", json={"job_variables": {"a": 1}})
        assert (r.status_code, r.json()) == (400, {"detail": "A deployment for the flow run could not be found"})

    def test_job_variables_on_a_scheduled_deployment_run_are_written(self, client):
        flow_id = make_flow(client)
        dep = make_deployment(client, flow_id)
        created = client.post(f"deployments/{dep}/create_flow_run", json={}).json()
        r = client.patch(f"flow_runs/{created['id']}", json={"job_variables": {"a": 1}})
        assert r.status_code == 204
        assert run(client, created["id"])["job_variables"] == {"a": 1}

    def test_job_variables_are_validated_against_the_deployment_pool(self, client):  # spec §7.4 (checked)
        template = {"job_configuration": {"cpu": "{{ cpu }}"}, "variables": {
            "type": "object", "properties": {"cpu": {"type": "integer"}, "mem": {"type": "integer", "default": 5}},
            "required": ["mem"]}}
        client.post("work_pools/", json={"name": "p", "type": "process", "base_job_template": template})
        dep = make_deployment(client, make_flow(client), work_pool_name="p", job_variables={"cpu": 1})
        rid = client.post(f"deployments/{dep}/create_flow_run", json={}).json()["id"]
        expected = {
            "cpu": "Validation failed for field 'cpu'. Failure reason: 'x' is not valid under any of the given schemas",
            "mem": "Validation failed for field 'mem'. Failure reason: None is not of type 'integer'",
        }
        for key, value in (("cpu", "x"), ("mem", None)):
            r = client.patch(f"flow_runs/{rid}", json={"job_variables": {key: value}})
            assert (r.status_code, r.json()) == (422, {"detail": f"Error updating flow run: {expected[key]}"})
        assert client.patch(f"flow_runs/{rid}", json={"job_variables": {"cpu": 2}}).status_code == 204
        assert run(client, rid)["job_variables"] == {"cpu": 2}

    def test_policy_is_replaced_wholesale(self, client):  # 15
        created = create_run(client, make_flow(client), empirical_policy={"retries": 1, "pause_keys": ["1"]})
        r = client.patch(f"flow_runs/{created['id']}", json={"empirical_policy": {"retries": 3, "retry_delay": 2}})
        assert r.status_code == 204
        assert run(client, created["id"])["empirical_policy"] == {
            "max_retries": 0, "retry_delay_seconds": 0.0, "retries": 3, "retry_delay": 2, "pause_keys": [],
            "resuming": False, "retry_type": None}


class TestDeleteFlowRun:
    def test_deleting_a_run_deletes_its_task_runs_and_their_states(self, client):
        """The reference's task_run.flow_run_id foreign key cascades (ondelete=cascade): a deleted
        flow run's task runs, and their state history, go with it; other runs' task runs stay."""
        flow_id = make_flow(client)
        gone, kept = create_run(client, flow_id), create_run(client, flow_id)
        task = client.post("task_runs/", json={"flow_run_id": gone["id"], "task_key": "t", "dynamic_key": "0",
                                               "state": {"type": "RUNNING"}}).json()
        other = client.post("task_runs/", json={"flow_run_id": kept["id"], "task_key": "t", "dynamic_key": "0"}).json()
        assert client.delete(f"flow_runs/{gone['id']}").status_code == 204
        assert client.get(f"task_runs/{task['id']}").status_code == 404
        assert client.get("task_run_states/", params={"task_run_id": task["id"]}).json() == []
        assert [t["id"] for t in client.post("task_runs/filter", json={}).json()] == [other["id"]]
        assert client.post("task_runs/count", json={}).json() == 1
        again = client.post("task_runs/", json={"flow_run_id": gone["id"], "task_key": "t", "dynamic_key": "0"})
        assert again.status_code == 409  # the flow run is gone, not the task run's key reused

    def test_deleting_an_unknown_run_is_404(self, client):
        r = client.delete(f"flow_runs/{uuid.uuid4()}")
        assert (r.status_code, r.json()) == (404, {"detail": "Flow run not found"})

    def test_every_flow_run_deletion_takes_the_runs_task_runs(self, client, dynamo_ctx):
        """The cascade is part of deleting flow runs, not of one route: the scheduler's removal of
        a stale SCHEDULED run (here one waiting to retry, with a task run) takes its task runs too."""
        from domain.services import scheduling

        flow_id = make_flow(client)
        waiting = create_run(client, flow_id, state={"type": "SCHEDULED", "name": "AwaitingRetry"})
        task = client.post("task_runs/", json={"flow_run_id": waiting["id"], "task_key": "t", "dynamic_key": "0"}).json()
        assert scheduling.delete_if_scheduled(dynamo_ctx, [waiting["id"]]) == [waiting["id"]]
        assert client.get(f"flow_runs/{waiting['id']}").status_code == 404
        assert client.get(f"task_runs/{task['id']}").status_code == 404
        assert client.post("task_runs/count", json={}).json() == 0
