"""POST /task_runs/{id}/set_state (orchestration spec §1.7, §2, §3.4; behaviours 84-107): what the
2.20 client sends, then the rest of CoreTaskPolicy, MinimalTaskPolicy and AutonomousTaskPolicy."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import uuid

import pytest

from domain.timeutil import parse
from tests.api.task_run_support import (  # noqa: F401 (moto_writes_serialised is a fixture)
    STATE_KEYS,
    create_task,
    limit_slots,
    moto_writes_serialised,
    propose,
    put_flow_run,
    put_limit,
    task,
)

REFERENCE_DATA = {"type": "reference", "serializer_type": "pickle", "storage_block_id": None, "storage_key": "abc",
                  "artifact_type": "result", "artifact_description": "Result of type `int` persisted to: `abc`"}
STORED_REFERENCE = {"type": "reference", "serializer_type": "pickle", "storage_block_id": None, "storage_key": "abc"}


def running_task(client, ctx, **body):
    flow = put_flow_run(ctx)
    created = create_task(client, flow["id"], **body)
    r = propose(client, created["id"], "RUNNING")
    assert (r.status_code, r.json()["status"]) == (201, "ACCEPT"), r.text
    return flow, created


class TestClientSequence:
    """Spec §6.1: RUNNING, FAILED -> AwaitingRetry, WAIT, Retrying, COMPLETED with unpersisted data."""

    def test_running_is_accepted_and_counts_the_run(self, client, dynamo_ctx, clock):
        clock.freeze()
        flow = put_flow_run(dynamo_ctx, run_count=1)
        created = create_task(client, flow["id"], empirical_policy={"retries": 1, "retry_delay": 1})
        r = propose(client, created["id"], "RUNNING", cache_key=None, refresh_cache=False)
        assert r.status_code == 201
        body = r.json()
        assert list(body) == ["state", "status", "details"]
        assert (body["status"], body["details"]) == ("ACCEPT", {"type": "accept_details"})
        assert list(body["state"]) == STATE_KEYS
        assert (body["state"]["type"], body["state"]["name"]) == ("RUNNING", "Running")
        assert body["state"]["state_details"]["task_run_id"] == created["id"]
        run = task(client, created["id"])
        assert (run["run_count"], run["flow_run_run_count"], run["start_time"]) == (1, 1, body["state"]["timestamp"])

    def test_failure_with_a_retry_waits_then_runs_as_retrying_and_completes(self, client, dynamo_ctx, clock):
        start = clock.freeze()
        _, created = running_task(client, dynamo_ctx, empirical_policy={"retries": 1, "retry_delay": 1})
        tid = created["id"]
        r = propose(client, tid, "FAILED", message="boom", data={"type": "unpersisted"})
        assert r.status_code == 201
        body = r.json()
        assert (body["status"], body["details"]) == ("REJECT", {"type": "reject_details", "reason": "Retrying"})
        assert (body["state"]["type"], body["state"]["name"], body["state"]["message"]) == (
            "SCHEDULED", "AwaitingRetry", "boom")
        assert body["state"]["data"] == {"type": "unpersisted"}
        assert parse(body["state"]["state_details"]["scheduled_time"]) == start + dt.timedelta(seconds=1)
        r = propose(client, tid, "RUNNING")
        assert (r.status_code, r.json()["status"], r.json()["details"]) == (
            200, "WAIT", {"type": "wait_details", "delay_seconds": 1, "reason": "Scheduled time is in the future"})
        assert r.json()["state"]["id"] == body["state"]["id"]
        clock.advance(seconds=1)
        r = propose(client, tid, "RUNNING")
        assert (r.status_code, r.json()["status"], r.json()["state"]["name"]) == (201, "ACCEPT", "Retrying")
        assert task(client, tid)["run_count"] == 2
        clock.advance(seconds=2)
        r = propose(client, tid, "COMPLETED", data={"type": "unpersisted", "artifact_type": "result",
                                                    "artifact_description": "Unpersisted result of type `int`"})
        assert (r.status_code, r.json()["status"]) == (201, "ACCEPT")
        assert r.json()["state"]["data"]["type"] == "unpersisted"  # echoed once, never stored (Q12)
        run = task(client, tid)
        assert (run["state_type"], run["state"]["data"], run["end_time"]) == (
            "COMPLETED", None, r.json()["state"]["timestamp"])
        assert run["total_run_time"] == 2.0

    def test_a_proposal_costs_two_reads_and_one_transaction_on_dynamodb(self, client, dynamo_ctx, dynamo_calls):
        created = create_task(client, put_flow_run(dynamo_ctx)["id"])
        dynamo_calls.clear()
        assert propose(client, created["id"], "RUNNING").json()["status"] == "ACCEPT"
        assert sorted(dynamo_calls) == ["GetItem", "GetItem", "TransactWriteItems"]
        dynamo_calls.clear()
        assert propose(client, created["id"], "COMPLETED").json()["status"] == "ACCEPT"
        assert sorted(dynamo_calls) == ["GetItem", "TransactWriteItems"]

    def test_unknown_task_run_is_404_with_exception_message(self, client):
        tid = str(uuid.uuid4())
        r = client.post(f"task_runs/{tid}/set_state", json={"state": {"type": "RUNNING"}})
        assert (r.status_code, r.json()) == (404, {"exception_message": f"Task run with id {tid} not found"})

    def test_body_without_state_or_with_a_bad_type_is_422(self, client, dynamo_ctx):
        created = create_task(client, put_flow_run(dynamo_ctx)["id"])
        r = client.post(f"task_runs/{created['id']}/set_state", json={})
        assert (r.status_code, r.json()["exception_detail"][0]["loc"]) == (422, ["body", "state"])
        r = client.post(f"task_runs/{created['id']}/set_state", json={"state": None})
        assert r.json()["exception_detail"] == [{"loc": ["body", "state"], "msg": "field required",
                                                 "type": "value_error.missing"}]
        r = client.post(f"task_runs/{created['id']}/set_state", json={"state": {"type": "NOPE"}})
        assert (r.status_code, r.json()["exception_detail"][0]["loc"]) == (422, ["body", "state", "type"])

    def test_unknown_top_level_keys_and_null_force_are_ignored(self, client, dynamo_ctx):
        created = create_task(client, put_flow_run(dynamo_ctx)["id"])
        r = client.post(f"task_runs/{created['id']}/set_state",
                        json={"state": {"type": "RUNNING"}, "force": None, "orchestration_parameters": {}})
        assert (r.status_code, r.json()["status"]) == (201, "ACCEPT")

    def test_the_client_timestamp_is_replaced_by_server_time(self, client, dynamo_ctx, clock):
        now = clock.freeze()
        created = create_task(client, put_flow_run(dynamo_ctx)["id"])
        r = client.post(f"task_runs/{created['id']}/set_state",
                        json={"state": {"type": "RUNNING", "timestamp": "2001-01-01T00:00:00+00:00"}})
        assert parse(r.json()["state"]["timestamp"]) == now


class TestRunsAndReruns:
    def test_failed_without_retries_is_accepted(self, client, dynamo_ctx):
        _, created = running_task(client, dynamo_ctx)
        r = propose(client, created["id"], "FAILED")
        assert (r.status_code, r.json()["status"], r.json()["state"]["name"]) == (201, "ACCEPT", "Failed")

    def test_failed_to_running_keeps_the_count_and_is_named_running(self, client, dynamo_ctx):
        _, created = running_task(client, dynamo_ctx)
        propose(client, created["id"], "FAILED")
        r = propose(client, created["id"], "RUNNING")
        assert (r.json()["status"], r.json()["state"]["name"]) == ("ACCEPT", "Running")
        run = task(client, created["id"])
        assert (run["run_count"], run["end_time"]) == (1, None)

    def test_listed_retry_delays_answer_awaiting_retry_then_pending_copies_the_time(self, client, dynamo_ctx, clock):
        start = clock.freeze()
        _, created = running_task(client, dynamo_ctx, empirical_policy={"retries": 2, "retry_delay": [3, 7]})
        tid = created["id"]
        due = propose(client, tid, "FAILED", message="boom").json()["state"]["state_details"]["scheduled_time"]
        assert parse(due) == start + dt.timedelta(seconds=3)
        assert propose(client, tid, "RUNNING").json()["details"]["delay_seconds"] == 3
        r = propose(client, tid, "PENDING")
        assert (r.json()["status"], r.json()["state"]["state_details"]["scheduled_time"]) == ("ACCEPT", due)
        assert propose(client, tid, "RUNNING").json()["status"] == "WAIT"
        run = task(client, tid)
        assert (run["next_scheduled_start_time"], run["state_type"]) == (None, "PENDING")

    def test_zero_delay_retry_then_a_final_failure(self, client, dynamo_ctx):
        _, created = running_task(client, dynamo_ctx, empirical_policy={"retries": 1, "retry_delay": 0})
        tid = created["id"]
        assert propose(client, tid, "FAILED").json()["state"]["name"] == "AwaitingRetry"
        r = propose(client, tid, "RUNNING")
        assert (r.json()["status"], r.json()["state"]["name"]) == ("ACCEPT", "Retrying")
        assert task(client, tid)["run_count"] == 2
        r = propose(client, tid, "FAILED")
        assert (r.json()["status"], r.json()["state"]["name"]) == ("ACCEPT", "Failed")

    def test_not_retriable_failures_and_failures_out_of_pending_are_final(self, client, dynamo_ctx):
        _, created = running_task(client, dynamo_ctx, empirical_policy={"retries": 3})
        r = propose(client, created["id"], "FAILED", retriable=False)
        assert (r.json()["status"], r.json()["state"]["name"]) == ("ACCEPT", "Failed")
        other = create_task(client, created["flow_run_id"], dynamic_key="1", empirical_policy={"retries": 3})
        assert propose(client, other["id"], "FAILED").json()["status"] == "ACCEPT"

    def test_running_to_crashed_is_accepted(self, client, dynamo_ctx):
        _, created = running_task(client, dynamo_ctx)
        assert propose(client, created["id"], "CRASHED").json()["status"] == "ACCEPT"

    def test_reruns_are_named_rerunning(self, client, dynamo_ctx):
        _, created = running_task(client, dynamo_ctx)
        tid = created["id"]
        assert propose(client, tid, "PENDING").json()["status"] == "ACCEPT"
        r = propose(client, tid, "RUNNING")
        assert (r.json()["state"]["name"], task(client, tid)["run_count"]) == ("Rerunning", 2)
        r = propose(client, tid, "RUNNING")
        assert (r.json()["state"]["name"], task(client, tid)["run_count"]) == ("Rerunning", 3)

    def test_jitter_with_zero_delay_retries_now_instead_of_500_quirk_q10(self, client, dynamo_ctx, clock):
        now = clock.freeze()
        _, created = running_task(client, dynamo_ctx,
                                  empirical_policy={"retries": 1, "retry_delay": 0, "retry_jitter_factor": 0.5})
        r = propose(client, created["id"], "FAILED")
        assert (r.status_code, r.json()["state"]["name"]) == (201, "AwaitingRetry")
        assert parse(r.json()["state"]["state_details"]["scheduled_time"]) == now

    def test_jitter_keeps_the_retry_within_the_clamped_range(self, client, dynamo_ctx, clock):
        now = clock.freeze()
        _, created = running_task(client, dynamo_ctx,
                                  empirical_policy={"retries": 1, "retry_delay": 10, "retry_jitter_factor": 0.5})
        due = parse(propose(client, created["id"], "FAILED").json()["state"]["state_details"]["scheduled_time"])
        assert dt.timedelta(seconds=6.29) <= due - now <= dt.timedelta(seconds=15)


class TestEnclosingFlowRun:
    def test_running_while_the_flow_run_is_pending_aborts(self, client, dynamo_ctx):
        created = create_task(client, put_flow_run(dynamo_ctx, "PENDING")["id"])
        r = propose(client, created["id"], "RUNNING")
        assert (r.status_code, r.json()["status"], r.json()["details"]["reason"]) == (
            200, "ABORT", "The enclosing flow must be running to begin task execution.")
        assert r.json()["state"]["type"] == "PENDING"

    def test_running_while_the_flow_run_is_paused_answers_not_ready(self, client, dynamo_ctx):
        timeout = "2030-01-01T00:00:00+00:00"
        flow = put_flow_run(dynamo_ctx, "PAUSED", pause_timeout=timeout)
        created = create_task(client, flow["id"])
        r = propose(client, created["id"], "RUNNING")
        body = r.json()
        assert (r.status_code, body["status"]) == (201, "REJECT")
        assert body["details"]["reason"] == (
            f"The flow is paused, new tasks can execute after resuming flow run: {flow['id']}.")
        assert (body["state"]["type"], body["state"]["name"]) == ("PAUSED", "NotReady")
        assert body["state"]["state_details"]["pause_timeout"] == timeout
        assert propose(client, created["id"], "COMPLETED").json()["status"] == "ACCEPT"

    def test_a_task_of_a_retried_flow_run_reruns_as_retrying(self, client, dynamo_ctx):
        flow, created = running_task(client, dynamo_ctx)
        propose(client, created["id"], "FAILED")
        put_flow_run(dynamo_ctx, "RUNNING", run_id=flow["id"], run_count=2)
        r = propose(client, created["id"], "RUNNING")
        assert (r.json()["status"], r.json()["state"]["name"]) == ("ACCEPT", "Retrying")
        assert task(client, created["id"])["flow_run_run_count"] == 2


class TestTerminalStates:
    def test_completed_with_a_persisted_result_refuses_even_failed_quirk_q18(self, client, dynamo_ctx):
        _, created = running_task(client, dynamo_ctx)
        r = propose(client, created["id"], "COMPLETED", data=REFERENCE_DATA)
        assert r.json()["state"]["data"] == STORED_REFERENCE
        for proposed in ("RUNNING", "FAILED"):
            r = propose(client, created["id"], proposed)
            assert (r.status_code, r.json()["status"], r.json()["details"]["reason"]) == (
                200, "REJECT", "This run is already completed.")
            assert r.json()["state"]["data"] == STORED_REFERENCE
        for proposed in ("PAUSED", "CRASHED"):
            r = propose(client, created["id"], proposed)
            assert (r.status_code, r.json()["status"], r.json()["details"]["reason"]) == (
                200, "ABORT", "Run is already COMPLETED.")

    def test_a_persisted_result_becomes_a_result_artifact(self, client, dynamo_ctx):
        _, created = running_task(client, dynamo_ctx)
        propose(client, created["id"], "COMPLETED", data=REFERENCE_DATA)
        rows = client.post("artifacts/filter", json={"artifacts": {"task_run_id": {"any_": [created["id"]]}}}).json()
        assert [(a["type"], a["key"], a["description"], a["data"], a["flow_run_id"]) for a in rows] == [
            ("result", None, "Result of type `int` persisted to: `abc`", STORED_REFERENCE, created["flow_run_id"])]
        states = client.get("task_run_states/", params={"task_run_id": created["id"]}).json()
        assert states[-1]["data"] == STORED_REFERENCE

    def test_pending_to_pending_is_accepted(self, client, dynamo_ctx):
        created = create_task(client, put_flow_run(dynamo_ctx)["id"])
        assert propose(client, created["id"], "PENDING").json()["status"] == "ACCEPT"

    def test_forced_completion_of_a_persisted_failure_stores_the_unknown_result(self, client, dynamo_ctx):
        _, created = running_task(client, dynamo_ctx)
        propose(client, created["id"], "FAILED", data=REFERENCE_DATA)
        r = propose(client, created["id"], "COMPLETED", force=True)
        assert r.json()["state"]["data"] == {"type": "unknown", "value": None}
        assert task(client, created["id"])["state"]["data"] == {"type": "unknown", "value": None}


class TestAutonomousTaskRuns:
    def test_pending_to_pending_aborts_even_when_forced(self, client):
        created = create_task(client, None)
        for force in (False, True):
            r = propose(client, created["id"], "PENDING", force=force)
            assert (r.status_code, r.json()["status"], r.json()["details"]["reason"]) == (
                200, "ABORT", "This run is in a PENDING state and cannot transition to a PENDING state.")

    def test_running_needs_no_flow_run(self, client):
        created = create_task(client, None)
        r = propose(client, created["id"], "RUNNING")
        assert (r.status_code, r.json()["status"]) == (201, "ACCEPT")
        assert r.json()["state"]["state_details"]["flow_run_id"] is None


class TestCache:
    def completed_with_cache(self, client, ctx, key="K", expiration="2099-01-01T00:00:00+00:00", **details):
        flow, a = running_task(client, ctx)
        r = propose(client, a["id"], "COMPLETED", data=REFERENCE_DATA, cache_key=key, cache_expiration=expiration,
                    **details)
        assert r.json()["status"] == "ACCEPT"
        return flow, a

    def test_a_cached_completed_state_is_answered_to_another_task(self, client, dynamo_ctx):
        flow, a = self.completed_with_cache(client, dynamo_ctx)
        b = create_task(client, flow["id"], dynamic_key="1")
        r = propose(client, b["id"], "RUNNING", cache_key="K")
        body = r.json()
        assert (r.status_code, body["status"], body["details"]["reason"]) == (201, "REJECT",
                                                                              "Retrieved state from cache")
        assert (body["state"]["type"], body["state"]["name"], body["state"]["data"]) == (
            "COMPLETED", "Cached", STORED_REFERENCE)
        assert body["state"]["state_details"]["task_run_id"] == b["id"]
        run = task(client, b["id"])
        assert (run["state_name"], run["run_count"], run["start_time"]) == ("Cached", 0, None)

    def test_refresh_cache_or_an_expired_entry_runs_the_task(self, client, dynamo_ctx):
        flow, _ = self.completed_with_cache(client, dynamo_ctx)
        b = create_task(client, flow["id"], dynamic_key="1")
        assert propose(client, b["id"], "RUNNING", cache_key="K", refresh_cache=True).json()["status"] == "ACCEPT"
        self.completed_with_cache(client, dynamo_ctx, key="OLD", expiration="2001-01-01T00:00:00+00:00")
        c = create_task(client, flow["id"], dynamic_key="2")
        assert propose(client, c["id"], "RUNNING", cache_key="OLD").json()["status"] == "ACCEPT"

    def test_a_completed_state_proposed_straight_from_pending_feeds_the_cache(self, client, dynamo_ctx):
        flow = put_flow_run(dynamo_ctx)
        a = create_task(client, flow["id"])
        propose(client, a["id"], "COMPLETED", data=REFERENCE_DATA, cache_key="P")
        b = create_task(client, flow["id"], dynamic_key="1")
        assert propose(client, b["id"], "RUNNING", cache_key="P").json()["state"]["name"] == "Cached"

    def test_a_long_multibyte_cache_key_still_hits_the_cache(self, client, dynamo_ctx):
        key = "é" * 2000  # 4000 bytes: over DynamoDB's index-key limit unless hashed
        flow, _ = self.completed_with_cache(client, dynamo_ctx, key=key)
        b = create_task(client, flow["id"], dynamic_key="1")
        assert propose(client, b["id"], "RUNNING", cache_key=key).json()["state"]["name"] == "Cached"

    def test_a_cache_hit_is_answered_even_when_the_tag_limit_is_full(self, client, dynamo_ctx):
        flow, _ = self.completed_with_cache(client, dynamo_ctx)
        put_limit(dynamo_ctx, "busy", 1, ["someone"])
        b = create_task(client, flow["id"], dynamic_key="1", tags=["busy"])
        assert propose(client, b["id"], "RUNNING", cache_key="K").json()["status"] == "REJECT"


class TestTagConcurrency:
    def test_the_first_run_takes_the_slot_and_the_second_waits(self, client, dynamo_ctx):
        limit = put_limit(dynamo_ctx, "T", 1)
        flow = put_flow_run(dynamo_ctx)
        a = create_task(client, flow["id"], tags=["T"])
        b = create_task(client, flow["id"], dynamic_key="1", tags=["T"])
        assert propose(client, a["id"], "RUNNING").json()["status"] == "ACCEPT"
        assert limit_slots(dynamo_ctx, limit["id"]) == [a["id"]]
        r = propose(client, b["id"], "RUNNING")
        assert (r.status_code, r.json()["details"]) == (200, {
            "type": "wait_details", "delay_seconds": 30, "reason": "Concurrency limit for the T tag has been reached"})

    def test_forced_running_takes_no_slot_and_completion_releases(self, client, dynamo_ctx):
        limit = put_limit(dynamo_ctx, "T", 1)
        flow = put_flow_run(dynamo_ctx)
        a = create_task(client, flow["id"], tags=["T"])
        b = create_task(client, flow["id"], dynamic_key="1", tags=["T"])
        propose(client, a["id"], "RUNNING")
        assert propose(client, b["id"], "RUNNING", force=True).json()["status"] == "ACCEPT"
        assert limit_slots(dynamo_ctx, limit["id"]) == [a["id"]]
        propose(client, a["id"], "COMPLETED")
        assert limit_slots(dynamo_ctx, limit["id"]) == []

    def test_cancelling_keeps_the_slot_and_a_forced_failure_releases_it(self, client, dynamo_ctx):
        limit = put_limit(dynamo_ctx, "T", 1)
        a = create_task(client, put_flow_run(dynamo_ctx)["id"], tags=["T"])
        propose(client, a["id"], "RUNNING")
        assert propose(client, a["id"], "CANCELLING").json()["status"] == "ACCEPT"
        assert limit_slots(dynamo_ctx, limit["id"]) == [a["id"]]
        assert propose(client, a["id"], "FAILED", force=True).json()["status"] == "ACCEPT"
        assert limit_slots(dynamo_ctx, limit["id"]) == []

    def test_a_zero_limit_aborts(self, client, dynamo_ctx):
        put_limit(dynamo_ctx, "T", 0)
        a = create_task(client, put_flow_run(dynamo_ctx)["id"], tags=["T"])
        r = propose(client, a["id"], "RUNNING")
        assert (r.status_code, r.json()["status"], r.json()["details"]["reason"]) == (
            200, "ABORT", 'The concurrency limit on tag "T" is 0 and will deadlock if the task tries to run again.')

    def test_the_slot_holder_proposing_running_again_waits_quirk_q14(self, client, dynamo_ctx):
        put_limit(dynamo_ctx, "T", 1)
        a = create_task(client, put_flow_run(dynamo_ctx)["id"], tags=["T"])
        propose(client, a["id"], "RUNNING")
        assert propose(client, a["id"], "RUNNING").json()["status"] == "WAIT"

    def test_a_full_tag_leaves_no_slot_on_the_free_one(self, client, dynamo_ctx):
        free = put_limit(dynamo_ctx, "ty", 5)
        put_limit(dynamo_ctx, "tz", 1, ["someone"])
        a = create_task(client, put_flow_run(dynamo_ctx)["id"], tags=["tz", "ty"])
        r = propose(client, a["id"], "RUNNING")
        assert r.json()["details"]["reason"] == "Concurrency limit for the tz tag has been reached"
        assert limit_slots(dynamo_ctx, free["id"]) == []

    @pytest.mark.usefixtures("moto_writes_serialised")
    def test_racing_runs_never_take_more_slots_than_the_limit(self, client, dynamo_ctx):
        limit = put_limit(dynamo_ctx, "race", 3)
        flow = put_flow_run(dynamo_ctx)
        tasks = [create_task(client, flow["id"], dynamic_key=str(i), tags=["race"])["id"] for i in range(12)]

        def run(tid):
            return propose(client, tid, "RUNNING").json()["status"]

        with concurrent.futures.ThreadPoolExecutor(max_workers=12) as ex:
            statuses = list(ex.map(run, tasks))
        winners = sorted(t for t, s in zip(tasks, statuses, strict=True) if s == "ACCEPT")
        assert len(winners) == 3
        assert statuses.count("WAIT") == 9
        assert sorted(limit_slots(dynamo_ctx, limit["id"])) == winners

        with concurrent.futures.ThreadPoolExecutor(max_workers=3) as ex:
            done = list(ex.map(lambda tid: propose(client, tid, "COMPLETED"), winners))
        assert [(r.status_code, r.json()["status"]) for r in done] == [(201, "ACCEPT")] * 3
        assert limit_slots(dynamo_ctx, limit["id"]) == []
