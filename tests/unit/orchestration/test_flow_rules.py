"""CoreFlowPolicy rule by rule, the engine's binding of rules to the intended transition, and the
global bookkeeping — pure: run documents and wire states in memory, no store (orchestration spec
§3.1-§3.3)."""

import datetime as dt
import uuid

import pytest

from domain.orchestration import bookkeeping
from domain.orchestration.engine import Transition, run_after, run_policy
from domain.orchestration.policies import CORE_FLOW_POLICY, MARK_LATE_RUNS_POLICY, MINIMAL_FLOW_POLICY
from domain.services.flow_runs import FlowRunPolicy, new_run
from domain.states import server_state

NOW = dt.datetime(2025, 1, 1, 12, 0, tzinfo=dt.timezone.utc)


def make_run(type_=None, name=None, *, deployment=False, parent=None, policy=None, run_count=0, pid=None,
             data=None, **details):
    doc = new_run(run_id=str(uuid.uuid4()), now=NOW, flow_id=str(uuid.uuid4()),
                  deployment={"id": str(uuid.uuid4())} if deployment else None, parent_task_run_id=parent,
                  empirical_policy=FlowRunPolicy(**(policy or {})).wire())
    doc["run_count"] = run_count
    doc["infrastructure_pid"] = pid
    if type_ is not None:
        state = server_state(type_, NOW - dt.timedelta(seconds=10), name=name, data=data, **details)
        doc.update(state=state, state_type=type_, state_name=state["name"], state_id=state["id"],
                   _state_entered=state["timestamp"])
    return doc


def decide(run, type_, name=None, *, rules=CORE_FLOW_POLICY, now=NOW, message=None, data=None, **details):
    proposed = server_state(type_, now, name=name, message=message, data=data, **details)
    t = Transition(kind="flow", run=run, initial=run.get("state"), proposed=proposed, now=now)
    due = run_policy(rules, t)
    if not t.nullified:
        bookkeeping.flow(t)
    run_after(due, t)
    return t


def outcome(t):
    return t.status, t.reason, t.proposed_type


class TestPreventDuplicateTransitions:
    def test_same_transition_id_is_rejected_to_current(self):
        tid = str(uuid.uuid4())
        t = decide(make_run("RUNNING", transition_id=tid), "COMPLETED", transition_id=tid)
        assert outcome(t) == ("REJECT", "This run has already made this state transition.", None)

    def test_other_or_missing_ids_pass(self):
        assert decide(make_run("RUNNING", transition_id="a"), "COMPLETED", transition_id="b").status == "ACCEPT"
        assert decide(make_run("RUNNING"), "COMPLETED", transition_id="b").status == "ACCEPT"


class TestHandleFlowTerminalStateTransitions:
    @pytest.mark.parametrize("target", ["CANCELLING", "PAUSED", "CRASHED"])
    def test_no_crash_pause_or_cancel_after_the_end(self, target):
        t = decide(make_run("FAILED"), target)
        assert outcome(t) == ("ABORT", "Run is already in terminal state FAILED.", None)

    def test_persisted_result_blocks_reruns_only(self):
        run = make_run("COMPLETED", data={"type": "reference"})
        assert outcome(decide(run, "RUNNING")) == ("REJECT", "Run is already COMPLETED.", None)
        assert decide(make_run("COMPLETED", data={"type": "reference"}), "FAILED").status == "ACCEPT"
        assert decide(make_run("COMPLETED", data={"type": "unpersisted"}), "RUNNING").status == "ACCEPT"

    def test_no_rescheduling_without_deployment(self):
        t = decide(make_run("FAILED"), "SCHEDULED")
        assert outcome(t) == ("ABORT", "Cannot reschedule a run without an associated deployment.", None)

    def test_rerun_resets_the_pause_bookkeeping(self):
        run = make_run("FAILED", deployment=True, policy={"pause_keys": ["1"], "resuming": True})
        t = decide(run, "SCHEDULED", name="AwaitingRetry")
        assert t.status == "ACCEPT"
        policy = t.run["empirical_policy"]
        assert (policy["pause_keys"], policy["resuming"], policy["retry_type"]) == ([], False, "reschedule")
        t = decide(make_run("FAILED", policy={"pause_keys": ["1"], "retry_type": "in_process"}), "RUNNING")
        assert (t.run["empirical_policy"]["pause_keys"], t.run["empirical_policy"]["retry_type"]) == ([], None)

    def test_reset_is_undone_when_a_later_rule_refuses(self):
        run = make_run("CANCELLED", deployment=True, policy={"pause_keys": ["1"]})
        t = decide(run, "SCHEDULED")
        assert t.reason == "Cannot transition flows that are cancelling to a state other than Cancelled."
        assert t.run["empirical_policy"]["pause_keys"] == ["1"]


class TestEnforceCancellingToCancelledTransition:
    @pytest.mark.parametrize("target", ["CRASHED", "COMPLETED", "RUNNING", "CANCELLING"])
    def test_cancelling_only_to_cancelled(self, target):
        t = decide(make_run("CANCELLING"), target)
        assert outcome(t) == ("REJECT", "Cannot transition flows that are cancelling to a state other than Cancelled.",
                              None)
        assert decide(make_run("CANCELLING"), "CANCELLED").status == "ACCEPT"


class TestBypassCancellingFlowRunsWithNoInfra:
    def test_scheduled_without_pid_is_cancelled(self):
        t = decide(make_run("SCHEDULED"), "CANCELLING")
        assert outcome(t) == ("REJECT", "Scheduled flow run has no infrastructure to terminate.", "CANCELLED")
        assert t.new_state and t.proposed["name"] == "Cancelled"

    def test_scheduled_with_pid_goes_cancelling_unless_resuming(self):
        assert decide(make_run("SCHEDULED", pid="h:1"), "CANCELLING").status == "ACCEPT"
        assert decide(make_run("SCHEDULED", "Resuming", pid="h:1"), "CANCELLING").proposed_type == "CANCELLED"

    def test_suspended_is_cancelled_also_when_forced(self):
        for rules in (CORE_FLOW_POLICY, MINIMAL_FLOW_POLICY):
            t = decide(make_run("PAUSED", "Suspended", pause_reschedule=True, deployment=True), "CANCELLING",
                       rules=rules)
            assert outcome(t) == ("REJECT", "Suspended flow run has no infrastructure to terminate.", "CANCELLED")

    def test_a_cancelled_suspended_run_is_not_resumed_by_rule_8(self):
        t = decide(make_run("PAUSED", "Suspended", pause_reschedule=True, deployment=True,
                            pause_timeout=(NOW - dt.timedelta(hours=1)).isoformat()), "CANCELLING")
        assert t.proposed_type == "CANCELLED"
        assert t.run["empirical_policy"]["resuming"] is False


class TestPreventPendingTransitions:
    @pytest.mark.parametrize("current", ["PENDING", "RUNNING"])
    def test_second_submission_aborts(self, current):
        t = decide(make_run(current), "PENDING")
        assert outcome(t) == ("ABORT", f"This run is in a {current} state and cannot transition to a PENDING state.",
                              None)


class TestEnsureOnlyScheduledFlowsMarkedLate:
    def test_late_only_from_scheduled(self):
        assert outcome(decide(make_run("PENDING"), "SCHEDULED", "Late")) == (
            "REJECT", "Only scheduled flows can be marked late.", None)
        assert decide(make_run("SCHEDULED"), "SCHEDULED", "Late", rules=MARK_LATE_RUNS_POLICY).status == "ACCEPT"
        assert decide(make_run("RUNNING"), "SCHEDULED", "Late", rules=MARK_LATE_RUNS_POLICY).status == "REJECT"


class TestHandlePausingFlows:
    def test_no_state_aborts(self):
        assert outcome(decide(make_run(), "PAUSED")) == ("ABORT", "Cannot pause flows with no state.", None)

    def test_only_running_runs_pause(self):
        assert decide(make_run("PENDING"), "PAUSED", "Suspended").reason == (
            "Cannot suspend flows that are not currently running.")

    def test_an_accepted_pause_records_its_key_once(self):
        t = decide(make_run("RUNNING"), "PAUSED", pause_key="1")
        assert (t.status, t.run["empirical_policy"]["pause_keys"]) == ("ACCEPT", ["1"])
        t.run["state"] = t.proposed
        again = decide(t.run, "PAUSED", pause_key="1")
        assert again.reason == "Cannot pause flows that are not currently running."

    def test_a_used_key_is_refused(self):
        t = decide(make_run("RUNNING", policy={"pause_keys": ["1"]}), "PAUSED", pause_key="1")
        assert outcome(t) == ("REJECT", "This pause has already fired.", None)

    def test_key_defaults_to_a_uuid(self):
        t = decide(make_run("RUNNING"), "PAUSED")
        assert uuid.UUID(t.run["empirical_policy"]["pause_keys"][0])

    def test_suspend_needs_a_deployment_and_no_parent(self):
        t = decide(make_run("RUNNING", parent=str(uuid.uuid4()), deployment=True), "PAUSED", "Suspended",
                   pause_reschedule=True)
        assert outcome(t) == ("ABORT", "Cannot suspend subflows.", None)
        t = decide(make_run("RUNNING"), "PAUSED", "Suspended", pause_reschedule=True)
        assert outcome(t) == ("ABORT", "Cannot suspend flows without a deployment.", None)


class TestHandleResumingPausedFlows:
    def test_only_running_scheduled_or_terminal_and_resuming_is_set_anyway_quirk_q3(self):
        t = decide(make_run("PAUSED"), "PENDING")
        assert outcome(t) == ("REJECT", "This run cannot transition to the StateType.PENDING state from the "
                                        "StateType.PAUSED state.", None)
        assert t.run["empirical_policy"]["resuming"] is True

    def test_suspended_ad_hoc_run_cannot_reschedule(self):
        t = decide(make_run("PAUSED", "Suspended", pause_reschedule=True), "SCHEDULED", "Resuming")
        assert outcome(t) == ("REJECT", "Cannot reschedule a resuming flow run without a deployment.", None)

    def test_expired_pause_fails(self):
        run = make_run("PAUSED", pause_timeout=(NOW - dt.timedelta(seconds=1)).isoformat())
        t = decide(run, "RUNNING")
        assert outcome(t) == ("REJECT", "The flow run pause has timed out and can no longer resume.", "FAILED")
        assert t.proposed["message"] == "The flow was running and never resumed."
        assert t.run["empirical_policy"]["resuming"] is True

    def test_accepted_resume_counts_the_run_then_marks_resuming(self):
        t = decide(make_run("PAUSED", run_count=1), "RUNNING")
        assert (t.status, t.run["run_count"], t.run["empirical_policy"]["resuming"]) == ("ACCEPT", 2, True)


class TestScheduledTimeRules:
    def test_pending_copies_the_scheduled_time(self):
        due = (NOW + dt.timedelta(seconds=5)).isoformat()
        t = decide(make_run("SCHEDULED", scheduled_time=due), "PENDING")
        assert t.proposed["state_details"]["scheduled_time"] == due

    @pytest.mark.parametrize(("seconds", "delay"), [(5, 5), (1.8, 2), (1.5, 1), (0.5, None), (0.3, None), (-3, None)])
    def test_running_waits_for_the_scheduled_time(self, seconds, delay):
        due = (NOW + dt.timedelta(seconds=seconds)).isoformat()
        t = decide(make_run("PENDING", scheduled_time=due), "RUNNING")
        if delay is None:
            assert t.status == "ACCEPT"
        else:
            assert (t.status, t.delay_seconds, t.reason) == ("WAIT", delay, "Scheduled time is in the future")


class TestRetryFailedFlows:
    def test_retries_left_reject_to_awaiting_retry(self):
        t = decide(make_run("RUNNING", run_count=1, policy={"retries": 1, "retry_delay": 2}), "FAILED",
                   message="oops", data={"type": "unpersisted"})
        assert outcome(t) == ("REJECT", "Retrying", "SCHEDULED")
        assert (t.proposed["name"], t.proposed["message"], t.proposed["data"]) == (
            "AwaitingRetry", "oops", {"type": "unpersisted"})
        assert t.proposed["state_details"]["scheduled_time"] == (NOW + dt.timedelta(seconds=2)).isoformat()
        assert t.run["empirical_policy"]["retry_type"] == "in_process"
        assert t.run["next_scheduled_start_time"] == (NOW + dt.timedelta(seconds=2)).isoformat()

    def test_no_retries_left(self):
        assert decide(make_run("RUNNING", run_count=2, policy={"retries": 1}), "FAILED").status == "ACCEPT"
        assert decide(make_run("RUNNING", run_count=1), "FAILED").status == "ACCEPT"


class TestMinimalFlowPolicy:
    def test_forced_completion_of_a_persisted_failure_is_unknown(self):
        t = decide(make_run("FAILED", data={"type": "reference"}), "COMPLETED", rules=MINIMAL_FLOW_POLICY,
                   data={"type": "reference", "x": 1})
        assert t.proposed["data"] == {"type": "unknown", "value": None}

    def test_force_bypasses_the_guards(self):
        assert decide(make_run("CANCELLING"), "CRASHED", rules=MINIMAL_FLOW_POLICY).status == "ACCEPT"


class TestBookkeeping:
    def test_times_and_counts(self):
        run = make_run("PENDING")
        t = decide(run, "RUNNING")
        run = t.run
        assert (run["run_count"], run["start_time"], run["state_type"]) == (1, NOW.isoformat(), "RUNNING")
        later = NOW + dt.timedelta(seconds=30)
        run["state"] = t.proposed
        t = decide(run, "COMPLETED", now=later)
        assert (t.run["total_run_time"], t.run["end_time"]) == (30.0, later.isoformat())
        run = t.run
        run["state"] = t.proposed
        t = decide(run, "RUNNING", now=later)
        assert (t.run["end_time"], t.run["run_count"]) == (None, 2)

    def test_state_details_name_the_run_and_its_parent_task(self):
        parent = str(uuid.uuid4())
        t = decide(make_run("PENDING", parent=parent), "RUNNING")
        assert t.proposed["state_details"]["flow_run_id"] == t.run["id"]
        assert t.proposed["state_details"]["task_run_id"] == parent

    def test_nullified_transitions_change_nothing(self):
        run = make_run("RUNNING")
        before = dict(run)
        t = decide(run, "PENDING")
        assert t.nullified and t.run == before
