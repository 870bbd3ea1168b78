"""Answers the differential check (bench/diffref.py, issue #10) found different from the reference.

Every expected body here was taken from ``prefect server start`` 2.20.26 with the same request.
"""

from __future__ import annotations

from tests.api.flow_run_support import create_run, make_deployment, make_flow

MISSING = "00000000-0000-4000-8000-00000000dead"
FIELD_REQUIRED = {"loc": ["body"], "msg": "field required", "type": "value_error.missing"}
STATE_TYPES = ["SCHEDULED", "PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "CRASHED", "PAUSED",
               "CANCELLING"]
BAD_UUID = {"loc": ["path", "id"], "msg": "value is not a valid uuid", "type": "type_error.uuid"}


def envelope(detail: list, body) -> dict:
    return {"exception_message": "Invalid request received.", "exception_detail": detail, "request_body": body}


def required(*fields: str) -> list[dict]:
    return [{"loc": ["body", f], "msg": "field required", "type": "value_error.missing"} for f in fields]


class TestCreateFlowRunBody:
    def test_no_body_is_field_required_at_body(self, client):
        r = client.post("flow_runs/")
        assert (r.status_code, r.json()) == (422, envelope([FIELD_REQUIRED], None))

    def test_a_json_null_body_is_field_required_at_body(self, client):
        r = client.post("flows/", content=b"null", headers={"content-type": "application/json"})
        assert (r.status_code, r.json()) == (422, envelope([FIELD_REQUIRED], None))

    def test_an_unknown_state_type_lists_the_permitted_values_joined_by_commas(self, client):
        flow_id = make_flow(client)
        r = client.post("flow_runs/", json={"flow_id": flow_id, "state": {"type": "RUNNINGX"}})
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [{
            "loc": ["body", "state", "type"],
            "msg": "value is not a valid enumeration member; permitted: "
                   + ", ".join(f"'{t}'" for t in STATE_TYPES),
            "type": "type_error.enum", "ctx": {"enum_values": STATE_TYPES}}]


class TestCreateFlowRunScheduledTimeOffset:
    def test_the_create_answer_keeps_the_callers_offset_and_later_reads_answer_utc(self, client):
        flow_id = make_flow(client)
        state = {"type": "SCHEDULED", "state_details": {"scheduled_time": "2031-05-01T10:00:00-04:00"}}
        run = create_run(client, flow_id, state=state)
        assert (run["expected_start_time"], run["next_scheduled_start_time"]) == (
            "2031-05-01T10:00:00-04:00", "2031-05-01T10:00:00-04:00")
        assert run["state"]["state_details"]["scheduled_time"] == "2031-05-01T10:00:00-04:00"
        read = client.get(f"flow_runs/{run['id']}").json()
        assert (read["expected_start_time"], read["next_scheduled_start_time"]) == (
            "2031-05-01T14:00:00+00:00", "2031-05-01T14:00:00+00:00")
        assert read["state"]["state_details"]["scheduled_time"] == "2031-05-01T10:00:00-04:00"
        listed = client.post("flow_runs/filter", json={}).json()
        assert [x["expected_start_time"] for x in listed] == ["2031-05-01T14:00:00+00:00"]

    def test_an_idempotent_re_create_answers_utc(self, client):
        flow_id = make_flow(client)
        state = {"type": "SCHEDULED", "state_details": {"scheduled_time": "2031-05-01T10:00:00-04:00"}}
        create_run(client, flow_id, state=state, idempotency_key="k")
        again = create_run(client, flow_id, expect=200, state=state, idempotency_key="k")
        assert again["expected_start_time"] == "2031-05-01T14:00:00+00:00"


class TestCreateFlowRunFromDeploymentWire:
    def test_no_body_is_422_before_the_deployment_is_looked_up(self, client):
        r = client.post(f"deployments/{MISSING}/create_flow_run")
        assert (r.status_code, r.json()) == (422, envelope([FIELD_REQUIRED], None))

    def test_the_create_answer_keeps_the_callers_offset(self, client):
        dep = make_deployment(client, make_flow(client))
        state = {"type": "SCHEDULED", "state_details": {"scheduled_time": "2031-05-01T10:00:00-04:00"}}
        r = client.post(f"deployments/{dep}/create_flow_run", json={"state": state})
        assert r.status_code == 201
        assert (r.json()["expected_start_time"], r.json()["next_scheduled_start_time"]) == (
            "2031-05-01T10:00:00-04:00", "2031-05-01T10:00:00-04:00")
        assert client.get(f"flow_runs/{r.json()['id']}").json()["expected_start_time"] == "2031-05-01T14:00:00+00:00"

    def test_a_keyed_run_without_job_variables_answers_null_job_variables(self, client):
        dep = make_deployment(client, make_flow(client))
        first = client.post(f"deployments/{dep}/create_flow_run", json={"idempotency_key": "q1"})
        again = client.post(f"deployments/{dep}/create_flow_run", json={"idempotency_key": "q1"})
        assert (first.status_code, first.json()["job_variables"]) == (201, None)
        assert (again.status_code, again.json()["job_variables"]) == (200, None)
        assert client.get(f"flow_runs/{first.json()['id']}").json()["job_variables"] is None

    def test_a_run_without_a_key_or_with_job_variables_answers_an_object(self, client):
        dep = make_deployment(client, make_flow(client))
        plain = client.post(f"deployments/{dep}/create_flow_run", json={}).json()
        keyed = client.post(f"deployments/{dep}/create_flow_run", json={"idempotency_key": "q2",
                                                                       "job_variables": {}}).json()
        assert (plain["job_variables"], keyed["job_variables"]) == ({}, {})


class TestUpdateDeploymentBody:
    def test_a_json_null_body_is_field_required_not_204(self, client):
        dep = make_deployment(client, make_flow(client))
        r = client.patch(f"deployments/{dep}", content=b"null", headers={"content-type": "application/json"})
        assert (r.status_code, r.json()) == (422, envelope([FIELD_REQUIRED], None))

    def test_a_bad_path_id_and_a_body_error_are_reported_together(self, client):
        r = client.patch("deployments/not-a-uuid", json={"tags": "x"})
        assert (r.status_code, r.json()) == (422, envelope([
            BAD_UUID, {"loc": ["body", "tags"], "msg": "value is not a valid list", "type": "type_error.list"}],
            {"tags": "x"}))

    def test_a_bad_path_id_with_a_valid_body_is_the_path_error_alone(self, client):
        r = client.patch("deployments/not-a-uuid", json={"tags": ["x"]})
        assert (r.status_code, r.json()["exception_detail"]) == (422, [BAD_UUID])


class TestSetFlowRunStateBody:
    def test_a_bad_path_id_and_a_bad_state_type_are_reported_together(self, client):
        r = client.post("flow_runs/not-a-uuid/set_state", json={"state": {"type": "RUNNINGX"}})
        assert r.status_code == 422
        assert [e["loc"] for e in r.json()["exception_detail"]] == [["path", "id"], ["body", "state", "type"]]

    def test_a_json_array_body_is_field_required_for_every_embedded_field(self, client):
        r = client.post(f"flow_runs/{MISSING}/set_state", json=[])
        assert (r.status_code, r.json()) == (422, envelope(required("state", "force"), []))


class TestCountBodies:
    def test_a_count_ignores_paging_and_sort(self, client):
        make_deployment(client, make_flow(client))
        r = client.post("deployments/count", json={"limit": "x", "offset": -1, "sort": "NOPE"})
        assert (r.status_code, r.json()) == (200, 1)

    def test_a_json_array_body_lists_each_filter_as_required(self, client):
        r = client.post("task_runs/count", json=[])
        assert (r.status_code, r.json()) == (422, envelope(required("flows", "flow_runs", "task_runs", "deployments"),
                                                           []))

    def test_a_filter_lists_its_page_fields_too(self, client):
        r = client.post("deployments/count", json=[])
        assert r.json()["exception_detail"] == required(
            "flows", "flow_runs", "task_runs", "deployments", "work_pools", "work_pool_queues")


class TestFilterSortEnum:
    def test_an_unknown_sort_lists_the_permitted_values_joined_by_commas(self, client):
        r = client.post("flows/filter", json={"sort": "NOPE"})
        values = ["CREATED_DESC", "UPDATED_DESC", "NAME_ASC", "NAME_DESC"]
        assert (r.status_code, r.json()) == (422, envelope([{
            "loc": ["body", "sort"],
            "msg": "value is not a valid enumeration member; permitted: 'CREATED_DESC', 'UPDATED_DESC', "
                   "'NAME_ASC', 'NAME_DESC'",
            "type": "type_error.enum", "ctx": {"enum_values": values}}], {"sort": "NOPE"}))


class TestEmbeddedBodiesWithRequiredFields:
    def test_flow_run_input_without_a_body_lists_key_and_value(self, client):
        r = client.post(f"flow_runs/{MISSING}/input")
        assert (r.status_code, r.json()) == (422, envelope(required("key", "value"), None))

    def test_schema_validation_without_a_body_lists_schema_and_values(self, client):
        r = client.post("ui/schemas/validate")
        assert (r.status_code, r.json()) == (422, envelope(required("schema", "values"), None))


class TestFlowRunStatesOfADeletedRun:
    def test_a_deleted_runs_states_are_gone(self, client):
        run = create_run(client, make_flow(client))
        assert len(client.get("flow_run_states/", params={"flow_run_id": run["id"]}).json()) == 1
        assert client.delete(f"flow_runs/{run['id']}").status_code == 204
        r = client.get("flow_run_states/", params={"flow_run_id": run["id"]})
        assert (r.status_code, r.json()) == (200, [])


class TestBodyDatetimes:
    def test_an_unparseable_string_is_the_parsers_error(self, client):
        r = client.post("deployments/get_scheduled_flow_runs", json={"deployment_ids": [], "scheduled_before": "x"})
        assert (r.status_code, r.json()["exception_detail"]) == (422, [
            {"loc": ["body", "scheduled_before"], "msg": "Unable to parse string [x]", "type": "value_error.parser"}])

    def test_something_that_is_not_a_string_is_unrecognized(self, client):
        r = client.post("deployments/get_scheduled_flow_runs", json={"deployment_ids": [], "scheduled_before": {"a": 1}})
        assert (r.status_code, r.json()["exception_detail"]) == (422, [
            {"loc": ["body", "scheduled_before"], "msg": "Unrecognized datetime.", "type": "value_error"}])

    def test_a_log_timestamp_in_a_list_body(self, client):
        r = client.post("logs/", json=[{"name": "l", "level": 1, "message": "m", "timestamp": "x"}])
        assert r.json()["exception_detail"] == [
            {"loc": ["body", 0, "timestamp"], "msg": "Unable to parse string [x]", "type": "value_error.parser"}]


class TestEmbeddedBodyFieldOrder:
    """A JSON array sent to a filter: every parameter is listed, in the reference route's order."""

    def test_flow_run_filter_lists_limit_sort_offset_then_the_filters(self, client):
        r = client.post("flow_runs/filter", json=[])
        assert [e["loc"][1] for e in r.json()["exception_detail"]] == [
            "limit", "sort", "offset", "flows", "flow_runs", "task_runs", "deployments", "work_pools", "work_pool_queues"]

    def test_work_pool_filter_lists_offset_last(self, client):
        r = client.post("work_pools/filter", json=[])
        assert [e["loc"][1] for e in r.json()["exception_detail"]] == ["limit", "work_pools", "offset"]

    def test_scheduled_runs_list_limit_first(self, client):
        r = client.post("deployments/get_scheduled_flow_runs", json="x")
        assert [e["loc"][1] for e in r.json()["exception_detail"]] == ["limit", "deployment_ids", "scheduled_before"]

    def test_a_route_whose_limit_is_a_plain_parameter_keeps_its_place(self, client):
        r = client.post(f"flow_runs/{MISSING}/input/filter", json=[])
        assert [e["loc"][1] for e in r.json()["exception_detail"]] == ["prefix", "limit", "exclude_keys"]


class TestTaskRunHistoryBody:
    def test_work_pool_and_queue_filters_are_not_taken(self, client):
        body = {"history_start": "2031-05-01T00:00:00+00:00", "history_end": "2031-05-01T01:00:00+00:00",
                "history_interval_seconds": 3600, "work_pools": {"name": {"any_": ["nope"]}}}
        r = client.post("task_runs/history", json=body)
        assert r.status_code == 200
        assert r.json() == client.post("task_runs/history", json={
            k: v for k, v in body.items() if k != "work_pools"}).json()

    def test_a_json_array_lists_only_its_own_fields(self, client):
        r = client.post("task_runs/history", json=[])
        assert [e["loc"][1] for e in r.json()["exception_detail"]] == [
            "history_start", "history_end", "history_interval_seconds", "flows", "flow_runs", "task_runs", "deployments"]


class TestDeleteDeploymentScheduledRuns:
    def test_deleting_a_deleted_deployment_still_deletes_the_scheduled_runs_naming_it(self, client):
        """The reference deletes SCHEDULED runs by deployment id before it finds no deployment (404)."""
        flow_id = make_flow(client)
        dep = make_deployment(client, flow_id)
        run = create_run(client, flow_id, deployment_id=dep, state={"type": "PAUSED"})
        assert client.delete(f"deployments/{dep}").status_code == 204
        assert client.get(f"flow_runs/{run['id']}").json()["deployment_id"] == dep  # kept, as on the reference
        forced = client.post(f"flow_runs/{run['id']}/set_state", json={
            "state": {"type": "SCHEDULED", "state_details": {"scheduled_time": "2031-01-01T00:00:00+00:00"}},
            "force": True})
        assert forced.status_code == 201
        r = client.delete(f"deployments/{dep}")
        assert (r.status_code, r.json()) == (404, {"detail": "Deployment not found"})
        assert client.get(f"flow_runs/{run['id']}").status_code == 404

    def test_the_deleted_scheduled_runs_take_their_task_runs_with_them(self, client):
        """The reference's foreign keys cascade a deleted run's task runs (a run awaiting retry is
        SCHEDULED and has some)."""
        dep = make_deployment(client, make_flow(client))
        run = client.post(f"deployments/{dep}/create_flow_run", json={}).json()
        task = client.post("task_runs/", json={"flow_run_id": run["id"], "task_key": "k", "dynamic_key": "0"}).json()
        assert client.delete(f"deployments/{dep}").status_code == 204
        assert client.get(f"flow_runs/{run['id']}").status_code == 404
        r = client.get(f"task_runs/{task['id']}")
        assert (r.status_code, r.json()) == (404, {"detail": "Task not found"})
        assert client.post("task_runs/count", json={}).json() == 0


class TestDeleteTaskRunSubflows:
    def test_a_subflow_of_a_deleted_task_run_loses_its_parent(self, client):
        """The reference's foreign key sets the subflow's parent_task_run_id to null."""
        flow_id = make_flow(client)
        parent = create_run(client, flow_id)
        task = client.post("task_runs/", json={"flow_run_id": parent["id"], "task_key": "k", "dynamic_key": "0"}).json()
        child = create_run(client, flow_id, parent_task_run_id=task["id"])
        assert child["parent_task_run_id"] == task["id"]
        assert client.delete(f"task_runs/{task['id']}").status_code == 204
        read = client.get(f"flow_runs/{child['id']}").json()
        assert (read["parent_task_run_id"], read["updated"]) == (None, child["updated"])
        r = client.post("flow_runs/filter", json={"flow_runs": {"parent_task_run_id": {"is_null_": False}}})
        assert r.json() == []

    def test_deleting_the_parent_flow_run_orphans_the_subflow_too(self, client):
        flow_id = make_flow(client)
        parent = create_run(client, flow_id)
        task = client.post("task_runs/", json={"flow_run_id": parent["id"], "task_key": "k", "dynamic_key": "0"}).json()
        child = create_run(client, flow_id, parent_task_run_id=task["id"])
        assert client.delete(f"flow_runs/{parent['id']}").status_code == 204
        assert client.get(f"flow_runs/{child['id']}").json()["parent_task_run_id"] is None


NAMELESS = {"loc": ["body", "__root__"], "msg": "Names must be provided for block documents.", "type": "value_error"}


class TestCreateBlockDocumentNamelessBody:
    def test_an_array_body_reports_the_missing_name_at_root_after_the_field_errors(self, client):
        r = client.post("block_documents/", json=[])
        assert (r.status_code, r.json()) == (
            422, envelope([*required("block_schema_id", "block_type_id"), NAMELESS], []))

    def test_an_invalid_name_counts_as_no_name(self, client):
        r = client.post("block_documents/", json={"name": "A_B"})
        assert (r.status_code, r.json()) == (422, envelope([
            {"loc": ["body", "name"], "msg": "Block document name must only contain lowercase letters, numbers, "
                                             "and dashes.", "type": "value_error"},
            *required("block_schema_id", "block_type_id"), NAMELESS], {"name": "A_B"}))

    def test_a_name_or_anonymous_flag_leaves_only_the_field_errors(self, client):
        for body in ({"name": "x"}, {"is_anonymous": "yes"}):
            r = client.post("block_documents/", json=body)
            assert (r.status_code, r.json()) == (422, envelope(required("block_schema_id", "block_type_id"), body))

    def test_a_body_that_is_no_object_is_only_not_a_valid_dict(self, client):
        r = client.post("block_documents/", json="x")
        assert (r.status_code, r.json()) == (422, envelope(
            [{"loc": ["body"], "msg": "value is not a valid dict", "type": "type_error.dict"}], "x"))


class TestLatestArtifactOfAReusedKey:
    def test_the_collection_gets_a_new_id_once_the_keys_last_artifact_was_deleted(self, client):
        first = client.post("artifacts/", json={"key": "reused", "data": 1}).json()
        before = client.get("artifacts/reused/latest").json()["id"]
        assert client.delete(f"artifacts/{first['id']}").status_code == 204
        second = client.post("artifacts/", json={"key": "reused", "data": 2}).json()
        latest = client.get("artifacts/reused/latest")
        assert latest.status_code == 200
        after = latest.json()["id"]
        assert after not in (before, first["id"], second["id"])
        assert [c["id"] for c in client.post("artifacts/latest/filter", json={}).json()] == [after]

    def test_the_collection_keeps_its_id_while_the_key_has_artifacts(self, client):
        client.post("artifacts/", json={"key": "kept", "data": 1})
        before = client.get("artifacts/kept/latest").json()["id"]
        client.post("artifacts/", json={"key": "kept", "data": 2})
        latest = client.get("artifacts/kept/latest").json()
        assert (latest["id"], latest["data"]) == (before, 2)
