"""The scheduler service on in-memory stores (spec §6.1, §5.4, §5.7; §8 items 194–210; DESIGN.md
"Scheduling"): selection rule, materialisation, the sparse ``due`` index, the stale-run guard."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest

from domain import ids
from domain.schedules import get_dates, parse_schedule
from domain.services import deployments, flow_runs, flows, scheduler, scheduling
from domain.services.deployment_models import DeploymentCreate, DeploymentUpdate
from domain.states import StateCreate
from domain.timeutil import parse, sort_key

UTC = dt.timezone.utc
NOW = dt.datetime(2024, 3, 5, 10, 17, 23, 500000, tzinfo=UTC)
HOUR = {"interval": 3600, "anchor_date": "2020-01-01T00:00:00+00:00"}
DAY = {"interval": 86400, "anchor_date": "2020-01-01T00:00:00+00:00"}


# ------------------------------------------------------------------------------------- helpers


@pytest.fixture
def ctx(memory_ctx, clock):
    clock.freeze(NOW)
    return memory_ctx


def make_flow(ctx, name="my-flow") -> str:
    wire, _ = flows.create(ctx, flows.FlowCreate(name=name))
    return wire["id"]


def deploy(ctx, name="D", schedules=None, flow_name="my-flow", **body) -> dict:
    flow_id = make_flow(ctx, flow_name)
    if schedules is None:
        schedules = [HOUR]
    rows = [s if "schedule" in s else {"schedule": s} for s in schedules]
    wire, _ = deployments.create(ctx, DeploymentCreate.model_validate(
        {"name": name, "flow_id": flow_id, "schedules": rows, **body}))
    return wire


def all_runs(ctx, dep_id: str | None = None) -> list[dict]:
    runs = ctx.stores.flow_runs.dump()
    return [r for r in runs if dep_id is None or r["deployment_id"] == dep_id]


def start_times(runs) -> list[dt.datetime]:
    return sorted(parse(r["next_scheduled_start_time"]) for r in runs)


def doc(ctx, dep_id) -> dict:
    return ctx.stores.deployments.get(dep_id)


def due_ids(ctx) -> set[str]:
    """Deployments due now (on the index with due_at <= now)."""
    return {d["id"] for d in ctx.stores.deployments.query("due", "0", sk_lte=sort_key(ctx.now()))}


def indexed_ids(ctx) -> set[str]:
    """Deployments on the sparse due index at all."""
    return {d["id"] for d in ctx.stores.deployments.query("due", "0")}


def first_dates(schedule: dict, n: int, start: dt.datetime) -> list[dt.datetime]:
    return [d.astimezone(UTC) for d in get_dates(parse_schedule(schedule), n=n, start=start)]


def cancel(ctx, run_id: str) -> None:
    flow_runs.set_state(ctx, run_id, flow_runs.SetStateBody(state=StateCreate(type="CANCELLED"), force=True))


def set_running(ctx, run_id: str) -> None:
    flow_runs.set_state(ctx, run_id, flow_runs.SetStateBody(state=StateCreate(type="RUNNING"), force=True))


def tick(ctx, **kw) -> scheduler.TickResult:
    return scheduler.tick(ctx, **kw)


def settle(ctx, clock) -> scheduler.TickResult:
    """Let the second look after a deployment write come due, and tick."""
    clock.advance(seconds=scheduler.SETTLE.total_seconds() + 1)
    return tick(ctx)


def due_at(ctx, dep_id) -> dt.datetime:
    return parse(doc(ctx, dep_id)["_due_at"])


# ------------------------------------------------------------------------------- reference items


class TestSchedulerService:
    """§8 items 200–206 and 210: the Scheduler service run once (or twice)."""

    def test_active_schedules_union_of_first_min_runs_dates_inactive_ignored(self, ctx):
        # as in the reference test, each interval is anchored at its own creation instant
        one_h = {"interval": 3600, "anchor_date": NOW.isoformat()}
        two_h = {"interval": 7200, "anchor_date": (NOW + dt.timedelta(microseconds=7)).isoformat()}
        four_h = {"interval": 14400, "anchor_date": (NOW + dt.timedelta(microseconds=9)).isoformat()}
        dep = deploy(ctx, schedules=[{"schedule": one_h, "active": True}, {"schedule": two_h, "active": True},
                                     {"schedule": four_h, "active": False}])
        result = tick(ctx)
        runs = all_runs(ctx)
        assert result.scheduled == len(runs) == 3 * 2
        assert set(start_times(runs)) == set(first_dates(one_h, 3, NOW)) | set(first_dates(two_h, 3, NOW))
        assert {r["state_name"] for r in runs} == {"Scheduled"}
        assert {r["deployment_id"] for r in runs} == {dep["id"]}

    def test_a_slot_shared_by_two_schedules_is_one_run(self, ctx):
        two_h = {"interval": 7200, "anchor_date": "2020-01-01T00:00:00+00:00"}
        deploy(ctx, schedules=[HOUR, two_h])
        tick(ctx)
        expected = set(first_dates(HOUR, 3, NOW)) | set(first_dates(two_h, 3, NOW))
        assert len(expected) == 5  # 12:00 is in both: same instant *and* same offset -> one run
        assert start_times(all_runs(ctx)) == sorted(expected)

    def test_thirty_day_interval_anchored_now_gives_3(self, ctx):
        deploy(ctx, schedules=[{"interval": 30 * 86400, "anchor_date": NOW.isoformat()}])
        tick(ctx)
        assert start_times(all_runs(ctx)) == [NOW, NOW + dt.timedelta(days=30), NOW + dt.timedelta(days=60)]

    def test_three_deployments_union_of_each_schedules_dates(self, ctx):
        scheds = [HOUR, {"interval": 10 * 86400, "anchor_date": "2020-01-01T00:00:00+00:00"},
                  {"interval": 5 * 86400, "anchor_date": "2020-01-01T00:00:00+00:00"}]
        for i, s in enumerate(scheds):
            deploy(ctx, name=f"d{i}", schedules=[s])
        tick(ctx)
        expected = sorted(d for s in scheds for d in first_dates(s, 3, NOW))
        assert start_times(all_runs(ctx)) == expected

    def test_167_hourly_deployments_get_501_runs_over_more_than_one_insert_batch(self, ctx):
        for i in range(500 // 3 + 1):
            deploy(ctx, name=f"d{i:03d}")
        result = tick(ctx)
        assert result.scheduled == 501
        assert result.deployments == 167
        assert len(all_runs(ctx)) == 501
        assert due_ids(ctx) == set()  # all moved past now

    def test_paused_deployment_gets_no_runs_and_leaves_the_due_index(self, ctx):
        dep = deploy(ctx, paused=True)
        doc_ = doc(ctx, dep["id"])
        assert "_due_at" not in doc_  # the write path keeps paused deployments off the index …
        # … and a paused deployment found due (e.g. written by an older version) is cleared
        doc_["_due_at"], doc_["_due_shard"] = sort_key(NOW), "0"
        ctx.stores.deployments.put(doc_)
        result = tick(ctx)
        assert all_runs(ctx) == []
        assert result.cleared == 1
        assert due_ids(ctx) == set()

    def test_running_twice_gives_3_then_cancelling_one_keeps_3(self, ctx):
        dep = deploy(ctx)
        tick(ctx)
        tick(ctx)
        runs = all_runs(ctx, dep["id"])
        assert len(runs) == 3
        cancel(ctx, runs[0]["id"])
        doc_ = doc(ctx, dep["id"])  # make it due now, as the reference would re-select it
        doc_["_due_at"] = sort_key(NOW)
        ctx.stores.deployments.put(doc_)
        tick(ctx)
        runs = all_runs(ctx, dep["id"])
        assert sorted(r["state_type"] for r in runs) == ["CANCELLED", "SCHEDULED", "SCHEDULED"]

    def test_selection_ignores_deployments_without_or_with_inactive_schedules(self, ctx):
        none = deploy(ctx, name="none", schedules=[])
        inactive = deploy(ctx, name="inactive", schedules=[{"schedule": HOUR, "active": False}])
        active = deploy(ctx, name="active")
        assert due_ids(ctx) == {active["id"]}
        for d in (none, inactive):  # even if found due, they are taken off the index, no runs
            doc_ = doc(ctx, d["id"])
            doc_["_due_at"], doc_["_due_shard"] = sort_key(NOW), "0"
            ctx.stores.deployments.put(doc_)
        result = tick(ctx)
        assert {r["deployment_id"] for r in all_runs(ctx)} == {active["id"]}
        assert result.cleared == 2
        assert due_ids(ctx) == set()

    @pytest.mark.parametrize("interval, expected", [(60, 61), (3600, 3), (300, 13), (60 * 86400, 2)])
    def test_waterfall_anchored_one_second_ahead(self, ctx, interval, expected):
        anchor = NOW + dt.timedelta(seconds=1)
        deploy(ctx, schedules=[{"interval": interval, "anchor_date": anchor.isoformat()}])
        assert tick(ctx).scheduled == expected
        assert len(all_runs(ctx)) == expected


class TestModelScheduleRuns:
    """§8 items 194–198 at the service level."""

    def window(self, ctx, **kw):
        return scheduling.default_window(ctx, **kw)

    def test_min_runs_at_next_midnights_then_idempotent(self, ctx):
        dep = deploy(ctx, schedules=[DAY])
        created = scheduling.schedule_deployment(ctx, dep["id"], self.window(ctx))
        midnight = dt.datetime(2024, 3, 6, tzinfo=UTC)
        assert start_times(all_runs(ctx)) == [midnight + dt.timedelta(days=i) for i in range(3)]
        assert len(created) == 3
        assert scheduling.schedule_deployment(ctx, dep["id"], self.window(ctx)) == []
        assert len(all_runs(ctx)) == 3

    def test_min_runs_5_and_no_schedules(self, ctx):
        dep = deploy(ctx, schedules=[DAY])
        assert len(scheduling.schedule_deployment(ctx, dep["id"], self.window(ctx, min_runs=5))) == 5
        bare = deploy(ctx, name="bare", schedules=[])
        assert scheduling.schedule_deployment(ctx, bare["id"], self.window(ctx, max_runs=3)) == []

    @pytest.mark.parametrize("kw, days", [
        ({"end": NOW + dt.timedelta(days=17), "min_runs": 100}, list(range(1, 18))),
        ({"end": NOW + dt.timedelta(days=17)}, [1, 2, 3]),
        ({"min_time": dt.timedelta(days=17)}, list(range(1, 19))),
        ({"start": NOW + dt.timedelta(days=100), "end": NOW + dt.timedelta(days=110), "min_runs": 100},
         list(range(101, 111))),
        ({"start": NOW + dt.timedelta(days=100), "end": NOW + dt.timedelta(days=150), "max_runs": 3},
         [101, 102, 103]),
        ({"start": NOW - dt.timedelta(days=1000), "end": NOW - dt.timedelta(days=990), "min_runs": 100},
         list(range(-999, -989))),
    ])
    def test_window_precedence(self, ctx, kw, days):
        dep = deploy(ctx, schedules=[DAY])
        scheduling.schedule_deployment(ctx, dep["id"], self.window(ctx, **kw))
        today = dt.datetime(2024, 3, 5, tzinfo=UTC)
        assert start_times(all_runs(ctx)) == [today + dt.timedelta(days=d) for d in days]

    def test_runs_carry_deployment_fields_and_auto_tag_first(self, ctx):
        dep = deploy(ctx, schedules=[DAY], tags=["t1", "t0"], parameters={"foo": "bar"}, work_queue_name="wq")
        scheduling.schedule_deployment(ctx, dep["id"], self.window(ctx))
        for run in all_runs(ctx):
            assert run["tags"] == ["auto-scheduled", "t1", "t0"]
            assert run["parameters"] == {"foo": "bar"}
            assert run["work_queue_name"] == "wq"
            assert run["auto_scheduled"] is True
            assert run["id"] == ids.flow_run_id(dep["flow_id"], run["idempotency_key"])

    def test_every_run_scheduled_with_expected_equal_next_across_batches(self, ctx):
        for i in range(4):
            deploy(ctx, name=f"d{i}", schedules=[{"interval": 60, "anchor_date": "2020-01-01T00:00:00+00:00"}])
        runs = [r for d in ctx.stores.deployments.query("due", "0")
                for r in scheduling.build_runs(d, scheduling.planned_dates(d, self.window(ctx)), NOW)]
        created = scheduling.insert_runs(ctx, runs, batch_size=7)
        assert len(created) == len(runs) == 4 * 61
        for run in all_runs(ctx):
            assert run["state_type"] == "SCHEDULED"
            assert run["state_id"] == run["state"]["id"]
            assert run["expected_start_time"] == run["next_scheduled_start_time"] is not None


class TestDueIndex:
    """DESIGN.md: cost follows what is due; ``due_at`` is when the deployment next qualifies."""

    def test_nothing_due_is_one_query_and_nothing_else(self, ctx):
        deploy(ctx)
        tick(ctx)
        ctx.stores.deployments.calls.clear()
        ctx.stores.flow_runs.calls.clear()
        result = tick(ctx)
        assert result.deployments == 0
        assert ctx.stores.deployments.calls == ["Query"]
        assert ctx.stores.flow_runs.calls == []

    def test_one_query_per_shard(self, memory_ctx, clock):
        from dataclasses import replace

        clock.freeze(NOW)
        memory_ctx.settings = replace(memory_ctx.settings, due_shards=4)
        tick(memory_ctx)
        assert memory_ctx.stores.deployments.calls == ["Query"] * 4

    def test_shards_spread_deployments_and_every_shard_is_ticked(self, memory_ctx, clock):
        from dataclasses import replace

        clock.freeze(NOW)
        memory_ctx.settings = replace(memory_ctx.settings, due_shards=3)
        for i in range(12):
            deploy(memory_ctx, name=f"d{i}")
        shards = {doc(memory_ctx, d["id"])["_due_shard"] for d in memory_ctx.stores.deployments.dump()}
        assert len(shards) > 1
        assert tick(memory_ctx).scheduled == 36

    def test_after_a_write_the_first_pass_looks_again_after_settle(self, ctx):
        dep = deploy(ctx)
        tick(ctx)
        assert due_at(ctx, dep["id"]) == NOW + scheduler.SETTLE
        assert doc(ctx, dep["id"])["_sched_settle"] is True

    def test_due_at_is_just_after_the_run_that_leaves_fewer_than_min_runs(self, ctx, clock):
        dep = deploy(ctx)
        tick(ctx)
        assert settle(ctx, clock).scheduled == 0
        first = start_times(all_runs(ctx))[0]
        assert due_at(ctx, dep["id"]) == first + dt.timedelta(microseconds=1)
        assert "_sched_settle" not in doc(ctx, dep["id"])

    def test_due_at_follows_the_min_time_horizon_for_frequent_schedules(self, ctx, clock):
        dep = deploy(ctx, schedules=[{"interval": 300, "anchor_date": "2020-01-01T00:00:00+00:00"}])
        tick(ctx)
        settle(ctx, clock)
        last = start_times(all_runs(ctx))[-1]
        assert due_at(ctx, dep["id"]) == last - dt.timedelta(hours=1, microseconds=-1)

    def test_not_due_before_due_at_tops_up_exactly_one_after(self, ctx, clock):
        dep = deploy(ctx)
        tick(ctx)
        settle(ctx, clock)
        first = start_times(all_runs(ctx))[0]
        clock.freeze(first)
        assert tick(ctx).deployments == 0
        clock.freeze(first + dt.timedelta(seconds=1))
        result = tick(ctx)
        assert result.scheduled == 1
        assert start_times(all_runs(ctx, dep["id"]))[-1] == first + dt.timedelta(hours=3)

    def test_due_but_satisfied_only_moves_due_at(self, ctx, clock):
        dep = deploy(ctx)
        tick(ctx)
        settle(ctx, clock)
        d = doc(ctx, dep["id"])
        moved = d["_due_at"]
        d["_due_at"] = sort_key(clock())  # found due (same revision) although it has enough runs
        ctx.stores.deployments.put(d)
        result = tick(ctx)
        assert (result.scheduled, result.satisfied) == (0, 1)
        assert doc(ctx, dep["id"])["_due_at"] == moved

    def test_a_written_deployment_is_materialised_regardless_of_the_rule(self, ctx, clock):
        """§6.2 (RecentDeploymentsScheduler): a just-changed deployment gets its runs even when it
        has "enough" — e.g. a schedule added through POST …/schedules."""
        from domain.services.deployment_models import DeploymentScheduleCreate

        dep = deploy(ctx)
        tick(ctx)
        settle(ctx, clock)
        two_h = {"interval": 7200, "anchor_date": "2020-01-01T00:30:00+00:00"}
        deployments.create_schedules(ctx, dep["id"], [DeploymentScheduleCreate.model_validate({"schedule": two_h})])
        assert tick(ctx).scheduled == 3
        assert set(first_dates(two_h, 3, clock())) <= set(start_times(all_runs(ctx)))

    def test_a_hole_is_not_refilled_by_the_rule_alone(self, ctx, clock):
        """The reference's main loop does not refill a deleted run while enough remain; neither do we."""
        dep = deploy(ctx, schedules=[{"interval": 300, "anchor_date": "2020-01-01T00:00:00+00:00"}])
        tick(ctx)
        settle(ctx, clock)
        hole = sorted(all_runs(ctx), key=lambda r: r["next_scheduled_start_time"])[5]
        flow_runs.delete(ctx, hole["id"])
        d = doc(ctx, dep["id"])
        d["_due_at"] = sort_key(clock())
        ctx.stores.deployments.put(d)
        assert tick(ctx).scheduled == 0

    def test_late_runs_do_not_count(self, ctx, clock):
        dep = deploy(ctx)
        tick(ctx)
        clock.advance(hours=2)  # two runs are now in the past (Late), still SCHEDULED
        tick(ctx)
        future = [t for t in start_times(all_runs(ctx, dep["id"])) if t >= clock()]
        assert len(future) == 3

    def test_manual_scheduled_runs_do_not_count(self, ctx):
        dep = deploy(ctx)
        manual = scheduling.build_runs(doc(ctx, dep["id"]), first_dates(HOUR, 5, NOW), NOW, auto_scheduled=False)
        for r in manual:  # what create_flow_run makes: own ids, no key, auto_scheduled false
            r["id"], r["idempotency_key"] = ids.new_id(), None
            ctx.stores.flow_runs.put(r)
        assert tick(ctx).scheduled == 3
        assert len([r for r in all_runs(ctx, dep["id"]) if r["auto_scheduled"]]) == 3

    def test_short_schedule_is_rechecked_when_its_next_date_enters_the_horizon(self, ctx, clock):
        anchor = NOW + dt.timedelta(seconds=1)
        dep = deploy(ctx, schedules=[{"interval": 60 * 86400, "anchor_date": anchor.isoformat()}])
        tick(ctx)
        assert len(all_runs(ctx)) == 2  # still "needs runs": only two dates within 100 days
        due = parse(doc(ctx, dep["id"])["_due_at"].replace("Z", "+00:00"))
        # the earliest change: the first planned slot passes (anchor) — the plan shifts
        assert due == anchor + dt.timedelta(microseconds=1)
        clock.freeze(anchor + dt.timedelta(seconds=1))
        tick(ctx)
        # third date (anchor + 120d) enters the horizon at anchor + 20d
        due = parse(doc(ctx, dep["id"])["_due_at"].replace("Z", "+00:00"))
        assert due == anchor + dt.timedelta(days=20)
        clock.freeze(due)
        assert tick(ctx).scheduled == 1

    def test_exhausted_schedule_is_rechecked_after_min_scheduled_time(self, ctx, clock):
        dep = deploy(ctx, schedules=[{"rrule": "DTSTART:20200101T000000\nRRULE:FREQ=DAILY;COUNT=2"}])
        assert tick(ctx).scheduled == 0
        assert settle(ctx, clock).scheduled == 0
        assert due_at(ctx, dep["id"]) == clock() + dt.timedelta(hours=1)


class TestNextDue:
    def w(self):
        return scheduling.Window(start=NOW, end=NOW + dt.timedelta(days=100), min_time=dt.timedelta(hours=1),
                                 min_runs=3, max_runs=100)

    def nd(self, runs, plan=(), **kw):
        kw = {"min_runs": 3, "min_time": dt.timedelta(hours=1), "max_time": dt.timedelta(days=100), **kw}
        return scheduler.next_due(NOW, sorted(runs), list(plan), self.w(), **kw)

    def test_enough_runs_count_threshold(self):
        runs = [NOW + dt.timedelta(hours=h) for h in (1, 2, 3, 4)]
        assert self.nd(runs) == NOW + dt.timedelta(hours=2, microseconds=1)

    def test_enough_runs_horizon_threshold(self):
        runs = [NOW + dt.timedelta(minutes=m) for m in range(5, 70, 5)]
        assert self.nd(runs) == NOW + dt.timedelta(minutes=5, microseconds=1)

    def test_min_runs_zero_uses_the_horizon_only(self):
        runs = [NOW + dt.timedelta(hours=5)]
        assert self.nd(runs, min_runs=0) == NOW + dt.timedelta(hours=4, microseconds=1)

    def test_nothing_known_rechecks_after_min_time(self):
        assert self.nd([]) == NOW + dt.timedelta(hours=1)

    def test_always_in_the_future(self):
        s = parse_schedule({"interval": 60, "anchor_date": NOW.isoformat()})
        assert self.nd([NOW], plan=[(s, [NOW])]) > NOW


class TestFastPath:
    """``process_deployments``: the stream/just-changed path (the RecentDeploymentsScheduler's role)."""

    def test_just_created_deployment_gets_min_runs(self, ctx):
        dep = deploy(ctx)
        result = scheduler.process_deployments(ctx, [dep["id"]])
        assert result.scheduled == 3
        assert len(all_runs(ctx, dep["id"])) == 3

    def test_not_due_deployment_is_left_alone(self, ctx):
        dep = deploy(ctx)
        tick(ctx)
        ctx.stores.flow_runs.calls.clear()
        result = scheduler.process_deployments(ctx, [dep["id"]])
        assert result.deployments == 0
        assert result.outcomes[0].action == "not_due"
        assert ctx.stores.flow_runs.calls == []

    def test_unknown_and_repeated_ids_are_fine(self, ctx):
        dep = deploy(ctx)
        result = scheduler.process_deployments(ctx, [dep["id"], ids.new_id(), dep["id"]])
        assert (result.scheduled, result.deployments) == (3, 1)

    def test_only_processes_the_given_ids(self, ctx):
        a, b = deploy(ctx, name="a"), deploy(ctx, name="b")
        scheduler.process_deployments(ctx, [a["id"]])
        assert {r["deployment_id"] for r in all_runs(ctx)} == {a["id"]}
        assert due_ids(ctx) == {b["id"]}


class TestFailures:
    def test_a_failing_deployment_is_logged_skipped_and_stays_due(self, ctx, caplog):
        good = deploy(ctx, name="good")
        bad = deploy(ctx, name="bad")
        d = doc(ctx, bad["id"])
        d["schedules"][0]["schedule"] = {"interval": "not a number"}
        ctx.stores.deployments.put(d)
        result = tick(ctx)
        assert (result.scheduled, result.failed) == (3, 1)
        assert {r["deployment_id"] for r in all_runs(ctx)} == {good["id"]}
        assert due_ids(ctx) == {bad["id"]}
        assert any("failed" in rec.getMessage() and bad["id"] in rec.getMessage() for rec in caplog.records)

    def test_a_failing_insert_fails_only_its_deployment(self, ctx):
        deploy(ctx, name="good")
        bad = deploy(ctx, name="bad")
        real_transact = ctx.stores.transact

        def transact(ops):  # a run's insert is one transaction with its companion items
            if any(op.store is ctx.stores.flow_runs and getattr(op, "doc", {}).get("deployment_id") == bad["id"]
                   for op in ops):
                raise RuntimeError("throttled")
            return real_transact(ops)

        ctx.stores.transact = transact
        result = tick(ctx)
        ctx.stores.transact = real_transact
        assert (result.scheduled, result.failed) == (3, 1)
        assert due_ids(ctx) == {bad["id"]}
        assert tick(ctx).scheduled == 3  # retried on the next tick

    def test_deadline_stops_taking_pages_and_leaves_the_rest_due(self, ctx):
        from dataclasses import replace

        ctx.settings = replace(ctx.settings, scheduler_deployment_batch_size=2)
        for i in range(5):
            deploy(ctx, name=f"d{i}")
        result = tick(ctx, deadline=0.0)
        assert result.incomplete is True
        assert result.scheduled == 0
        assert len(due_ids(ctx)) == 5
        assert tick(ctx).scheduled == 15


# --------------------------------------------------------------------------------- stale-run guard


class _HookedStore:
    """Delegates to a store; runs ``hook`` once, just before the first call of ``method``."""

    def __init__(self, inner, method, hook):
        self._inner, self._method, self._hook = inner, method, hook
        self._fired = threading.Event()

    def __getattr__(self, name):
        attr = getattr(self._inner, name)
        if name != self._method:
            return attr

        def wrapped(*a, **kw):
            if not self._fired.is_set():
                self._fired.set()
                self._hook()
            return attr(*a, **kw)

        return wrapped


# a run is inserted in one transaction with its companion items (domain/run_companions.py: counters,
# tag items), so the hook fires on the first transaction led by the run's write
RUN_WRITE = "transact"


def patch_params(ctx, dep_id, params):
    deployments.update(ctx, dep_id, DeploymentUpdate.model_validate({"parameters": params}))


class TestStaleRunGuard:
    """A deployment write racing a materialiser never leaves runs built from the old version."""

    def test_write_between_read_and_insert_stale_runs_are_discarded(self, ctx):
        dep = deploy(ctx, parameters={"v": 1})
        real = ctx.stores.flow_runs
        ctx.stores.flow_runs = _HookedStore(real, RUN_WRITE, lambda: patch_params(ctx, dep["id"], {"v": 2}))
        result = tick(ctx, workers=1)
        ctx.stores.flow_runs = real
        assert result.superseded == 1
        assert result.stale_removed == 3
        assert all_runs(ctx) == []
        assert dep["id"] in due_ids(ctx)  # the writer left it due
        tick(ctx)
        assert [r["parameters"] for r in all_runs(ctx)] == [{"v": 2}] * 3

    def test_write_between_insert_and_due_update_writer_deletes_and_tick_yields(self, ctx):
        dep = deploy(ctx, parameters={"v": 1})
        real = ctx.stores.deployments
        ctx.stores.deployments = _HookedStore(real, "put", lambda: patch_params(ctx, dep["id"], {"v": 2}))
        result = tick(ctx, workers=1)
        ctx.stores.deployments = real
        assert result.superseded == 1
        assert all_runs(ctx) == []
        tick(ctx)
        assert [r["parameters"] for r in all_runs(ctx)] == [{"v": 2}] * 3

    def test_pause_racing_a_tick_leaves_no_runs(self, ctx):
        dep = deploy(ctx)
        real = ctx.stores.flow_runs
        ctx.stores.flow_runs = _HookedStore(real, RUN_WRITE, lambda: deployments.set_paused(ctx, dep["id"], True))
        tick(ctx, workers=1)
        ctx.stores.flow_runs = real
        assert all_runs(ctx) == []
        assert due_ids(ctx) == set()
        assert tick(ctx).scheduled == 0

    def test_schedule_change_racing_a_tick_leaves_only_new_schedule_runs(self, ctx):
        dep = deploy(ctx)
        real = ctx.stores.flow_runs
        two_h = {"interval": 7200, "anchor_date": "2020-01-01T00:30:00+00:00"}

        def change():
            deployments.update(ctx, dep["id"], DeploymentUpdate.model_validate({"schedules": [{"schedule": two_h}]}))

        ctx.stores.flow_runs = _HookedStore(real, RUN_WRITE, change)
        tick(ctx, workers=1)
        ctx.stores.flow_runs = real
        tick(ctx)
        assert start_times(all_runs(ctx)) == first_dates(two_h, 3, NOW)

    def test_unrelated_revision_bump_keeps_the_runs(self, ctx):
        dep = deploy(ctx)
        real = ctx.stores.flow_runs

        def touch():  # e.g. a status/last_polled write: revision moves, runs unaffected
            d = doc(ctx, dep["id"])
            d["_rev"] += 1
            d["status"] = "READY"
            ctx.stores.deployments.put(d)

        ctx.stores.flow_runs = _HookedStore(real, RUN_WRITE, touch)
        result = tick(ctx, workers=1)
        ctx.stores.flow_runs = real
        assert (result.superseded, result.stale_removed) == (1, 0)
        assert len(all_runs(ctx)) == 3
        assert tick(ctx).scheduled == 0

    def test_tick_inside_a_write_is_settled_by_a_second_pass(self, ctx, clock, monkeypatch):
        """The tick reads the new version after the writer's put, while the writer's delete of the old
        runs is still to come — and then removes the tick's fresh runs too. The second look refills."""
        dep = deploy(ctx, parameters={"v": 1})
        tick(ctx)
        settle(ctx, clock)
        pending = []
        monkeypatch.setattr(deployments, "delete_scheduled_runs", lambda c, i, auto_only: pending.append(i))
        patch_params(ctx, dep["id"], {"v": 2})  # the put is done, the delete is in flight
        monkeypatch.undo()
        result = tick(ctx)  # reads v2 while the v1 runs are still there: replaces them at once …
        assert (result.stale_removed, result.scheduled) == (3, 3)
        deployments.delete_scheduled_runs(ctx, pending[0], auto_only=True)  # … then the writer's delete lands
        assert all_runs(ctx) == []
        assert settle(ctx, clock).scheduled == 3
        assert [r["parameters"] for r in all_runs(ctx)] == [{"v": 2}] * 3

    def test_runs_a_writers_delete_missed_are_replaced_on_the_next_pass(self, ctx, clock, monkeypatch):
        """On DynamoDB the writer's delete queries an eventually consistent index and can miss runs
        inserted an instant before its write. The pass after the write replaces such leftovers."""
        dep = deploy(ctx, parameters={"v": 1})
        tick(ctx)
        settle(ctx, clock)
        monkeypatch.setattr(deployments, "delete_scheduled_runs", lambda c, i, auto_only: 0)  # sees nothing
        patch_params(ctx, dep["id"], {"v": 2})
        monkeypatch.undo()
        result = tick(ctx)
        assert (result.stale_removed, result.scheduled) == (3, 3)
        assert [r["parameters"] for r in all_runs(ctx)] == [{"v": 2}] * 3

    def test_leftover_cleanup_never_touches_edited_or_moved_on_runs(self, ctx, clock, monkeypatch):
        dep = deploy(ctx, parameters={"v": 1})
        tick(ctx)
        settle(ctx, clock)
        first, second, third = sorted(all_runs(ctx), key=lambda r: r["next_scheduled_start_time"])
        set_running(ctx, first["id"])
        flow_runs.update(ctx, second["id"], flow_runs.FlowRunUpdate(parameters={"v": "edited"}))
        monkeypatch.setattr(deployments, "delete_scheduled_runs", lambda c, i, auto_only: 0)
        patch_params(ctx, dep["id"], {"v": 2})
        monkeypatch.undo()
        assert tick(ctx).stale_removed == 1  # only the pristine one
        runs = {r["id"]: r for r in all_runs(ctx)}
        assert runs[first["id"]]["state_type"] == "RUNNING"
        assert runs[second["id"]]["parameters"] == {"v": "edited"}
        assert runs[third["id"]]["parameters"] == {"v": 2}  # replaced, same slot, same id

    def test_matching_runs_are_not_leftovers(self, ctx, clock):
        dep = deploy(ctx)
        tick(ctx)
        settle(ctx, clock)
        deployments.set_paused(ctx, dep["id"], True)
        deployments.set_paused(ctx, dep["id"], False)
        scheduling.schedule_deployment(ctx, dep["id"], scheduling.default_window(ctx, min_runs=10))
        assert tick(ctx).stale_removed == 0
        assert len(all_runs(ctx)) == 10

    def test_post_schedule_racing_a_patch_discards_its_stale_runs(self, ctx):
        dep = deploy(ctx, parameters={"v": 1})
        real = ctx.stores.flow_runs
        ctx.stores.flow_runs = _HookedStore(real, RUN_WRITE, lambda: patch_params(ctx, dep["id"], {"v": 2}))
        created = scheduling.schedule_deployment(ctx, dep["id"], scheduling.default_window(ctx))
        ctx.stores.flow_runs = real
        assert created == []
        assert all_runs(ctx) == []

    def test_the_new_versions_run_in_the_same_slot_is_not_discarded_as_stale(self, ctx):
        """A tick that read v1 inserts its runs; a PATCH to v2 deletes them and another tick, reading
        v2, inserts v2's runs under the same ids (the slots'); the first tick's guard then finds its
        deployment changed - and must delete nothing: the runs there now are v2's (CI saw the
        deployment left with no runs at all)."""
        dep = deploy(ctx, parameters={"v": 1})
        window = scheduling.default_window(ctx)
        v1 = doc(ctx, dep["id"])
        mine = scheduling.build_runs(v1, scheduling.planned_dates(v1, window), ctx.now())
        scheduling.insert_runs(ctx, mine)  # (the deployment's creation may have inserted some already)
        created = mine
        assert sorted(r["id"] for r in all_runs(ctx)) == sorted(r["id"] for r in created)
        patch_params(ctx, dep["id"], {"v": 2})  # deletes the auto-scheduled runs
        assert all_runs(ctx) == []
        v2 = doc(ctx, dep["id"])
        theirs = scheduling.build_runs(v2, scheduling.planned_dates(v2, window), ctx.now())
        assert sorted(scheduling.insert_runs(ctx, theirs)) == sorted(r["id"] for r in created)

        assert scheduling.discard_stale(ctx, v1, window, created, ctx.now()) == []
        assert sorted((r["id"], r["parameters"]["v"]) for r in all_runs(ctx)) == sorted(
            (r["id"], 2) for r in created)

    def test_its_own_stale_runs_are_still_discarded(self, ctx):
        dep = deploy(ctx, parameters={"v": 1})
        window = scheduling.default_window(ctx)
        v1 = doc(ctx, dep["id"])
        mine = scheduling.build_runs(v1, scheduling.planned_dates(v1, window), ctx.now())
        scheduling.insert_runs(ctx, mine)
        created = mine
        ctx.stores.deployments.put({**v1, "parameters": {"v": 2}, "_rev": v1.get("_rev", 0) + 1})  # no delete ran

        assert sorted(scheduling.discard_stale(ctx, v1, window, created, ctx.now())) == sorted(r["id"] for r in created)
        assert all_runs(ctx) == []

    def test_a_stale_run_that_moved_on_is_kept(self, ctx):
        dep = deploy(ctx, parameters={"v": 1})
        real = ctx.stores.flow_runs
        state = {}

        def change_then_start():
            patch_params(ctx, dep["id"], {"v": 2})
            state["armed"] = True

        ctx.stores.flow_runs = _HookedStore(real, RUN_WRITE, change_then_start)
        # start the first inserted run after the tick's guard read it, before it deletes
        real_get_many = real.get_many

        def get_many(ids):
            docs = real_get_many(ids)
            if docs and state.pop("armed", False):
                set_running(ctx, docs[0]["id"])
            return docs

        real.get_many = get_many
        tick(ctx, workers=1)
        real.get_many = real_get_many
        ctx.stores.flow_runs = real
        left = all_runs(ctx)
        assert [(r["state_type"], r["parameters"]) for r in left] == [("RUNNING", {"v": 1})]


# ------------------------------------------------------------------------ cadence vs the reference


def _reference_pass(ctx) -> None:
    """The reference Scheduler's loop body: every unpaused deployment with an active schedule that
    matches the selection rule gets runs (no due index)."""
    now, s = ctx.now(), ctx.settings
    for d in ctx.stores.deployments.dump():
        if d.get("paused") or not any(x.get("active") for x in d.get("schedules") or []):
            continue
        future = sorted(parse(r["next_scheduled_start_time"])
                        for r in ctx.stores.flow_runs.query("scheduled_by_deployment", d["id"], sk_gte=sort_key(now))
                        if r.get("auto_scheduled"))
        if scheduler.needs_runs(future, now, min_runs=s.scheduler_min_runs, min_time=s.scheduler_min_scheduled_time):
            scheduling.schedule_runs(ctx, d, scheduling.default_window(ctx, start=now))


class TestCadenceMatchesTheReference:
    """Ticking only what is due creates exactly the runs the reference's every-tick loop creates,
    at the same ticks — ``due_at`` is never late (nor is the run set ever different)."""

    SCHEDULES = [
        HOUR,
        {"interval": 300, "anchor_date": "2020-01-01T00:02:00+00:00"},
        {"interval": 17 * 3600, "anchor_date": "2030-02-02T05:24:00+00:00"},
        {"interval": 60 * 86400, "anchor_date": "2024-03-05T10:30:00+00:00"},
        {"cron": "0 9 * * *", "timezone": "America/New_York"},
        {"cron": "*/20 1-3 * * *", "timezone": "Europe/Berlin"},
        {"cron": "30 16 * * 1-5", "timezone": "America/New_York"},
        {"cron": "0 0,13 * * 3,4", "timezone": "UTC"},
        {"rrule": "FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=8", "timezone": "UTC"},
        {"rrule": "DTSTART:20240305T120000\nRRULE:FREQ=HOURLY;COUNT=30", "timezone": "UTC"},
    ]

    @pytest.mark.parametrize("step_minutes, hours", [(1, 6), (7, 48)])
    @pytest.mark.parametrize("touch_after_cancel", [False, True], ids=["cancel", "cancel+write"])
    def test_ticks_create_the_same_runs_at_the_same_ticks(self, memory_ctx, clock, step_minutes, hours,
                                                          touch_after_cancel):
        """Cancelling leaves a slot taken (the deployment keeps "needing" runs it cannot get);
        ``cancel+write`` also makes every deployment due right then, as a write that deletes no runs
        (POST …/schedules, resume) does — exercising the "still short" branch of ``next_due``."""
        from domain.context import Ctx
        from domain.ports import Stores
        from infra.memory import MemoryStore

        clock.freeze(NOW)
        ref = Ctx(stores=Stores.build(MemoryStore), settings=memory_ctx.settings, clock=clock)
        for c in (memory_ctx, ref):
            for i, s in enumerate(self.SCHEDULES):
                deploy(c, name=f"d{i}", schedules=[s])

        def keys(c):  # a slot is (deployment name, scheduled time): ids are fresh in each world
            names = {d["id"]: d["name"] for d in c.stores.deployments.dump()}
            return sorted((names.get(r["deployment_id"]), r["idempotency_key"].rsplit(" ", 1)[-1])
                          for r in c.stores.flow_runs.dump())

        cancelled = False
        for minute in range(0, hours * 60, step_minutes):
            clock.freeze(NOW + dt.timedelta(minutes=minute))
            tick(memory_ctx, workers=1)
            _reference_pass(ref)
            assert keys(memory_ctx) == keys(ref), f"diverged at minute {minute}"
            if minute >= 90 and not cancelled:  # users cancel each deployment's next run, in both worlds
                for c in (memory_ctx, ref):
                    nxt: dict[str, dict] = {}
                    for r in c.stores.flow_runs.dump():
                        if r["state_type"] == "SCHEDULED" and parse(r["next_scheduled_start_time"]) >= clock():
                            best = nxt.get(r["deployment_id"])
                            if best is None or r["next_scheduled_start_time"] < best["next_scheduled_start_time"]:
                                nxt[r["deployment_id"]] = r
                    for r in nxt.values():
                        cancel(c, r["id"])
                    for d in c.stores.deployments.dump() if touch_after_cancel else ():
                        if d.get("_due_at"):
                            d["_due_at"] = sort_key(clock())
                            c.stores.deployments.put(d)
                cancelled = True


def test_tick_result_summary_is_json():
    r = scheduler.TickResult()
    r.add(scheduler.Outcome(id="x", action="scheduled", scheduled=["t"]))
    assert json.loads(json.dumps(r.summary()))["scheduled"] == 1
