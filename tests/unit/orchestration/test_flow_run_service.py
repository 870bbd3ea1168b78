"""The flow-run orchestration service on stores: one transaction per accepted proposal, nothing
written for nullified ones, bounded retries under contention (503), exactly one winner when two
proposals race on DynamoDB (orchestration spec §3.1)."""

import threading
import uuid

import pytest

from domain import contention
from domain.errors import ConditionFailed, ObjectNotFound, ServiceUnavailable
from domain.services import flow_runs, run_orchestration
from domain.states import StateCreate


def new_flow_run(ctx, state="PENDING", **policy):
    flow_id = str(uuid.uuid4())
    ctx.stores.flows.put({"id": flow_id, "name": f"f-{flow_id[:6]}", "tags": []})
    body = flow_runs.FlowRunCreate(flow_id=flow_id, state={"type": state}, empirical_policy=policy)
    return flow_runs.create(ctx, body)[0]["id"]


def propose(ctx, run_id, type_, **kw):
    return run_orchestration.propose_flow_run_state(ctx, run_id, StateCreate(type=type_), **kw)


class TestProposeFlowRunState:
    def test_an_accepted_state_is_one_transaction(self, memory_ctx):
        rid = new_flow_run(memory_ctx)
        for store in (memory_ctx.stores.flow_runs, memory_ctx.stores.flow_run_states):
            store.calls.clear()
        answer, status = propose(memory_ctx, rid, "RUNNING")
        assert (status, answer["status"]) == (201, "ACCEPT")
        assert memory_ctx.stores.flow_runs.calls == ["GetItem", "TransactWriteItems"]
        assert memory_ctx.stores.flow_run_states.calls == ["TransactWriteItems"]

    def test_a_nullified_proposal_writes_nothing(self, memory_ctx):
        rid = new_flow_run(memory_ctx)
        memory_ctx.stores.flow_runs.calls.clear()
        answer, status = propose(memory_ctx, rid, "PENDING")
        assert (status, answer["status"]) == (200, "ABORT")
        assert memory_ctx.stores.flow_runs.calls == ["GetItem"]

    def test_unknown_run(self, memory_ctx):
        with pytest.raises(ObjectNotFound):
            propose(memory_ctx, str(uuid.uuid4()), "RUNNING")

    def test_endless_contention_is_503(self, memory_ctx, monkeypatch):
        rid = new_flow_run(memory_ctx)
        monkeypatch.setattr(contention, "BASE_SECONDS", 0.0)

        def lose(ops):
            raise ConditionFailed("always")

        monkeypatch.setattr(memory_ctx.stores, "transact", lose)
        with pytest.raises(ServiceUnavailable):
            propose(memory_ctx, rid, "RUNNING")

    def test_a_lost_race_is_orchestrated_again_against_the_new_state(self, memory_ctx, monkeypatch):
        rid = new_flow_run(memory_ctx, "SCHEDULED")
        real = memory_ctx.stores.transact
        sneaked = []

        def first_loses(ops):
            if not sneaked:  # another submitter moves the run to PENDING first
                sneaked.append(None)
                sneaked[0] = propose(memory_ctx, rid, "PENDING")
            return real(ops)

        monkeypatch.setattr(memory_ctx.stores, "transact", first_loses)
        answer, status = propose(memory_ctx, rid, "PENDING")
        assert sneaked[0][0]["status"] == "ACCEPT"
        assert (status, answer["status"], answer["details"]["reason"]) == (
            200, "ABORT", "This run is in a PENDING state and cannot transition to a PENDING state.")

    def test_late_policy(self, memory_ctx):
        rid = new_flow_run(memory_ctx, "SCHEDULED")
        answer, status = run_orchestration.propose_flow_run_state(
            memory_ctx, rid, StateCreate(type="SCHEDULED", name="Late"), policy="late")
        assert (status, answer["state"]["name"]) == (201, "Late")


class TestRacesOnDynamo:
    def test_two_racing_proposals_one_accept(self, dynamo_ctx):
        for _ in range(3):
            rid = new_flow_run(dynamo_ctx, "SCHEDULED")
            barrier = threading.Barrier(2)
            answers = []

            def go(rid=rid, barrier=barrier, answers=answers):
                barrier.wait()
                answers.append(propose(dynamo_ctx, rid, "PENDING")[0]["status"])

            threads = [threading.Thread(target=go) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert sorted(answers) == ["ABORT", "ACCEPT"]
            states = run_orchestration.flow_run_history(dynamo_ctx, rid)
            assert [s["type"] for s in states] == ["SCHEDULED", "PENDING"]
