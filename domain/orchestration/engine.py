"""The transition a policy decides on, and how a policy's rules are applied (spec §3.1).

A rule is an object with ``FROM`` and ``TO`` (sets of state types; ``None`` stands for "no state"
and is in ``ALL``) and up to three hooks:

* ``before(t)`` — may call ``t.reject(reason, state=None)``, ``t.wait(reason, delay)``,
  ``t.abort(reason)`` or ``t.rename(name)``, or change ``t.run`` / ``t.proposed``;
* ``cleanup(t)`` — undo what ``before`` did, called when a later rule changed the transition so that
  this rule no longer applies (e.g. restore the run's policy, release a concurrency slot);
* ``after(t)`` — runs after the state was accepted (not for nullified transitions), in reverse order.

``run_policy`` applies the rules in order: a rule takes part only while the current
(initial type, proposed type) pair is in its (FROM, TO); once the transition is nullified (REJECT to
the current state, WAIT, ABORT) no later rule runs. The service then applies the global
bookkeeping (``bookkeeping.py``) unless nullified, writes, and runs the after-hooks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol

from domain.settings import Settings

STATE_TYPES = ("SCHEDULED", "PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "CRASHED", "PAUSED",
               "CANCELLING")
ALL: frozenset[str | None] = frozenset((*STATE_TYPES, None))
TERMINAL: frozenset[str | None] = frozenset(("COMPLETED", "FAILED", "CANCELLED", "CRASHED"))

ACCEPT, REJECT, WAIT, ABORT = "ACCEPT", "REJECT", "WAIT", "ABORT"


@dataclass
class Transition:
    kind: str  # "flow" | "task"
    run: dict[str, Any]  # the run document; bookkeeping and rules update it in place
    initial: dict[str, Any] | None  # the run's current state (wire shape), None when it has none
    proposed: dict[str, Any] | None  # the proposed state (wire shape, server timestamp); None once nullified
    now: dt.datetime
    settings: Settings = field(default_factory=Settings)
    force: bool = False
    # what rules may need, read by the service beforehand (rules never read a store):
    flow_run: dict[str, Any] | None = None  # task runs: the enclosing flow run document
    limits: list[dict[str, Any]] = field(default_factory=list)  # task runs: v1 limits matching its tags
    cached: dict[str, Any] | None = None  # task runs: newest cached COMPLETED state for the cache_key
    # the decision
    status: str = ACCEPT
    reason: str | None = None
    delay_seconds: int | None = None
    details_type: str | None = None  # overrides the type derived from status (resume input quirk Q1)
    new_state: bool = False  # REJECT carrying a state made by the server (written; HTTP 201)
    # side effects the service commits with the state (same transaction)
    changed_limits: dict[str, dict[str, Any]] = field(default_factory=dict)  # limit id -> new doc
    extra: dict[str, Any] = field(default_factory=dict)  # scratch space for rules (e.g. saved policy)

    @property
    def initial_type(self) -> str | None:
        return self.initial["type"] if self.initial else None

    @property
    def proposed_type(self) -> str | None:
        return self.proposed["type"] if self.proposed else None

    @property
    def nullified(self) -> bool:
        return self.proposed is None

    # -- decisions -------------------------------------------------------------------------------
    def reject(self, reason: str, state: dict[str, Any] | None = None) -> None:
        """REJECT: with ``state`` the server writes that state instead; without, the run keeps its
        current state (nullified)."""
        self.status, self.reason = REJECT, reason
        if state is None:
            self.proposed = None
        else:
            self.proposed = state
            self.new_state = True

    def wait(self, reason: str, delay_seconds: int) -> None:
        self.status, self.reason, self.delay_seconds = WAIT, reason, int(delay_seconds)
        self.proposed = None

    def abort(self, reason: str) -> None:
        self.status, self.reason = ABORT, reason
        self.proposed = None

    def rename(self, name: str) -> None:
        if self.proposed is not None:
            self.proposed["name"] = name

    def details(self) -> dict[str, Any]:
        kind = self.details_type or {ACCEPT: "accept_details", REJECT: "reject_details", WAIT: "wait_details",
                                     ABORT: "abort_details"}[self.status]
        if self.status == ACCEPT and not self.details_type:
            return {"type": kind}
        if self.status == WAIT:
            return {"type": kind, "delay_seconds": self.delay_seconds, "reason": self.reason}
        return {"type": kind, "reason": self.reason}


class Rule(Protocol):
    FROM: frozenset[str | None]
    TO: frozenset[str | None]


def _applies(rule: Rule, t: Transition) -> bool:
    return t.initial_type in rule.FROM and t.proposed_type in rule.TO


def run_policy(rules: list[Rule] | tuple[Rule, ...], t: Transition) -> list[Rule]:
    """Run the before-hooks in order; returns the rules that fired and still apply (their
    ``after`` hooks run once the state is written: see ``run_after``)."""
    fired: list[Rule] = []
    for rule in rules:
        if t.nullified:
            break
        if not _applies(rule, t):
            continue
        before = getattr(rule, "before", None)
        if before is not None:
            before(t)
        fired.append(rule)
    still: list[Rule] = []
    for rule in fired:
        if t.nullified or not _applies(rule, t):
            cleanup = getattr(rule, "cleanup", None)
            if cleanup is not None:
                cleanup(t)
        else:
            still.append(rule)
    return still


def run_after(fired: list[Rule], t: Transition) -> None:
    for rule in reversed(fired):
        after = getattr(rule, "after", None)
        if after is not None:
            after(t)
