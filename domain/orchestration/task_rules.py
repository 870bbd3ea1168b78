"""Task-run orchestration rules and policies (orchestration spec §3.4).

Every rule is a stateless object (``FROM``, ``TO``, hooks ``before`` / ``cleanup`` / ``after``)
over a ``Transition``; what a rule must remember between its hooks lives in ``t.extra`` under
the rule's name. Rules never read a store: the service puts the enclosing flow run
(``t.flow_run``), the tag limits (``t.limits``) and the newest usable cache entry (``t.cached``)
on the transition first, and commits ``t.run``, the written state and ``t.changed_limits``
together.

``engine.run_policy`` binds each rule to the intended (current, proposed) pair, so once a rule
changes the transition's type (Cached, AwaitingRetry, NotReady) the remaining ordinary rules are
skipped; ``ReleaseTaskConcurrencySlots`` is universal and always takes part.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any

from domain.orchestration.common_rules import (
    AddUnknownResult,
    CopyScheduledTime,
    PreventPendingTransitions,
    WaitForScheduledTime,
)
from domain.orchestration.engine import ALL, TERMINAL, Transition
from domain.states import STATE_DETAILS_DEFAULTS, server_state
from domain.timeutil import iso_utc

RUNNING_ONLY = frozenset({"RUNNING"})


def _persisted(data: Any) -> bool:
    """A stored result other than the client's ``unpersisted`` marker."""
    if not data:
        return False
    return not (isinstance(data, dict) and data.get("type") == "unpersisted")


# --------------------------------------------------------------------------------------- rules


class CacheRetrieval:
    """→ RUNNING with a ``cache_key`` (and no ``refresh_cache``) that has a live cache entry:
    REJECT with a copy of the cached Completed state named ``Cached``."""

    FROM, TO = ALL, RUNNING_ONLY

    def before(self, t: Transition) -> None:
        details = t.proposed["state_details"]
        if not details.get("cache_key") or details.get("refresh_cache") or t.cached is None:
            return
        cached = t.cached
        copy = server_state(cached["type"], t.now, name="Cached", message=cached.get("message"), data=cached.get("data"))
        copy["state_details"] = {**STATE_DETAILS_DEFAULTS, **(cached.get("state_details") or {})}
        t.reject("Retrieved state from cache", copy)


class HandleTaskTerminalStateTransitions:
    """Leaving a terminal state: never to CANCELLING/PAUSED/CRASHED, never out of a Completed
    state with a persisted result (Q18: whatever the proposed type); otherwise a move to a
    non-terminal state resets ``run_count`` (restored if the transition changes later)."""

    FROM, TO = TERMINAL, ALL

    def before(self, t: Transition) -> None:
        t.extra["original_run_count"] = t.run.get("run_count", 0)
        if t.proposed_type in ("CANCELLING", "PAUSED", "CRASHED"):
            t.abort(f"Run is already {t.initial_type}.")
            return
        if t.initial_type == "COMPLETED" and _persisted(t.initial.get("data")):
            t.reject("This run is already completed.")
            return
        if t.proposed_type not in TERMINAL:
            t.run["run_count"] = 0
        if t.proposed_type == "RUNNING" and t.run.get("flow_run_id") is not None and t.flow_run is not None:
            if (t.run.get("flow_run_run_count") or 0) < (t.flow_run.get("run_count") or 0):
                t.rename("Retrying")

    def cleanup(self, t: Transition) -> None:
        if "original_run_count" in t.extra:
            t.run["run_count"] = t.extra["original_run_count"]


class PreventRunningTasksFromStoppedFlows:
    """A task may only start while its flow run is RUNNING; a PAUSED flow answers with a new
    PAUSED state named ``NotReady`` carrying the flow's pause timeout."""

    FROM, TO = ALL, RUNNING_ONLY

    def before(self, t: Transition) -> None:
        flow_run = t.flow_run
        if flow_run is None:
            return
        state = flow_run.get("state")
        if state is None:
            t.abort("The enclosing flow must be running to begin task execution.")
        elif state["type"] == "PAUSED":
            fd = state.get("state_details") or {}
            t.reject(
                f"The flow is paused, new tasks can execute after resuming flow run: {flow_run['id']}.",
                server_state("PAUSED", t.now, name="NotReady", pause_timeout=fd.get("pause_timeout"),
                       pause_reschedule=bool(fd.get("pause_reschedule"))),
            )
        elif state["type"] != "RUNNING":
            t.abort("The enclosing flow must be running to begin task execution.")


def _without(limit: dict[str, Any], run_id: str) -> dict[str, Any]:
    return {**limit, "active_slots": [s for s in limit.get("active_slots") or [] if s != run_id]}


class SecureTaskConcurrencySlots:
    """→ RUNNING: take a slot on every v1 limit of the task's tags (in tag order). A limit of 0
    ABORTs, a full limit WAITs (the run's own slot counts, Q14); slots taken so far are given back."""

    FROM, TO = ALL, RUNNING_ONLY

    def before(self, t: Transition) -> None:
        run_id = t.run["id"]
        taken: list[str] = []
        t.extra["secured"] = taken
        tags = set(t.run.get("tags") or [])
        for limit in sorted((x for x in t.limits if x.get("tag") in tags), key=lambda x: x["tag"]):
            current = t.changed_limits.get(limit["id"], limit)
            slots = list(current.get("active_slots") or [])
            if limit["concurrency_limit"] == 0:
                self._give_back(t)
                t.abort(f'The concurrency limit on tag "{limit["tag"]}" is 0 and will deadlock if the task '
                        "tries to run again.")
                return
            if len(slots) >= limit["concurrency_limit"]:
                self._give_back(t)
                t.wait(f"Concurrency limit for the {limit['tag']} tag has been reached",
                       t.settings.task_run_tag_concurrency_slot_wait_seconds)
                return
            if run_id not in slots:
                slots.append(run_id)
            t.changed_limits[limit["id"]] = {**current, "active_slots": slots}
            taken.append(limit["id"])

    def _give_back(self, t: Transition) -> None:
        for limit_id in t.extra.get("secured", []):
            t.changed_limits[limit_id] = _without(t.changed_limits[limit_id], t.run["id"])
        t.extra["secured"] = []

    cleanup = _give_back


class RetryFailedTasks:
    """RUNNING → FAILED with retries left (and not ``retriable: false``): REJECT with a new
    ``AwaitingRetry`` state due after the configured delay (jittered when asked)."""

    FROM, TO = frozenset({"RUNNING"}), frozenset({"FAILED"})

    def before(self, t: Transition) -> None:
        policy = t.run.get("empirical_policy") or {}
        run_count = t.run.get("run_count") or 0
        delays = policy.get("retry_delay")
        if delays and isinstance(delays, list):
            base = delays[min(run_count - 1, len(delays) - 1)]
        else:
            base = delays or 0
        factor = policy.get("retry_jitter_factor")
        delay = jittered_delay(base, factor) if factor else base
        if t.proposed["state_details"].get("retriable") is False:
            return
        retries = policy.get("retries")
        if retries is not None and run_count <= retries:
            due = t.now + dt.timedelta(seconds=delay)
            t.reject("Retrying", server_state("SCHEDULED", t.now, name="AwaitingRetry", message=t.proposed.get("message"),
                                             data=t.proposed.get("data"), scheduled_time=iso_utc(due)))


def jittered_delay(base: float, factor: float, rng: random.Random | Any = random) -> float:
    """A delay drawn from an exponential distribution with mean ``base``, clamped to at most
    ``base * (1 + factor)`` and to a lower bound chosen so the median stays near ``base``.

    Q10: the reference fails (500) for a zero base delay; a zero base is answered with no delay.
    """
    if base <= 0:
        return 0.0
    upper_mult = 1 + factor
    lower_mult = 0.0 if upper_mult >= 50 else math.log(max(2**upper_mult / (2**upper_mult - 1), 1e-10), 2)

    def cdf(x: float) -> float:
        return 1 - math.exp(-x / base)

    u = rng.uniform(cdf(max(0.0, base * lower_mult)), cdf(base * upper_mult))
    return -math.log(max(1 - u, 1e-10)) * base


class RenameReruns:
    """→ RUNNING of a run that ran before: ``Retrying`` after AwaitingRetry, else ``Rerunning``."""

    FROM, TO = ALL, RUNNING_ONLY

    def before(self, t: Transition) -> None:
        if (t.run.get("run_count") or 0) > 0:
            t.rename("Retrying" if t.initial and t.initial.get("name") == "AwaitingRetry" else "Rerunning")


class UpdateFlowRunTrackerOnTasks:
    """After → RUNNING: remember which attempt of its flow run this task ran in."""

    FROM, TO = ALL, RUNNING_ONLY

    def after(self, t: Transition) -> None:
        if t.run.get("flow_run_id") is not None and t.flow_run is not None:
            t.run["flow_run_run_count"] = t.flow_run.get("run_count") or 0


class CacheInsertion:
    """After → COMPLETED: a written state with a ``cache_key`` becomes a cache entry."""

    FROM, TO = ALL, frozenset({"COMPLETED"})

    def after(self, t: Transition) -> None:
        if t.proposed["state_details"].get("cache_key"):
            t.extra["cache_insert"] = True


class ReleaseTaskConcurrencySlots:
    """Universal, after every written state that is not RUNNING or CANCELLING: the run gives back
    its slot on every limit of its tags."""

    FROM, TO = ALL, ALL
    UNIVERSAL = True

    def after(self, t: Transition) -> None:
        if t.nullified or t.proposed_type in ("RUNNING", "CANCELLING"):
            return
        run_id, tags = t.run["id"], set(t.run.get("tags") or [])
        for limit in t.limits:
            current = t.changed_limits.get(limit["id"], limit)
            if limit.get("tag") in tags and run_id in (current.get("active_slots") or []):
                t.changed_limits[limit["id"]] = _without(current, run_id)


# ------------------------------------------------------------------------------------ policies

CACHE_RETRIEVAL = CacheRetrieval()
TERMINAL_TRANSITIONS = HandleTaskTerminalStateTransitions()
STOPPED_FLOWS = PreventRunningTasksFromStoppedFlows()
SECURE_SLOTS = SecureTaskConcurrencySlots()
COPY_SCHEDULED_TIME = CopyScheduledTime()
WAIT_FOR_SCHEDULED_TIME = WaitForScheduledTime()
RETRY_FAILED = RetryFailedTasks()
RENAME_RERUNS = RenameReruns()
FLOW_RUN_TRACKER = UpdateFlowRunTrackerOnTasks()
CACHE_INSERTION = CacheInsertion()
RELEASE_SLOTS = ReleaseTaskConcurrencySlots()

CORE_TASK_POLICY = (
    CACHE_RETRIEVAL, TERMINAL_TRANSITIONS, STOPPED_FLOWS, SECURE_SLOTS, COPY_SCHEDULED_TIME,
    WAIT_FOR_SCHEDULED_TIME, RETRY_FAILED, RENAME_RERUNS, FLOW_RUN_TRACKER, CACHE_INSERTION, RELEASE_SLOTS,
)
MINIMAL_TASK_POLICY = (RELEASE_SLOTS, AddUnknownResult())
# EnqueueScheduledTasks (experimental task scheduling, off by default) is not implemented.
AUTONOMOUS_TASK_POLICY = (
    PreventPendingTransitions(), CACHE_RETRIEVAL, TERMINAL_TRANSITIONS, SECURE_SLOTS, COPY_SCHEDULED_TIME,
    WAIT_FOR_SCHEDULED_TIME, RETRY_FAILED, RENAME_RERUNS, FLOW_RUN_TRACKER, CACHE_INSERTION, RELEASE_SLOTS,
)


def policy_for(task_run: dict[str, Any], force: bool) -> tuple:
    """CoreTaskPolicy, MinimalTaskPolicy when forced, AutonomousTaskPolicy (force ignored) for a
    task run without a flow run (spec §3.1)."""
    if task_run.get("flow_run_id") is None:
        return AUTONOMOUS_TASK_POLICY
    return MINIMAL_TASK_POLICY if force else CORE_TASK_POLICY

