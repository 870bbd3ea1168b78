"""Pause, suspend and resume, flow-run inputs and subflows (orchestration spec §1.4, §1.5, §3.3
rules 7-8, §3.5; behaviours 46-64, 72-74, 77-79)."""

import datetime as dt
import json
import uuid

import pytest

from tests.api.flow_run_support import (
    accept,
    create_run,
    deployment_run,
    history,
    make_deployment,
    make_flow,
    propose,
    run,
    ts,
)


def reject(reason):
    return {"type": "reject_details", "reason": reason}


def answer(r):
    body = r.json()
    return r.status_code, body["status"], body["details"]


@pytest.fixture
def flow_id(client):
    return make_flow(client)


@pytest.fixture
def dep_id(client, flow_id):
    return make_deployment(client, flow_id)


def in_ten_minutes():
    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=10)).isoformat()


def paused_run(client, flow_id, key="1", **details):
    rid = create_run(client, flow_id, state={"type": "RUNNING"})["id"]
    accept(client, rid, "PAUSED", pause_key=key, pause_timeout=in_ten_minutes(), **details)
    return rid


def resume(client, rid, body=None):
    return client.post(f"flow_runs/{rid}/resume", json=body)


class TestPausing:
    def test_pause_records_its_key(self, client, flow_id):  # 46
        rid = paused_run(client, flow_id)
        assert run(client, rid)["empirical_policy"]["pause_keys"] == ["1"]

    def test_paused_cannot_pause_again(self, client, flow_id):  # 47
        rid = paused_run(client, flow_id)
        assert answer(propose(client, rid, "PAUSED", pause_key="2")) == (
            200, "REJECT", reject("Cannot pause flows that are not currently running."))

    def test_paused_to_pending_is_refused_but_marks_resuming_quirk_q3_q15(self, client, flow_id):  # 48
        rid = paused_run(client, flow_id)
        assert answer(propose(client, rid, "PENDING")) == (200, "REJECT", reject(
            "This run cannot transition to the StateType.PENDING state from the StateType.PAUSED state."))
        assert run(client, rid)["empirical_policy"]["resuming"] is True

    def test_a_used_pause_key_is_refused_with_the_running_state(self, client, flow_id):  # 50
        rid = paused_run(client, flow_id)
        accept(client, rid, "RUNNING")
        r = propose(client, rid, "PAUSED", pause_key="1", pause_timeout=in_ten_minutes())
        assert answer(r) == (200, "REJECT", reject("This pause has already fired."))
        assert r.json()["state"]["type"] == "RUNNING"

    def test_suspend_needs_a_deployment(self, client, flow_id):  # 51
        rid = create_run(client, flow_id, state={"type": "RUNNING"})["id"]
        r = propose(client, rid, "PAUSED", name="Suspended", pause_reschedule=True, pause_key="1")
        assert answer(r) == (200, "ABORT", {"type": "abort_details", "reason": "Cannot suspend flows without a deployment."})

    def test_subflows_cannot_suspend(self, client, flow_id):  # 52
        parent = create_run(client, flow_id, state={"type": "RUNNING"})["id"]
        task = client.post("task_runs/", json={"flow_run_id": parent, "task_key": "child", "dynamic_key": "0"}).json()
        child = create_run(client, flow_id, parent_task_run_id=task["id"], state={"type": "RUNNING"})["id"]
        r = propose(client, child, "PAUSED", name="Suspended", pause_reschedule=True, pause_key="1")
        assert answer(r) == (200, "ABORT", {"type": "abort_details", "reason": "Cannot suspend subflows."})

    @pytest.mark.parametrize(("name", "verb"), [(None, "pause"), ("Suspended", "suspend")])
    def test_only_running_runs_pause(self, client, flow_id, name, verb):  # 55
        rid = create_run(client, flow_id)["id"]
        assert answer(propose(client, rid, "PAUSED", name=name)) == (
            200, "REJECT", reject(f"Cannot {verb} flows that are not currently running."))

    def test_paused_to_running_or_completed_via_set_state(self, client, flow_id):  # 56
        rid = paused_run(client, flow_id)
        accept(client, rid, "RUNNING")
        body = run(client, rid)
        assert (body["run_count"], body["empirical_policy"]["resuming"]) == (2, True)  # set after the write
        other = paused_run(client, flow_id)
        accept(client, other, "COMPLETED")


class TestResume:
    def test_resume_an_in_process_pause(self, client, flow_id):  # 49
        rid = paused_run(client, flow_id)
        r = resume(client, rid, {"run_input": None})
        assert answer(r) == (201, "ACCEPT", {"type": "accept_details"})
        assert (r.json()["state"]["type"], r.json()["state"]["name"]) == ("RUNNING", "Running")
        body = run(client, rid)
        assert body["run_count"] == 2
        assert body["empirical_policy"]["resuming"] is True
        accept(client, rid, "COMPLETED")
        assert run(client, rid)["empirical_policy"]["resuming"] is False

    def test_suspend_resume_cycle(self, client, dep_id, clock):  # 53
        now = clock.freeze()
        rid = deployment_run(client, dep_id, {"type": "RUNNING"})["id"]
        accept(client, rid, "PAUSED", name="Suspended", pause_reschedule=True, pause_key="1",
               pause_timeout=(now + dt.timedelta(hours=1)).isoformat())
        r = resume(client, rid)
        assert answer(r)[:2] == (201, "ACCEPT")
        state = r.json()["state"]
        assert (state["type"], state["name"]) == ("SCHEDULED", "Resuming")
        assert ts(state["state_details"]["scheduled_time"]) == now
        assert run(client, rid)["empirical_policy"]["resuming"] is True
        accept(client, rid, "PENDING")
        accept(client, rid, "RUNNING")
        body = run(client, rid)
        assert (body["run_count"], body["empirical_policy"]["resuming"]) == (1, False)
        r = propose(client, rid, "PAUSED", name="Suspended", pause_reschedule=True, pause_key="1")
        assert answer(r) == (200, "REJECT", reject("This suspend has already fired."))

    def test_an_expired_pause_fails_the_run(self, client, flow_id, clock):  # 54
        clock.freeze()
        rid = paused_run(client, flow_id)
        clock.advance(minutes=11)
        r = resume(client, rid)
        assert answer(r) == (201, "REJECT", reject("The flow run pause has timed out and can no longer resume."))
        state = r.json()["state"]
        assert (state["type"], state["message"]) == ("FAILED", "The flow was running and never resumed.")
        assert run(client, rid)["state_type"] == "FAILED"

    @pytest.mark.parametrize("body", [None, {"run_input": None}])
    def test_a_run_that_is_not_paused(self, client, flow_id, body):  # 57
        rid = create_run(client, flow_id)["id"]
        r = resume(client, rid, body)
        assert (r.status_code, r.json()) == (200, {"state": None, "status": "ABORT", "details": {
            "type": "abort_details", "reason": "Cannot resume a flow run that is not paused."}})

    def test_unknown_run_is_404_quirk_q2_recommendation(self, client):  # 58
        r = resume(client, str(uuid.uuid4()))
        assert (r.status_code, r.json()) == (404, {"detail": "Flow run not found"})

    def test_forced_suspend_of_an_adhoc_run_cannot_resume(self, client, flow_id):  # 59
        rid = create_run(client, flow_id, state={"type": "RUNNING"})["id"]
        accept(client, rid, "PAUSED", name="Suspended", pause_reschedule=True, force=True)
        assert answer(resume(client, rid)) == (200, "REJECT", reject(
            "Cannot reschedule a resuming flow run without a deployment."))


KEYSET = {"description": "paused-1-description", "response": "paused-1-response", "schema": "paused-1-schema"}
SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
          "required": ["name"]}


def input_refusal(reason):
    return {"type": "abort_details", "reason": reason}


class TestResumeWithInput:
    def test_missing_schema(self, client, flow_id):  # 60
        rid = paused_run(client, flow_id, run_input_keyset=KEYSET)
        r = resume(client, rid, {"run_input": {"name": "bob"}})
        assert answer(r) == (200, "REJECT", input_refusal("Run input schema not found."))
        assert r.json()["state"]["type"] == "PAUSED"

    @pytest.mark.parametrize("body", [{"run_input": {"age": "x"}}, None])
    def test_validation_failure_quirk_q1(self, client, flow_id, body):  # 61
        rid = paused_run(client, flow_id, run_input_keyset=KEYSET)
        client.post(f"flow_runs/{rid}/input", json={"key": "paused-1-schema", "value": json.dumps(SCHEMA)})
        assert answer(resume(client, rid, body)) == (200, "REJECT", input_refusal(
            "Reason: Validation failed. Failure reason: 'name' is a required property"))

    def test_hydration_failure(self, client, flow_id):  # 62
        rid = paused_run(client, flow_id, run_input_keyset=KEYSET)
        client.post(f"flow_runs/{rid}/input", json={"key": "paused-1-schema", "value": json.dumps(SCHEMA)})
        r = resume(client, rid, {"run_input": {"name": {"__prefect_kind": "json", "value": "{bad"}}})
        assert answer(r) == (200, "REJECT", input_refusal(
            "Error hydrating run input: Invalid JSON: Expecting property name enclosed in double quotes: "
            "line 1 column 2 (char 1)"))

    def test_schema_that_is_not_json(self, client, flow_id):
        rid = paused_run(client, flow_id, run_input_keyset=KEYSET)
        client.post(f"flow_runs/{rid}/input", json={"key": "paused-1-schema", "value": "{nope"})
        assert answer(resume(client, rid, {"run_input": {}}))[2] == input_refusal("Run input schema is not valid JSON.")

    def test_valid_input_is_stored_as_the_response(self, client, flow_id):  # 63
        rid = paused_run(client, flow_id, run_input_keyset=KEYSET)
        client.post(f"flow_runs/{rid}/input", json={"key": "paused-1-schema", "value": json.dumps(SCHEMA)})
        r = resume(client, rid, {"run_input": {"name": "bob", "age": 3}})
        assert answer(r) == (201, "ACCEPT", {"type": "accept_details"})
        got = client.get(f"flow_runs/{rid}/input/paused-1-response")
        assert (got.status_code, got.headers["content-type"].split(";")[0]) == (200, "text/plain")
        assert json.loads(got.text) == {"name": "bob", "age": 3}


class TestFlowRunInputs:
    def test_input_routes(self, client, flow_id, clock):  # 64
        clock.freeze()
        rid = create_run(client, flow_id)["id"]
        r = client.post(f"flow_runs/{rid}/input", json={"key": "paused-1-a", "value": "one", "sender": "me"})
        assert (r.status_code, r.json()) == (201, None)
        clock.advance(seconds=1)
        client.post(f"flow_runs/{rid}/input", json={"key": "paused-1-b", "value": "two"})
        r = client.post(f"flow_runs/{rid}/input", json={"key": "paused-1-a", "value": "again"})
        assert (r.status_code, r.json()) == (409, {"detail": "A flow run input with this key already exists."})
        r = client.post(f"flow_runs/{uuid.uuid4()}/input", json={"key": "k", "value": "v"})
        assert (r.status_code, r.json()) == (404, {"detail": "Flow run not found"})
        found = client.post(f"flow_runs/{rid}/input/filter", json={"prefix": "paused-1"}).json()
        assert [list(x) for x in found] == [["id", "created", "updated", "flow_run_id", "key", "value", "sender"]]
        assert [(x["key"], x["value"], x["sender"]) for x in found] == [("paused-1-a", "one", "me")]
        found = client.post(f"flow_runs/{rid}/input/filter",
                            json={"prefix": "paused-1", "exclude_keys": ["paused-1-a"], "limit": 5}).json()
        assert [x["key"] for x in found] == ["paused-1-b"]
        assert client.get(f"flow_runs/{rid}/input/paused-1-b").text == "two"
        assert client.delete(f"flow_runs/{rid}/input/paused-1-b").status_code == 204
        for r in (client.get(f"flow_runs/{rid}/input/paused-1-b"), client.delete(f"flow_runs/{rid}/input/paused-1-b")):
            assert (r.status_code, r.json()) == (404, {"detail": "Flow run input not found"})


class TestCancellingPausedRuns:
    def test_suspended_is_cancelled_at_once(self, client, dep_id):  # 72
        rid = deployment_run(client, dep_id, {"type": "RUNNING"})["id"]
        accept(client, rid, "PAUSED", name="Suspended", pause_reschedule=True, pause_key="1")
        r = propose(client, rid, "CANCELLING")
        assert answer(r) == (201, "REJECT", reject("Suspended flow run has no infrastructure to terminate."))
        assert r.json()["state"]["type"] == "CANCELLED"

    def test_in_process_pause_cannot_be_cancelled_unforced(self, client, flow_id):  # 73
        rid = paused_run(client, flow_id)
        assert answer(propose(client, rid, "CANCELLING")) == (200, "REJECT", reject(
            "This run cannot transition to the StateType.CANCELLING state from the StateType.PAUSED state."))

    def test_resuming_run_is_cancelled_even_with_infrastructure(self, client, dep_id):  # 74
        rid = deployment_run(client, dep_id, {"type": "RUNNING"})["id"]
        accept(client, rid, "PAUSED", name="Suspended", pause_reschedule=True, pause_key="1")
        assert resume(client, rid).json()["state"]["name"] == "Resuming"
        client.patch(f"flow_runs/{rid}", json={"infrastructure_pid": "host:1"})
        r = propose(client, rid, "CANCELLING")
        assert answer(r)[:2] == (201, "REJECT") and r.json()["state"]["type"] == "CANCELLED"


class TestSubflows:
    def test_subflow_states_are_mirrored_on_the_parent_task(self, client, flow_id):  # 77, 78, 79
        parent = create_run(client, flow_id, state={"type": "RUNNING"})["id"]
        task = client.post("task_runs/", json={"flow_run_id": parent, "task_key": "child", "dynamic_key": "0"}).json()
        child_flow = make_flow(client, "child")
        sub = create_run(client, child_flow, parent_task_run_id=task["id"], state={
            "type": "PENDING", "state_details": {"flow_run_id": parent, "task_run_id": task["id"]}})
        assert sub["state"]["state_details"]["task_run_id"] == task["id"]
        assert sub["state"]["state_details"]["flow_run_id"] == sub["id"]
        mirrored = client.get(f"task_runs/{task['id']}").json()
        assert mirrored["state"]["state_details"]["child_flow_run_id"] == sub["id"]
        assert mirrored["state"]["state_details"]["flow_run_id"] == parent
        states = client.get("task_run_states/", params={"task_run_id": task["id"]}).json()
        assert [s["type"] for s in states] == ["PENDING", "PENDING"]
        accept(client, sub["id"], "RUNNING")
        assert client.get(f"task_runs/{task['id']}").json()["state_type"] == "RUNNING"
        accept(client, sub["id"], "COMPLETED", message="done")
        mirrored = client.get(f"task_runs/{task['id']}").json()
        assert (mirrored["state_type"], mirrored["state"]["message"]) == ("COMPLETED", "done")
        assert mirrored["state"]["state_details"]["child_flow_run_id"] == sub["id"]
        assert mirrored["flow_run_run_count"] == 0
        found = client.post("flow_runs/filter", json={"flow_runs": {"parent_task_run_id": {"any_": [task["id"]]}}}).json()
        assert [x["id"] for x in found] == [sub["id"]]
        found = client.post("task_runs/filter", json={"task_runs": {"subflow_runs": {"exists_": True}}}).json()
        assert [x["id"] for x in found] == [task["id"]]

    def test_cancelling_the_parent_cancels_a_running_subflow(self, client, flow_id):
        parent = create_run(client, flow_id, state={"type": "RUNNING"})["id"]
        task = client.post("task_runs/", json={"flow_run_id": parent, "task_key": "child", "dynamic_key": "0"}).json()
        sub = create_run(client, flow_id, parent_task_run_id=task["id"], state={"type": "RUNNING"})["id"]
        accept(client, parent, "CANCELLED", force=True)
        body = run(client, sub)
        assert (body["state_type"], body["state"]["message"]) == ("CANCELLED", "The parent flow run was cancelled.")
        assert [s["type"] for s in history(client, sub)] == ["RUNNING", "CANCELLED"]
