"""The scheduler function on the DynamoDB adapter (moto), driven through its Lambda handler and the
HTTP API: event shapes, request counts, §8 item 205 over the wire, and spec §5.3 — which runs each
deployment change deletes — followed by the refill of the next tick."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pytest

from domain.ports import FLOW_RUNS
from handlers import scheduler as handler_mod

UTC = dt.timezone.utc
NOW = dt.datetime(2024, 3, 5, 10, 17, 23, 500000, tzinfo=UTC)
HOUR = {"interval": 3600, "anchor_date": "2020-01-01T00:00:00+00:00"}
TWO_H = {"interval": 7200, "anchor_date": "2020-01-01T00:30:00+00:00"}


def at(h: int, m: int = 0) -> str:
    return dt.datetime(2024, 3, 5, h, m, tzinfo=UTC).isoformat()


@pytest.fixture(autouse=True)
def frozen(clock):
    clock.freeze(NOW)


@pytest.fixture
def flow(client):
    r = client.post("flows/", json={"name": "my-flow"})
    assert r.status_code == 201, r.text
    return r.json()


def deploy(client, flow_id, name="D", schedules=(HOUR,), **body) -> dict:
    rows = [s if "schedule" in s else {"schedule": s} for s in schedules]
    r = client.post("deployments/", json={"name": name, "flow_id": flow_id, "schedules": rows, **body})
    assert r.status_code in (200, 201), r.text
    return r.json()


def tick() -> dict:
    out = handler_mod.handler(handler_mod.sample_event(), None)
    json.dumps(out)
    return out


def runs_of(client, dep_id) -> list[dict]:
    r = client.post("flow_runs/filter", json={"flow_runs": {"deployment_id": {"any_": [dep_id]}}})
    assert r.status_code == 200, r.text
    return r.json()


def by_time(runs) -> dict[str, dict]:
    return {r["next_scheduled_start_time"] or r["expected_start_time"]: r for r in runs}


def auto_scheduled_times(client, dep_id) -> list[str]:
    return sorted(r["next_scheduled_start_time"] for r in runs_of(client, dep_id)
                  if r["auto_scheduled"] and r["state_type"] == "SCHEDULED")


def set_state(client, run_id, state_type, force=True) -> None:
    r = client.post(f"flow_runs/{run_id}/set_state", json={"state": {"type": state_type}, "force": force})
    assert r.status_code in (200, 201), r.text


# ----------------------------------------------------------------------------------- the handler


# the late-runs service reads every shard of the sparse late_candidates index
LATE_SHARDS = FLOW_RUNS.index("late_candidates").shards


class TestSchedulerHandler:
    def test_sample_event_is_the_generated_scheduled_event(self):
        from infra.local.events import scheduled_event

        assert handler_mod.sample_event() == scheduled_event()

    def test_declares_its_tables(self):
        assert handler_mod.TABLES == ("Deployments", "FlowRuns", "FlowRunStates", "TaskRuns", "TaskRunStates",
                                      "Artifacts")

    def test_tick_with_nothing_due_late_or_expired_is_one_query_per_index(self, client, flow, dynamo_calls):
        deploy(client, flow["id"])
        tick()
        dynamo_calls.clear()
        out = tick()
        assert list(dynamo_calls) == ["Query"] * (LATE_SHARDS + 2)  # late_candidates' shards, paused_by_timeout, due
        assert (out["scheduled"], out["deployments"], out["source"]) == (0, 0, "tick")

    def test_tick_on_empty_tables_is_one_query_per_index(self, app, dynamo_calls):
        dynamo_calls.clear()
        tick()
        assert list(dynamo_calls) == ["Query"] * (LATE_SHARDS + 2)

    def test_a_due_hourly_deployment_costs_six_requests(self, client, flow, dynamo_calls):
        deploy(client, flow["id"])
        dynamo_calls.clear()
        out = tick()
        assert out["scheduled"] == 3
        # late-runs (one per shard) and pause-expiry Queries (nothing to do), due Query, BatchGetItem
        # of the page, runs Query, 3 conditional inserts (each a transaction with the run's
        # counters), due_at put
        assert sorted(dynamo_calls) == sorted(["Query"] * (LATE_SHARDS + 1) + ["Query", "BatchGetItem", "Query"]
                                              + ["TransactWriteItems"] * 3 + ["PutItem"])

    def test_summary_is_json_with_counts(self, client, flow):
        deploy(client, flow["id"])
        out = tick()
        assert out["scheduled"] == 3 and out["deployments"] == 1 and out["materialised"] == 1
        assert out["failed"] == 0 and out["incomplete"] is False
        assert isinstance(out["ms"], float)

    def test_stream_batch_processes_just_its_deployments(self, client, flow):
        a = deploy(client, flow["id"], name="a")
        b = deploy(client, flow["id"], name="b")
        event = {"Records": [
            {"eventName": "MODIFY", "eventSource": "aws:dynamodb", "dynamodb": {"Keys": {"id": {"S": a["id"]}}}},
            {"eventName": "REMOVE", "eventSource": "aws:dynamodb", "dynamodb": {"Keys": {"id": {"S": b["id"]}}}},
            {"eventName": "INSERT", "eventSource": "aws:dynamodb", "dynamodb": {"Keys": {"id": {"S": a["id"]}}}},
        ]}
        out = handler_mod.handler(event, None)
        assert (out["scheduled"], out["deployments"], out["source"]) == (3, 1, "stream")
        assert len(runs_of(client, a["id"])) == 3
        assert runs_of(client, b["id"]) == []

    def test_stream_record_of_the_ticks_own_write_does_nothing(self, client, flow, dynamo_calls):
        a = deploy(client, flow["id"])
        tick()
        dynamo_calls.clear()
        event = {"Records": [{"eventName": "MODIFY", "eventSource": "aws:dynamodb",
                              "dynamodb": {"Keys": {"id": {"S": a["id"]}}}}]}
        out = handler_mod.handler(event, None)
        assert out["deployments"] == 0
        assert list(dynamo_calls) == ["BatchGetItem"]

    @pytest.mark.parametrize("event", [{}, {"source": "aws.events"}, {"Records": [{"eventSource": "aws:sqs"}]}, []])
    def test_unknown_event_shape_is_a_clear_error(self, app, event):
        with pytest.raises(ValueError, match="scheduled event or a DynamoDB stream"):
            handler_mod.handler(event, None)

    def test_disabled_scheduler_runs_only_the_run_services(self, client, flow, dynamo_ctx, dynamo_calls):
        from dataclasses import replace

        deploy(client, flow["id"])
        saved = dynamo_ctx.settings
        dynamo_ctx.settings = replace(saved, scheduler_enabled=False)
        try:
            dynamo_calls.clear()
            out = tick()
        finally:
            dynamo_ctx.settings = saved
        assert out == {"scheduled": 0, "deployments": 0, "source": "tick", "enabled": False, "late": 0,
                       "expired_pauses": 0, "service_failures": 0, "services_incomplete": False}
        assert list(dynamo_calls) == ["Query"] * (LATE_SHARDS + 1)  # late candidates' shards, expired pauses: none

    def test_lambda_time_budget_leaves_the_rest_due(self, client, flow):
        deploy(client, flow["id"])
        lambda_context = SimpleNamespace(get_remaining_time_in_millis=lambda: 5_000)  # < safety margin
        out = handler_mod.handler(handler_mod.sample_event(), lambda_context)
        assert (out["scheduled"], out["incomplete"]) == (0, True)
        assert tick()["scheduled"] == 3


class TestSchedulerOverTheApi:
    def test_running_twice_then_cancelling_one_keeps_three(self, client, flow):
        """§8 item 205, cancelling through POST /flow_runs/{id}/set_state with force."""
        dep = deploy(client, flow["id"])
        tick()
        tick()
        runs = runs_of(client, dep["id"])
        assert len(runs) == 3
        set_state(client, runs[0]["id"], "CANCELLED")
        tick()
        runs = runs_of(client, dep["id"])
        assert sorted(r["state_type"] for r in runs) == ["CANCELLED", "SCHEDULED", "SCHEDULED"]

    def test_paused_deployment_gets_nothing(self, client, flow):
        dep = deploy(client, flow["id"], paused=True)
        assert tick()["scheduled"] == 0
        assert runs_of(client, dep["id"]) == []

    def test_runs_are_visible_to_get_scheduled_flow_runs(self, client, flow):
        dep = deploy(client, flow["id"])
        tick()
        r = client.post("deployments/get_scheduled_flow_runs",
                        json={"deployment_ids": [dep["id"]], "scheduled_before": at(14)})
        assert r.status_code == 200, r.text
        assert sorted(x["next_scheduled_start_time"] for x in r.json()) == [at(11), at(12), at(13)]


# ------------------------------------------------------------------------- spec §5.3 and refill


@pytest.fixture
def world(client, flow):
    """D (hourly) after one tick: auto runs at 11:00 (moved on to RUNNING), 12:00 and 13:00
    (SCHEDULED), plus a manually created SCHEDULED run at 15:30."""
    dep = deploy(client, flow["id"], tags=["t"], parameters={"v": 1})
    tick()
    runs = by_time(runs_of(client, dep["id"]))
    assert sorted(runs) == [at(11), at(12), at(13)]
    set_state(client, runs[at(11)]["id"], "RUNNING")
    r = client.post(f"deployments/{dep['id']}/create_flow_run",
                    json={"state": {"type": "SCHEDULED", "state_details": {"scheduled_time": at(15, 30)}}})
    assert r.status_code == 201, r.text
    return SimpleNamespace(dep=dep, running=runs[at(11)]["id"], auto=[runs[at(12)]["id"], runs[at(13)]["id"]],
                           manual=r.json()["id"])


def ids_of(client, dep_id) -> set[str]:
    return {r["id"] for r in runs_of(client, dep_id)}


def assert_only_auto_scheduled_deleted(client, w) -> None:
    left = ids_of(client, w.dep["id"])
    assert w.running in left and w.manual in left
    assert not (set(w.auto) & left)
    running = client.get(f"flow_runs/{w.running}").json()
    assert running["state_type"] == "RUNNING"


class TestChangesDeleteExactlyTheirRunsAndTheNextTickRefills:
    def test_patch(self, client, world):
        r = client.patch(f"deployments/{world.dep['id']}", json={"parameters": {"v": 2}})
        assert r.status_code == 204, r.text
        assert_only_auto_scheduled_deleted(client, world)
        tick()
        runs = [r for r in runs_of(client, world.dep["id"]) if r["auto_scheduled"] and r["state_type"] == "SCHEDULED"]
        assert sorted(r["next_scheduled_start_time"] for r in runs) == [at(12), at(13)]  # 11:00 is taken
        assert {json.dumps(r["parameters"]) for r in runs} == {'{"v": 2}'}

    def test_patch_schedules(self, client, world):
        r = client.patch(f"deployments/{world.dep['id']}", json={"schedules": [{"schedule": TWO_H}]})
        assert r.status_code == 204, r.text
        assert_only_auto_scheduled_deleted(client, world)
        tick()
        assert auto_scheduled_times(client, world.dep["id"]) == [at(10, 30), at(12, 30), at(14, 30)]

    def test_upsert(self, client, flow, world):
        deploy(client, flow["id"], schedules=(TWO_H,), tags=["t2"])
        assert_only_auto_scheduled_deleted(client, world)
        tick()
        assert auto_scheduled_times(client, world.dep["id"]) == [at(10, 30), at(12, 30), at(14, 30)]
        assert {tuple(r["tags"]) for r in runs_of(client, world.dep["id"])
                if r["auto_scheduled"] and r["state_type"] == "SCHEDULED"} == {("auto-scheduled", "t2")}

    @pytest.mark.parametrize("route", ["pause_deployment", "set_schedule_inactive"])
    def test_pause_then_resume(self, client, world, route):
        assert client.post(f"deployments/{world.dep['id']}/{route}").status_code == 200
        assert_only_auto_scheduled_deleted(client, world)
        assert tick()["scheduled"] == 0
        assert auto_scheduled_times(client, world.dep["id"]) == []
        assert client.post(f"deployments/{world.dep['id']}/resume_deployment").status_code == 200
        tick()
        assert auto_scheduled_times(client, world.dep["id"]) == [at(12), at(13)]

    def test_schedule_subresource_patch(self, client, world):
        sid = world.dep["schedules"][0]["id"]
        r = client.patch(f"deployments/{world.dep['id']}/schedules/{sid}", json={"schedule": TWO_H})
        assert r.status_code == 204, r.text
        assert_only_auto_scheduled_deleted(client, world)
        tick()
        assert auto_scheduled_times(client, world.dep["id"]) == [at(10, 30), at(12, 30), at(14, 30)]

    def test_schedule_subresource_deactivate(self, client, world):
        sid = world.dep["schedules"][0]["id"]
        r = client.patch(f"deployments/{world.dep['id']}/schedules/{sid}", json={"active": False})
        assert r.status_code == 204, r.text
        assert_only_auto_scheduled_deleted(client, world)
        assert tick()["scheduled"] == 0

    def test_schedule_subresource_delete(self, client, world):
        sid = world.dep["schedules"][0]["id"]
        assert client.delete(f"deployments/{world.dep['id']}/schedules/{sid}").status_code == 204
        assert_only_auto_scheduled_deleted(client, world)
        assert tick()["scheduled"] == 0
        assert auto_scheduled_times(client, world.dep["id"]) == []

    def test_schedules_create_deletes_nothing_and_the_tick_adds_the_new_schedule(self, client, world):
        r = client.post(f"deployments/{world.dep['id']}/schedules", json=[{"schedule": TWO_H}])
        assert r.status_code == 201, r.text
        assert set(world.auto) <= ids_of(client, world.dep["id"])
        tick()  # two future auto runs < MIN_RUNS: the deployment qualifies and both schedules plan
        assert auto_scheduled_times(client, world.dep["id"]) == sorted(
            [at(12), at(13), at(10, 30), at(12, 30), at(14, 30)])

    def test_resume_and_post_schedule_delete_nothing(self, client, world):
        assert client.post(f"deployments/{world.dep['id']}/resume_deployment").status_code == 200
        assert client.post(f"deployments/{world.dep['id']}/schedule", json={}).status_code == 200
        assert set(world.auto) | {world.manual, world.running} <= ids_of(client, world.dep["id"])

    def test_delete_deployment_deletes_all_scheduled(self, client, world):
        assert client.delete(f"deployments/{world.dep['id']}").status_code == 204
        left = ids_of(client, world.dep["id"])
        assert left == {world.running}
        assert tick()["scheduled"] == 0


# ------------------------------------------------------------------------- the run services


class TestRunServicesInTheTick:
    """Late runs and pause expiry ride on the tick (spec §4.1, §4.2): their DynamoDB requests
    follow the late and expired runs, never the other runs stored."""

    def adhoc(self, client, flow_id, seconds, type_="SCHEDULED") -> str:
        state = {"type": type_, "state_details": {"scheduled_time": (NOW + dt.timedelta(seconds=seconds)).isoformat()}}
        r = client.post("flow_runs/", json={"flow_id": flow_id, "state": state})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def finished(self, client, flow_id, n) -> None:
        for _ in range(n):
            set_state(client, self.adhoc(client, flow_id, -600), "COMPLETED")

    def test_late_marking_reads_only_the_late_runs(self, client, flow, dynamo_calls):
        late = [self.adhoc(client, flow["id"], -20), self.adhoc(client, flow["id"], -30)]
        self.finished(client, flow["id"], 2)
        dynamo_calls.clear()
        out = tick()
        first = sorted(dynamo_calls)
        assert (out["late"], out["expired_pauses"]) == (2, 0)
        assert {client.get(f"flow_runs/{r}").json()["state_name"] for r in late} == {"Late"}

        late = [self.adhoc(client, flow["id"], -40), self.adhoc(client, flow["id"], -50)]
        self.finished(client, flow["id"], 20)
        for s in range(10):
            self.adhoc(client, flow["id"], 60 + s)  # not due yet
        dynamo_calls.clear()
        assert tick()["late"] == 2
        assert sorted(dynamo_calls) == first
        assert {client.get(f"flow_runs/{r}").json()["state_name"] for r in late} == {"Late"}
