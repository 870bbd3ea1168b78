"""POST /flow_runs/{id}/set_state and GET /flow_run_states/ (orchestration spec §1.3, §1.6, §2,
§3.1-§3.3; behaviours 16-45, 65-76)."""

import datetime as dt
import threading
import uuid

import pytest

from tests.api.flow_run_support import (
    STATE_KEYS,
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

ACCEPT = {"type": "accept_details"}


def reject(reason):
    return {"type": "reject_details", "reason": reason}


def abort(reason):
    return {"type": "abort_details", "reason": reason}


@pytest.fixture
def flow_id(client):
    return make_flow(client)


@pytest.fixture
def dep_id(client, flow_id):
    return make_deployment(client, flow_id)


def adhoc(client, flow_id, type_="PENDING", **state):
    return create_run(client, flow_id, state={"type": type_, **state})["id"]


def answer(r):
    body = r.json()
    return r.status_code, body["status"], body["details"]


class TestSetStateBasics:
    def test_pending_to_running_is_accepted_and_counts_a_run(self, client, flow_id):  # 16
        rid = adhoc(client, flow_id)
        r = propose(client, rid, "RUNNING")
        assert answer(r) == (201, "ACCEPT", ACCEPT)
        assert list(r.json()) == ["state", "status", "details"]
        assert list(r.json()["state"]) == STATE_KEYS
        body = run(client, rid)
        assert body["run_count"] == 1
        assert ts(body["start_time"]) == ts(r.json()["state"]["timestamp"])

    def test_running_to_pending_aborts_with_the_current_state(self, client, flow_id):  # 17
        rid = adhoc(client, flow_id, "RUNNING")
        current = run(client, rid)["state"]
        r = propose(client, rid, "PENDING")
        assert answer(r) == (200, "ABORT", abort(
            "This run is in a RUNNING state and cannot transition to a PENDING state."))
        assert r.json()["state"] == current

    def test_pending_to_pending_aborts(self, client, flow_id):  # 18
        rid = adhoc(client, flow_id)
        assert answer(propose(client, rid, "PENDING")) == (200, "ABORT", abort(
            "This run is in a PENDING state and cannot transition to a PENDING state."))

    def test_running_to_running_counts_again_and_adds_run_time(self, client, flow_id, clock):  # 19
        clock.freeze()
        rid = adhoc(client, flow_id, "RUNNING")
        clock.advance(seconds=7)
        assert answer(propose(client, rid, "RUNNING")) == (201, "ACCEPT", ACCEPT)
        body = run(client, rid)
        assert (body["run_count"], body["total_run_time"]) == (2, 7.0)

    def test_unpersisted_data_is_echoed_once_and_reads_back_null_quirk_q12(self, client, flow_id):  # 20
        rid = adhoc(client, flow_id, "RUNNING")
        data = {"type": "unpersisted", "artifact_type": "result", "artifact_description": "Unpersisted result"}
        r = propose(client, rid, "COMPLETED", data=data)
        assert answer(r) == (201, "ACCEPT", ACCEPT)
        assert r.json()["state"]["data"] == data
        assert run(client, rid)["end_time"] is not None
        states = history(client, rid)
        assert [s["type"] for s in states] == ["RUNNING", "COMPLETED"]
        assert all(s["data"] is None for s in states)

    @pytest.mark.parametrize("target", ["CRASHED", "CANCELLING", "PAUSED"])
    def test_completed_refuses_crash_cancel_and_pause(self, client, flow_id, target):  # 21
        rid = adhoc(client, flow_id, "COMPLETED")
        assert answer(propose(client, rid, target)) == (200, "ABORT", abort(
            "Run is already in terminal state COMPLETED."))

    def test_completed_adhoc_run_cannot_be_rescheduled(self, client, flow_id):  # 22
        rid = adhoc(client, flow_id, "COMPLETED")
        assert answer(propose(client, rid, "SCHEDULED")) == (200, "ABORT", abort(
            "Cannot reschedule a run without an associated deployment."))

    def test_completed_without_data_can_run_again(self, client, flow_id):  # 23
        rid = adhoc(client, flow_id, "RUNNING")
        accept(client, rid, "COMPLETED")
        assert run(client, rid)["end_time"] is not None
        accept(client, rid, "RUNNING")
        body = run(client, rid)
        assert (body["end_time"], body["run_count"]) == (None, 2)

    def test_persisted_result_becomes_a_result_artifact(self, client, flow_id):  # 24
        rid = adhoc(client, flow_id, "RUNNING")
        data = {"type": "reference", "storage_key": "abc", "artifact_type": "result",
                "artifact_description": "Result of type `int` persisted to: `abc`"}
        r = propose(client, rid, "COMPLETED", data=data)
        assert answer(r) == (201, "ACCEPT", ACCEPT)
        assert r.json()["state"]["data"] == {"type": "reference", "storage_key": "abc"}
        assert history(client, rid)[-1]["data"] == {"type": "reference", "storage_key": "abc"}
        assert run(client, rid)["state"]["data"] == {"type": "reference", "storage_key": "abc"}
        arts = client.post("artifacts/filter", json={"artifacts": {"flow_run_id": {"any_": [rid]}}}).json()
        assert [(a["type"], a["key"], a["description"], a["data"], a["task_run_id"]) for a in arts] == [
            ("result", None, "Result of type `int` persisted to: `abc`", {"type": "reference", "storage_key": "abc"},
             None)]

    def test_completed_with_persisted_result_refuses_reruns_but_not_terminal_states(self, client, flow_id):  # 25
        rid = adhoc(client, flow_id, "RUNNING")
        accept(client, rid, "COMPLETED", data={"type": "reference", "storage_key": "abc"})
        current = run(client, rid)["state"]
        r = propose(client, rid, "RUNNING")
        assert answer(r) == (200, "REJECT", reject("Run is already COMPLETED."))
        assert r.json()["state"] == current
        accept(client, rid, "FAILED")
        accept(client, rid, "COMPLETED")

    def test_a_repeated_transition_id_is_rejected(self, client, flow_id):  # 26
        rid = adhoc(client, flow_id)
        tid = str(uuid.uuid4())
        accept(client, rid, "RUNNING", transition_id=tid)
        current = run(client, rid)["state"]
        r = propose(client, rid, "COMPLETED", transition_id=tid)
        assert answer(r) == (200, "REJECT", reject("This run has already made this state transition."))
        assert r.json()["state"] == current

    def test_unknown_run_is_404_with_exception_message_quirk_q16(self, client):  # 27
        rid = str(uuid.uuid4())
        r = propose(client, rid, "RUNNING")
        assert (r.status_code, r.json()) == (404, {"exception_message": f"Flow run with id {rid} not found"})

    def test_body_validation(self, client, flow_id):  # 28
        rid = adhoc(client, flow_id)
        r = client.post(f"flow_runs/{rid}/set_state", json={"state": {"type": "RUNNING"},
                                                            "orchestration_parameters": {"x": 1}})
        assert answer(r) == (201, "ACCEPT", ACCEPT)
        r = client.post(f"flow_runs/{rid}/set_state", json={"state": {"type": "BOGUS"}})
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["loc"] == ["body", "state", "type"]
        r = client.post(f"flow_runs/{rid}/set_state", json={"force": True})
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["loc"] == ["body", "state"]

    def test_the_server_sets_the_timestamp(self, client, flow_id, clock):  # 29
        now = clock.freeze()
        rid = adhoc(client, flow_id)
        r = client.post(f"flow_runs/{rid}/set_state",
                        json={"state": {"type": "RUNNING", "timestamp": "2000-01-01T00:00:00+00:00"}})
        assert ts(r.json()["state"]["timestamp"]) == now

    def test_force_skips_waiting(self, client, flow_id):  # 30
        later = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)).isoformat()
        a = adhoc(client, flow_id, "SCHEDULED", state_details={"scheduled_time": later})
        assert answer(propose(client, a, "RUNNING"))[1] == "WAIT"
        assert answer(propose(client, a, "RUNNING", force=True)) == (201, "ACCEPT", ACCEPT)


class TestScheduling:
    def test_pending_copies_the_scheduled_time_then_running_waits(self, client, dep_id, clock):  # 31, 32
        now = clock.freeze()
        due = (now + dt.timedelta(seconds=5)).isoformat()
        rid = deployment_run(client, dep_id, {"type": "SCHEDULED", "state_details": {"scheduled_time": due}})["id"]
        pending = accept(client, rid, "PENDING")
        assert ts(pending["state_details"]["scheduled_time"]) == ts(due)
        r = propose(client, rid, "RUNNING")
        assert answer(r) == (200, "WAIT", {"type": "wait_details", "delay_seconds": 5,
                                           "reason": "Scheduled time is in the future"})
        assert r.json()["state"]["type"] == "PENDING"

    def test_scheduled_to_running_waits(self, client, dep_id, clock):  # 33
        now = clock.freeze()
        due = (now + dt.timedelta(seconds=5)).isoformat()
        rid = deployment_run(client, dep_id, {"type": "SCHEDULED", "state_details": {"scheduled_time": due}})["id"]
        assert answer(propose(client, rid, "RUNNING"))[2]["delay_seconds"] == 5

    def test_pending_keeps_its_own_scheduled_time(self, client, dep_id, clock):  # 34
        now = clock.freeze()
        due = (now + dt.timedelta(seconds=5)).isoformat()
        past = (now - dt.timedelta(seconds=5)).isoformat()
        rid = deployment_run(client, dep_id, {"type": "SCHEDULED", "state_details": {"scheduled_time": due}})["id"]
        pending = accept(client, rid, "PENDING", scheduled_time=past)
        assert ts(pending["state_details"]["scheduled_time"]) == ts(past)
        accept(client, rid, "RUNNING")
        assert ts(run(client, rid)["expected_start_time"]) == ts(due)

    @pytest.mark.parametrize(("seconds", "outcome"), [(0.3, None), (0.5, None), (1.8, 2), (1.5, 1)])
    def test_delay_rounding(self, client, dep_id, clock, seconds, outcome):  # 35
        now = clock.freeze()
        due = (now + dt.timedelta(seconds=seconds)).isoformat()
        rid = deployment_run(client, dep_id, {"type": "SCHEDULED", "state_details": {"scheduled_time": due}})["id"]
        r = propose(client, rid, "RUNNING")
        if outcome is None:
            assert r.json()["status"] == "ACCEPT"
        else:
            assert (r.json()["status"], r.json()["details"]["delay_seconds"]) == ("WAIT", outcome)

    def test_only_scheduled_runs_can_be_marked_late(self, client, flow_id):  # 36
        rid = adhoc(client, flow_id)
        assert answer(propose(client, rid, "SCHEDULED", name="Late")) == (
            200, "REJECT", reject("Only scheduled flows can be marked late."))
        accept(client, rid, "SCHEDULED")
        late = accept(client, rid, "SCHEDULED", name="Late")
        assert late["name"] == "Late"

    def test_late_to_pending_copies_the_late_time(self, client, dep_id):  # 37
        rid = deployment_run(client, dep_id)["id"]
        late_time = run(client, rid)["state"]["state_details"]["scheduled_time"]
        accept(client, rid, "SCHEDULED", name="Late", scheduled_time=late_time)
        pending = accept(client, rid, "PENDING")
        assert ts(pending["state_details"]["scheduled_time"]) == ts(late_time)

    def test_adhoc_running_can_be_rescheduled_and_run_again(self, client, flow_id):  # 38
        rid = adhoc(client, flow_id, "RUNNING")
        accept(client, rid, "SCHEDULED")
        accept(client, rid, "RUNNING")
        assert run(client, rid)["run_count"] == 2

    def test_late_policy_marks_only_scheduled_runs(self, client, dynamo_ctx, flow_id):
        from domain.services.run_orchestration import propose_flow_run_state
        from domain.states import StateCreate

        ctx = dynamo_ctx
        rid = adhoc(client, flow_id, "SCHEDULED")
        late = StateCreate(type="SCHEDULED", name="Late")
        answer_, status = propose_flow_run_state(ctx, rid, late, policy="late")
        assert (status, answer_["status"], answer_["state"]["name"]) == (201, "ACCEPT", "Late")
        assert answer_["state"]["state_details"]["flow_run_id"] == rid
        rid2 = adhoc(client, flow_id, "RUNNING")
        answer_, status = propose_flow_run_state(ctx, rid2, late, policy="late")
        assert (status, answer_["details"]) == (200, reject("Only scheduled flows can be marked late."))


class TestFlowRetries:
    def test_in_process_retry_cycle(self, client, flow_id, clock):  # 39, 40, 41
        now = clock.freeze()
        rid = create_run(client, flow_id, empirical_policy={"retries": 1, "retry_delay": 2})["id"]
        accept(client, rid, "RUNNING")
        r = propose(client, rid, "FAILED", message="oops")
        assert answer(r) == (201, "REJECT", reject("Retrying"))
        state = r.json()["state"]
        assert (state["type"], state["name"], state["message"]) == ("SCHEDULED", "AwaitingRetry", "oops")
        assert ts(state["state_details"]["scheduled_time"]) == now + dt.timedelta(seconds=2)
        body = run(client, rid)
        assert (body["empirical_policy"]["retry_type"], body["run_count"]) == ("in_process", 1)
        assert ts(body["next_scheduled_start_time"]) == now + dt.timedelta(seconds=2)
        r = propose(client, rid, "RUNNING")
        assert answer(r)[:2] == (200, "WAIT") and r.json()["details"]["delay_seconds"] == 2
        clock.advance(seconds=2)
        running = accept(client, rid, "RUNNING")
        assert running["name"] == "Running"
        assert run(client, rid)["run_count"] == 2
        failed = accept(client, rid, "FAILED")
        assert failed["name"] == "Failed"
        assert run(client, rid)["end_time"] is not None

    def test_in_process_retry_is_hidden_from_work_pools(self, client, flow_id):  # 42
        client.post("work_pools/", json={"name": "pool", "type": "process"})
        dep = make_deployment(client, flow_id, name="pooled", work_pool_name="pool")
        rid = deployment_run(client, dep, empirical_policy={"retries": 1})["id"]
        accept(client, rid, "PENDING")
        accept(client, rid, "RUNNING")
        assert propose(client, rid, "FAILED").json()["status"] == "REJECT"
        polled = client.post("deployments/get_scheduled_flow_runs", json={"deployment_ids": [dep]}).json()
        assert [x["id"] for x in polled] == [rid]
        pool = client.post("work_pools/pool/get_scheduled_flow_runs", json={}).json()
        assert rid not in [x["flow_run"]["id"] for x in pool]

    def test_manual_retry_of_a_failed_deployment_run(self, client, dep_id):  # 43, 45
        rid = deployment_run(client, dep_id, {"type": "PENDING"}, empirical_policy={"retries": 2})["id"]
        for _ in range(3):
            accept(client, rid, "RUNNING")
        accept(client, rid, "FAILED")
        assert run(client, rid)["run_count"] == 3
        retry = accept(client, rid, "SCHEDULED", name="AwaitingRetry")
        assert retry["name"] == "AwaitingRetry"
        body = run(client, rid)
        assert (body["empirical_policy"]["retry_type"], body["run_count"]) == ("reschedule", 3)
        accept(client, rid, "PENDING")
        accept(client, rid, "RUNNING")
        assert run(client, rid)["run_count"] == 4

    def test_adhoc_failed_to_running_resets_the_pause_bookkeeping(self, client, flow_id):  # 44
        rid = create_run(client, flow_id, state={"type": "RUNNING"},
                         empirical_policy={"pause_keys": ["1"], "retry_type": "in_process"})["id"]
        accept(client, rid, "FAILED")
        accept(client, rid, "RUNNING")
        policy = run(client, rid)["empirical_policy"]
        assert (policy["pause_keys"], policy["retry_type"]) == ([], None)


class TestCancellation:
    def test_running_and_pending_to_cancelling(self, client, flow_id):  # 65, 71
        a = adhoc(client, flow_id, "RUNNING")
        accept(client, a, "CANCELLING")
        b = adhoc(client, flow_id)
        accept(client, b, "CANCELLING")

    @pytest.mark.parametrize("target", ["CRASHED", "COMPLETED", "PENDING", "CANCELLING"])
    def test_cancelling_only_becomes_cancelled(self, client, flow_id, target):  # 66
        rid = adhoc(client, flow_id, "CANCELLING")
        assert answer(propose(client, rid, target)) == (200, "REJECT", reject(
            "Cannot transition flows that are cancelling to a state other than Cancelled."))

    def test_forced_crash_of_a_cancelling_run(self, client, flow_id):  # 67
        rid = adhoc(client, flow_id, "RUNNING")
        accept(client, rid, "CANCELLING")
        accept(client, rid, "CRASHED", force=True)
        assert run(client, rid)["end_time"] is not None

    def test_cancelling_to_cancelled(self, client, flow_id):  # 68
        rid = adhoc(client, flow_id, "RUNNING")
        accept(client, rid, "CANCELLING")
        accept(client, rid, "CANCELLED")
        assert run(client, rid)["end_time"] is not None

    def test_cancelled_deployment_run_quirk_q17(self, client, dep_id):  # 69
        rid = deployment_run(client, dep_id, {"type": "RUNNING"})["id"]
        accept(client, rid, "CANCELLED")
        for target in ("SCHEDULED", "RUNNING", "PENDING"):
            assert answer(propose(client, rid, target)) == (200, "REJECT", reject(
                "Cannot transition flows that are cancelling to a state other than Cancelled."))
        accept(client, rid, "CANCELLED")
        assert answer(propose(client, rid, "CRASHED")) == (200, "ABORT", abort(
            "Run is already in terminal state CANCELLED."))
        accept(client, rid, "SCHEDULED", force=True)
        assert run(client, rid)["end_time"] is None

    def test_scheduled_run_without_infrastructure_is_cancelled_at_once(self, client, dep_id):  # 70
        with_pid = deployment_run(client, dep_id)["id"]
        client.patch(f"flow_runs/{with_pid}", json={"infrastructure_pid": "host:1"})
        accept(client, with_pid, "CANCELLING")
        for force in (False, True):
            rid = deployment_run(client, dep_id)["id"]
            r = propose(client, rid, "CANCELLING", force=force)
            assert answer(r) == (201, "REJECT", reject("Scheduled flow run has no infrastructure to terminate."))
            assert (r.json()["state"]["type"], r.json()["state"]["name"]) == ("CANCELLED", "Cancelled")
            assert run(client, rid)["state_type"] == "CANCELLED"

    def test_crashed(self, client, flow_id):  # 75
        rid = adhoc(client, flow_id, "RUNNING")
        accept(client, rid, "CRASHED")
        assert answer(propose(client, rid, "CRASHED")) == (200, "ABORT", abort(
            "Run is already in terminal state CRASHED."))
        accept(client, rid, "COMPLETED")

    def test_forced_completion_of_a_failed_persisted_result_is_unknown(self, client, flow_id):  # 76
        rid = adhoc(client, flow_id, "RUNNING")
        accept(client, rid, "FAILED", data={"type": "reference", "storage_key": "x"})
        accept(client, rid, "COMPLETED", force=True, data={"type": "reference", "storage_key": "y"})
        assert run(client, rid)["state"]["data"] == {"type": "unknown", "value": None}
        assert history(client, rid)[-1]["data"] == {"type": "unknown", "value": None}

    def test_cancelling_a_flow_run_cancels_its_task_runs(self, client, flow_id):
        rid = adhoc(client, flow_id, "RUNNING")
        t1 = client.post("task_runs/", json={"flow_run_id": rid, "task_key": "a", "dynamic_key": "0"}).json()
        t2 = client.post("task_runs/", json={"flow_run_id": rid, "task_key": "b", "dynamic_key": "0",
                                             "state": {"type": "COMPLETED"}}).json()
        accept(client, rid, "CANCELLING")
        accept(client, rid, "CANCELLED", force=True)
        first = client.get(f"task_runs/{t1['id']}").json()
        assert (first["state_type"], first["state"]["message"]) == ("CANCELLED", "The parent flow run was cancelled.")
        assert client.get(f"task_runs/{t2['id']}").json()["state_type"] == "COMPLETED"


class TestFlowRunStates:
    def test_history_in_time_order_with_every_key(self, client, flow_id, clock):  # 1.6
        clock.freeze()
        rid = adhoc(client, flow_id)
        clock.advance(seconds=1)
        accept(client, rid, "RUNNING")
        clock.advance(seconds=1)
        accept(client, rid, "COMPLETED")
        states = history(client, rid)
        assert [s["type"] for s in states] == ["PENDING", "RUNNING", "COMPLETED"]
        assert all(list(s) == STATE_KEYS for s in states)
        assert states[-1] == run(client, rid)["state"]

    def test_history_of_a_scheduler_inserted_run_keeps_its_first_state(self, client, dep_id, dynamo_ctx):
        from domain.services import flow_runs
        from domain.states import apply_state

        ctx = dynamo_ctx
        dep = client.get(f"deployments/{dep_id}").json()
        doc = flow_runs.new_run(run_id=str(uuid.uuid4()), now=ctx.now(), flow_id=dep["flow_id"], deployment=dep)
        apply_state(doc, flow_runs.scheduled_state(doc, None, ctx.now()), ctx.now())
        ctx.stores.flow_runs.put(doc)
        assert [s["name"] for s in history(client, doc["id"])] == ["Scheduled"]
        accept(client, doc["id"], "PENDING")
        states = history(client, doc["id"])
        assert [s["name"] for s in states] == ["Scheduled", "Pending"]
        r = client.get(f"flow_run_states/{states[0]['id']}")
        assert (r.status_code, r.json()) == (200, states[0])

    def test_unknown_run_and_missing_query(self, client):
        assert history(client, str(uuid.uuid4())) == []
        r = client.get("flow_run_states/")
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["loc"] == ["query", "flow_run_id"]

    def test_read_one_state(self, client, flow_id):
        rid = adhoc(client, flow_id)
        state = accept(client, rid, "RUNNING")
        r = client.get(f"flow_run_states/{state['id']}")
        assert (r.status_code, r.json()) == (200, run(client, rid)["state"])
        r = client.get(f"flow_run_states/{uuid.uuid4()}")
        assert (r.status_code, r.json()) == (404, {"detail": "Flow run state not found"})


class TestConcurrentProposals:
    def test_two_racing_proposals_make_exactly_one_accept(self, client, flow_id):
        for _ in range(3):
            rid = adhoc(client, flow_id, "SCHEDULED")
            answers = []
            barrier = threading.Barrier(2)

            def go(rid=rid, barrier=barrier, answers=answers):
                barrier.wait()
                answers.append(propose(client, rid, "PENDING"))

            threads = [threading.Thread(target=go) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            statuses = sorted(a.json()["status"] for a in answers)
            assert statuses == ["ABORT", "ACCEPT"]
            assert [s["type"] for s in history(client, rid)] == ["SCHEDULED", "PENDING"]


class TestCost:
    def test_a_proposal_is_one_read_and_one_transaction(self, client, flow_id, dynamo_calls):
        rid = adhoc(client, flow_id)
        dynamo_calls.clear()
        accept(client, rid, "RUNNING")
        assert list(dynamo_calls) == ["GetItem", "TransactWriteItems"]
        dynamo_calls.clear()
        assert propose(client, rid, "PENDING").json()["status"] == "ABORT"
        assert list(dynamo_calls) == ["GetItem"]
        dynamo_calls.clear()
        history(client, rid)
        assert sorted(dynamo_calls) == ["GetItem", "Query"]
