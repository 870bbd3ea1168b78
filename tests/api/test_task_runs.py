"""Task-run routes other than set_state (orchestration spec §1.7, behaviours 80-83, 99; texts
checked against the 2.20 reference server)."""

from __future__ import annotations

import concurrent.futures
import uuid

import pytest

from tests.api.task_run_support import (  # noqa: F401 (moto_writes_serialised is a fixture)
    STATE_KEYS,
    TASK_RUN_KEYS,
    create_task,
    moto_writes_serialised,
    propose,
    put_flow_run,
    task,
)

POLICY_DEFAULTS = {"max_retries": 0, "retry_delay_seconds": 0.0, "retries": None, "retry_delay": None,
                   "retry_jitter_factor": None}


class TestCreateTaskRun:
    def test_new_task_run_is_201_pending_with_the_26_keys(self, client, dynamo_ctx):
        flow = put_flow_run(dynamo_ctx)
        body = create_task(client, flow["id"], name="flaky-0", tags=["tg"], task_inputs={"x": []},
                           empirical_policy={"retries": 1, "retry_delay": 1})
        assert list(body) == TASK_RUN_KEYS
        assert (body["name"], body["tags"], body["task_inputs"]) == ("flaky-0", ["tg"], {"x": []})
        assert (body["state_type"], body["state_name"], body["run_count"]) == ("PENDING", "Pending", 0)
        assert body["empirical_policy"] == {**POLICY_DEFAULTS, "retries": 1, "retry_delay": 1}
        assert list(body["state"]) == STATE_KEYS
        details = body["state"]["state_details"]
        assert (details["flow_run_id"], details["task_run_id"]) == (flow["id"], body["id"])
        assert body["state_id"] == body["state"]["id"]
        assert body["expected_start_time"] == body["state"]["timestamp"]
        assert uuid.UUID(body["id"]).version == 4

    def test_the_same_task_key_and_dynamic_key_again_returns_the_first_run_unchanged(self, client, dynamo_ctx):
        flow = put_flow_run(dynamo_ctx)
        first = create_task(client, flow["id"], name="one", tags=["a"])
        again = create_task(client, flow["id"], name="two", tags=["b"], state={"type": "RUNNING"}, expect=200)
        assert again["id"] == first["id"]
        assert (again["name"], again["tags"], again["state_type"]) == ("one", ["a"], "PENDING")

    def test_a_create_costs_one_read_and_one_transaction_on_dynamodb(self, client, dynamo_ctx, dynamo_calls):
        flow = put_flow_run(dynamo_ctx)
        dynamo_calls.clear()
        create_task(client, flow["id"])
        assert sorted(dynamo_calls) == ["GetItem", "TransactWriteItems"]

    def test_another_dynamic_key_or_flow_run_is_a_new_run(self, client, dynamo_ctx):
        flow, other = put_flow_run(dynamo_ctx), put_flow_run(dynamo_ctx)
        first = create_task(client, flow["id"])
        assert create_task(client, flow["id"], dynamic_key="1")["id"] != first["id"]
        assert create_task(client, other["id"])["id"] != first["id"]

    def test_autonomous_task_runs_dedupe_on_task_key_and_dynamic_key(self, client):
        first = create_task(client, None, task_key="auto")
        again = create_task(client, None, task_key="auto", expect=200)
        assert again["id"] == first["id"]
        assert first["flow_run_id"] is None
        assert first["state"]["state_details"]["flow_run_id"] is None

    @pytest.mark.usefixtures("moto_writes_serialised")
    def test_twenty_parallel_creates_of_one_task_yield_one_run(self, client, dynamo_ctx):
        flow = put_flow_run(dynamo_ctx)

        def create(i):
            return client.post("task_runs/", json={"flow_run_id": flow["id"], "task_key": "race", "dynamic_key": "0",
                                                   "name": f"n{i}"})

        with concurrent.futures.ThreadPoolExecutor(max_workers=10) as ex:
            results = list(ex.map(create, range(20)))
        assert sorted(r.status_code for r in results) == [200] * 19 + [201]
        assert len({r.json()["id"] for r in results}) == 1
        assert client.post("task_runs/count", json={}).json() == 1

    def test_a_guard_left_by_a_run_deleted_elsewhere_does_not_block_the_key(self, client, dynamo_ctx):
        flow = put_flow_run(dynamo_ctx)
        first = create_task(client, flow["id"])
        dynamo_ctx.stores.task_runs.delete(first["id"])  # e.g. a cascade that kept the guard
        assert create_task(client, flow["id"])["id"] != first["id"]

    def test_a_very_long_task_key_still_dedupes(self, client, dynamo_ctx):
        flow = put_flow_run(dynamo_ctx)
        first = create_task(client, flow["id"], task_key="k" * 3000)
        assert create_task(client, flow["id"], task_key="k" * 3000, expect=200)["id"] == first["id"]

    def test_a_client_given_id_is_used(self, client, dynamo_ctx):
        wanted = str(uuid.uuid4())
        assert create_task(client, put_flow_run(dynamo_ctx)["id"], id=wanted)["id"] == wanted

    def test_an_id_already_taken_by_another_task_is_409(self, client, dynamo_ctx):
        flow = put_flow_run(dynamo_ctx)
        first = create_task(client, flow["id"])
        r = client.post("task_runs/", json={"id": first["id"], "flow_run_id": flow["id"], "task_key": "other",
                                            "dynamic_key": "0"})
        assert r.status_code == 409

    def test_an_initial_running_state_counts_a_run(self, client, dynamo_ctx):
        body = create_task(client, put_flow_run(dynamo_ctx)["id"], state={"type": "RUNNING"})
        assert (body["state_type"], body["run_count"], body["start_time"]) == (
            "RUNNING", 1, body["state"]["timestamp"])

    def test_an_empty_name_gets_a_random_slug(self, client, dynamo_ctx):
        name = create_task(client, put_flow_run(dynamo_ctx)["id"], name="")["name"]
        assert name and "-" in name

    def test_unknown_flow_run_is_409(self, client):
        r = client.post("task_runs/", json={"flow_run_id": str(uuid.uuid4()), "task_key": "k", "dynamic_key": "0"})
        assert r.status_code == 409
        assert r.json()["detail"].startswith("Data integrity conflict.")

    def test_missing_dynamic_key_is_422(self, client):
        r = client.post("task_runs/", json={"task_key": "k"})
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [
            {"loc": ["body", "dynamic_key"], "msg": "field required", "type": "value_error.missing"}]

    def test_a_cache_key_over_2000_characters_is_422(self, client):
        r = client.post("task_runs/", json={"task_key": "k", "dynamic_key": "0", "cache_key": "x" * 2001})
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [{"loc": ["body", "cache_key"], "type": "value_error",
                                                 "msg": "Cache key exceeded maximum allowed length of 2000 characters."}]

    def test_more_than_50_retry_delays_is_422(self, client):
        r = client.post("task_runs/", json={"task_key": "k", "dynamic_key": "0",
                                            "empirical_policy": {"retry_delay": [1] * 51}})
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [{"loc": ["body", "empirical_policy", "retry_delay"],
                                                 "msg": "Can not configure more than 50 retry delays per task.",
                                                 "type": "value_error"}]

    def test_negative_jitter_is_422(self, client):
        r = client.post("task_runs/", json={"task_key": "k", "dynamic_key": "0",
                                            "empirical_policy": {"retry_jitter_factor": -1}})
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [{"loc": ["body", "empirical_policy", "retry_jitter_factor"],
                                                 "msg": "`retry_jitter_factor` must be >= 0.", "type": "value_error"}]

    def test_unknown_body_key_and_bad_task_input_are_422(self, client):
        assert client.post("task_runs/", json={"task_key": "k", "dynamic_key": "0", "bogus": 1}).status_code == 422
        r = client.post("task_runs/", json={"task_key": "k", "dynamic_key": "0",
                                            "task_inputs": {"x": [{"input_type": "bogus"}]}})
        assert r.status_code == 422

    def test_deprecated_policy_fields_fill_retries_and_retry_delay(self, client):
        body = create_task(client, None, empirical_policy={"max_retries": 2, "retry_delay_seconds": 5})
        assert body["empirical_policy"] == {"max_retries": 2, "retry_delay_seconds": 5.0, "retries": 2,
                                            "retry_delay": 5, "retry_jitter_factor": None}

    def test_task_inputs_are_kept_in_wire_shape(self, client):
        upstream = str(uuid.uuid4())
        inputs = {"x": [{"input_type": "task_run", "id": upstream}], "y": [{"input_type": "parameter", "name": "y"}],
                  "z": [{"input_type": "constant", "type": "int"}]}
        assert create_task(client, None, task_inputs=inputs)["task_inputs"] == inputs


class TestReadTaskRun:
    def test_read_returns_the_run(self, client, dynamo_ctx):
        created = create_task(client, put_flow_run(dynamo_ctx)["id"])
        body = task(client, created["id"])
        assert list(body) == TASK_RUN_KEYS
        assert body["id"] == created["id"]

    def test_unknown_id_is_404_task_not_found(self, client):
        r = client.get(f"task_runs/{uuid.uuid4()}")
        assert (r.status_code, r.json()) == (404, {"detail": "Task not found"})


class TestUpdateTaskRun:
    def test_rename_is_204(self, client, dynamo_ctx):
        created = create_task(client, put_flow_run(dynamo_ctx)["id"], name="before")
        r = client.patch(f"task_runs/{created['id']}", json={"name": "after"})
        assert (r.status_code, r.content) == (204, b"")
        assert task(client, created["id"])["name"] == "after"

    def test_empty_body_keeps_the_name(self, client, dynamo_ctx):
        created = create_task(client, put_flow_run(dynamo_ctx)["id"], name="keep")
        assert client.patch(f"task_runs/{created['id']}", json={}).status_code == 204
        assert task(client, created["id"])["name"] == "keep"

    def test_null_name_draws_a_new_random_name(self, client, dynamo_ctx):
        created = create_task(client, put_flow_run(dynamo_ctx)["id"], name="keep")
        assert client.patch(f"task_runs/{created['id']}", json={"name": None}).status_code == 204
        assert task(client, created["id"])["name"] not in ("keep", None)

    def test_unknown_id_is_404_task_run_not_found_quirk_q5(self, client):
        r = client.patch(f"task_runs/{uuid.uuid4()}", json={"name": "x"})
        assert (r.status_code, r.json()) == (404, {"detail": "Task run not found"})

    def test_unknown_key_or_no_body_is_422(self, client, dynamo_ctx):
        created = create_task(client, put_flow_run(dynamo_ctx)["id"])
        r = client.patch(f"task_runs/{created['id']}", json={"bogus": 1})
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["loc"] == ["body", "bogus"]
        r = client.patch(f"task_runs/{created['id']}")
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [{"loc": ["body"], "msg": "field required",
                                                 "type": "value_error.missing"}]


class TestDeleteTaskRun:
    def test_delete_is_204_then_404(self, client, dynamo_ctx):
        created = create_task(client, put_flow_run(dynamo_ctx)["id"])
        assert client.delete(f"task_runs/{created['id']}").status_code == 204
        assert client.get(f"task_runs/{created['id']}").status_code == 404
        r = client.delete(f"task_runs/{created['id']}")
        assert (r.status_code, r.json()) == (404, {"detail": "Task not found"})

    def test_delete_removes_the_history_and_frees_the_task_key(self, client, dynamo_ctx):
        flow = put_flow_run(dynamo_ctx)
        created = create_task(client, flow["id"])
        client.delete(f"task_runs/{created['id']}")
        assert client.get("task_run_states/", params={"task_run_id": created["id"]}).json() == []
        assert create_task(client, flow["id"])["id"] != created["id"]


class TestReadTaskRunStates:
    def test_states_in_time_order_with_unpersisted_data_read_back_as_null(self, client, dynamo_ctx):
        flow = put_flow_run(dynamo_ctx)
        created = create_task(client, flow["id"])
        propose(client, created["id"], "RUNNING")
        r = propose(client, created["id"], "COMPLETED", data={"type": "unpersisted"})
        assert r.json()["state"]["data"] == {"type": "unpersisted"}
        states = client.get("task_run_states/", params={"task_run_id": created["id"]}).json()
        assert [(s["type"], s["data"]) for s in states] == [("PENDING", None), ("RUNNING", None), ("COMPLETED", None)]
        assert all(list(s) == STATE_KEYS for s in states)
        assert states[-1]["id"] == task(client, created["id"])["state_id"]

    def test_unknown_task_run_has_no_states(self, client):
        assert client.get("task_run_states/", params={"task_run_id": str(uuid.uuid4())}).json() == []

    def test_missing_task_run_id_is_422(self, client):
        r = client.get("task_run_states/")
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [{"loc": ["query", "task_run_id"], "msg": "field required",
                                                 "type": "value_error.missing"}]

    def test_read_one_state_including_the_current_one(self, client, dynamo_ctx):
        created = create_task(client, put_flow_run(dynamo_ctx)["id"])
        r = client.get(f"task_run_states/{created['state_id']}")
        assert r.status_code == 200
        assert r.json() == created["state"]

    def test_unknown_state_is_404_flow_run_state_not_found_quirk_q5(self, client):
        r = client.get(f"task_run_states/{uuid.uuid4()}")
        assert (r.status_code, r.json()) == (404, {"detail": "Flow run state not found"})


class TestTaskRunFilters:
    def test_filter_and_count_see_created_runs(self, client, dynamo_ctx):
        flow = put_flow_run(dynamo_ctx)
        ids = {create_task(client, flow["id"], dynamic_key=str(i))["id"] for i in range(3)}
        rows = client.post("task_runs/filter", json={"task_runs": {"id": {"any_": sorted(ids)}}}).json()
        assert {r["id"] for r in rows} == ids
        assert all(list(r) == TASK_RUN_KEYS for r in rows)
        assert client.post("task_runs/count", json={"flow_runs": {"id": {"any_": [flow["id"]]}}}).json() == 3

    def test_subflow_runs_exists_finds_the_placeholder_task(self, client, dynamo_ctx):
        flow = put_flow_run(dynamo_ctx)
        placeholder = create_task(client, flow["id"], task_key="child")
        plain = create_task(client, flow["id"], dynamic_key="1")
        sub = put_flow_run(dynamo_ctx)
        doc = dynamo_ctx.stores.flow_runs.get(sub["id"])
        dynamo_ctx.stores.flow_runs.put({**doc, "parent_task_run_id": placeholder["id"]})
        q = {"task_runs": {"id": {"any_": [placeholder["id"], plain["id"]]}, "subflow_runs": {"exists_": True}}}
        assert [r["id"] for r in client.post("task_runs/filter", json=q).json()] == [placeholder["id"]]
        q["task_runs"]["subflow_runs"]["exists_"] = False
        assert [r["id"] for r in client.post("task_runs/filter", json=q).json()] == [plain["id"]]
