"""Late runs and pause expiry, run by the scheduler tick (orchestration spec §4.1, §4.2;
behaviours 132, 133, 136; quirks Q11, Q19) on the in-memory store with a frozen clock."""

import datetime as dt
from dataclasses import replace

import pytest

from domain.ports import FLOW_RUNS
from domain.services import flow_runs, flows, run_orchestration, run_services
from domain.states import StateCreate

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen(clock):
    clock.freeze(NOW)


@pytest.fixture
def flow_id(memory_ctx):
    flow, _ = flows.create(memory_ctx, flows.FlowCreate(name="f"))
    return flow["id"]


def at(seconds: float) -> str:
    return (NOW + dt.timedelta(seconds=seconds)).isoformat()


def make_run(ctx, flow_id, type_="SCHEDULED", *, name=None, **details) -> str:
    state = {"type": type_, "state_details": details}
    if name is not None:
        state["name"] = name
    run, _ = flow_runs.create(ctx, flow_runs.FlowRunCreate(flow_id=flow_id, state=StateCreate(**state)))
    return run["id"]


def scheduled(ctx, flow_id, seconds: float, **kw) -> str:
    return make_run(ctx, flow_id, scheduled_time=at(seconds), **kw)


def read(ctx, run_id) -> dict:
    return flow_runs.read(ctx, run_id)


def names(ctx, *run_ids) -> list[str]:
    return [read(ctx, r)["state_name"] for r in run_ids]


def count_queries(ctx):
    calls = ctx.stores.flow_runs.calls
    start = len(calls)
    return lambda: calls[start:].count("Query")


class TestMarkLateRuns:
    def test_runs_fifteen_seconds_overdue_become_late_quirk_q19(self, memory_ctx, flow_id, clock):  # 132
        r20, r10, r30 = (scheduled(memory_ctx, flow_id, s) for s in (-20, -10, -30))
        retry = scheduled(memory_ctx, flow_id, -60, name="AwaitingRetry")
        pending = make_run(memory_ctx, flow_id, "PENDING")
        result = run_services.mark_late_runs(memory_ctx)
        assert result.late == 2
        assert names(memory_ctx, r20, r10, r30, retry, pending) == ["Late", "Scheduled", "Late", "AwaitingRetry",
                                                                     "Pending"]
        clock.advance(seconds=5)
        assert run_services.mark_late_runs(memory_ctx).late == 1
        assert names(memory_ctx, r10) == ["Late"]

    def test_exactly_the_threshold_is_late(self, memory_ctx, flow_id):
        run = scheduled(memory_ctx, flow_id, -15)
        assert run_services.mark_late_runs(memory_ctx).late == 1
        assert names(memory_ctx, run) == ["Late"]

    def test_late_state_keeps_the_scheduled_time_and_follows_scheduled_in_history(self, memory_ctx, flow_id):  # 133
        run = scheduled(memory_ctx, flow_id, -20)
        run_services.mark_late_runs(memory_ctx)
        doc = read(memory_ctx, run)
        state = doc["state"]
        assert (state["type"], state["name"], state["message"]) == ("SCHEDULED", "Late", None)
        assert state["state_details"]["scheduled_time"] == doc["next_scheduled_start_time"] == at(-20)
        assert state["state_details"]["flow_run_id"] == run
        history = run_orchestration.flow_run_history(memory_ctx, run)
        assert [s["name"] for s in history] == ["Scheduled", "Late"]

    def test_a_late_run_is_not_marked_again(self, memory_ctx, flow_id, clock):
        run = scheduled(memory_ctx, flow_id, -20)
        run_services.mark_late_runs(memory_ctx)
        clock.advance(seconds=30)
        assert run_services.mark_late_runs(memory_ctx).late == 0
        assert len(run_orchestration.flow_run_history(memory_ctx, run)) == 2

    def test_the_threshold_setting_applies(self, memory_ctx, flow_id):
        run = scheduled(memory_ctx, flow_id, -20)
        memory_ctx.settings = replace(memory_ctx.settings, late_runs_after=dt.timedelta(seconds=30))
        assert run_services.mark_late_runs(memory_ctx).late == 0
        assert names(memory_ctx, run) == ["Scheduled"]

    def test_reads_only_the_late_runs(self, memory_ctx, flow_id):
        late = [scheduled(memory_ctx, flow_id, -20 - i) for i in range(2)]
        for i in range(30):
            scheduled(memory_ctx, flow_id, 60 + i)  # future runs
        for _ in range(30):
            done = scheduled(memory_ctx, flow_id, -100)
            run_orchestration.propose_flow_run_state(memory_ctx, done, StateCreate(type="COMPLETED"), force=True)
        store = memory_ctx.stores.flow_runs
        seen = []
        original = store.query

        def recording(index, pk, **kw):
            for doc in original(index, pk, **kw):
                seen.append(doc["id"])
                yield doc

        store.query = recording
        queries = count_queries(memory_ctx)
        assert run_services.mark_late_runs(memory_ctx).late == 2
        assert sorted(seen) == sorted(late)
        assert queries() == FLOW_RUNS.index("late_candidates").shards  # one Query per shard


class TestFailExpiredPauses:
    def paused(self, ctx, flow_id, timeout_seconds: float | None) -> str:
        run = make_run(ctx, flow_id, "RUNNING")
        details = {} if timeout_seconds is None else {"pause_timeout": at(timeout_seconds)}
        run_orchestration.propose_flow_run_state(ctx, run, StateCreate(type="PAUSED", state_details=details),
                                                 force=True)
        return run

    def test_an_expired_pause_is_forced_to_failed(self, memory_ctx, flow_id, clock):  # 136
        run = self.paused(memory_ctx, flow_id, 2)
        assert run_services.fail_expired_pauses(memory_ctx).expired_pauses == 0
        clock.advance(seconds=2)
        assert run_services.fail_expired_pauses(memory_ctx).expired_pauses == 0  # pause_timeout < now, strictly
        clock.advance(microseconds=1)
        assert run_services.fail_expired_pauses(memory_ctx).expired_pauses == 1
        state = read(memory_ctx, run)["state"]
        assert (state["type"], state["name"], state["message"]) == (
            "FAILED", "Failed", "The flow was paused and never resumed.")

    def test_a_pause_without_timeout_is_skipped_and_blocks_nothing_quirk_q11(self, memory_ctx, flow_id, clock):
        forever = self.paused(memory_ctx, flow_id, None)
        expiring = self.paused(memory_ctx, flow_id, 1)
        clock.advance(seconds=5)
        assert run_services.fail_expired_pauses(memory_ctx).expired_pauses == 1
        assert [read(memory_ctx, r)["state_type"] for r in (forever, expiring)] == ["PAUSED", "FAILED"]

    def test_a_resumed_run_is_left_alone(self, memory_ctx, flow_id, clock):
        run = self.paused(memory_ctx, flow_id, 1)
        run_orchestration.propose_flow_run_state(memory_ctx, run, StateCreate(type="RUNNING"), force=True)
        clock.advance(seconds=5)
        assert run_services.fail_expired_pauses(memory_ctx).expired_pauses == 0
        assert read(memory_ctx, run)["state_type"] == "RUNNING"


class TestTick:
    def test_nothing_late_or_expired_is_one_query_per_index_shard(self, memory_ctx, flow_id):
        scheduled(memory_ctx, flow_id, 60)
        make_run(memory_ctx, flow_id, "RUNNING")
        memory_ctx.stores.flow_runs.calls.clear()
        result = run_services.tick(memory_ctx)
        assert (result.late, result.expired_pauses, result.failed) == (0, 0, 0)
        shards = FLOW_RUNS.index("late_candidates").shards + FLOW_RUNS.index("paused_by_timeout").shards
        assert memory_ctx.stores.flow_runs.calls == ["Query"] * shards

    def test_each_service_can_be_disabled(self, memory_ctx, flow_id):
        run = scheduled(memory_ctx, flow_id, -60)
        memory_ctx.settings = replace(memory_ctx.settings, late_runs_enabled=False, pause_expirations_enabled=False)
        memory_ctx.stores.flow_runs.calls.clear()
        assert run_services.tick(memory_ctx).summary() == {"late": 0, "expired_pauses": 0, "service_failures": 0,
                                                            "services_incomplete": False}
        assert memory_ctx.stores.flow_runs.calls == []
        assert names(memory_ctx, run) == ["Scheduled"]

    def test_a_past_deadline_leaves_the_rest_for_the_next_tick(self, memory_ctx, flow_id):
        run = scheduled(memory_ctx, flow_id, -60)
        result = run_services.tick(memory_ctx, deadline=0.0)
        assert (result.late, result.incomplete) == (0, True)
        assert run_services.tick(memory_ctx).late == 1
        assert names(memory_ctx, run) == ["Late"]


class TestFlowplaneTickOutput:
    def test_reports_what_the_run_services_did(self):
        from domain.services.scheduler import TickResult
        from infra.local import tick

        text = tick.render(TickResult(), 3.0, "db", services=run_services.ServicesResult(late=2, expired_pauses=1))
        assert "Marked 2 run(s) Late, failed 1 expired pause(s)." in text.splitlines()
        assert "Marked" not in tick.render(TickResult(), 3.0, "db", services=run_services.ServicesResult())
