"""Task-run orchestration rules (orchestration spec §3.4), rule by rule, as pure functions of a
Transition: the policy, then (unless nullified) the global bookkeeping and the after-hooks."""

from __future__ import annotations

import datetime as dt
import random
import uuid

import pytest

from domain.orchestration import bookkeeping
from domain.orchestration.common_rules import scheduled_delay_seconds
from domain.orchestration.engine import Transition, run_after, run_policy
from domain.orchestration.task_rules import (
    AUTONOMOUS_TASK_POLICY,
    CORE_TASK_POLICY,
    MINIMAL_TASK_POLICY,
    jittered_delay,
    policy_for,
)
from domain.settings import Settings
from domain.states import server_state
from domain.timeutil import iso_utc, parse

NOW = dt.datetime(2025, 6, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
FLOW_RUN_ID = "0c9a0d4e-7b3e-4a53-9a48-5b9f7d9c1a10"
TASK_RUN_ID = "1d2b3c4e-5f60-4a7b-8c9d-0e1f2a3b4c5d"


def state(type_: str, name: str | None = None, *, at: dt.datetime = NOW, data=None, message=None, **details):
    return server_state(type_, at, name=name, message=message, data=data, **details)


def task_run(current: dict | None = None, **kw) -> dict:
    run = {"id": TASK_RUN_ID, "flow_run_id": FLOW_RUN_ID, "tags": [], "run_count": 0, "flow_run_run_count": 0,
           "empirical_policy": {"max_retries": 0, "retry_delay_seconds": 0.0, "retries": None, "retry_delay": None,
                                "retry_jitter_factor": None},
           "start_time": None, "end_time": None, "expected_start_time": None, "next_scheduled_start_time": None,
           "total_run_time": 0.0, "state": current}
    if "empirical_policy" in kw:
        run["empirical_policy"] = {**run["empirical_policy"], **kw.pop("empirical_policy")}
    run.update(kw)
    return run


def flow_run(type_: str | None = "RUNNING", run_count: int = 1, **details) -> dict:
    return {"id": FLOW_RUN_ID, "run_count": run_count, "state": state(type_, **details) if type_ else None}


def limit(tag: str, n: int, slots: list[str] | None = None) -> dict:
    return {"id": f"limit-{tag}", "tag": tag, "concurrency_limit": n, "active_slots": list(slots or []), "_rev": 3}


def decide(run: dict, proposed: dict, *, policy=CORE_TASK_POLICY, flow=..., limits=(), cached=None,
           settings: Settings | None = None, now: dt.datetime = NOW) -> Transition:
    t = Transition(kind="task", run=run, initial=run.get("state"), proposed=proposed, now=now,
                   settings=settings or Settings(), flow_run=flow_run() if flow is ... else flow,
                   limits=list(limits), cached=cached)
    due = run_policy(policy, t)
    if not t.nullified:
        bookkeeping.task(t)
        run_after(due, t)
    return t


class TestCacheRetrieval:
    def cached(self):
        return state("COMPLETED", data={"type": "reference", "storage_key": "abc"}, cache_key="K",
                     task_run_id="other-task")

    def test_a_live_cache_entry_rejects_running_with_a_cached_copy(self):
        cached = self.cached()
        t = decide(task_run(state("PENDING")), state("RUNNING", cache_key="K"), cached=cached)
        assert (t.status, t.reason, t.new_state) == ("REJECT", "Retrieved state from cache", True)
        assert (t.proposed["type"], t.proposed["name"]) == ("COMPLETED", "Cached")
        assert t.proposed["data"] == {"type": "reference", "storage_key": "abc"}
        assert t.proposed["id"] != cached["id"]
        assert t.proposed["state_details"]["task_run_id"] == TASK_RUN_ID  # bookkeeping: this task's id
        assert (t.run["run_count"], t.run["start_time"]) == (0, None)

    def test_refresh_cache_runs_the_task(self):
        t = decide(task_run(state("PENDING")), state("RUNNING", cache_key="K", refresh_cache=True),
                   cached=self.cached())
        assert (t.status, t.proposed["type"]) == ("ACCEPT", "RUNNING")

    def test_no_cache_entry_runs_the_task(self):
        t = decide(task_run(state("PENDING")), state("RUNNING", cache_key="K"), cached=None)
        assert (t.status, t.proposed["name"]) == ("ACCEPT", "Running")

    def test_a_cache_hit_is_answered_even_when_the_tag_limit_is_full(self):
        run = task_run(state("PENDING"), tags=["t"])
        t = decide(run, state("RUNNING", cache_key="K"), cached=self.cached(), limits=[limit("t", 1, ["x"])])
        assert (t.status, t.proposed["name"]) == ("REJECT", "Cached")
        assert t.changed_limits == {}


class TestHandleTaskTerminalStateTransitions:
    persisted = {"type": "reference", "storage_key": "abc"}

    @pytest.mark.parametrize("proposed", ["RUNNING", "FAILED", "COMPLETED", "PENDING"])
    def test_completed_with_a_persisted_result_rejects_every_type_quirk_q18(self, proposed):
        run = task_run(state("COMPLETED", data=self.persisted), run_count=1)
        t = decide(run, state(proposed))
        assert (t.status, t.reason, t.nullified) == ("REJECT", "This run is already completed.", True)

    @pytest.mark.parametrize("proposed", ["PAUSED", "CRASHED", "CANCELLING"])
    def test_paused_crashed_or_cancelling_after_terminal_aborts(self, proposed):
        t = decide(task_run(state("COMPLETED", data=self.persisted)), state(proposed))
        assert (t.status, t.reason) == ("ABORT", "Run is already COMPLETED.")

    def test_failed_to_running_resets_the_run_count(self):
        t = decide(task_run(state("FAILED"), run_count=3, flow_run_run_count=1), state("RUNNING"))
        assert (t.status, t.proposed["name"], t.run["run_count"]) == ("ACCEPT", "Running", 1)

    def test_completed_without_persisted_data_can_run_again(self):
        t = decide(task_run(state("COMPLETED", data=None), run_count=1, flow_run_run_count=1), state("RUNNING"))
        assert (t.status, t.run["run_count"]) == ("ACCEPT", 1)

    def test_a_task_of_a_retried_flow_run_is_renamed_retrying(self):
        run = task_run(state("FAILED"), run_count=1, flow_run_run_count=1)
        t = decide(run, state("RUNNING"), flow=flow_run(run_count=2))
        assert (t.proposed["name"], t.run["flow_run_run_count"]) == ("Retrying", 2)

    def test_the_run_count_is_restored_when_a_later_rule_waits(self):
        run = task_run(state("FAILED"), run_count=2, tags=["t"])
        t = decide(run, state("RUNNING"), limits=[limit("t", 1, ["someone"])])
        assert t.status == "WAIT"
        assert t.run["run_count"] == 2


class TestPreventRunningTasksFromStoppedFlows:
    def test_a_flow_run_without_state_aborts(self):
        t = decide(task_run(state("PENDING")), state("RUNNING"), flow=flow_run(None))
        assert (t.status, t.reason) == ("ABORT", "The enclosing flow must be running to begin task execution.")

    def test_a_pending_flow_run_aborts(self):
        t = decide(task_run(state("PENDING")), state("RUNNING"), flow=flow_run("PENDING"))
        assert (t.status, t.reason) == ("ABORT", "The enclosing flow must be running to begin task execution.")

    def test_a_paused_flow_run_answers_not_ready_with_its_pause_timeout(self):
        timeout = iso_utc(NOW + dt.timedelta(minutes=10))
        t = decide(task_run(state("PENDING")), state("RUNNING"),
                   flow=flow_run("PAUSED", pause_timeout=timeout, pause_reschedule=False))
        assert (t.status, t.new_state) == ("REJECT", True)
        assert t.reason == f"The flow is paused, new tasks can execute after resuming flow run: {FLOW_RUN_ID}."
        assert (t.proposed["type"], t.proposed["name"]) == ("PAUSED", "NotReady")
        assert t.proposed["state_details"]["pause_timeout"] == timeout
        assert t.run["run_count"] == 0

    def test_other_targets_than_running_ignore_the_flow_state(self):
        t = decide(task_run(state("PENDING")), state("COMPLETED"), flow=flow_run("PAUSED"))
        assert (t.status, t.proposed["type"]) == ("ACCEPT", "COMPLETED")


class TestSecureTaskConcurrencySlots:
    def test_a_free_limit_gives_the_run_a_slot(self):
        t = decide(task_run(state("PENDING"), tags=["t"]), state("RUNNING"), limits=[limit("t", 2, ["a"])])
        assert t.status == "ACCEPT"
        assert t.changed_limits["limit-t"]["active_slots"] == ["a", TASK_RUN_ID]
        assert t.changed_limits["limit-t"]["_rev"] == 3  # the service conditions the write on it

    def test_a_full_limit_waits_the_configured_seconds(self):
        t = decide(task_run(state("PENDING"), tags=["t"]), state("RUNNING"), limits=[limit("t", 1, ["a"])],
                   settings=Settings(task_run_tag_concurrency_slot_wait_seconds=7))
        assert (t.status, t.delay_seconds, t.reason) == ("WAIT", 7, "Concurrency limit for the t tag has been reached")

    def test_a_zero_limit_aborts(self):
        t = decide(task_run(state("PENDING"), tags=["t"]), state("RUNNING"), limits=[limit("t", 0)])
        assert (t.status, t.reason) == (
            "ABORT", 'The concurrency limit on tag "t" is 0 and will deadlock if the task tries to run again.')

    def test_the_slot_holder_waits_on_its_own_slot_quirk_q14(self):
        t = decide(task_run(state("RUNNING"), tags=["t"], run_count=1), state("RUNNING"),
                   limits=[limit("t", 1, [TASK_RUN_ID])])
        assert t.status == "WAIT"

    def test_a_full_second_tag_gives_back_the_slot_taken_on_the_first(self):
        t = decide(task_run(state("PENDING"), tags=["tz", "ty"]), state("RUNNING"),
                   limits=[limit("tz", 1, ["other"]), limit("ty", 5)])
        assert (t.status, t.reason) == ("WAIT", "Concurrency limit for the tz tag has been reached")
        assert TASK_RUN_ID not in t.changed_limits.get("limit-ty", {"active_slots": []})["active_slots"]

    def test_limits_of_other_tags_are_ignored(self):
        t = decide(task_run(state("PENDING"), tags=["t"]), state("RUNNING"), limits=[limit("u", 0)])
        assert t.status == "ACCEPT"

    def test_a_forced_running_takes_no_slot(self):
        t = decide(task_run(state("PENDING"), tags=["t"]), state("RUNNING"), policy=MINIMAL_TASK_POLICY,
                   limits=[limit("t", 1, ["a"])])
        assert (t.status, t.changed_limits) == ("ACCEPT", {})


class TestReleaseTaskConcurrencySlots:
    def test_completing_gives_the_slot_back(self):
        t = decide(task_run(state("RUNNING"), tags=["t"], run_count=1), state("COMPLETED"),
                   limits=[limit("t", 1, [TASK_RUN_ID, "b"])])
        assert t.changed_limits["limit-t"]["active_slots"] == ["b"]

    def test_cancelling_keeps_the_slot(self):
        t = decide(task_run(state("RUNNING"), tags=["t"], run_count=1), state("CANCELLING"),
                   limits=[limit("t", 1, [TASK_RUN_ID])])
        assert t.changed_limits == {}

    def test_a_forced_failure_out_of_cancelling_gives_the_slot_back(self):
        t = decide(task_run(state("CANCELLING"), tags=["t"], run_count=1), state("FAILED"),
                   policy=MINIMAL_TASK_POLICY, limits=[limit("t", 1, [TASK_RUN_ID])])
        assert t.changed_limits["limit-t"]["active_slots"] == []

    def test_a_nullified_transition_releases_nothing(self):
        t = decide(task_run(state("RUNNING"), tags=["t"], run_count=1), state("CRASHED"), flow=None,
                   limits=[limit("t", 1, [TASK_RUN_ID])], policy=AUTONOMOUS_TASK_POLICY)
        assert t.status == "ACCEPT"  # autonomous RUNNING -> CRASHED is accepted and releases
        t = decide(task_run(state("COMPLETED", data={"type": "reference"}), tags=["t"]), state("CRASHED"),
                   limits=[limit("t", 1, [TASK_RUN_ID])])
        assert (t.status, t.changed_limits) == ("ABORT", {})


class TestScheduledTime:
    @pytest.mark.parametrize(("seconds", "delay"), [
        (5, 5), (0.3, 0), (0.5, 0), (1.5, 1), (1.8, 2), (2.5, 2), (-0.7, -1), (-0.3, 0), (-1.3, -1),
    ])
    def test_delay_rounding_matches_the_reference(self, seconds, delay):
        assert scheduled_delay_seconds(NOW + dt.timedelta(seconds=seconds), NOW) == delay

    def test_running_before_the_scheduled_time_waits(self):
        due = iso_utc(NOW + dt.timedelta(seconds=3))
        t = decide(task_run(state("SCHEDULED", "AwaitingRetry", scheduled_time=due)), state("RUNNING"))
        assert (t.status, t.delay_seconds, t.reason) == ("WAIT", 3, "Scheduled time is in the future")

    def test_pending_copies_the_scheduled_time_and_then_running_waits(self):
        due = iso_utc(NOW + dt.timedelta(seconds=3))
        t = decide(task_run(state("SCHEDULED", "AwaitingRetry", scheduled_time=due)), state("PENDING"))
        assert (t.status, t.proposed["state_details"]["scheduled_time"]) == ("ACCEPT", due)
        t = decide(task_run(t.proposed), state("RUNNING"))
        assert (t.status, t.delay_seconds) == ("WAIT", 3)

    def test_pending_keeps_its_own_scheduled_time(self):
        mine = iso_utc(NOW - dt.timedelta(seconds=30))
        t = decide(task_run(state("SCHEDULED", scheduled_time=iso_utc(NOW + dt.timedelta(seconds=5)))),
                   state("PENDING", scheduled_time=mine))
        assert t.proposed["state_details"]["scheduled_time"] == mine


class TestRetryFailedTasks:
    def failing(self, run_count=1, **policy):
        return task_run(state("RUNNING"), run_count=run_count, empirical_policy=policy)

    def test_a_failure_with_retries_left_becomes_awaiting_retry_after_the_listed_delay(self):
        t = decide(self.failing(retries=2, retry_delay=[3, 7]),
                   state("FAILED", message="boom", data={"type": "unpersisted"}))
        assert (t.status, t.reason, t.new_state) == ("REJECT", "Retrying", True)
        p = t.proposed
        assert (p["type"], p["name"], p["message"], p["data"]) == ("SCHEDULED", "AwaitingRetry", "boom",
                                                                   {"type": "unpersisted"})
        assert parse(p["state_details"]["scheduled_time"]) == NOW + dt.timedelta(seconds=3)
        assert t.run["next_scheduled_start_time"] == iso_utc(NOW + dt.timedelta(seconds=3))

    def test_the_second_attempt_uses_the_second_delay(self):
        t = decide(self.failing(run_count=2, retries=2, retry_delay=[3, 7]), state("FAILED"))
        assert parse(t.proposed["state_details"]["scheduled_time"]) == NOW + dt.timedelta(seconds=7)

    def test_no_retries_left_accepts_the_failure(self):
        t = decide(self.failing(run_count=2, retries=1, retry_delay=0), state("FAILED"))
        assert (t.status, t.proposed["name"]) == ("ACCEPT", "Failed")

    def test_retries_null_accepts_the_failure(self):
        assert decide(self.failing(), state("FAILED")).status == "ACCEPT"

    def test_retriable_false_accepts_the_failure(self):
        t = decide(self.failing(retries=3), state("FAILED", retriable=False))
        assert (t.status, t.proposed["type"]) == ("ACCEPT", "FAILED")

    def test_only_failures_out_of_running_retry(self):
        run = task_run(state("PENDING"), empirical_policy={"retries": 3})
        assert decide(run, state("FAILED")).status == "ACCEPT"

    def test_jitter_with_zero_delay_retries_now_quirk_q10(self):
        t = decide(self.failing(retries=1, retry_delay=0, retry_jitter_factor=0.5), state("FAILED"))
        assert t.status == "REJECT"
        assert parse(t.proposed["state_details"]["scheduled_time"]) == NOW

    def test_jittered_delays_stay_within_the_clamped_range(self):
        rng = random.Random(7)
        draws = [jittered_delay(10, 0.5, rng) for _ in range(2000)]
        assert max(draws) <= 15.0 + 1e-9
        assert min(draws) >= 6.29  # lower clamp for factor 0.5: 10 * log2(2**1.5 / (2**1.5 - 1)) ≈ 6.294
        assert 8.0 < sorted(draws)[1000] < 12.0  # median stays near the base delay


class TestRenameReruns:
    def test_a_rerun_is_named_rerunning(self):
        run = task_run(state("PENDING"), run_count=1, flow_run_run_count=1)
        t = decide(run, state("RUNNING"))
        assert (t.proposed["name"], t.run["run_count"]) == ("Rerunning", 2)

    def test_a_run_after_awaiting_retry_is_named_retrying(self):
        run = task_run(state("SCHEDULED", "AwaitingRetry", scheduled_time=iso_utc(NOW)), run_count=1)
        t = decide(run, state("RUNNING"))
        assert (t.proposed["name"], t.run["run_count"]) == ("Retrying", 2)


class TestUpdateFlowRunTrackerOnTasks:
    def test_running_records_the_flow_runs_attempt(self):
        t = decide(task_run(state("PENDING")), state("RUNNING"), flow=flow_run(run_count=3))
        assert t.run["flow_run_run_count"] == 3

    def test_a_waiting_transition_records_nothing(self):
        due = iso_utc(NOW + dt.timedelta(seconds=9))
        t = decide(task_run(state("SCHEDULED", scheduled_time=due)), state("RUNNING"), flow=flow_run(run_count=3))
        assert t.run["flow_run_run_count"] == 0


class TestCacheInsertion:
    def test_a_completed_state_with_a_cache_key_is_marked_for_the_cache(self):
        t = decide(task_run(state("RUNNING"), run_count=1), state("COMPLETED", cache_key="K"))
        assert t.extra.get("cache_insert") is True

    def test_a_cached_copy_is_not_inserted_again(self):
        cached = state("COMPLETED", cache_key="K")
        t = decide(task_run(state("PENDING")), state("RUNNING", cache_key="K"), cached=cached)
        assert t.proposed["name"] == "Cached"
        assert "cache_insert" not in t.extra


class TestPolicies:
    def test_policy_choice(self):
        assert policy_for({"flow_run_id": "f"}, False) is CORE_TASK_POLICY
        assert policy_for({"flow_run_id": "f"}, True) is MINIMAL_TASK_POLICY
        assert policy_for({"flow_run_id": None}, True) is AUTONOMOUS_TASK_POLICY

    def test_pending_to_pending_is_accepted_for_tasks_of_a_flow(self):
        assert decide(task_run(state("PENDING")), state("PENDING")).status == "ACCEPT"

    def test_autonomous_tasks_cannot_go_back_to_pending(self):
        run = task_run(state("RUNNING"), flow_run_id=None, run_count=1)
        t = decide(run, state("PENDING"), policy=AUTONOMOUS_TASK_POLICY, flow=None)
        assert (t.status, t.reason) == (
            "ABORT", "This run is in a RUNNING state and cannot transition to a PENDING state.")

    def test_forced_completion_out_of_a_persisted_failure_gets_the_unknown_result(self):
        run = task_run(state("FAILED", data={"type": "reference", "storage_key": "k"}))
        t = decide(run, state("COMPLETED", data={"type": "unpersisted"}), policy=MINIMAL_TASK_POLICY)
        assert t.proposed["data"] == {"type": "unknown", "value": None}

    def test_running_again_is_named_rerunning_with_the_count_growing(self):
        run = task_run(state("RUNNING", "Rerunning"), run_count=2, flow_run_run_count=1)
        t = decide(run, state("RUNNING"))
        assert (t.status, t.proposed["name"], t.run["run_count"]) == ("ACCEPT", "Rerunning", 3)

    def test_unique_state_ids(self):
        assert uuid.UUID(decide(task_run(state("PENDING")), state("RUNNING")).proposed["id"])
