"""POST /deployments/ — create or upsert on (flow_id, name) (spec §3.1, §4.2, §4.3, §5.1; §8 items 1–44).

Fixtures are built through the HTTP API only (flows, work pools, blocks, flow runs).
"""

import datetime as dt
import json
import uuid

import pytest

DEPLOYMENT_KEYS = [
    "id", "created", "updated", "infra_overrides", "name", "version", "description", "flow_id", "schedule",
    "is_schedule_active", "paused", "schedules", "parameters", "tags", "work_queue_name", "last_polled",
    "parameter_openapi_schema", "path", "pull_steps", "entrypoint", "manifest_path", "storage_document_id",
    "infrastructure_document_id", "created_by", "updated_by", "work_pool_name", "status",
    "enforce_parameter_schema",
]
SCHEDULE_KEYS = ["id", "created", "updated", "deployment_id", "schedule", "active", "max_active_runs",
                 "max_scheduled_runs", "catchup"]
DAY = {"interval": 86400, "anchor_date": "2020-01-01T00:00:00+00:00"}
DAY_OUT = {"interval": 86400.0, "anchor_date": "2020-01-01T00:00:00+00:00", "timezone": "UTC"}
TWO_DAYS_OUT = {"interval": 172800.0, "anchor_date": "2020-01-01T00:00:00+00:00", "timezone": "UTC"}
RENAMED = "The `infra_overrides` field has been renamed to `job_variables`.Use one of these fields, but not both."
INTEGRITY = ("Data integrity conflict. This usually means a unique or foreign key constraint was violated. "
             "See server logs for details.")
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


def parse(ts: str) -> dt.datetime:
    return dt.datetime.fromisoformat(ts)


@pytest.fixture
def flow(client):
    r = client.post("flows/", json={"name": "my-flow"})
    assert r.status_code == 201
    return r.json()


def create(client, flow_id, name="My Deployment", **body):
    return client.post("deployments/", json={"name": name, "flow_id": flow_id, **body})


def deploy(client, flow_id, name="My Deployment", **body) -> dict:
    r = create(client, flow_id, name, **body)
    assert r.status_code in (200, 201), r.text
    return r.json()


def runs_of(client, dep_id) -> list[dict]:
    r = client.post("flow_runs/filter", json={"flow_runs": {"deployment_id": {"any_": [dep_id]}}})
    assert r.status_code == 200, r.text
    return r.json()


def schedule_auto_runs(client, dep_id) -> None:
    """Three auto-scheduled runs (MIN_RUNS) through POST …/schedule."""
    assert client.post(f"deployments/{dep_id}/schedule", json={}).status_code == 200


def manual_scheduled_run(client, dep_id, at: dt.datetime) -> dict:
    r = client.post(f"deployments/{dep_id}/create_flow_run", json={
        "state": {"type": "SCHEDULED", "state_details": {"scheduled_time": at.isoformat()}}})
    assert r.status_code == 201, r.text
    return r.json()


def make_pool(client, name, variables=None, type_="test-type") -> dict:
    template = {"job_configuration": {"command": "echo"}, "variables": variables} if variables is not None else {}
    r = client.post("work_pools/", json={"name": name, "type": type_, "base_job_template": template})
    assert r.status_code == 201, r.text
    return r.json()


def make_queue(client, pool_name, name) -> dict:
    r = client.post(f"work_pools/{pool_name}/queues", json={"name": name})
    assert r.status_code == 201, r.text
    return r.json()


def make_block_document(client, name="test-block-doc", data=None) -> dict:
    bt = client.get("block_types/slug/test-block")
    if bt.status_code == 404:
        bt = client.post("block_types/", json={"name": "Test Block", "slug": "test-block"})
    assert bt.status_code in (200, 201), bt.text
    bs = client.post("block_schemas/", json={
        "block_type_id": bt.json()["id"], "capabilities": [],
        "fields": {"title": "TestBlock", "type": "object", "properties": {"foo": {"type": "string"}}}})
    assert bs.status_code in (200, 201), bs.text
    bd = client.post("block_documents/", json={
        "name": name, "data": {"foo": "bar"} if data is None else data, "block_schema_id": bs.json()["id"],
        "block_type_id": bt.json()["id"]})
    assert bd.status_code == 201, bd.text
    return bd.json()


@pytest.fixture
def blocks(client):
    """(storage_document, infrastructure_document)."""
    return make_block_document(client, "storage-doc"), make_block_document(client, "infra-doc")


class TestCreateDeployment:
    def test_create_with_blocks_echoes_fields(self, client, flow, blocks):
        storage, infra = blocks
        r = create(client, flow["id"], version="mint", manifest_path="file.json", tags=["foo"],
                   parameters={"foo": "bar"}, storage_document_id=storage["id"],
                   infrastructure_document_id=infra["id"])
        assert r.status_code == 201
        body = r.json()
        assert body["name"] == "My Deployment"
        assert body["version"] == "mint"
        assert body["manifest_path"] == "file.json"
        assert body["storage_document_id"] == storage["id"]
        assert body["infrastructure_document_id"] == infra["id"]
        stored = client.get(f"deployments/{body['id']}").json()
        assert stored["tags"] == ["foo"]
        assert stored["parameters"] == {"foo": "bar"}
        assert stored["flow_id"] == flow["id"]

    def test_response_has_exactly_the_reference_keys_with_defaults(self, client, flow):
        r = create(client, flow["id"], path="/", entrypoint="/file.py:flow", job_variables={"cpu": 24})
        assert r.status_code == 201
        body = r.json()
        assert list(body) == DEPLOYMENT_KEYS
        assert "job_variables" not in body
        assert body["infra_overrides"] == {"cpu": 24}
        assert body["status"] == "NOT_READY"
        assert body["path"] == "/"
        assert body["entrypoint"] == "/file.py:flow"
        assert body["created_by"] is None and body["updated_by"] is None
        assert body["last_polled"] is None
        assert body["paused"] is False and body["is_schedule_active"] is True
        assert body["schedules"] == [] and body["schedule"] is None
        assert body["parameters"] == {}
        assert body["tags"] == []
        assert body["enforce_parameter_schema"] is False
        assert body["work_queue_name"] is None and body["work_pool_name"] is None
        assert body["created"].endswith("+00:00") and body["updated"].endswith("+00:00")

    def test_infra_overrides_alias_is_stored_as_infra_overrides(self, client, flow):
        body = deploy(client, flow["id"], infra_overrides={"a": 1})
        assert body["infra_overrides"] == {"a": 1}

    def test_identical_job_variables_and_infra_overrides_are_accepted(self, client, flow):
        body = deploy(client, flow["id"], infra_overrides={"a": 1}, job_variables={"a": 1})
        assert body["infra_overrides"] == {"a": 1}

    def test_legacy_schedule_creates_one_active_schedule(self, client, flow):
        r = create(client, flow["id"], schedule=DAY)
        assert r.status_code == 201
        body = r.json()
        assert body["schedule"] == DAY_OUT
        assert len(body["schedules"]) == 1
        (row,) = body["schedules"]
        assert list(row) == SCHEDULE_KEYS
        assert row["schedule"] == DAY_OUT
        assert row["active"] is body["is_schedule_active"] is True
        assert row["deployment_id"] == body["id"]

    def test_schedules_are_listed_in_reverse_input_order(self, client, flow):
        r = create(client, flow["id"], schedules=[
            {"schedule": DAY, "active": True},
            {"schedule": {**DAY, "interval": 172800}, "active": False},
        ])
        assert r.status_code == 201
        body = r.json()
        assert [(s["schedule"], s["active"]) for s in body["schedules"]] == [(TWO_DAYS_OUT, False), (DAY_OUT, True)]
        assert all(s["deployment_id"] == body["id"] for s in body["schedules"])
        assert body["schedule"] == TWO_DAYS_OUT

    def test_updated_schedule_moves_to_front_and_becomes_legacy_schedule(self, client, flow):
        body = deploy(client, flow["id"], schedules=[{"schedule": DAY}, {"schedule": {**DAY, "interval": 172800}}])
        oldest = body["schedules"][1]
        r = client.patch(f"deployments/{body['id']}/schedules/{oldest['id']}", json={"active": False})
        assert r.status_code == 204
        got = client.get(f"deployments/{body['id']}").json()
        assert got["schedules"][0]["id"] == oldest["id"]
        assert got["schedule"] == oldest["schedule"]
        assert got["is_schedule_active"] is (not got["paused"])

    def test_empty_schedules_give_null_schedule(self, client, flow):
        body = deploy(client, flow["id"], schedules=[])
        assert body["schedule"] is None
        assert body["schedules"] == []
        assert body["is_schedule_active"] is (not body["paused"])

    def test_minimal_create_has_no_work_queue(self, client, flow):
        r = create(client, flow["id"], manifest_path="")
        assert r.status_code == 201
        assert r.json()["work_queue_name"] is None
        assert r.json()["manifest_path"] == ""

    def test_upsert_same_name_is_200_with_same_id(self, client, flow, blocks):
        storage, infra = blocks
        body = {"paused": True, "storage_document_id": storage["id"], "infrastructure_document_id": infra["id"]}
        first = create(client, flow["id"], **body)
        assert first.status_code == 201
        second = create(client, flow["id"], **body)
        assert second.status_code == 200
        assert second.json()["id"] == first.json()["id"]
        assert second.json()["paused"] is True
        assert second.json()["is_schedule_active"] is False
        assert second.json()["storage_document_id"] == storage["id"]
        assert second.json()["infrastructure_document_id"] == infra["id"]
        third = create(client, flow["id"], **{**body, "paused": False})
        assert third.status_code == 200
        assert third.json()["id"] == first.json()["id"]
        assert third.json()["paused"] is False
        assert third.json()["is_schedule_active"] is True

    def test_upsert_without_blocks_is_200(self, client, flow):
        first = deploy(client, flow["id"])
        r = create(client, flow["id"], paused=True)
        assert r.status_code == 200
        assert r.json()["id"] == first["id"]
        assert r.json()["created"] == first["created"]
        assert parse(r.json()["updated"]) >= parse(first["updated"])

    def test_created_and_updated_are_now(self, client, flow):
        before = dt.datetime.now(dt.timezone.utc)
        body = deploy(client, flow["id"])
        assert parse(body["created"]) >= before
        assert parse(body["updated"]) >= before

    def test_created_and_updated_follow_the_clock(self, client, flow, clock):
        frozen = clock.freeze(dt.datetime(2030, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc))
        body = deploy(client, flow["id"])
        assert parse(body["created"]) == frozen
        assert parse(body["updated"]) == frozen

    def test_inactive_legacy_schedule_creates_no_runs(self, client, flow):
        body = deploy(client, flow["id"], schedule=DAY, is_schedule_active=False)
        assert runs_of(client, body["id"]) == []
        assert body["paused"] is True
        assert body["schedules"][0]["active"] is False

    def test_no_schedule_creates_no_runs(self, client, flow):
        body = deploy(client, flow["id"], is_schedule_active=True)
        assert runs_of(client, body["id"]) == []

    def test_upsert_deletes_auto_scheduled_runs_but_keeps_manual_ones(self, client, flow):
        dep = deploy(client, flow["id"], schedule=DAY, tags=["test"])
        schedule_auto_runs(client, dep["id"])
        manual = manual_scheduled_run(client, dep["id"], dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=2))
        assert len(runs_of(client, dep["id"])) == 4
        r = create(client, flow["id"], schedule=DAY, is_schedule_active=False, tags=["test"])
        assert r.status_code == 200
        assert [run["id"] for run in runs_of(client, dep["id"])] == [manual["id"]]

    def test_upsert_does_not_schedule_runs_synchronously(self, client, flow):
        dep = deploy(client, flow["id"], schedule=DAY)
        schedule_auto_runs(client, dep["id"])
        now = dt.datetime.now(dt.timezone.utc)
        manual = manual_scheduled_run(client, dep["id"], now + dt.timedelta(seconds=2))
        r = create(client, flow["id"], schedule={"interval": 1, "anchor_date": now.isoformat()})
        assert r.status_code == 200
        runs = runs_of(client, dep["id"])
        assert [run["id"] for run in runs] == [manual["id"]]
        assert all(parse(run["expected_start_time"]) <= now + dt.timedelta(seconds=100) for run in runs)

    def test_unknown_infrastructure_block_is_409(self, client, flow):
        block_id = str(uuid.uuid4())
        r = create(client, flow["id"], infrastructure_document_id=block_id)
        assert r.status_code == 409
        assert r.json() == {"detail": (
            f"Error creating deployment. Could not find infrastructure block with id: {block_id}. This usually "
            "occurs when applying a deployment specification that was built against a different Prefect "
            "database / workspace.")}
        assert client.post("deployments/filter").json() == []

    def test_unknown_storage_block_is_409(self, client, flow):
        block_id = str(uuid.uuid4())
        r = create(client, flow["id"], storage_document_id=block_id)
        assert r.status_code == 409
        assert r.json() == {"detail": (
            f"Error creating deployment. Could not find storage block with id: {block_id}. This usually "
            "occurs when applying a deployment specification that was built against a different Prefect "
            "database / workspace.")}

    def test_enforced_invalid_schema_is_422(self, client, flow):
        r = create(client, flow["id"], enforce_parameter_schema=True,
                   parameter_openapi_schema={"type": "object", "properties": {"foo": {"type": "blork"}}})
        assert r.status_code == 422
        assert r.json()["exception_message"] == "Invalid request received."
        (err,) = r.json()["exception_detail"]
        assert err["loc"] == ["body", "parameter_openapi_schema"]
        assert err["msg"] == ("The provided schema is not a valid json schema. Schema error: "
                              "'blork' is not valid under any of the given schemas")
        assert client.post("deployments/filter").json() == []

    def test_invalid_schema_without_enforcement_is_201(self, client, flow):
        r = create(client, flow["id"],
                   parameter_openapi_schema={"type": "object", "properties": {"foo": {"type": "blork"}}})
        assert r.status_code == 201
        assert r.json()["parameter_openapi_schema"] == {"type": "object", "properties": {"foo": {"type": "blork"}}}

    def test_enforced_schema_rejects_wrong_parameter_type(self, client, flow):
        r = create(client, flow["id"], enforce_parameter_schema=True, parameters={"foo": 1},
                   parameter_openapi_schema={"type": "object", "properties": {"foo": {"type": "string"}}})
        assert r.status_code == 422
        (err,) = r.json()["exception_detail"]
        assert err["loc"] == ["body", "parameters"]
        assert err["msg"] == "Validation failed for field 'foo'. Failure reason: 1 is not of type 'string'"

    def test_wrong_parameter_type_without_enforcement_is_201(self, client, flow):
        r = create(client, flow["id"], parameters={"foo": 1},
                   parameter_openapi_schema={"type": "object", "properties": {"foo": {"type": "string"}}})
        assert r.status_code == 201
        assert r.json()["parameters"] == {"foo": 1}

    def test_enforced_schema_allows_partial_parameters(self, client, flow):
        r = create(client, flow["id"], enforce_parameter_schema=True, parameter_openapi_schema=PERSON_SCHEMA,
                   parameters={"person": {"greeting": "sup"}})
        assert r.status_code == 201
        assert r.json()["enforce_parameter_schema"] is True
        assert r.json()["parameters"] == {"person": {"greeting": "sup"}}

    def test_parameters_are_stored_without_hydration(self, client, flow):
        params = {"x": {"__prefect_kind": "jinja", "template": "{{ 1 + 2 }}"}}
        assert deploy(client, flow["id"], parameters=params)["parameters"] == params

    def test_upsert_with_is_schedule_active_false_and_no_paused_key_pauses(self, client, flow):
        deploy(client, flow["id"], schedule=DAY, tags=["test"])
        r = create(client, flow["id"], schedule=DAY, tags=["test"], is_schedule_active=False)
        assert r.status_code == 200
        assert r.json()["paused"] is True
        assert r.json()["is_schedule_active"] is False

    def test_upsert_with_paused_true_pauses(self, client, flow):
        deploy(client, flow["id"], schedule=DAY)
        r = create(client, flow["id"], schedule=DAY, paused=True)
        assert r.status_code == 200
        assert r.json()["paused"] is True
        assert r.json()["is_schedule_active"] is False

    def test_legacy_schedule_with_paused_true_keeps_the_schedule_active(self, client, flow):
        body = deploy(client, flow["id"], schedule=DAY, paused=True)
        assert body["paused"] is True
        assert body["is_schedule_active"] is False
        assert [s["active"] for s in body["schedules"]] == [True]

    def test_paused_key_wins_over_is_schedule_active(self, client, flow):
        body = deploy(client, flow["id"], schedule=DAY, paused=False, is_schedule_active=False)
        assert [s["active"] for s in body["schedules"]] == [False]
        assert body["paused"] is False
        assert body["is_schedule_active"] is True

    def test_schedules_list_wins_over_legacy_schedule(self, client, flow):
        body = deploy(client, flow["id"], schedule={"interval": 60, "anchor_date": DAY["anchor_date"]},
                      schedules=[{"schedule": {"interval": 3600, "anchor_date": DAY["anchor_date"]}}])
        assert [s["schedule"]["interval"] for s in body["schedules"]] == [3600.0]

    def test_empty_schedules_list_falls_back_to_legacy_schedule(self, client, flow):
        body = deploy(client, flow["id"], schedule={"interval": 60, "anchor_date": DAY["anchor_date"]}, schedules=[])
        assert [s["schedule"]["interval"] for s in body["schedules"]] == [60.0]

    def test_schedule_limits_from_the_body_are_reset(self, client, flow):
        body = deploy(client, flow["id"], schedules=[
            {"schedule": DAY, "max_active_runs": 3, "max_scheduled_runs": 4, "catchup": True}])
        (row,) = body["schedules"]
        assert (row["max_active_runs"], row["max_scheduled_runs"], row["catchup"]) == (None, None, False)

    def test_schedule_timezone_and_anchor_offset_are_kept(self, client, flow):
        body = deploy(client, flow["id"], schedules=[
            {"schedule": {"interval": "PT2H", "anchor_date": "2024-01-01T00:00:00-05:00"}},
            {"schedule": {"cron": "0 9 * * *", "timezone": "America/New_York"}},
            {"schedule": {"rrule": "FREQ=DAILY"}}])
        assert [s["schedule"] for s in body["schedules"]] == [
            {"rrule": "FREQ=DAILY", "timezone": "UTC"},
            {"cron": "0 9 * * *", "timezone": "America/New_York", "day_or": True},
            {"interval": 7200.0, "anchor_date": "2024-01-01T00:00:00-05:00", "timezone": "UTC"},
        ]

    def test_interval_without_anchor_is_anchored_now(self, client, flow):
        before = dt.datetime.now(dt.timezone.utc)
        body = deploy(client, flow["id"], schedule={"interval": 3600})
        anchor = parse(body["schedule"]["anchor_date"])
        assert before <= anchor <= dt.datetime.now(dt.timezone.utc)
        assert body["schedule"]["timezone"] == "UTC"

    def test_legacy_keys_are_dropped(self, client, flow):
        r = create(client, flow["id"], worker_pool_queue_id=str(uuid.uuid4()), worker_pool_name="x",
                   worker_pool_queue_name="y", work_pool_queue_name="z")
        assert r.status_code == 201
        assert r.json()["work_pool_name"] is None and r.json()["work_queue_name"] is None


class TestCreateDeploymentValidation:
    def test_unknown_key_is_422_extra_fields(self, client, flow):
        r = create(client, flow["id"], bogus=1)
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [
            {"loc": ["body", "bogus"], "msg": "extra fields not permitted", "type": "value_error.extra"}]
        assert r.json()["request_body"] == {"name": "My Deployment", "flow_id": flow["id"], "bogus": 1}

    @pytest.mark.parametrize("key", ["id", "created", "updated", "status", "last_polled", "created_by",
                                     "updated_by", "work_queue_id"])
    def test_read_only_keys_are_rejected(self, client, flow, key):
        r = create(client, flow["id"], **{key: None})
        assert r.status_code == 422
        assert {"loc": ["body", key], "msg": "extra fields not permitted", "type": "value_error.extra"} in \
            r.json()["exception_detail"]

    @pytest.mark.parametrize("key", ["paused", "is_schedule_active", "schedules", "tags", "parameters",
                                     "enforce_parameter_schema", "job_variables"])
    def test_null_for_non_nullable_field_is_422(self, client, flow, key):
        r = create(client, flow["id"], **{key: None})
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [
            {"loc": ["body", key], "msg": "none is not an allowed value", "type": "type_error.none.not_allowed"}]

    @pytest.mark.parametrize("key", ["job_variables", "infra_overrides"])
    def test_a_bad_job_variables_value_is_reported_at_both_names_infra_overrides_first(self, client, flow, key):
        r = create(client, flow["id"], **{key: "x"})
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [
            {"loc": ["body", "infra_overrides"], "msg": "value is not a valid dict", "type": "type_error.dict"},
            {"loc": ["body", "job_variables"], "msg": "value is not a valid dict", "type": "type_error.dict"}]

    def test_null_infra_overrides_is_rejected(self, client, flow):
        # the reference answers 409 (NOT NULL column); a 422 names the field
        r = create(client, flow["id"], infra_overrides=None)
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["loc"] == ["body", "infra_overrides"]
        assert client.post("deployments/count").json() == 0

    @pytest.mark.parametrize("key", ["pull_steps", "schedule", "description", "version", "path", "entrypoint",
                                     "manifest_path", "work_queue_name", "work_pool_name", "storage_document_id",
                                     "infrastructure_document_id", "parameter_openapi_schema"])
    def test_null_for_nullable_field_is_accepted(self, client, flow, key):
        r = create(client, flow["id"], **{key: None})
        assert r.status_code == 201
        assert r.json()[key if key != "schedule" else "schedules"] in (None, [])

    def test_missing_name_is_422_field_required(self, client, flow):
        r = client.post("deployments/", json={"flow_id": flow["id"]})
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [
            {"loc": ["body", "name"], "msg": "field required", "type": "value_error.missing"}]

    def test_missing_flow_id_is_422_field_required(self, client):
        r = client.post("deployments/", json={"name": "x"})
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [
            {"loc": ["body", "flow_id"], "msg": "field required", "type": "value_error.missing"}]

    def test_malformed_flow_id_is_422(self, client):
        r = client.post("deployments/", json={"name": "x", "flow_id": "nope"})
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [
            {"loc": ["body", "flow_id"], "msg": "value is not a valid uuid", "type": "type_error.uuid"}]

    def test_zero_interval_is_422(self, client, flow):
        r = create(client, flow["id"], schedules=[{"schedule": {"interval": 0}}])
        assert r.status_code == 422
        locs = [e["loc"] for e in r.json()["exception_detail"]]
        assert ["body", "schedules", 0, "schedule", "interval"] in locs
        assert client.post("deployments/filter").json() == []

    def test_negative_interval_is_422(self, client, flow):
        assert create(client, flow["id"], schedule={"interval": -60}).status_code == 422

    def test_random_cron_is_422(self, client, flow):
        r = create(client, flow["id"], schedule={"cron": "5 4 R * *"})
        assert r.status_code == 422
        assert 'Random and Hashed expressions are unsupported, received: \\"5 4 R * *\\"' in r.text

    def test_invalid_cron_is_422(self, client, flow):
        r = create(client, flow["id"], schedule={"cron": "invalid cron"})
        assert r.status_code == 422
        assert 'Invalid cron string: \\"invalid cron\\"' in r.text

    def test_invalid_timezone_is_422(self, client, flow):
        r = create(client, flow["id"], schedule={"cron": "5 4 * * *", "timezone": "Fake/Zone"})
        assert r.status_code == 422
        assert 'Invalid timezone: \\"Fake/Zone\\"' in r.text

    def test_invalid_rrule_is_422(self, client, flow):
        r = create(client, flow["id"], schedule={"rrule": "FREQ=DAILYBAD"})
        assert r.status_code == 422
        assert "invalid 'FREQ': DAILYBAD" in r.text

    def test_mixed_schedule_keys_are_422(self, client, flow):
        r = create(client, flow["id"], schedule={"interval": 60, "cron": "* * * * *"})
        assert r.status_code == 422

    def test_max_scheduled_runs_above_setting_is_422(self, client, flow):
        r = create(client, flow["id"], schedules=[{"schedule": {"interval": 60}, "max_scheduled_runs": 51}])
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [{
            "loc": ["body", "schedules", 0, "max_scheduled_runs"],
            "msg": "`max_scheduled_runs` must be less than or equal to 50.", "type": "value_error"}]

    @pytest.mark.parametrize("value", [0, -1])
    def test_non_positive_schedule_limits_are_422(self, client, flow, value):
        r = create(client, flow["id"], schedules=[{"schedule": {"interval": 60}, "max_active_runs": value}])
        assert r.status_code == 422

    def test_unknown_flow_is_409_integrity(self, client):
        r = create(client, str(uuid.uuid4()))
        assert r.status_code == 409
        assert r.json() == {"detail": INTEGRITY}

    def test_differing_job_variables_and_infra_overrides_are_422_at_root(self, client, flow):
        r = create(client, flow["id"], job_variables={"a": 1}, infra_overrides={"a": 2})
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [{"loc": ["body", "__root__"], "msg": RENAMED, "type": "value_error"}]

    @pytest.mark.parametrize("name", ["bad/name", "my%object", "a&b", "a>b", "a<b"])
    def test_banned_name_characters_are_422_not_500(self, client, flow, name):
        r = create(client, flow["id"], name=name)
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["loc"] == ["body", "name"]
        assert "contains an invalid character" in r.json()["exception_detail"][0]["msg"]

    @pytest.mark.parametrize("name", ["my-object", "my:object", "my object", "my;object", "my\\object",
                                      "my|object", "my⁉️object"])
    def test_other_characters_are_allowed(self, client, flow, name):
        assert create(client, flow["id"], name=name).status_code == 201

    def test_empty_name_is_422_not_500(self, client, flow):
        # the reference creates it; DynamoDB cannot index an empty name
        r = create(client, flow["id"], name="")
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["loc"] == ["body", "name"]
        assert client.post("deployments/count").json() == 0

    def test_non_object_body_is_422(self, client):
        r = client.post("deployments/", json=[])
        assert r.status_code == 422
        assert r.json()["exception_message"] == "Invalid request received."

    def test_bad_json_is_422_envelope(self, client):
        r = client.post("deployments/", content=b"{nope", headers={"content-type": "application/json"})
        assert r.status_code == 422
        assert r.json()["request_body"] == "{nope"


class TestCreateDeploymentWorkPools:
    def test_pool_and_existing_queue(self, client, flow):
        pool = make_pool(client, "test-work-pool")
        queue = make_queue(client, "test-work-pool", "wq1")
        r = create(client, flow["id"], work_pool_name="test-work-pool", work_queue_name="wq1")
        assert r.status_code == 201
        assert r.json()["work_pool_name"] == pool["name"]
        assert r.json()["work_queue_name"] == queue["name"]
        listed = client.post("deployments/filter", json={"work_pool_queues": {"id": {"any_": [queue["id"]]}}}).json()
        assert [d["id"] for d in listed] == [r.json()["id"]]

    def test_pool_only_uses_the_default_queue(self, client, flow):
        pool = make_pool(client, "test-work-pool")
        r = create(client, flow["id"], work_pool_name="test-work-pool")
        assert r.status_code == 201
        assert r.json()["work_queue_name"] == "default"
        assert r.json()["work_pool_name"] == "test-work-pool"
        listed = client.post("deployments/filter",
                             json={"work_pool_queues": {"id": {"any_": [pool["default_queue_id"]]}}}).json()
        assert [d["id"] for d in listed] == [r.json()["id"]]

    def test_pool_and_new_queue_creates_the_queue_in_the_pool(self, client, flow):
        make_pool(client, "test-work-pool")
        r = create(client, flow["id"], work_pool_name="test-work-pool", work_queue_name="new-queue")
        assert r.status_code == 201
        assert r.json()["work_queue_name"] == "new-queue"
        assert r.json()["work_pool_name"] == "test-work-pool"
        q = client.get("work_pools/test-work-pool/queues/new-queue")
        assert q.status_code == 200
        assert q.json()["name"] == "new-queue"

    def test_queue_only_lands_in_default_agent_pool(self, client, flow):
        r = create(client, flow["id"], work_queue_name="q")
        assert r.status_code == 201
        assert r.json()["work_queue_name"] == "q"
        assert r.json()["work_pool_name"] == "default-agent-pool"
        pool = client.get("work_pools/default-agent-pool")
        assert pool.status_code == 200
        assert pool.json()["type"] == "prefect-agent"

    def test_missing_default_agent_pool_with_queue_is_404(self, client, flow):
        r = create(client, flow["id"], work_pool_name="default-agent-pool", work_queue_name="q")
        assert r.status_code == 404
        assert r.json() == {"detail": 'Work pool "default-agent-pool" not found.'}

    def test_existing_default_agent_pool_by_name(self, client, flow):
        create(client, flow["id"], name="seed", work_queue_name="seed")
        r = create(client, flow["id"], work_pool_name="default-agent-pool")
        assert r.status_code == 201
        assert (r.json()["work_pool_name"], r.json()["work_queue_name"]) == ("default-agent-pool", "default")

    def test_unknown_pool_is_404(self, client, flow):
        r = create(client, flow["id"], work_pool_name="imaginary-work-pool", work_queue_name="default")
        assert r.status_code == 404
        assert r.json() == {"detail": 'Work pool "imaginary-work-pool" not found.'}
        assert client.post("deployments/filter").json() == []

    @pytest.mark.parametrize("variables,job_variables", [
        ({"properties": {"var1": {"type": "string"}}, "required": ["var1"]}, {}),
        ({"properties": {"var1": {"type": "string"}, "var2": {"type": "string"}}, "required": ["var1", "var2"]},
         {"var2": "hello"}),
        ({"properties": {"var1": {"type": "string", "default": "hello"}}, "required": []}, {}),
        ({"properties": {"var1": {"type": "string"}}, "required": ["var1"]}, {"var1": "hello"}),
        ({"properties": {"var1": {"type": "string"}, "var2": {"type": "integer", "default": 1}},
          "required": ["var1"]}, {"var1": "hello"}),
    ])
    def test_required_job_variables_are_not_enforced_at_deployment_level(self, client, flow, variables,
                                                                         job_variables):
        make_pool(client, "p", variables={"type": "object", **variables})
        r = create(client, flow["id"], work_pool_name="p", job_variables=job_variables)
        assert r.status_code == 201
        assert r.json()["infra_overrides"] == job_variables

    def test_job_variable_of_wrong_type_is_422(self, client, flow):
        make_pool(client, "p", variables={"type": "object", "properties": {"age": {"type": "integer"}}})
        r = create(client, flow["id"], work_pool_name="p", job_variables={"age": "hi"})
        assert r.status_code == 422
        assert r.json()["detail"].startswith("Error creating deployment: ")
        assert "'hi' is not valid" in r.json()["detail"]
        assert client.post("deployments/filter").json() == []

    def test_valid_and_undeclared_job_variables_pass(self, client, flow):
        make_pool(client, "p", variables={"type": "object", "properties": {"age": {"type": "integer"}}})
        r = create(client, flow["id"], work_pool_name="p", job_variables={"age": 41, "favorite_type_of_bike": "touring"})
        assert r.status_code == 201

    def test_template_default_referencing_a_deleted_block_passes_when_no_job_variables(self, client, flow):
        block = make_block_document(client, "creds")
        make_pool(client, "p", variables={"type": "object", "properties": {"creds": {
            "type": "object", "default": {"$ref": {"block_document_id": block["id"]}}}}})
        assert client.delete(f"block_documents/{block['id']}").status_code == 204
        r = create(client, flow["id"], work_pool_name="p")
        assert r.status_code == 201
        r = create(client, flow["id"], name="with-vars", work_pool_name="p", job_variables={"x": 1})
        assert r.status_code == 404
        assert r.json() == {"detail": "Block not found."}

    def test_template_default_of_the_wrong_type_passes_at_deployment_level(self, client, flow):
        block = make_block_document(client, "creds", data={"foo": "bar"})
        make_pool(client, "p", variables={"type": "object", "properties": {"creds": {
            "type": "object", "default": {"$ref": {"block_document_id": block["id"]}}}}})
        r = create(client, flow["id"], work_pool_name="p", job_variables={"other": 1})
        assert r.status_code == 201

    def test_upsert_without_pool_or_queue_keeps_the_queue_and_status(self, client, flow):
        first = deploy(client, flow["id"], work_queue_name="upq", description="d", tags=["t"],
                       parameters={"a": 1}, version="1")
        r = client.post("deployments/get_scheduled_flow_runs", json={"deployment_ids": [first["id"]]})
        assert r.status_code == 200
        polled = client.get(f"deployments/{first['id']}").json()
        assert polled["status"] == "READY"
        r = create(client, flow["id"])
        assert r.status_code == 200
        body = r.json()
        assert body["work_queue_name"] == "upq"
        assert body["work_pool_name"] == "default-agent-pool"
        assert body["status"] == "READY"
        assert body["last_polled"] == polled["last_polled"]
        assert body["created"] == first["created"]
        assert (body["description"], body["tags"], body["parameters"], body["version"]) == (None, [], {}, None)


class TestCreateDeploymentLimits:
    def test_item_over_400_kb_is_422_and_nothing_is_stored(self, client, flow):
        r = create(client, flow["id"], parameters={"blob": "x" * 450_000})
        assert r.status_code == 422
        assert r.json() == {"detail": "The Deployment is too large to store (DynamoDB items are limited to 400 KB)."}
        assert client.post("deployments/filter").json() == []
        assert client.post("deployments/count").json() == 0

    def test_oversized_upsert_keeps_the_stored_deployment(self, client, flow):
        first = deploy(client, flow["id"], parameters={"a": 1})
        r = create(client, flow["id"], parameters={"blob": "x" * 450_000})
        assert r.status_code == 422
        assert client.get(f"deployments/{first['id']}").json()["parameters"] == {"a": 1}

    def test_large_item_under_the_limit_is_stored(self, client, flow):
        body = deploy(client, flow["id"], parameters={"blob": "x" * 300_000})
        assert len(json.dumps(client.get(f"deployments/{body['id']}").json()["parameters"])) > 300_000
