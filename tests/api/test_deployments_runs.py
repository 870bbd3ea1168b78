"""Runs of deployments: get_scheduled_flow_runs, DELETE, create_flow_run, job variables and
PATCH /flow_runs/{id} (spec §3.7, §3.8, §3.12, §4.9, §5.6, §5.8, §7; §8 items 107–117, 137–176).

Cost (issue 3 item 7): get_scheduled_flow_runs is one Query per deployment id plus the status update.
"""

import base64
import datetime as dt
import uuid

import pytest

FLOW_RUN_KEYS = [
    "id", "created", "updated", "name", "flow_id", "state_id", "deployment_id", "deployment_version",
    "work_queue_id", "work_queue_name", "flow_version", "parameters", "idempotency_key", "context",
    "empirical_policy", "tags", "parent_task_run_id", "state_type", "state_name", "run_count",
    "expected_start_time", "next_scheduled_start_time", "start_time", "end_time", "total_run_time",
    "estimated_run_time", "estimated_start_time_delta", "auto_scheduled", "infrastructure_document_id",
    "infrastructure_pid", "created_by", "work_pool_id", "work_pool_name", "state", "job_variables",
]
STATE_DETAILS_KEYS = ["flow_run_id", "task_run_id", "child_flow_run_id", "scheduled_time", "cache_key",
                      "cache_expiration", "untrackable_result", "pause_timeout", "pause_reschedule", "pause_key",
                      "run_input_keyset", "refresh_cache", "retriable", "transition_id", "task_parameters_id"]
DEFAULT_POLICY = {"max_retries": 0, "retry_delay_seconds": 0.0, "retries": None, "retry_delay": None,
                  "pause_keys": [], "resuming": False, "retry_type": None}
DAY = {"interval": 86400, "anchor_date": "2020-01-01T00:00:00+00:00"}
UTC = dt.timezone.utc
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
NO_SCHEMA = ("Error updating deployment: Cannot update parameters because parameter schema enforcement is enabled "
             "and the deployment does not have a valid parameter schema.")
INTEGRITY = ("Data integrity conflict. This usually means a unique or foreign key constraint was violated. "
             "See server logs for details.")


def ts(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


@pytest.fixture
def flow(client):
    return client.post("flows/", json={"name": "my-flow"}).json()


def deploy(client, flow_id, name="my-deployment", **body) -> dict:
    r = client.post("deployments/", json={"name": name, "flow_id": flow_id, **body})
    assert r.status_code in (200, 201), r.text
    return r.json()


def create_run(client, dep_id, expect=201, **body):
    r = client.post(f"deployments/{dep_id}/create_flow_run", json=body)
    assert r.status_code == expect, r.text
    return r.json()


def scheduled_run(client, dep_id, at: dt.datetime) -> dict:
    return create_run(client, dep_id, state={"type": "SCHEDULED", "state_details": {"scheduled_time": at.isoformat()}})


def runs_of(client, dep_id) -> list[dict]:
    return client.post("flow_runs/filter", json={"flow_runs": {"deployment_id": {"any_": [dep_id]}}}).json()


def make_pool(client, name, variables=None) -> dict:
    template = {"job_configuration": {"command": "echo"}, "variables": variables} if variables is not None else {}
    r = client.post("work_pools/", json={"name": name, "type": "test-type", "base_job_template": template})
    assert r.status_code == 201, r.text
    return r.json()


def make_block_document(client, name, data) -> dict:
    bt = client.get("block_types/slug/test-block")
    if bt.status_code == 404:
        bt = client.post("block_types/", json={"name": "Test Block", "slug": "test-block"})
    assert bt.status_code in (200, 201), bt.text
    bs = client.post("block_schemas/", json={"block_type_id": bt.json()["id"], "capabilities": [],
                                              "fields": {"title": "T", "type": "object", "properties": {}}})
    assert bs.status_code in (200, 201), bs.text
    bd = client.post("block_documents/", json={"name": name, "data": data, "block_schema_id": bs.json()["id"],
                                                "block_type_id": bt.json()["id"]})
    assert bd.status_code == 201, bd.text
    return bd.json()


@pytest.fixture
def d(client, flow):
    """D: tags [test], daily schedule, work pool WP (template var `command`) with queue WQ1, an
    infrastructure block, path/entrypoint, the hello(name: str) schema, parameters {}."""
    make_pool(client, "test-work-pool", {"type": "object", "properties": {"command": {"type": "string"}},
                                         "required": []})
    r = client.post("work_pools/test-work-pool/queues", json={"name": "wq1"})
    assert r.status_code == 201, r.text
    infra = make_block_document(client, "infra", {})
    return deploy(client, flow["id"], "D", tags=["test"], schedule=DAY, work_pool_name="test-work-pool",
                  work_queue_name="wq1", infrastructure_document_id=infra["id"], path="./subdir",
                  entrypoint="/file.py:flow",
                  parameter_openapi_schema={"type": "object", "properties": {"name": {"type": "string"}}})


@pytest.fixture
def plain(client, flow):
    """A deployment without work queue, schedule or schema."""
    return deploy(client, flow["id"], "plain", tags=["test"])


@pytest.fixture
def dps(client, flow):
    return deploy(client, flow["id"], "DPS", parameter_openapi_schema=DPS_SCHEMA, parameters={"x": "y"},
                  enforce_parameter_schema=True)


class TestGetScheduledFlowRuns:
    @pytest.fixture
    def setup(self, client, flow, clock):
        now = clock.freeze()
        d1 = deploy(client, flow["id"], "d1")
        d2 = deploy(client, flow["id"], "d2")
        r1 = scheduled_run(client, d1["id"], now - dt.timedelta(minutes=5))
        r2 = scheduled_run(client, d1["id"], now - dt.timedelta(minutes=1))
        r3 = scheduled_run(client, d2["id"], now - dt.timedelta(seconds=30))
        create_run(client, d1["id"], state={"type": "RUNNING"})  # not SCHEDULED: never returned
        return now, d1, d2, r1, r2, r3

    @staticmethod
    def poll(client, **body):
        r = client.post("deployments/get_scheduled_flow_runs", json=body)
        assert r.status_code == 200, r.text
        return r.json()

    def test_runs_of_one_deployment(self, client, setup):
        _, d1, _, r1, r2, _ = setup
        runs = self.poll(client, deployment_ids=[d1["id"]])
        assert [r["id"] for r in runs] == [r1["id"], r2["id"]]
        assert list(runs[0]) == FLOW_RUN_KEYS

    def test_runs_of_two_deployments_ordered_by_next_scheduled_start_time(self, client, setup):
        _, d1, d2, r1, r2, r3 = setup
        assert [r["id"] for r in self.poll(client, deployment_ids=[d2["id"], d1["id"]])] == [r1["id"], r2["id"], r3["id"]]

    def test_limit_takes_the_earliest(self, client, setup):
        _, d1, d2, r1, r2, _ = setup
        assert [r["id"] for r in self.poll(client, deployment_ids=[d1["id"]], limit=1)] == [r1["id"]]
        assert [r["id"] for r in self.poll(client, deployment_ids=[d1["id"], d2["id"]], limit=2)] == [r1["id"], r2["id"]]

    def test_limit_zero_is_empty(self, client, setup):
        assert self.poll(client, deployment_ids=[setup[1]["id"]], limit=0) == []

    def test_limit_above_default_is_422(self, client):
        r = client.post("deployments/get_scheduled_flow_runs", json={"deployment_ids": [], "limit": 9001})
        assert r.status_code == 422
        assert r.json() == {"detail": "Invalid limit: must be less than or equal to 200."}

    def test_scheduled_before(self, client, setup):
        now, d1, _, r1, _, _ = setup
        runs = self.poll(client, deployment_ids=[d1["id"]], scheduled_before=(now - dt.timedelta(minutes=2)).isoformat())
        assert [r["id"] for r in runs] == [r1["id"]]

    def test_client_space_separated_scheduled_before_is_accepted(self, client, setup):
        now, d1, _, r1, r2, _ = setup
        before = str(now - dt.timedelta(minutes=2))
        assert " " in before
        assert [r["id"] for r in self.poll(client, deployment_ids=[d1["id"]], scheduled_before=before)] == [r1["id"]]
        naive = (now - dt.timedelta(minutes=2)).replace(tzinfo=None).isoformat()
        assert [r["id"] for r in self.poll(client, deployment_ids=[d1["id"]], scheduled_before=naive)] == [r1["id"]]

    def test_late_named_scheduled_runs_are_included(self, client, setup):
        now, d1, _, r1, r2, _ = setup
        r = client.post(f"flow_runs/{r1['id']}/set_state", json={"state": {
            "type": "SCHEDULED", "name": "Late", "state_details": {"scheduled_time": r1["expected_start_time"]}},
            "force": True})
        assert r.status_code == 201, r.text
        runs = self.poll(client, deployment_ids=[d1["id"]])
        assert [(x["id"], x["state_name"]) for x in runs] == [(r1["id"], "Late"), (r2["id"], "Scheduled")]

    def test_polling_marks_only_the_polled_deployments_ready(self, client, setup):
        now, d1, d2, *_ = setup
        assert client.get(f"deployments/{d1['id']}").json()["status"] == "NOT_READY"
        self.poll(client, deployment_ids=[d1["id"]])
        got1 = client.get(f"deployments/{d1['id']}").json()
        assert got1["status"] == "READY"
        assert ts(got1["last_polled"]) == now
        assert ts(got1["updated"]) == now
        got2 = client.get(f"deployments/{d2['id']}").json()
        assert (got2["status"], got2["last_polled"]) == ("NOT_READY", None)

    def test_polling_two_marks_both(self, client, setup, clock):
        _, d1, d2, *_ = setup
        later = clock.advance(seconds=30)
        self.poll(client, deployment_ids=[d1["id"], d2["id"]])
        for dep in (d1, d2):
            got = client.get(f"deployments/{dep['id']}").json()
            assert got["status"] == "READY"
            assert ts(got["last_polled"]) == later

    def test_paused_deployments_are_not_excluded(self, client, setup):
        _, d1, _, r1, r2, _ = setup
        assert client.patch(f"deployments/{d1['id']}", json={"paused": True}).status_code == 204
        assert [r["id"] for r in self.poll(client, deployment_ids=[d1["id"]])] == [r1["id"], r2["id"]]

    def test_deployment_ids_are_required(self, client):
        r = client.post("deployments/get_scheduled_flow_runs", json={})
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [
            {"loc": ["body", "deployment_ids"], "msg": "field required", "type": "value_error.missing"}]

    def test_unknown_ids_are_ignored(self, client):
        unknown = str(uuid.uuid4())
        assert self.poll(client, deployment_ids=[unknown]) == []
        assert client.get(f"deployments/{unknown}").status_code == 404

    def test_a_new_set_points_its_deployments_to_its_poll_record_once(self, client, setup, dynamo_calls):
        _, d1, d2, *_ = setup
        dynamo_calls.clear()
        runs = self.poll(client, deployment_ids=[d1["id"], d2["id"], str(uuid.uuid4())])
        assert len(runs) == 3
        # one Query per id, then the bookkeeping: the set's poll record (absent), the deployments
        # (one batch read), one pointer write per existing deployment, the record
        assert list(dynamo_calls) == ["Query", "Query", "Query", "GetItem", "BatchGetItem", "PutItem", "PutItem",
                                      "PutItem"]

    def test_a_known_set_writes_only_its_record_once_per_window(self, client, setup, clock, dynamo_calls):
        _, d1, d2, *_ = setup
        ids = [d1["id"], d2["id"]]
        self.poll(client, deployment_ids=ids)
        clock.advance(seconds=4)
        dynamo_calls.clear()
        self.poll(client, deployment_ids=list(reversed(ids)))  # the same set, in any order
        assert list(dynamo_calls) == ["Query", "Query", "GetItem"]  # fresh record: no write
        later = clock.advance(seconds=6)
        dynamo_calls.clear()
        self.poll(client, deployment_ids=ids)
        assert list(dynamo_calls) == ["Query", "Query", "GetItem", "PutItem"]
        for dep in (d1, d2):
            got = client.get(f"deployments/{dep['id']}").json()
            assert (got["status"], ts(got["last_polled"]), ts(got["updated"])) == ("READY", later, later)

    def test_ready_lapses_sixty_seconds_after_the_last_poll_and_returns_with_the_next(self, client, setup, clock):
        _, d1, d2, *_ = setup
        ids = [d1["id"], d2["id"]]
        self.poll(client, deployment_ids=ids)
        polled = clock.advance(seconds=30)
        self.poll(client, deployment_ids=ids)
        clock.advance(seconds=60)
        assert client.get(f"deployments/{d1['id']}").json()["status"] == "READY"
        clock.advance(seconds=1)
        got = client.get(f"deployments/{d1['id']}").json()
        assert (got["status"], ts(got["last_polled"])) == ("NOT_READY", polled)
        listed = {d["id"]: d["status"] for d in client.post("deployments/filter", json={}).json()}
        assert listed == {d1["id"]: "NOT_READY", d2["id"]: "NOT_READY"}
        again = clock.advance(seconds=100)
        self.poll(client, deployment_ids=ids)
        got = client.get(f"deployments/{d1['id']}").json()
        assert (got["status"], ts(got["last_polled"])) == ("READY", again)

    def test_a_deployment_reads_the_newest_of_its_sets(self, client, setup, clock):
        now, d1, d2, *_ = setup
        self.poll(client, deployment_ids=[d1["id"]])  # one runner serves d1 alone
        self.poll(client, deployment_ids=[d1["id"], d2["id"]])  # another both
        later = clock.advance(seconds=45)
        self.poll(client, deployment_ids=[d1["id"]])  # a known set: only its record is written
        clock.advance(seconds=30)
        got1 = client.get(f"deployments/{d1['id']}").json()
        assert (got1["status"], ts(got1["last_polled"])) == ("READY", later)
        got2 = client.get(f"deployments/{d2['id']}").json()
        assert (got2["status"], ts(got2["last_polled"])) == ("NOT_READY", now)

    def test_a_page_of_deployments_reads_its_poll_records_in_one_batch(self, client, setup, dynamo_calls):
        _, d1, d2, *_ = setup
        self.poll(client, deployment_ids=[d1["id"]])
        self.poll(client, deployment_ids=[d2["id"]])
        dynamo_calls.clear()
        page = client.post("deployments/filter", json={}).json()
        assert {d["status"] for d in page} == {"READY"}
        assert dynamo_calls.count("BatchGetItem") == 1 and "GetItem" not in dynamo_calls

    def test_an_upsert_keeps_the_poll_records(self, client, setup, clock, flow):
        _, d1, *_ = setup
        self.poll(client, deployment_ids=[d1["id"]])
        clock.advance(seconds=10)
        later = clock.advance(seconds=10)
        self.poll(client, deployment_ids=[d1["id"]])
        body = deploy(client, flow["id"], "d1")  # what serve() does when it starts again
        assert (body["id"], body["status"], ts(body["last_polled"])) == (d1["id"], "READY", later)
        clock.advance(seconds=10)
        assert ts(client.get(f"deployments/{d1['id']}").json()["last_polled"]) == later


class TestDeleteDeployment:
    def test_delete_removes_all_scheduled_runs_and_keeps_others(self, client, flow):
        dep = deploy(client, flow["id"], schedule=DAY)
        assert client.post(f"deployments/{dep['id']}/schedule", json={"min_runs": 1, "max_runs": 1}).status_code == 200
        manual = scheduled_run(client, dep["id"], dt.datetime.now(UTC) + dt.timedelta(hours=1))
        running = create_run(client, dep["id"], state={"type": "RUNNING"})
        assert len(runs_of(client, dep["id"])) == 3
        r = client.delete(f"deployments/{dep['id']}")
        assert r.status_code == 204
        assert r.content == b""
        assert client.get(f"deployments/{dep['id']}").status_code == 404
        assert client.get(f"flow_runs/{manual['id']}").status_code == 404
        assert [x["id"] for x in runs_of(client, dep["id"])] == [running["id"]]
        assert client.get(f"flow_runs/{running['id']}").json()["deployment_id"] == dep["id"]

    def test_unknown_id_is_404(self, client):
        r = client.delete(f"deployments/{uuid.uuid4()}")
        assert r.status_code == 404
        assert r.json() == {"detail": "Deployment not found"}

    def test_deleted_name_can_be_recreated(self, client, flow):
        dep = deploy(client, flow["id"], tags=["a"])
        assert client.delete(f"deployments/{dep['id']}").status_code == 204
        r = client.post("deployments/", json={"name": "my-deployment", "flow_id": flow["id"]})
        assert r.status_code == 201
        assert r.json()["tags"] == []


class TestCreateFlowRun:
    def test_empty_body_takes_everything_from_the_deployment(self, client, d, clock):
        now = clock.freeze()
        r = client.post(f"deployments/{d['id']}/create_flow_run", json={})
        assert r.status_code == 201
        run = r.json()
        assert list(run) == FLOW_RUN_KEYS
        assert set(run["tags"]) == set(d["tags"])
        assert run["parameters"] == d["parameters"]
        assert (run["flow_id"], run["deployment_id"]) == (d["flow_id"], d["id"])
        assert run["infrastructure_document_id"] == d["infrastructure_document_id"]
        assert run["work_queue_name"] == "wq1" == d["work_queue_name"]
        assert run["work_pool_name"] == "test-work-pool"
        assert run["state_type"] == "SCHEDULED" and run["state_name"] == "Scheduled"
        assert run["deployment_version"] is None
        assert run["auto_scheduled"] is False
        assert run["empirical_policy"] == DEFAULT_POLICY
        assert run["job_variables"] == {} and run["context"] == {}
        assert run["created_by"] is None
        assert run["run_count"] == 0
        assert ts(run["expected_start_time"]) == now == ts(run["next_scheduled_start_time"])
        assert run["estimated_start_time_delta"] == 0.0
        state = run["state"]
        assert list(state) == ["id", "type", "name", "timestamp", "message", "data", "state_details"]
        assert list(state["state_details"]) == STATE_DETAILS_KEYS
        assert state["state_details"]["flow_run_id"] == run["id"]
        assert ts(state["state_details"]["scheduled_time"]) == now
        assert state["id"] == run["state_id"]
        assert client.get(f"flow_runs/{run['id']}").json() == run

    def test_deployment_version_is_copied(self, client, flow):
        dv = deploy(client, flow["id"], "DV", version="1.0")
        assert create_run(client, dv["id"])["deployment_version"] == "1.0"

    def test_patched_queue_is_used(self, client, d):
        assert client.patch(f"deployments/{d['id']}", json={"work_queue_name": "wq-test"}).status_code == 204
        assert create_run(client, d["id"])["work_queue_name"] == "wq-test"

    def test_queue_override_creates_the_queue_in_the_deployments_pool(self, client, d):
        run = create_run(client, d["id"], work_queue_name="my-new-test-queue")
        assert run["work_queue_name"] == "my-new-test-queue"
        assert run["work_pool_name"] == "test-work-pool"
        q = client.get("work_pools/test-work-pool/queues/my-new-test-queue")
        assert q.status_code == 200
        assert run["work_queue_id"] == q.json()["id"]

    def test_queue_override_does_not_change_the_deployment(self, client, d):
        create_run(client, d["id"], work_queue_name="my-new-test-queue")
        second = create_run(client, d["id"])
        assert second["work_queue_name"] == "wq1"
        assert client.get(f"deployments/{d['id']}").json()["work_queue_name"] == "wq1"

    def test_default_queue_override_picks_the_deployments_pool(self, client, flow):
        for name in ("other-1", "other-2", "other-3"):
            make_pool(client, name)
        pool = make_pool(client, "mine")
        dep = deploy(client, flow["id"], work_pool_name="mine", work_queue_name="wq")
        run = create_run(client, dep["id"], work_queue_name="default")
        assert run["work_queue_name"] == "default"
        assert run["work_queue_id"] == pool["default_queue_id"]

    def test_queue_override_without_a_work_queue_is_not_a_500(self, client, plain):
        # the reference crashes (500); a 422 says why (spec §10 Q9)
        r = client.post(f"deployments/{plain['id']}/create_flow_run", json={"work_queue_name": "x"})
        assert r.status_code == 422
        assert r.json() == {"detail": "Cannot create a flow run in work queue 'x': the deployment has no work pool."}
        assert runs_of(client, plain["id"]) == []

    def test_job_variables_are_stored_on_the_run(self, client, d):
        run = create_run(client, d["id"], job_variables={"foo": "bar"})
        assert run["job_variables"] == {"foo": "bar"}
        assert client.get(f"flow_runs/{run['id']}").json()["job_variables"] == {"foo": "bar"}

    def test_parameters_tags_and_context(self, client, d):
        run = create_run(client, d["id"], parameters={"foo": "not_bar"}, tags=["nope"], context={"c": 1})
        assert run["parameters"] == {"foo": "not_bar"}
        assert sorted(run["tags"]) == sorted(["nope", *d["tags"]])
        assert run["context"] == {"c": 1}

    def test_duplicate_tags_are_unioned(self, client, d):
        assert sorted(create_run(client, d["id"], tags=["test", "x"])["tags"]) == ["test", "x"]

    def test_parameters_overlay_shallowly(self, client, flow):
        dep = deploy(client, flow["id"], parameters={"a": 1, "b": {"c": 2}})
        run = create_run(client, dep["id"], parameters={"b": {"d": 3}})
        assert run["parameters"] == {"a": 1, "b": {"d": 3}}

    def test_parameters_without_deployment_parameters(self, client, plain):
        assert create_run(client, plain["id"], parameters={"param1": 1, "param2": 2})["parameters"] == {
            "param1": 1, "param2": 2}

    def test_enforced_schema_rejects_wrong_type(self, client, dps):
        r = client.post(f"deployments/{dps['id']}/create_flow_run", json={"parameters": {"x": 1}})
        assert r.status_code == 409
        assert r.json() == {"detail": "Error creating flow run: Validation failed for field 'x'. "
                                      "Failure reason: 1 is not of type 'string'"}
        assert runs_of(client, dps["id"]) == []
        assert create_run(client, dps["id"], parameters={"x": "y"})["parameters"] == {"x": "y"}

    def test_per_run_enforcement_override(self, client, dps):
        run = create_run(client, dps["id"], parameters={"x": 1}, enforce_parameter_schema=False)
        assert run["parameters"] == {"x": 1}

    def test_deployment_with_enforcement_turned_off(self, client, dps):
        assert client.patch(f"deployments/{dps['id']}", json={"enforce_parameter_schema": False}).status_code == 204
        assert create_run(client, dps["id"], parameters={"x": 1})["parameters"] == {"x": 1}

    def test_required_is_enforced_per_run(self, client, flow):
        dep = deploy(client, flow["id"], enforce_parameter_schema=True, parameter_openapi_schema=PERSON_SCHEMA,
                     parameters={"person": {"name": "x"}})
        r = client.post(f"deployments/{dep['id']}/create_flow_run",
                        json={"parameters": {"person": {"greeting": "*half hearted wave*"}}})
        assert r.status_code == 409
        assert r.json() == {"detail": "Error creating flow run: Validation failed for field 'person'. "
                                      "Failure reason: 'name' is a required property"}

    def test_required_defaults_and_extras(self, client, flow):
        schema = {"type": "object", "properties": {"x": {"type": "string"}, "n": {"type": "integer", "default": 1}},
                  "required": ["x"]}
        dep = deploy(client, flow["id"], enforce_parameter_schema=True, parameter_openapi_schema=schema)
        r = client.post(f"deployments/{dep['id']}/create_flow_run", json={})
        assert r.status_code == 409
        assert r.json() == {"detail": "Error creating flow run: Validation failed. Failure reason: "
                                      "'x' is a required property"}
        r = client.post(f"deployments/{dep['id']}/create_flow_run", json={"parameters": {"x": "a", "n": None}})
        assert r.status_code == 409
        assert r.json() == {"detail": "Error creating flow run: Validation failed for field 'n'. "
                                      "Failure reason: None is not of type 'integer'"}
        assert create_run(client, dep["id"], parameters={"x": "a", "extra": 5})["parameters"] == {"x": "a", "extra": 5}

    def test_enforcement_without_schema_is_409(self, client, plain):
        r = client.post(f"deployments/{plain['id']}/create_flow_run", json={"enforce_parameter_schema": True})
        assert r.status_code == 409
        assert r.json() == {"detail": NO_SCHEMA}

    def test_circular_schema_is_422(self, client, flow):
        schema = {"type": "object", "properties": {"x": {"$ref": "#/definitions/a"}},
                  "definitions": {"a": {"$ref": "#/definitions/a"}}}
        dep = deploy(client, flow["id"], parameter_openapi_schema=schema)
        r = client.post(f"deployments/{dep['id']}/create_flow_run",
                        json={"parameters": {"x": 1}, "enforce_parameter_schema": True})
        assert r.status_code == 422
        assert r.json() == {"detail": "Invalid schema: Unable to validate schema with circular references."}

    @pytest.mark.parametrize("value,expected", [
        ({"__prefect_kind": "none", "value": 5}, 5),
        ({"__prefect_kind": "json", "value": '"str_of_json"'}, "str_of_json"),
        ({"__prefect_kind": "jinja", "template": "{{ 1 + 2 }}"}, "3"),
        ({"__prefect_kind": "mystery", "value": 42}, 42),
    ])
    def test_parameters_are_hydrated(self, client, plain, value, expected):
        assert create_run(client, plain["id"], parameters={"param": value})["parameters"] == {"param": expected}

    def test_deployment_parameters_are_hydrated_too(self, client, flow):
        dep = deploy(client, flow["id"], parameters={"p": {"__prefect_kind": "jinja", "template": "{{ 2 * 3 }}"}})
        assert create_run(client, dep["id"])["parameters"] == {"p": "6"}

    def test_workspace_variable_kind(self, client, plain):
        assert client.post("variables/", json={"name": "my_variable", "value": "my_value"}).status_code == 201
        run = create_run(client, plain["id"], parameters={
            "param": {"__prefect_kind": "workspace_variable", "variable_name": "my_variable"}})
        assert run["parameters"] == {"param": "my_value"}

    def test_hydrated_parameters_are_validated(self, client, dps):
        r = client.post(f"deployments/{dps['id']}/create_flow_run", json={
            "parameters": {"x": {"__prefect_kind": "json", "value": '{"invalid": json}'}}})
        assert r.status_code == 400
        assert r.json()["detail"].startswith("Error hydrating flow run parameters: Invalid JSON: Expecting value:")

    @pytest.mark.parametrize("value,message", [
        ({"__prefect_kind": "workspace_variable", "variable_name": "nope"}, "Variable 'nope' not found in workspace."),
        ({"__prefect_kind": "jinja"}, "Missing 'template' key in __prefect object"),
        ({"__prefect_kind": "none"}, "Missing 'value' key in __prefect object"),
        ({"__prefect_kind": "jinja", "template": "{{ 1 + }}"}, "Invalid jinja: unexpected 'end of print statement'"),
    ])
    def test_hydration_errors_are_400(self, client, plain, value, message):
        r = client.post(f"deployments/{plain['id']}/create_flow_run", json={"parameters": {"p": value}})
        assert r.status_code == 400
        assert r.json() == {"detail": f"Error hydrating flow run parameters: {message}"}
        assert runs_of(client, plain["id"]) == []

    def test_unknown_deployment_is_404(self, client):
        r = client.post(f"deployments/{uuid.uuid4()}/create_flow_run", json={})
        assert r.status_code == 404
        assert r.json() == {"detail": "Deployment not found"}

    def test_idempotency_key_returns_the_existing_run_with_200(self, client, plain):
        first = client.post(f"deployments/{plain['id']}/create_flow_run", json={"idempotency_key": "k"})
        assert first.status_code == 201
        again = client.post(f"deployments/{plain['id']}/create_flow_run",
                            json={"idempotency_key": "k", "parameters": {"changed": True}})
        assert again.status_code == 200
        assert again.json()["id"] == first.json()["id"]
        assert again.json()["parameters"] == {}
        assert len(runs_of(client, plain["id"])) == 1

    def test_idempotency_key_is_scoped_to_the_flow(self, client, flow, plain):
        sibling = deploy(client, flow["id"], "sibling")
        first = create_run(client, plain["id"], idempotency_key="k")
        again = client.post(f"deployments/{sibling['id']}/create_flow_run", json={"idempotency_key": "k"})
        assert again.status_code == 200
        assert again.json()["id"] == first["id"]
        other_flow = client.post("flows/", json={"name": "other"}).json()
        other = deploy(client, other_flow["id"], "other")
        assert client.post(f"deployments/{other['id']}/create_flow_run",
                           json={"idempotency_key": "k"}).status_code == 201

    def test_initial_state_is_forced(self, client, plain, clock):
        now = clock.freeze()
        run = create_run(client, plain["id"], state={"type": "PENDING"}, name="custom")
        assert (run["state_type"], run["state_name"], run["name"]) == ("PENDING", "Pending", "custom")
        assert run["state"]["state_details"]["flow_run_id"] == run["id"]
        assert ts(run["expected_start_time"]) == now
        assert run["next_scheduled_start_time"] is None

    def test_running_initial_state_sets_start_time_and_run_count(self, client, plain, clock):
        now = clock.freeze()
        run = create_run(client, plain["id"], state={"type": "RUNNING", "timestamp": "2000-01-01T00:00:00Z"})
        assert ts(run["start_time"]) == now
        assert run["run_count"] == 1
        assert ts(run["state"]["timestamp"]) == now

    def test_scheduled_state_in_the_future(self, client, plain):
        at = dt.datetime(2030, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
        run = create_run(client, plain["id"], state={"type": "SCHEDULED", "state_details": {"scheduled_time": at.isoformat()}})
        # the create answer keeps the caller's offset (as the reference's does); reads answer UTC
        assert run["expected_start_time"] == "2030-01-01T12:00:00-05:00"
        assert run["next_scheduled_start_time"] == "2030-01-01T12:00:00-05:00"
        read = client.get(f"flow_runs/{run['id']}").json()
        assert (read["expected_start_time"], read["next_scheduled_start_time"]) == (
            "2030-01-01T17:00:00+00:00", "2030-01-01T17:00:00+00:00")

    def test_empty_name_gets_a_slug(self, client, plain):
        name = create_run(client, plain["id"], name="")["name"]
        assert len(name.split("-")) >= 2

    def test_unknown_key_is_422(self, client, plain):
        r = client.post(f"deployments/{plain['id']}/create_flow_run", json={"bogus": 1})
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [
            {"loc": ["body", "bogus"], "msg": "extra fields not permitted", "type": "value_error.extra"}]

    @pytest.mark.parametrize("key", ["parameters", "tags", "context", "empirical_policy"])
    def test_null_for_non_nullable_field_is_422(self, client, plain, key):
        r = client.post(f"deployments/{plain['id']}/create_flow_run", json={key: None})
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [
            {"loc": ["body", key], "msg": "none is not an allowed value", "type": "type_error.none.not_allowed"}]

    @pytest.mark.parametrize("key", ["state", "name", "enforce_parameter_schema", "job_variables", "idempotency_key",
                                     "work_queue_name", "infrastructure_document_id", "parent_task_run_id"])
    def test_null_for_nullable_field_is_accepted(self, client, plain, key):
        r = client.post(f"deployments/{plain['id']}/create_flow_run", json={key: None})
        assert r.status_code == 201
        assert (r.json()["tags"], r.json()["state_type"]) == (["test"], "SCHEDULED")

    def test_bad_state_type_is_422(self, client, plain):
        assert client.post(f"deployments/{plain['id']}/create_flow_run",
                           json={"state": {"type": "NOPE"}}).status_code == 422

    def test_no_body_is_422_field_required_as_on_the_reference(self, client, plain):
        r = client.post(f"deployments/{plain['id']}/create_flow_run")
        assert (r.status_code, r.json()["exception_detail"]) == (
            422, [{"loc": ["body"], "msg": "field required", "type": "value_error.missing"}])

    def test_client_run_deployment_body(self, client, plain):
        body = {"state": {"type": "SCHEDULED", "name": "Scheduled", "message": None,
                          "state_details": {"scheduled_time": dt.datetime.now(UTC).isoformat()}, "data": None},
                "name": None, "parameters": {"a": 2}, "context": {}, "tags": ["x"], "idempotency_key": None,
                "parent_task_run_id": None, "job_variables": None}
        run = create_run(client, plain["id"], **body)
        assert run["parameters"] == {"a": 2}
        assert run["job_variables"] == {}

    def test_unknown_parent_task_run_is_409(self, client, plain):
        r = client.post(f"deployments/{plain['id']}/create_flow_run", json={"parent_task_run_id": str(uuid.uuid4())})
        assert r.status_code == 409
        assert r.json() == {"detail": INTEGRITY}

    def test_unknown_infrastructure_document_is_409(self, client, plain):
        r = client.post(f"deployments/{plain['id']}/create_flow_run",
                        json={"infrastructure_document_id": str(uuid.uuid4())})
        assert r.status_code == 409
        assert r.json() == {"detail": INTEGRITY}
        assert runs_of(client, plain["id"]) == []

    def test_infrastructure_document_override(self, client, d):
        other = make_block_document(client, "other-infra", {})
        run = create_run(client, d["id"], infrastructure_document_id=other["id"])
        assert run["infrastructure_document_id"] == other["id"] != d["infrastructure_document_id"]

    def test_automation_headers_set_created_by(self, client, plain):
        auto_id = str(uuid.uuid4())
        headers = {"Prefect-Automation-Id": auto_id,
                   "Prefect-Automation-Name": base64.b64encode("my automation ✓".encode()).decode()}
        r = client.post(f"deployments/{plain['id']}/create_flow_run", json={}, headers=headers)
        assert r.status_code == 201
        assert r.json()["created_by"] == {"id": auto_id, "type": "AUTOMATION", "display_value": "my automation ✓"}

    def test_undecodable_automation_name_gives_no_created_by(self, client, plain):
        headers = {"Prefect-Automation-Id": str(uuid.uuid4()), "Prefect-Automation-Name": "not base64!!"}
        r = client.post(f"deployments/{plain['id']}/create_flow_run", json={}, headers=headers)
        assert r.status_code == 201
        assert r.json()["created_by"] is None

    def test_run_over_400_kb_is_422(self, client, plain):
        r = client.post(f"deployments/{plain['id']}/create_flow_run", json={"parameters": {"blob": "x" * 450_000}})
        assert r.status_code == 422
        assert r.json() == {"detail": "The FlowRun is too large to store (DynamoDB items are limited to 400 KB)."}
        assert runs_of(client, plain["id"]) == []


class TestCreateFlowRunJobVariables:
    @staticmethod
    def pool_deployment(client, flow, variables, job_variables=None):
        make_pool(client, "jv-pool", variables)
        return deploy(client, flow["id"], "jv", work_pool_name="jv-pool", job_variables=job_variables or {})

    # key order matters: jsonschema's best match takes the first of equally relevant errors (verified on 2.20)
    REQUIRED = {"type": "object",
                "properties": {"expected_variable_1": {"type": "integer"}, "expected_variable_2": {"type": "string"}},
                "required": ["expected_variable_1", "expected_variable_2"], "additionalProperties": False}

    def test_missing_required_variable_is_422(self, client, flow):
        dep = self.pool_deployment(client, flow, self.REQUIRED)
        r = client.post(f"deployments/{dep['id']}/create_flow_run", json={"job_variables": {"x": 1}})
        assert r.status_code == 422
        assert r.json() == {"detail": "Error creating flow run: Validation failed. Failure reason: "
                                      "'expected_variable_1' is a required property"}
        r = client.post(f"deployments/{dep['id']}/create_flow_run", json={})
        assert r.status_code == 422
        assert r.json() == {"detail": "Error creating flow run: Validation failed. Failure reason: "
                                      "'expected_variable_1' is a required property"}
        assert runs_of(client, dep["id"]) == []

    def test_additional_property_error_when_listed_first(self, client, flow):
        variables = {"type": "object", "additionalProperties": False, "required": ["expected_variable_1"],
                     "properties": {"expected_variable_1": {"type": "integer"}}}
        dep = self.pool_deployment(client, flow, variables)
        r = client.post(f"deployments/{dep['id']}/create_flow_run", json={"job_variables": {"x": 1}})
        assert r.status_code == 422
        assert r.json() == {"detail": "Error creating flow run: Validation failed. Failure reason: "
                                      "Additional properties are not allowed ('x' was unexpected)"}

    def test_wrong_type_is_422(self, client, flow):
        dep = self.pool_deployment(client, flow, {**self.REQUIRED, "additionalProperties": True})
        r = client.post(f"deployments/{dep['id']}/create_flow_run",
                        json={"job_variables": {"expected_variable_1": 1, "expected_variable_2": 2}})
        assert r.status_code == 422
        assert r.json() == {"detail": "Error creating flow run: Validation failed for field 'expected_variable_2'. "
                                      "Failure reason: 2 is not of type 'string'"}

    def test_wrong_type_of_a_variable_with_default_reports_the_null_union(self, client, flow):
        variables = {"type": "object", "properties": {
            "expected_variable_1": {"type": "integer", "default": 0},
            "expected_variable_2": {"type": "string", "default": "0"}}, "required": ["expected_variable_1"]}
        dep = self.pool_deployment(client, flow, variables)
        r = client.post(f"deployments/{dep['id']}/create_flow_run",
                        json={"job_variables": {"expected_variable_1": 1, "expected_variable_2": 2}})
        assert r.status_code == 422
        assert r.json() == {"detail": "Error creating flow run: Validation failed for field 'expected_variable_2'. "
                                      "Failure reason: 2 is not valid under any of the given schemas"}

    @pytest.mark.parametrize("variables", [None, {"type": "object", "properties": {"x": {}}}])
    def test_templates_without_constraints_accept_anything(self, client, flow, variables):
        dep = self.pool_deployment(client, flow, variables)
        assert create_run(client, dep["id"], job_variables={"x": 1})["job_variables"] == {"x": 1}

    def test_the_run_stores_only_its_own_variables(self, client, flow):
        dep = self.pool_deployment(client, flow, self.REQUIRED,
                                   job_variables={"expected_variable_1": 1, "expected_variable_2": "2"})
        run = create_run(client, dep["id"], job_variables={"expected_variable_1": -1, "expected_variable_2": "-2"})
        assert run["job_variables"] == {"expected_variable_1": -1, "expected_variable_2": "-2"}
        run = create_run(client, dep["id"], job_variables={"expected_variable_1": -1})
        assert run["job_variables"] == {"expected_variable_1": -1}

    def test_required_variable_with_default_passes(self, client, flow):
        dep = self.pool_deployment(client, flow, {"type": "object", "required": ["expected_variable_1"],
                                                  "properties": {"expected_variable_1": {"type": "integer", "default": 0}}})
        assert create_run(client, dep["id"])["job_variables"] == {}

    @pytest.mark.parametrize("job_variables", [{}, None, {"x": "y"}])
    def test_deleted_pool_skips_validation(self, client, flow, job_variables):
        dep = self.pool_deployment(client, flow, self.REQUIRED)
        assert client.delete("work_pools/jv-pool").status_code == 204
        run = create_run(client, dep["id"], job_variables=job_variables)
        assert run["job_variables"] == (job_variables or {})

    def test_block_reference_default_is_resolved_not_copied(self, client, flow):
        block = make_block_document(client, "creds", {"foo": "bar"})
        dep = self.pool_deployment(client, flow, {"type": "object", "required": ["creds"], "properties": {
            "creds": {"type": "object", "default": {"$ref": {"block_document_id": block["id"]}}}}})
        assert create_run(client, dep["id"])["job_variables"] == {}

    def test_deleted_block_reference_is_404(self, client, flow):
        block = make_block_document(client, "creds", {"foo": "bar"})
        dep = self.pool_deployment(client, flow, {"type": "object", "properties": {
            "creds": {"type": "object", "default": {"$ref": {"block_document_id": block["id"]}}}}})
        assert client.delete(f"block_documents/{block['id']}").status_code == 204
        r = client.post(f"deployments/{dep['id']}/create_flow_run", json={})
        assert r.status_code == 404
        assert r.json() == {"detail": "Block not found."}

    def test_default_made_invalid_later_is_ignored_and_required_relaxed(self, client, flow):
        block = make_block_document(client, "creds", {"foo": 1})
        dep = self.pool_deployment(client, flow, {"type": "object", "required": ["creds", "other"], "properties": {
            "creds": {"type": "object", "properties": {"foo": {"type": "integer"}},
                      "default": {"$ref": {"block_document_id": block["id"]}}},
            "other": {"type": "string"}}})
        r = client.patch(f"block_documents/{block['id']}", json={"data": {"foo": "bar"}})
        assert r.status_code == 204, r.text
        assert create_run(client, dep["id"])["job_variables"] == {}

    @pytest.mark.parametrize("job_variables", [{}, {"opt": None}])
    def test_optional_variables_with_and_without_defaults(self, client, flow, job_variables):
        dep = self.pool_deployment(client, flow, {"type": "object", "properties": {
            "opt": {"type": "integer", "default": 3}, "free": {"type": "string"}}})
        assert create_run(client, dep["id"], job_variables=job_variables)["job_variables"] == job_variables


class TestUpdateFlowRun:
    @pytest.fixture
    def run(self, client, flow):
        make_pool(client, "jv-pool", {"type": "object", "properties": {"expected_variable_1": {"type": "integer",
                                                                                              "default": 0}}})
        dep = deploy(client, flow["id"], "jv", work_pool_name="jv-pool")
        return create_run(client, dep["id"])

    def test_valid_job_variables_are_stored(self, client, run):
        r = client.patch(f"flow_runs/{run['id']}", json={"job_variables": {"expected_variable_1": 100}})
        assert r.status_code == 204
        assert client.get(f"flow_runs/{run['id']}").json()["job_variables"] == {"expected_variable_1": 100}

    def test_invalid_job_variables_are_422_and_not_stored(self, client, run):
        r = client.patch(f"flow_runs/{run['id']}", json={"job_variables": {"expected_variable_1": "this_should_be_an_int"}})
        assert r.status_code == 422
        assert r.json() == {"detail": "Error updating flow run: Validation failed for field 'expected_variable_1'. "
                                      "Failure reason: 'this_should_be_an_int' is not valid under any of the given "
                                      "schemas"}
        assert client.get(f"flow_runs/{run['id']}").json()["job_variables"] == {}

    def test_job_variables_of_a_pending_run_are_400(self, client, run):
        r = client.post(f"flow_runs/{run['id']}/set_state", json={"state": {"type": "PENDING"}})
        assert r.status_code == 201
        r = client.patch(f"flow_runs/{run['id']}", json={"job_variables": {"expected_variable_1": 1}})
        assert r.status_code == 400
        assert r.json() == {"detail": "Job variables for a flow run in state PENDING cannot be updated"}

    def test_unknown_run_is_404(self, client):
        r = client.patch(f"flow_runs/{uuid.uuid4()}", json={"job_variables": {}})
        assert r.status_code == 404
        assert r.json() == {"detail": "Flow run not found"}

    def test_name_and_tags(self, client, run):
        assert client.patch(f"flow_runs/{run['id']}", json={"name": "renamed", "tags": ["z"]}).status_code == 204
        got = client.get(f"flow_runs/{run['id']}").json()
        assert (got["name"], got["tags"]) == ("renamed", ["z"])


class TestSetFlowRunState:
    def test_lifecycle_bookkeeping(self, client, plain, clock):
        t0 = clock.freeze()
        run = create_run(client, plain["id"])
        clock.advance(seconds=5)
        assert client.post(f"flow_runs/{run['id']}/set_state", json={"state": {"type": "PENDING"}}).status_code == 201
        t_run = clock.advance(seconds=5)
        r = client.post(f"flow_runs/{run['id']}/set_state", json={"state": {"type": "RUNNING"}})
        assert r.status_code == 201
        assert r.json()["status"] == "ACCEPT"
        t_end = clock.advance(seconds=30)
        assert client.post(f"flow_runs/{run['id']}/set_state", json={"state": {"type": "COMPLETED"}}).status_code == 201
        got = client.get(f"flow_runs/{run['id']}").json()
        assert (got["state_type"], got["state_name"]) == ("COMPLETED", "Completed")
        assert ts(got["expected_start_time"]) == t0
        assert ts(got["start_time"]) == t_run
        assert ts(got["end_time"]) == t_end
        assert got["run_count"] == 1
        assert got["total_run_time"] == 30.0
        assert got["estimated_start_time_delta"] == 10.0
        assert got["next_scheduled_start_time"] is None

    def test_terminal_run_rejects_non_terminal_without_force(self, client, plain):
        # a COMPLETED run with a persisted result (orchestration spec §3.3 rule 2b, behaviour 25)
        run = create_run(client, plain["id"], state={"type": "COMPLETED", "data": {"type": "reference",
                                                                                   "storage_key": "k"}})
        r = client.post(f"flow_runs/{run['id']}/set_state", json={"state": {"type": "RUNNING"}})
        assert r.status_code == 200
        assert r.json()["status"] == "REJECT"
        assert client.get(f"flow_runs/{run['id']}").json()["state_type"] == "COMPLETED"
        r = client.post(f"flow_runs/{run['id']}/set_state", json={"state": {"type": "RUNNING"}, "force": True})
        assert r.status_code == 201
        assert client.get(f"flow_runs/{run['id']}").json()["state_type"] == "RUNNING"

    def test_leaving_scheduled_removes_the_run_from_polling(self, client, plain):
        run = scheduled_run(client, plain["id"], dt.datetime.now(UTC) - dt.timedelta(minutes=1))
        poll = {"deployment_ids": [plain["id"]]}
        assert [x["id"] for x in client.post("deployments/get_scheduled_flow_runs", json=poll).json()] == [run["id"]]
        client.post(f"flow_runs/{run['id']}/set_state", json={"state": {"type": "PENDING"}})
        assert client.post("deployments/get_scheduled_flow_runs", json=poll).json() == []
