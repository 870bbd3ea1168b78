"""How a policy's rules apply (orchestration spec §3.1; the reference's rule contexts): bound to
the intended transition, the deciding rule's after-hook, clean-up of overtaken rules, universal
rules."""

import datetime as dt

from domain.orchestration.engine import ALL, Transition, run_after, run_policy
from domain.states import server_state

NOW = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)


def transition(initial="RUNNING", proposed="FAILED"):
    return Transition(kind="flow", run={"id": "r"}, initial=server_state(initial, NOW),
                      proposed=server_state(proposed, NOW), now=NOW)


class Recorder:
    def __init__(self, name, log, FROM=ALL, TO=ALL, decide=None, universal=None):
        self.name, self.log, self.FROM, self.TO, self.decide = name, log, frozenset(FROM), frozenset(TO), decide
        if universal is not None:
            self.UNIVERSAL = universal

    def before(self, t):
        self.log.append(("before", self.name))
        if self.decide:
            self.decide(t)

    def cleanup(self, t):
        self.log.append(("cleanup", self.name))

    def after(self, t):
        self.log.append(("after", self.name))


def play(rules, t):
    run_after(run_policy(rules, t), t)


class TestRunPolicy:
    def test_rules_outside_the_intended_transition_do_not_take_part(self):
        log = []
        play([Recorder("a", log, FROM={"PENDING"}), Recorder("b", log, TO={"FAILED"})], transition())
        assert log == [("before", "b"), ("after", "b")]

    def test_after_a_rejection_to_a_new_type_later_rules_are_skipped_and_earlier_ones_cleaned_up(self):
        log = []
        retry = Recorder("retry", log, FROM={"RUNNING"}, TO={"FAILED"},
                         decide=lambda t: t.reject("Retrying", server_state("SCHEDULED", NOW)))
        play([Recorder("early", log, universal=False), retry, Recorder("late", log, universal=False)], transition())
        assert log == [("before", "early"), ("before", "retry"), ("cleanup", "early")]

    def test_the_deciding_rule_keeps_its_after_hook_when_its_scope_includes_the_outcome(self):
        log = []
        play([Recorder("resume", log, FROM={"PAUSED"}, TO=ALL, decide=lambda t: t.reject("no"))],
             transition("PAUSED", "PENDING"))
        assert log == [("before", "resume"), ("after", "resume")]
        log.clear()
        play([Recorder("pause", log, TO={"PAUSED"}, decide=lambda t: t.reject("no"))],
             transition("PENDING", "PAUSED"))
        assert log == [("before", "pause")]

    def test_universal_rules_follow_any_change_that_is_not_nullified(self):
        log = []
        retry = Recorder("retry", log, FROM={"RUNNING"}, TO={"FAILED"},
                         decide=lambda t: t.reject("Retrying", server_state("SCHEDULED", NOW)))
        play([retry, Recorder("release", log, universal=True)], transition())
        assert log == [("before", "retry"), ("before", "release"), ("after", "release")]
        log.clear()
        play([Recorder("wait", log, decide=lambda t: t.wait("later", 3), universal=False),
              Recorder("release", log, universal=True)], transition())
        assert log == [("before", "wait"), ("after", "wait")]

    def test_renaming_does_not_stop_later_rules(self):
        log = []
        play([Recorder("rename", log, decide=lambda t: t.rename("Retrying"), universal=False),
              Recorder("next", log, universal=False)], transition("PENDING", "RUNNING"))
        assert log == [("before", "rename"), ("before", "next"), ("after", "next"), ("after", "rename")]
