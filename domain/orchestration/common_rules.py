"""Rules that flow-run and task-run policies share (orchestration spec §3.3 rules 5, 9, 10 and
MinimalFlowPolicy's AddUnknownResult; §3.4 rules 5, 6). Each is a stateless object with ``FROM``,
``TO`` and hooks over a ``Transition`` (see ``engine.py``); states are wire-shaped dicts."""

from __future__ import annotations

import datetime as dt

from domain.orchestration.engine import ALL, TERMINAL, Transition
from domain.timeutil import parse

UNKNOWN_RESULT = {"type": "unknown", "value": None}


def scheduled_delay_seconds(scheduled_time: dt.datetime, now: dt.datetime) -> int:
    """Whole seconds until ``scheduled_time`` the way the reference rounds them: the whole part
    truncated toward zero plus the fractional part rounded half-to-even, each keeping the sign."""
    total_us = (scheduled_time - now) // dt.timedelta(microseconds=1)
    sign = -1 if total_us < 0 else 1
    whole, frac = divmod(abs(total_us), 1_000_000)
    return sign * whole + round(sign * frac / 1e6)


class CopyScheduledTime:
    """SCHEDULED → PENDING: a Pending state without its own ``scheduled_time`` gets the current one."""

    FROM = frozenset({"SCHEDULED"})
    TO = frozenset({"PENDING"})

    def before(self, t: Transition) -> None:
        details = t.proposed["state_details"]
        if not details.get("scheduled_time"):
            details["scheduled_time"] = t.initial["state_details"].get("scheduled_time")


class WaitForScheduledTime:
    """{SCHEDULED, PENDING} → RUNNING before the current state's ``scheduled_time``: WAIT."""

    FROM = frozenset({"SCHEDULED", "PENDING"})
    TO = frozenset({"RUNNING"})

    def before(self, t: Transition) -> None:
        scheduled = t.initial["state_details"].get("scheduled_time")
        if not scheduled:
            return
        delay = scheduled_delay_seconds(parse(scheduled), t.now)
        if delay > 0:
            t.wait("Scheduled time is in the future", delay)


class PreventPendingTransitions:
    """{PENDING, CANCELLING, RUNNING, CANCELLED} → PENDING: ABORT (duplicate submissions)."""

    FROM = frozenset({"PENDING", "CANCELLING", "RUNNING", "CANCELLED"})
    TO = frozenset({"PENDING"})

    def before(self, t: Transition) -> None:
        t.abort(f"This run is in a {t.initial_type} state and cannot transition to a PENDING state.")


class AddUnknownResult:
    """{FAILED, CRASHED} → COMPLETED (forced) from a state with a persisted ``reference`` result:
    the Completed state gets the ``unknown`` result sentinel instead of the proposed data."""

    FROM = frozenset({"FAILED", "CRASHED"})
    TO = frozenset({"COMPLETED"})

    def before(self, t: Transition) -> None:
        data = t.initial.get("data")
        if isinstance(data, dict) and data.get("type") == "reference":
            t.proposed["data"] = dict(UNKNOWN_RESULT)


__all__ = [
    "ALL", "TERMINAL", "AddUnknownResult", "CopyScheduledTime", "PreventPendingTransitions",
    "WaitForScheduledTime", "scheduled_delay_seconds",
]
