"""The flow-run rules of CoreFlowPolicy (orchestration spec §3.3), one small class per rule; the
rules flows share with task runs (PreventPendingTransitions, CopyScheduledTime,
WaitForScheduledTime, AddUnknownResult) are in ``common_rules.py``. Reasons are the reference's
texts, character for character.

Rules are stateless singletons: anything a rule must remember between ``before`` and
``cleanup``/``after`` goes into ``t.extra`` under the rule's name.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from domain.orchestration.common_rules import (
    AddUnknownResult,
    CopyScheduledTime,
    PreventPendingTransitions,
    WaitForScheduledTime,
)
from domain.orchestration.engine import ALL, TERMINAL, Transition
from domain.states import server_state
from domain.timeutil import iso_utc, parse

SCHEDULED, PENDING, RUNNING, PAUSED = "SCHEDULED", "PENDING", "RUNNING", "PAUSED"
COMPLETED, FAILED, CANCELLED, CRASHED, CANCELLING = "COMPLETED", "FAILED", "CANCELLED", "CRASHED", "CANCELLING"


def _details(state: dict[str, Any] | None) -> dict[str, Any]:
    return (state or {}).get("state_details") or {}


def _policy(t: Transition) -> dict[str, Any]:
    policy = t.run.get("empirical_policy")
    if not isinstance(policy, dict):
        policy = {}
        t.run["empirical_policy"] = policy
    return policy


def _copy_policy(t: Transition) -> dict[str, Any]:
    policy = dict(_policy(t))
    policy["pause_keys"] = list(policy.get("pause_keys") or [])
    return policy


class PreventDuplicateTransitions:
    """1. A proposal carrying the transition id of the current state was already made."""

    FROM, TO = ALL, ALL
    UNIVERSAL = False  # a rule, not a transform (it is first, so the difference never shows)

    def before(self, t: Transition) -> None:
        if t.initial is None or t.proposed is None:
            return
        current, proposed = _details(t.initial).get("transition_id"), _details(t.proposed).get("transition_id")
        if current is not None and proposed is not None and current == proposed:
            t.reject("This run has already made this state transition.")


class HandleFlowTerminalStateTransitions:
    """2. Leaving a terminal state: no crash/pause/cancel, no re-run of a persisted result, no
    rescheduling without a deployment; a re-run resets the pause bookkeeping."""

    FROM, TO = TERMINAL, ALL
    _KEY = "HandleFlowTerminalStateTransitions.policy"

    def before(self, t: Transition) -> None:
        t.extra[self._KEY] = _copy_policy(t)
        proposed, initial = t.proposed, t.initial
        assert proposed is not None and initial is not None
        if proposed["type"] in (CANCELLING, PAUSED, CRASHED):
            t.abort(f"Run is already in terminal state {initial['type']}.")
            return
        data = initial.get("data")
        if initial["type"] == COMPLETED and proposed["type"] not in TERMINAL and data and not (
                isinstance(data, dict) and data.get("type") == "unpersisted"):
            t.reject("Run is already COMPLETED.")
            return
        if proposed["type"] == SCHEDULED and not t.run.get("deployment_id"):
            t.abort("Cannot reschedule a run without an associated deployment.")
            return
        if proposed["type"] not in TERMINAL:
            policy = _copy_policy(t)
            policy["resuming"] = False
            policy["pause_keys"] = []
            policy["retry_type"] = "reschedule" if proposed["type"] == SCHEDULED else None
            t.run["empirical_policy"] = policy

    def cleanup(self, t: Transition) -> None:
        saved = t.extra.get(self._KEY)
        if saved is not None:
            t.run["empirical_policy"] = saved


class EnforceCancellingToCancelledTransition:
    """3. A cancelling (or cancelled) run may only become Cancelled."""

    FROM = frozenset((CANCELLED, CANCELLING))
    TO = ALL - {CANCELLED}

    def before(self, t: Transition) -> None:
        t.reject("Cannot transition flows that are cancelling to a state other than Cancelled.")


class BypassCancellingFlowRunsWithNoInfra:
    """4. Nothing to tear down (scheduled without infrastructure, resuming, suspended): cancel at once."""

    FROM = frozenset((SCHEDULED, PAUSED))
    TO = frozenset((CANCELLING,))

    def before(self, t: Transition) -> None:
        initial = t.initial
        assert initial is not None
        if (initial["type"] == SCHEDULED and not t.run.get("infrastructure_pid")) or initial.get("name") == "Resuming":
            t.reject("Scheduled flow run has no infrastructure to terminate.", server_state(CANCELLED, t.now))
        elif initial["type"] == PAUSED and _details(initial).get("pause_reschedule"):
            t.reject("Suspended flow run has no infrastructure to terminate.", server_state(CANCELLED, t.now))


class EnsureOnlyScheduledFlowsMarkedLate:
    """6. ``Late`` is only for runs that are still scheduled."""

    FROM = ALL
    TO = frozenset((SCHEDULED,))

    def before(self, t: Transition) -> None:
        assert t.proposed is not None
        if t.proposed.get("name") == "Late" and t.initial_type != SCHEDULED:
            t.reject("Only scheduled flows can be marked late.")


class HandlePausingFlows:
    """7. Pausing/suspending: only running runs, each pause key once, suspend needs a deployment
    and no parent task."""

    FROM = ALL
    TO = frozenset((PAUSED,))
    _KEY = "HandlePausingFlows.key"

    def before(self, t: Transition) -> None:
        proposed = t.proposed
        assert proposed is not None
        verb = "suspend" if proposed.get("name") == "Suspended" else "pause"
        if t.initial is None:
            t.abort(f"Cannot {verb} flows with no state.")
            return
        if t.initial_type != RUNNING:
            t.reject(f"Cannot {verb} flows that are not currently running.")
            return
        key = _details(proposed).get("pause_key") or str(uuid.uuid4())
        t.extra[self._KEY] = key
        if key in (_policy(t).get("pause_keys") or []):
            t.reject(f"This {verb} has already fired.")
            return
        if _details(proposed).get("pause_reschedule"):
            if t.run.get("parent_task_run_id"):
                t.abort(f"Cannot {verb} subflows.")
                return
            if t.run.get("deployment_id") is None:
                t.abort(f"Cannot {verb} flows without a deployment.")
                return

    def after(self, t: Transition) -> None:
        policy = _copy_policy(t)
        key = t.extra.get(self._KEY)
        if key is not None and key not in policy["pause_keys"]:
            policy["pause_keys"].append(key)
        t.run["empirical_policy"] = policy


class HandleResumingPausedFlows:
    """8. Leaving a pause: only to running, scheduled or terminal; a suspended run needs a
    deployment; an expired pause fails. Marks the run ``resuming`` whatever the answer (Q3)."""

    FROM = frozenset((PAUSED,))
    TO = ALL

    def before(self, t: Transition) -> None:
        proposed, initial = t.proposed, t.initial
        assert proposed is not None and initial is not None
        if not (proposed["type"] in (RUNNING, SCHEDULED) or proposed["type"] in TERMINAL):
            t.reject(f"This run cannot transition to the StateType.{proposed['type']} state from the "
                     f"StateType.{initial['type']} state.")
            return
        verb = "suspend" if proposed.get("name") == "Suspended" else "pause"
        name = (proposed.get("name") or "").lower()
        if _details(initial).get("pause_reschedule") and not t.run.get("deployment_id"):
            t.reject(f"Cannot reschedule a {name} flow run without a deployment.")
            return
        timeout = _details(initial).get("pause_timeout")
        if timeout and parse(timeout) < t.now:
            t.reject(f"The flow run {verb} has timed out and can no longer resume.",
                     server_state(FAILED, t.now, message=f"The flow was {name} and never resumed."))
            return

    def after(self, t: Transition) -> None:
        policy = _copy_policy(t)
        policy["resuming"] = True
        t.run["empirical_policy"] = policy


class RetryFailedFlows:
    """11. A failing run with retries left is scheduled again (in process) instead."""

    FROM = frozenset((RUNNING,))
    TO = frozenset((FAILED,))

    def before(self, t: Transition) -> None:
        policy = _policy(t)
        retries = policy.get("retries")
        run_count = int(t.run.get("run_count") or 0)
        if retries is None or run_count > retries:
            return
        updated = _copy_policy(t)
        updated["resuming"] = False
        updated["pause_keys"] = []
        updated["retry_type"] = "in_process"
        t.run["empirical_policy"] = updated
        delay = policy.get("retry_delay") or 0
        proposed = t.proposed
        assert proposed is not None
        retry = server_state(SCHEDULED, t.now, name="AwaitingRetry", message=proposed.get("message"),
                             data=proposed.get("data"),
                             scheduled_time=iso_utc(t.now + dt.timedelta(seconds=float(delay))))
        t.reject("Retrying", retry)


PREVENT_DUPLICATE_TRANSITIONS = PreventDuplicateTransitions()
HANDLE_FLOW_TERMINAL_STATE_TRANSITIONS = HandleFlowTerminalStateTransitions()
ENFORCE_CANCELLING_TO_CANCELLED = EnforceCancellingToCancelledTransition()
BYPASS_CANCELLING_WITH_NO_INFRA = BypassCancellingFlowRunsWithNoInfra()
PREVENT_PENDING_TRANSITIONS = PreventPendingTransitions()
ENSURE_ONLY_SCHEDULED_MARKED_LATE = EnsureOnlyScheduledFlowsMarkedLate()
HANDLE_PAUSING_FLOWS = HandlePausingFlows()
HANDLE_RESUMING_PAUSED_FLOWS = HandleResumingPausedFlows()
COPY_SCHEDULED_TIME = CopyScheduledTime()
WAIT_FOR_SCHEDULED_TIME = WaitForScheduledTime()
RETRY_FAILED_FLOWS = RetryFailedFlows()
ADD_UNKNOWN_RESULT = AddUnknownResult()
