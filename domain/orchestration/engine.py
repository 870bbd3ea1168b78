"""The transition a policy decides on, and how a policy's rules are applied (spec §3.1).

A rule is an object with ``FROM`` and ``TO`` (sets of state types; ``None`` stands for "no state"
and is in ``ALL``) and up to three hooks:

* ``before(t)`` — may call ``t.reject(reason, state=None)``, ``t.wait(reason, delay)``,
  ``t.abort(reason)`` or ``t.rename(name)``, or change ``t.run`` / ``t.proposed``;
* ``cleanup(t)`` — undo what ``before`` did, called when a later rule changed the transition so that
  this rule no longer applies (e.g. restore the run's policy, release a concurrency slot);
* ``after(t)`` — runs once the outcome is settled (after the write), in reverse order.

``run_policy`` applies the rules as the reference does. Every rule is bound to the *intended*
transition (the current type and the type proposed by the client):

* a rule takes part only if that pair is in its (FROM, TO) and the transition still has that pair
  when its turn comes — so once a rule rejects, waits or aborts, the later rules are skipped;
* the rule that changed the transition (reject/wait/abort) is bound to the outcome it chose
  (``None`` for a nullified transition): its ``after`` hook runs if that outcome is still in its
  ``TO`` (e.g. HandleResumingPausedFlows, TO = ALL, marks the run ``resuming`` even when it
  rejects — quirk Q3), otherwise nothing more happens to it;
* a rule that fired and whose transition was later changed by another rule gets ``cleanup``;
  the others get ``after``.

A rule with ``UNIVERSAL = True`` (or whose FROM and TO are both ``ALL``, unless it sets
``UNIVERSAL = False``) behaves like the reference's universal transforms: it takes part in every
transition that is not nullified, whatever an earlier rule changed, and its ``after`` runs whenever
the transition was not nullified.

``run_policy`` returns the rules whose ``after`` hooks are due; the service applies the global
bookkeeping (``bookkeeping.py``) unless nullified, writes, then calls ``run_after``.
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


def _universal(rule: Rule) -> bool:
    flag = getattr(rule, "UNIVERSAL", None)
    if flag is not None:
        return bool(flag)
    return frozenset(rule.FROM) >= ALL and frozenset(rule.TO) >= ALL


def _decided(t: Transition, before: tuple) -> bool:
    return (t.status, id(t.proposed), t.proposed_type) != before


def run_policy(rules: list[Rule] | tuple[Rule, ...], t: Transition) -> list[Rule]:
    """Run the before-hooks in order (see the module docstring); returns the rules whose
    ``after`` hooks are due (pass them to ``run_after`` once the outcome is written)."""
    intended = (t.initial_type, t.proposed_type)
    entered: list[tuple[Rule, str | None]] = []  # (rule, the proposed type it is bound to)
    for rule in rules:
        if _universal(rule):
            if t.nullified:
                continue
        else:
            if intended[0] not in rule.FROM or intended[1] not in rule.TO:
                continue
            if (t.initial_type, t.proposed_type) != intended:
                continue
        snapshot = (t.status, id(t.proposed), t.proposed_type)
        before = getattr(rule, "before", None)
        if before is not None:
            before(t)
        bound = t.proposed_type if _decided(t, snapshot) else intended[1]
        entered.append((rule, bound))
    due: list[Rule] = []
    for rule, bound in entered:
        if _universal(rule):
            if not t.nullified:
                due.append(rule)
            continue
        if bound not in rule.TO:
            continue  # it decided on an outcome outside its own scope: nothing more to do
        if bound != t.proposed_type:
            cleanup = getattr(rule, "cleanup", None)
            if cleanup is not None:
                cleanup(t)
        else:
            due.append(rule)
    return due


def run_after(fired: list[Rule], t: Transition) -> None:
    for rule in reversed(fired):
        after = getattr(rule, "after", None)
        if after is not None:
            after(t)
