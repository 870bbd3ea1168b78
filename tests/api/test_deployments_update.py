"""PATCH /deployments/{id} (spec §3.2, §4.4, §5.2, §5.3, §7.1, §7.2; §8 items 77–106)."""

import datetime as dt
import uuid

import pytest

DAY = {"interval": 86400, "anchor_date": "2020-01-01T00:00:00+00:00"}
DAY_OUT = {"interval": 86400.0, "anchor_date": "2020-01-01T00:00:00+00:00", "timezone": "UTC"}
HOUR_OUT = {"interval": 3600.0, "anchor_date": "2020-01-01T00:00:00+00:00", "timezone": "UTC"}
INTEGRITY = ("Data integrity conflict. This usually means a unique or foreign key constraint was violated. "
             "See server logs for details.")
NO_SCHEMA = ("Error updating deployment: Cannot update parameters because parameter schema enforcement is enabled "
             "and the deployment does not have a valid parameter schema.")
DPS_SCHEMA = {"type": "object", "properties": {"x": {"type": "string"}}, "required": ["x"]}
PERSON_SCHEMA = {
    "title": "Parameters", "type": "object",
    "properties": {"person": {"$ref": "#/definitions/Person"}},
    "required": ["person"],
    "definitions": {"Person": {
        "title": "Person", "type": "object",
        "properties": {"name": {"title": "Name", "type": "string"},
                       "greeting": {"title": "Greeting", "default": "Hello", "type": "string"}},
        "required": ["name"],
    }},
}


def interval(seconds: int) -> dict:
    return {"interval": seconds, "anchor_date": "2020-01-01T00:00:00+00:00"}


def out(seconds: int) -> dict:
    return {"interval": float(seconds), "anchor_date": "2020-01-01T00:00:00+00:00", "timezone": "UTC"}


def multiple_schedules(dep_id: str) -> dict:
    return {"detail": [
        f"Error updating deployment: Deployment UUID('{dep_id}') has multiple schedules. Please use the UI or "
        "update your client to adjust this deployment's schedules."]}


@pytest.fixture
def flow(client):
    return client.post("flows/", json={"name": "my-flow"}).json()


def deploy(client, flow_id, name="my-deployment", **body) -> dict:
    r = client.post("deployments/", json={"name": name, "flow_id": flow_id, **body})
    assert r.status_code in (200, 201), r.text
    return r.json()


@pytest.fixture
def d(client, flow):
    """D: tags [test], one active daily schedule, path/entrypoint, hello(name: str) schema, parameters {}."""
    return deploy(client, flow["id"], "D", tags=["test"], schedule=DAY, path="./subdir", entrypoint="/file.py:flow",
                  parameter_openapi_schema={"type": "object", "properties": {"name": {"type": "string"}},
                                            "required": ["name"]})


@pytest.fixture
def dps(client, flow):
    """DPS: schema {x: string, required}, parameters {"x": "y"}, enforcement on, no work queue."""
    return deploy(client, flow["id"], "DPS", parameter_openapi_schema=DPS_SCHEMA, parameters={"x": "y"},
                  enforce_parameter_schema=True)


def patch(client, dep_id, body):
    return client.patch(f"deployments/{dep_id}", json=body)


def get(client, dep_id) -> dict:
    r = client.get(f"deployments/{dep_id}")
    assert r.status_code == 200, r.text
    return r.json()


def runs_of(client, dep_id) -> list[dict]:
    return client.post("flow_runs/filter", json={"flow_runs": {"deployment_id": {"any_": [dep_id]}}}).json()


def seed_runs(client, dep_id) -> dict:
    """Three auto-scheduled runs plus one manual scheduled run; returns the manual one."""
    assert client.post(f"deployments/{dep_id}/schedule", json={}).status_code == 200
    at = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)).isoformat()
    r = client.post(f"deployments/{dep_id}/create_flow_run",
                    json={"state": {"type": "SCHEDULED", "state_details": {"scheduled_time": at}}})
    assert r.status_code == 201, r.text
    assert len(runs_of(client, dep_id)) == 4
    return r.json()


def make_pool(client, name, variables=None) -> dict:
    template = {"job_configuration": {"command": "echo"}, "variables": variables} if variables else {}
    r = client.post("work_pools/", json={"name": name, "type": "test-type", "base_job_template": template})
    assert r.status_code == 201, r.text
    return r.json()


class TestUpdateDeploymentParameters:
    def test_enforced_schema_rejects_wrong_type_with_409(self, client, dps):
        r = patch(client, dps["id"], {"parameters": {"x": 1}})
        assert r.status_code == 409
        assert r.json() == {"detail": "Error updating deployment: Validation failed for field 'x'. "
                                      "Failure reason: 1 is not of type 'string'"}
        assert get(client, dps["id"])["parameters"] == {"x": "y"}

    def test_without_enforcement_any_parameters_are_stored(self, client, d):
        r = patch(client, d["id"], {"parameters": {"x": 1}})
        assert r.status_code == 204
        assert r.content == b""
        assert get(client, d["id"])["parameters"] == {"x": 1}

    def test_enforcement_toggling(self, client, dps):
        assert patch(client, dps["id"], {"parameters": {"x": 1}, "enforce_parameter_schema": False}).status_code == 204
        got = get(client, dps["id"])
        assert (got["parameters"], got["enforce_parameter_schema"]) == ({"x": 1}, False)
        r = patch(client, dps["id"], {"enforce_parameter_schema": True})
        assert r.status_code == 409
        assert r.json() == {"detail": "Error updating deployment: Validation failed for field 'x'. "
                                      "Failure reason: 1 is not of type 'string'"}
        assert get(client, dps["id"])["enforce_parameter_schema"] is False
        assert patch(client, dps["id"], {"parameters": {"x": "y"}, "enforce_parameter_schema": True}).status_code == 204
        got = get(client, dps["id"])
        assert (got["parameters"], got["enforce_parameter_schema"]) == ({"x": "y"}, True)

    def test_required_is_ignored_on_update(self, client, flow):
        dep = deploy(client, flow["id"], enforce_parameter_schema=True, parameter_openapi_schema=PERSON_SCHEMA,
                     parameters={"person": {"name": "a"}})
        r = patch(client, dep["id"], {"parameters": {"person": {"greeting": "*head nod*"}}})
        assert r.status_code == 204
        assert get(client, dep["id"])["parameters"] == {"person": {"greeting": "*head nod*"}}

    def test_parameters_replace_wholesale(self, client, flow):
        dep = deploy(client, flow["id"], parameters={"a": 1, "b": 2})
        assert patch(client, dep["id"], {"parameters": {"c": 3}}).status_code == 204
        assert get(client, dep["id"])["parameters"] == {"c": 3}

    def test_json_kind_is_hydrated(self, client, dps):
        r = patch(client, dps["id"], {"parameters": {"x": {"__prefect_kind": "json", "value": '"str_of_json"'}}})
        assert r.status_code == 204
        assert get(client, dps["id"])["parameters"] == {"x": "str_of_json"}

    def test_jinja_kind_is_rendered(self, client, d):
        r = patch(client, d["id"], {"parameters": {"x": {"__prefect_kind": "jinja", "template": "{{ 1 + 2 }}"}}})
        assert r.status_code == 204
        assert get(client, d["id"])["parameters"] == {"x": "3"}

    def test_workspace_variable_kind_is_resolved(self, client, d):
        v = client.post("variables/", json={"name": "my_variable", "value": "my_value"})
        assert v.status_code == 201, v.text
        r = patch(client, d["id"], {"parameters": {"x": {"__prefect_kind": "workspace_variable",
                                                         "variable_name": "my_variable"}}})
        assert r.status_code == 204
        assert get(client, d["id"])["parameters"] == {"x": "my_value"}

    def test_unknown_workspace_variable_is_400(self, client, d):
        r = patch(client, d["id"], {"parameters": {"x": {"__prefect_kind": "workspace_variable",
                                                         "variable_name": "nope"}}})
        assert r.status_code == 400
        assert r.json() == {"detail": "Error hydrating deployment parameters: Variable 'nope' not found in workspace."}

    def test_invalid_json_kind_is_400(self, client, d):
        r = patch(client, d["id"], {"parameters": {"x": {"__prefect_kind": "json", "value": "{bad"}}})
        assert r.status_code == 400
        assert r.json() == {"detail": "Error hydrating deployment parameters: Invalid JSON: Expecting property name "
                                      "enclosed in double quotes: line 1 column 2 (char 1)"}

    def test_enforcement_without_schema_is_409(self, client, flow):
        dep = deploy(client, flow["id"])
        r = patch(client, dep["id"], {"enforce_parameter_schema": True})
        assert r.status_code == 409
        assert r.json() == {"detail": NO_SCHEMA}

    def test_circular_schema_is_422(self, client, flow):
        schema = {"type": "object", "properties": {"x": {"$ref": "#/definitions/a"}},
                  "definitions": {"a": {"$ref": "#/definitions/a"}}}
        dep = deploy(client, flow["id"], parameter_openapi_schema=schema)
        r = patch(client, dep["id"], {"parameters": {"x": 1}, "enforce_parameter_schema": True})
        assert r.status_code == 422
        assert r.json() == {"detail": "Invalid schema: Unable to validate schema with circular references."}

    def test_null_parameters_are_rejected(self, client, d):
        r = patch(client, d["id"], {"parameters": None})
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["loc"] == ["body", "parameters"]
        assert get(client, d["id"])["parameters"] == {}


class TestUpdateDeploymentSchedules:
    def test_legacy_schedule_replaces_the_single_schedule(self, client, d):
        old_id = d["schedules"][0]["id"]
        assert patch(client, d["id"], {"schedule": interval(3600)}).status_code == 204
        got = get(client, d["id"])
        assert [s["schedule"] for s in got["schedules"]] == [HOUR_OUT]
        assert got["schedules"][0]["id"] != old_id
        assert got["schedule"] == HOUR_OUT

    def test_schedules_list_then_empty_list(self, client, d):
        assert patch(client, d["id"], {"schedules": [{"schedule": DAY, "active": True}]}).status_code == 204
        assert [s["schedule"] for s in get(client, d["id"])["schedules"]] == [DAY_OUT]
        assert patch(client, d["id"], {"schedules": []}).status_code == 204
        got = get(client, d["id"])
        assert got["schedules"] == []
        assert got["schedule"] is None

    def test_schedules_list_replaces_all_with_new_ids(self, client, flow):
        dep = deploy(client, flow["id"], schedules=[{"schedule": interval(86400)},
                                                    {"schedule": interval(2 * 86400), "active": False}])
        old = {s["id"] for s in dep["schedules"]}
        r = patch(client, dep["id"], {"schedules": [{"schedule": interval(3 * 86400), "active": True},
                                                    {"schedule": interval(7 * 86400), "active": False}]})
        assert r.status_code == 204
        got = get(client, dep["id"])["schedules"]
        assert not old & {s["id"] for s in got}
        assert [(s["schedule"], s["active"]) for s in got] == [(out(7 * 86400), False), (out(3 * 86400), True)]
        assert all(s["deployment_id"] == dep["id"] for s in got)

    def test_schedule_limits_in_patch_list_are_reset(self, client, d):
        r = patch(client, d["id"], {"schedules": [{"schedule": DAY, "max_active_runs": 2, "catchup": True}]})
        assert r.status_code == 204
        (row,) = get(client, d["id"])["schedules"]
        assert (row["max_active_runs"], row["max_scheduled_runs"], row["catchup"]) == (None, None, False)

    def test_legacy_schedule_on_multi_schedule_deployment_is_422_array(self, client, flow):
        dep = deploy(client, flow["id"], schedules=[{"schedule": interval(60)}, {"schedule": interval(120)}])
        r = patch(client, dep["id"], {"schedule": interval(3 * 86400)})
        assert r.status_code == 422
        assert r.json() == multiple_schedules(dep["id"])
        assert len(get(client, dep["id"])["schedules"]) == 2

    def test_paused_with_is_schedule_active_on_multi_schedule_deployment_is_422(self, client, flow):
        dep = deploy(client, flow["id"], schedules=[{"schedule": interval(60)}, {"schedule": interval(120)}])
        r = patch(client, dep["id"], {"paused": True, "is_schedule_active": True})
        assert r.status_code == 422
        assert r.json() == multiple_schedules(dep["id"])
        assert get(client, dep["id"])["paused"] is False

    def test_paused_alone_on_multi_schedule_deployment_is_fine(self, client, flow):
        dep = deploy(client, flow["id"], schedules=[{"schedule": interval(60)}, {"schedule": interval(120)}])
        assert patch(client, dep["id"], {"paused": True}).status_code == 204
        got = get(client, dep["id"])
        assert got["paused"] is True
        assert [s["active"] for s in got["schedules"]] == [True, True]

    def test_is_schedule_active_false_pauses(self, client, d):
        assert patch(client, d["id"], {"is_schedule_active": False}).status_code == 204
        got = get(client, d["id"])
        assert (got["paused"], got["is_schedule_active"]) == (True, False)
        assert [s["active"] for s in got["schedules"]] == [False]

    def test_paused_true_pauses(self, client, d):
        assert patch(client, d["id"], {"paused": True}).status_code == 204
        got = get(client, d["id"])
        assert (got["paused"], got["is_schedule_active"]) == (True, False)

    def test_pausing_via_patch_does_not_touch_schedules(self, client, d):
        assert patch(client, d["id"], {"schedule": DAY}).status_code == 204
        assert patch(client, d["id"], {"schedules": [{"schedule": interval(3600), "active": True}]}).status_code == 204
        before = get(client, d["id"])["schedules"]
        assert patch(client, d["id"], {"paused": True}).status_code == 204
        got = get(client, d["id"])
        assert got["schedules"] == before
        assert [(s["schedule"], s["active"]) for s in got["schedules"]] == [(HOUR_OUT, True)]

    def test_null_schedule_removes_schedules(self, client, d):
        assert patch(client, d["id"], {"schedule": None}).status_code == 204
        got = get(client, d["id"])
        assert (got["schedules"], got["schedule"]) == ([], None)

    def test_legacy_schedule_wins_over_a_schedules_list(self, client, d):
        r = patch(client, d["id"], {"schedule": interval(60), "schedules": [{"schedule": interval(120)},
                                                                            {"schedule": interval(180)}]})
        assert r.status_code == 204
        assert [s["schedule"] for s in get(client, d["id"])["schedules"]] == [out(60)]

    def test_empty_job_variables_clear_the_stored_ones(self, client, flow):
        dep = deploy(client, flow["id"], job_variables={"a": 1})
        assert patch(client, dep["id"], {"job_variables": {}}).status_code == 204
        assert get(client, dep["id"])["infra_overrides"] == {}

    def test_cron_schedule_with_is_schedule_active_false(self, client, d):
        r = patch(client, d["id"], {"schedule": {"cron": "0 9 * * *"}, "is_schedule_active": False})
        assert r.status_code == 204
        got = get(client, d["id"])
        assert [(s["schedule"], s["active"]) for s in got["schedules"]] == [
            ({"cron": "0 9 * * *", "timezone": None, "day_or": True}, False)]
        assert (got["paused"], got["is_schedule_active"]) == (True, False)

    def test_legacy_fallback_wipes_schedules_of_list_created_deployment(self, client, flow):
        dep = deploy(client, flow["id"], schedules=[{"schedule": DAY}])
        assert patch(client, dep["id"], {"is_schedule_active": False}).status_code == 204
        got = get(client, dep["id"])
        assert got["schedules"] == []
        assert got["paused"] is True

    def test_is_schedule_active_reuses_the_legacy_schedule(self, client, d):
        assert patch(client, d["id"], {"is_schedule_active": False}).status_code == 204
        assert patch(client, d["id"], {"is_schedule_active": True}).status_code == 204
        got = get(client, d["id"])
        assert [(s["schedule"], s["active"]) for s in got["schedules"]] == [(DAY_OUT, True)]
        assert got["paused"] is False

    def test_schedule_validation_errors_are_422(self, client, d):
        r = patch(client, d["id"], {"schedules": [{"schedule": interval(60), "max_scheduled_runs": 51}]})
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [{
            "loc": ["body", "schedules", 0, "max_scheduled_runs"],
            "msg": "`max_scheduled_runs` must be less than or equal to 50.", "type": "value_error"}]
        assert patch(client, d["id"], {"schedule": {"cron": "nope"}}).status_code == 422


class TestUpdateDeployment:
    def test_unknown_id_is_404_with_period(self, client):
        r = patch(client, str(uuid.uuid4()), {})
        assert r.status_code == 404
        assert r.json() == {"detail": "Deployment not found."}

    def test_malformed_id_is_422(self, client):
        r = client.patch("deployments/nope", json={})
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["loc"] == ["path", "id"]

    def test_an_empty_json_array_is_an_empty_patch_as_pydantic_v1_read_it(self, client, d):
        assert patch(client, d["id"], []).status_code == 204
        assert patch(client, d["id"], [["version", "v2"]]).status_code == 204
        assert get(client, d["id"])["version"] == "v2"
        r = patch(client, d["id"], [1, 2])
        assert (r.status_code, r.json()["exception_detail"]) == (
            422, [{"loc": ["body"], "msg": "value is not a valid dict", "type": "type_error.dict"}])
        assert patch(client, str(uuid.uuid4()), []).json() == {"detail": "Deployment not found."}

    def test_null_enforce_parameter_schema_keeps_the_flag_where_the_reference_answers_an_accidental_409(
            self, client, dps):
        # spec §4.4: enforce_parameter_schema null = keep; the 2.20 reference writes NULL into its
        # NOT NULL column and answers 409 — no client can rely on that, so the spec's rule stands
        assert patch(client, dps["id"], {"enforce_parameter_schema": None}).status_code == 204
        assert get(client, dps["id"])["enforce_parameter_schema"] is True

    def test_empty_patch_deletes_auto_scheduled_runs(self, client, d):
        manual = seed_runs(client, d["id"])
        assert patch(client, d["id"], {}).status_code == 204
        assert [r["id"] for r in runs_of(client, d["id"])] == [manual["id"]]

    def test_description_only_keeps_the_rest_and_bumps_updated(self, client, d, clock):
        clock.freeze(dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5))
        assert patch(client, d["id"], {"description": "d1"}).status_code == 204
        got = get(client, d["id"])
        assert got["description"] == "d1"
        assert got["tags"] == ["test"]
        assert got["schedules"] == d["schedules"]
        assert got["created"] == d["created"]
        assert got["updated"] != d["updated"]
        assert dt.datetime.fromisoformat(got["updated"]) == clock.frozen

    def test_simple_fields_are_written(self, client, d):
        body = {"version": "2", "path": "/p", "entrypoint": "f.py:g", "manifest_path": "m.json", "tags": ["a", "b"]}
        assert patch(client, d["id"], body).status_code == 204
        got = get(client, d["id"])
        assert {k: got[k] for k in body} == body

    def test_explicit_null_for_nullable_fields_clears_them(self, client, d):
        assert patch(client, d["id"], {"path": None, "entrypoint": None}).status_code == 204
        got = get(client, d["id"])
        assert (got["path"], got["entrypoint"]) == (None, None)

    @pytest.mark.parametrize("key", ["is_schedule_active", "paused", "tags", "schedules"])
    def test_null_for_non_nullable_field_is_422(self, client, d, key):
        r = patch(client, d["id"], {key: None})
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [
            {"loc": ["body", key], "msg": "none is not an allowed value", "type": "type_error.none.not_allowed"}]

    @pytest.mark.parametrize("key", ["name", "flow_id", "parameter_openapi_schema", "pull_steps", "id"])
    def test_non_updatable_keys_are_422_extra(self, client, d, key):
        r = patch(client, d["id"], {key: {}})
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [
            {"loc": ["body", key], "msg": "extra fields not permitted", "type": "value_error.extra"}]

    def test_legacy_keys_are_dropped(self, client, d):
        r = patch(client, d["id"], {"worker_pool_queue_id": str(uuid.uuid4()), "worker_pool_name": "x",
                                    "worker_pool_queue_name": "y", "work_pool_queue_name": "z"})
        assert r.status_code == 204

    def test_job_variables_replace_wholesale_and_null_keeps(self, client, flow):
        dep = deploy(client, flow["id"], job_variables={"a": 1})
        assert patch(client, dep["id"], {"job_variables": {"b": 2}}).status_code == 204
        assert get(client, dep["id"])["infra_overrides"] == {"b": 2}
        assert patch(client, dep["id"], {"job_variables": None}).status_code == 204
        assert get(client, dep["id"])["infra_overrides"] == {"b": 2}
        assert patch(client, dep["id"], {"infra_overrides": {"age": 7}}).status_code == 204
        assert get(client, dep["id"])["infra_overrides"] == {"age": 7}

    def test_differing_job_variables_and_infra_overrides_are_422(self, client, d):
        r = patch(client, d["id"], {"job_variables": {"a": 1}, "infra_overrides": {"a": 2}})
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["loc"] == ["body", "__root__"]

    def test_unknown_block_document_is_409_integrity(self, client, d):
        r = patch(client, d["id"], {"storage_document_id": str(uuid.uuid4())})
        assert r.status_code == 409
        assert r.json() == {"detail": INTEGRITY}
        r = patch(client, d["id"], {"infrastructure_document_id": str(uuid.uuid4())})
        assert r.status_code == 409
        assert get(client, d["id"])["storage_document_id"] is None

    def test_client_update_deployment_body(self, client, d):
        body = {"infra_overrides": {}, "version": None, "schedule": interval(3600), "description": None,
                "is_schedule_active": False, "parameters": {"a": 1}, "tags": ["t"], "work_queue_name": "cq",
                "work_pool_name": "default-agent-pool", "path": "/opt", "entrypoint": "flow.py:f",
                "manifest_path": None, "storage_document_id": None, "infrastructure_document_id": None,
                "enforce_parameter_schema": False}
        client.post("deployments/", json={"name": "seed", "flow_id": d["flow_id"], "work_queue_name": "seed"})
        r = patch(client, d["id"], body)
        assert r.status_code == 204
        got = get(client, d["id"])
        assert (got["paused"], got["is_schedule_active"]) == (True, False)
        assert [(s["schedule"], s["active"]) for s in got["schedules"]] == [(HOUR_OUT, False)]
        assert (got["work_queue_name"], got["work_pool_name"]) == ("cq", "default-agent-pool")
        assert (got["parameters"], got["tags"], got["path"]) == ({"a": 1}, ["t"], "/opt")

    def test_item_over_400_kb_is_422_and_nothing_changes(self, client, d):
        r = patch(client, d["id"], {"parameters": {"blob": "x" * 450_000}})
        assert r.status_code == 422
        assert r.json() == {"detail": "The Deployment is too large to store (DynamoDB items are limited to 400 KB)."}
        assert get(client, d["id"]) == d


class TestUpdateDeploymentWorkPools:
    def test_queue_only_moves_to_default_agent_pool_then_pool_gives_default(self, client, flow):
        make_pool(client, "P")
        dep = deploy(client, flow["id"], work_pool_name="P")
        assert (dep["work_pool_name"], dep["work_queue_name"]) == ("P", "default")
        assert patch(client, dep["id"], {"work_queue_name": "qb"}).status_code == 204
        got = get(client, dep["id"])
        assert (got["work_pool_name"], got["work_queue_name"]) == ("default-agent-pool", "qb")
        assert patch(client, dep["id"], {"work_pool_name": "P"}).status_code == 204
        got = get(client, dep["id"])
        assert (got["work_pool_name"], got["work_queue_name"]) == ("P", "default")

    def test_pool_and_new_queue_creates_it_in_that_pool_only(self, client, flow):
        make_pool(client, "P")
        dep = deploy(client, flow["id"])
        assert patch(client, dep["id"], {"work_pool_name": "P", "work_queue_name": "new-q"}).status_code == 204
        got = get(client, dep["id"])
        assert (got["work_pool_name"], got["work_queue_name"]) == ("P", "new-q")
        assert client.get("work_pools/P/queues/new-q").status_code == 200
        assert client.get("work_pools/default-agent-pool/queues/new-q").status_code == 404

    def test_new_queue_name_alone_is_created_in_default_agent_pool(self, client, flow):
        dep = deploy(client, flow["id"])
        assert patch(client, dep["id"], {"work_queue_name": "new-work-queue-name"}).status_code == 204
        assert client.get("work_pools/default-agent-pool/queues/new-work-queue-name").status_code == 200
        assert get(client, dep["id"])["work_queue_name"] == "new-work-queue-name"

    def test_job_variable_errors_are_409_repr(self, client, flow):
        make_pool(client, "P", variables={"type": "object", "properties": {"age": {"type": "integer"}}})
        dep = deploy(client, flow["id"], work_pool_name="P")
        r = patch(client, dep["id"], {"work_pool_name": "P", "job_variables": {"age": "hi"}})
        assert r.status_code == 409
        assert r.json() == {"detail": "Error creating deployment: <ValidationError: \"'hi' is not valid under any "
                                      "of the given schemas\">"}
        assert get(client, dep["id"])["infra_overrides"] == {}

    def test_job_variables_without_pool_are_not_validated(self, client, flow):
        make_pool(client, "P", variables={"type": "object", "properties": {"age": {"type": "integer"}}})
        dep = deploy(client, flow["id"], work_pool_name="P")
        assert patch(client, dep["id"], {"job_variables": {"age": "hi"}}).status_code == 204
        assert get(client, dep["id"])["infra_overrides"] == {"age": "hi"}

    def test_pool_without_job_variables_against_object_schema_is_409(self, client, flow):
        make_pool(client, "P", variables={"type": "object", "properties": {"age": {"type": "integer"}}})
        dep = deploy(client, flow["id"], work_pool_name="P")
        r = patch(client, dep["id"], {"work_pool_name": "P"})
        assert r.status_code == 409
        assert r.json() == {"detail": "Error creating deployment: <ValidationError: \"None is not of type 'object'\">"}
        assert patch(client, dep["id"], {"work_pool_name": "P", "job_variables": {}}).status_code == 204

    def test_unknown_pool_is_404(self, client, d):
        r = patch(client, d["id"], {"work_pool_name": "does-not-exist"})
        assert r.status_code == 404
        assert r.json() == {"detail": 'Work pool "does-not-exist" not found.'}

    def test_default_agent_pool_is_checked_on_patch(self, client, d):
        r = patch(client, d["id"], {"work_pool_name": "default-agent-pool"})
        assert r.status_code == 404
        assert r.json() == {"detail": 'Work pool "default-agent-pool" not found.'}
