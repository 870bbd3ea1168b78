"""Two ticks, the stream fast path and ``POST …/schedule`` racing in threads on the same deployments
(DynamoDB adapter on moto): no duplicate (flow_id, idempotency_key), no run that moved on is ever
overwritten, and the result is exactly what one materialiser alone would have produced."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest

from domain.services import scheduler, scheduling
from handlers import scheduler as handler_mod

UTC = dt.timezone.utc
NOW = dt.datetime(2024, 3, 5, 10, 17, 23, 500000, tzinfo=UTC)
SCHEDULES = [
    {"interval": 3600, "anchor_date": "2020-01-01T00:00:00+00:00"},
    {"interval": 300, "anchor_date": "2020-01-01T00:02:00+00:00"},
    {"cron": "0 9 * * *", "timezone": "America/New_York"},
    {"rrule": "FREQ=HOURLY;INTERVAL=5", "timezone": "Europe/Berlin"},
]


@pytest.fixture(autouse=True)
def frozen(clock):
    clock.freeze(NOW)


@pytest.fixture
def deps(client):
    out = []
    for i, s in enumerate(SCHEDULES):
        flow = client.post("flows/", json={"name": f"flow-{i % 2}"}).json()
        r = client.post("deployments/", json={"name": f"d{i}", "flow_id": flow["id"], "schedules": [{"schedule": s}],
                                              "parameters": {"v": 1}})
        assert r.status_code == 201, r.text
        out.append(r.json())
    return out


def all_runs(client, deps) -> list[dict]:
    r = client.post("flow_runs/filter", json={"flow_runs": {"deployment_id": {"any_": [d["id"] for d in deps]}},
                                              "limit": 200})
    assert r.status_code == 200, r.text
    return r.json()


def race(*fns, rounds: int = 1) -> list[BaseException]:
    errors: list[BaseException] = []
    for _ in range(rounds):
        barrier = threading.Barrier(len(fns))

        def run(fn, barrier=barrier):
            try:
                barrier.wait(timeout=30)
                fn()
            except BaseException as exc:  # noqa: BLE001 - collected and asserted on
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(fn,)) for fn in fns]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    return errors


def expected_keys(ctx, deps) -> set[str]:
    keys = set()
    for d in deps:
        doc = ctx.stores.deployments.get(d["id"])
        keys |= {r["idempotency_key"] for r in scheduling.build_runs(
            doc, scheduling.planned_dates(doc, scheduling.default_window(ctx)), NOW)}
    return keys


class TestRacingMaterialisers:
    def test_two_ticks_stream_and_post_schedule_create_each_slot_once(self, client, deps, dynamo_ctx):
        stream = {"Records": [{"eventName": "MODIFY", "eventSource": "aws:dynamodb",
                               "dynamodb": {"Keys": {"id": {"S": d["id"]}}}} for d in deps]}

        def post_schedule():
            for d in deps:
                assert client.post(f"deployments/{d['id']}/schedule", json={}).status_code == 200

        errors = race(
            lambda: scheduler.tick(dynamo_ctx, workers=4),
            lambda: scheduler.tick(dynamo_ctx, workers=4),
            lambda: handler_mod.handler(stream, None),
            post_schedule,
        )
        assert errors == []
        runs = all_runs(client, deps)
        pairs = Counter((r["flow_id"], r["idempotency_key"]) for r in runs)
        assert [p for p, n in pairs.items() if n > 1] == []
        assert {r["idempotency_key"] for r in runs} == expected_keys(dynamo_ctx, deps)
        assert {r["state_type"] for r in runs} == {"SCHEDULED"}

    def test_a_run_that_moved_on_is_never_overwritten(self, client, deps, dynamo_ctx):
        for d in deps:
            assert client.post(f"deployments/{d['id']}/schedule", json={}).status_code == 200
        moved = {}
        for d in deps:  # start each deployment's first run, then change the deployment (new parameters)
            first = min((r for r in all_runs(client, [d])), key=lambda r: r["next_scheduled_start_time"])
            r = client.post(f"flow_runs/{first['id']}/set_state", json={"state": {"type": "RUNNING"}, "force": True})
            assert r.status_code == 201, r.text
            moved[first["id"]] = client.get(f"flow_runs/{first['id']}").json()
            assert client.patch(f"deployments/{d['id']}", json={"parameters": {"v": 2}}).status_code == 204

        def post_schedule():
            for d in deps:
                assert client.post(f"deployments/{d['id']}/schedule", json={}).status_code == 200

        errors = race(lambda: scheduler.tick(dynamo_ctx, workers=4),
                      lambda: scheduler.tick(dynamo_ctx, workers=4), post_schedule, rounds=2)
        assert errors == []
        runs = all_runs(client, deps)
        pairs = Counter((r["flow_id"], r["idempotency_key"]) for r in runs)
        assert [p for p, n in pairs.items() if n > 1] == []
        for run_id, before in moved.items():
            after = client.get(f"flow_runs/{run_id}").json()
            assert after["state_type"] == "RUNNING"
            assert after["state"]["id"] == before["state"]["id"]
            assert after["parameters"] == {"v": 1}
            assert after["updated"] == before["updated"]
        scheduled = [r for r in runs if r["state_type"] == "SCHEDULED"]
        assert {tuple(sorted(r["parameters"].items())) for r in scheduled} == {(("v", 2),)}
        assert {r["idempotency_key"] for r in runs} == expected_keys(dynamo_ctx, deps)

    def test_a_patch_racing_ticks_leaves_only_runs_of_the_new_version(self, client, deps, dynamo_ctx):
        def patch_all():
            for d in deps:
                assert client.patch(f"deployments/{d['id']}", json={"parameters": {"v": 2}}).status_code == 204

        errors = race(lambda: scheduler.tick(dynamo_ctx, workers=4),
                      lambda: scheduler.tick(dynamo_ctx, workers=4), patch_all)
        assert errors == []
        scheduler.tick(dynamo_ctx)  # the writes left the deployments due: the next tick refills
        runs = all_runs(client, deps)
        assert {tuple(sorted(r["parameters"].items())) for r in runs} == {(("v", 2),)}
        assert {r["idempotency_key"] for r in runs} == expected_keys(dynamo_ctx, deps)
