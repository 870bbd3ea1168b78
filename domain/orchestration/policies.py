"""The policies (orchestration spec §3.1, §3.3): ordered lists of rules, chosen per request.

| run | ``force=false`` | ``force=true`` |
|---|---|---|
| flow run (set_state, resume) | CORE_FLOW_POLICY | MINIMAL_FLOW_POLICY |
| initial state of a new flow run, cancellation of subflows | MINIMAL_FLOW_POLICY | — |
| late-runs marking (scheduler tick) | MARK_LATE_RUNS_POLICY | — |

Task-run policies live beside the task rules.
"""

from __future__ import annotations

from domain.orchestration import flow_rules as r

CORE_FLOW_POLICY = (
    r.PREVENT_DUPLICATE_TRANSITIONS,
    r.HANDLE_FLOW_TERMINAL_STATE_TRANSITIONS,
    r.ENFORCE_CANCELLING_TO_CANCELLED,
    r.BYPASS_CANCELLING_WITH_NO_INFRA,
    r.PREVENT_PENDING_TRANSITIONS,
    r.ENSURE_ONLY_SCHEDULED_MARKED_LATE,
    r.HANDLE_PAUSING_FLOWS,
    r.HANDLE_RESUMING_PAUSED_FLOWS,
    r.COPY_SCHEDULED_TIME,
    r.WAIT_FOR_SCHEDULED_TIME,
    r.RETRY_FAILED_FLOWS,
)

MINIMAL_FLOW_POLICY = (
    r.ADD_UNKNOWN_RESULT,
    r.BYPASS_CANCELLING_WITH_NO_INFRA,
)

MARK_LATE_RUNS_POLICY = (
    r.ENSURE_ONLY_SCHEDULED_MARKED_LATE,
)

FLOW_POLICIES = {"core": CORE_FLOW_POLICY, "minimal": MINIMAL_FLOW_POLICY, "late": MARK_LATE_RUNS_POLICY}


def flow_policy(*, force: bool = False, name: str | None = None) -> tuple:
    """The rules for a flow-run proposal: ``name`` ("core", "minimal", "late") wins, then ``force``."""
    if name is not None:
        return FLOW_POLICIES[name]
    return MINIMAL_FLOW_POLICY if force else CORE_FLOW_POLICY
