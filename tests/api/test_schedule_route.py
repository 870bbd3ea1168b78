"""POST /deployments/{id}/schedule — schedule / backfill runs now (spec §3.9, §5.4, §5.6; §8 items 131–136).

The clock is frozen at NOW (with microseconds, so "midnight after now" is unambiguous); the
deployment D has a daily interval anchored at 2020-01-01T00:00Z, so its dates are UTC midnights.
"""

import datetime as dt
import uuid

import pytest

UTC = dt.timezone.utc
NOW = dt.datetime(2024, 3, 5, 10, 17, 23, 500000, tzinfo=UTC)
DAY = {"interval": 86400, "anchor_date": "2020-01-01T00:00:00+00:00"}
RUN_KEYS = [
    "id", "created", "updated", "name", "flow_id", "state_id", "deployment_id", "deployment_version",
    "work_queue_id", "work_queue_name", "flow_version", "parameters", "idempotency_key", "context",
    "empirical_policy", "tags", "parent_task_run_id", "state_type", "state_name", "run_count",
    "expected_start_time", "next_scheduled_start_time", "start_time", "end_time", "total_run_time",
    "estimated_run_time", "estimated_start_time_delta", "auto_scheduled", "infrastructure_document_id",
    "infrastructure_pid", "created_by", "work_pool_id", "work_pool_name", "state", "job_variables",
]
STATE_DETAILS = {
    "flow_run_id": None, "task_run_id": None, "child_flow_run_id": None, "scheduled_time": None,
    "cache_key": None, "cache_expiration": None, "untrackable_result": False, "pause_timeout": None,
    "pause_reschedule": False, "pause_key": None, "run_input_keyset": None, "refresh_cache": None,
    "retriable": None, "transition_id": None, "task_parameters_id": None,
}


def midnight(days_from_now: int) -> dt.datetime:
    """The UTC midnight starting the day ``days_from_now`` days after NOW's day."""
    return dt.datetime(NOW.year, NOW.month, NOW.day, tzinfo=UTC) + dt.timedelta(days=days_from_now)


@pytest.fixture(autouse=True)
def frozen(clock):
    clock.freeze(NOW)


@pytest.fixture
def flow(client):
    r = client.post("flows/", json={"name": "my-flow"})
    assert r.status_code == 201, r.text
    return r.json()


def deploy(client, flow_id, name="D", **body) -> dict:
    body.setdefault("schedules", [{"schedule": DAY, "active": True}])
    r = client.post("deployments/", json={"name": name, "flow_id": flow_id, **body})
    assert r.status_code in (200, 201), r.text
    return r.json()


def runs_of(client, dep_id) -> list[dict]:
    r = client.post("flow_runs/filter", json={"flow_runs": {"deployment_id": {"any_": [dep_id]}}})
    assert r.status_code == 200, r.text
    return r.json()


def times(runs) -> list[dt.datetime]:
    return sorted(dt.datetime.fromisoformat(r["next_scheduled_start_time"]) for r in runs)


def schedule(client, dep_id, **body):
    r = client.post(f"deployments/{dep_id}/schedule", json=body)
    assert r.status_code == 200, r.text
    assert r.json() is None
    return runs_of(client, dep_id)


class TestScheduleDeployment:
    def test_no_body_schedules_the_next_min_runs_dates(self, client, flow):
        dep = deploy(client, flow["id"])
        r = client.post(f"deployments/{dep['id']}/schedule")
        assert r.status_code == 200
        assert r.json() is None
        assert times(runs_of(client, dep["id"])) == [midnight(1), midnight(2), midnight(3)]

    def test_empty_body_is_the_same_as_no_body(self, client, flow):
        dep = deploy(client, flow["id"])
        assert times(schedule(client, dep["id"])) == [midnight(1), midnight(2), midnight(3)]

    def test_min_runs_5_gives_the_5_next_dates(self, client, flow):
        dep = deploy(client, flow["id"])
        assert times(schedule(client, dep["id"], min_runs=5)) == [midnight(i) for i in range(1, 6)]

    def test_start_time_in_120_days_gives_min_runs_dates_from_there(self, client, flow):
        dep = deploy(client, flow["id"])
        start = NOW + dt.timedelta(days=120)
        got = times(schedule(client, dep["id"], start_time=start.isoformat()))
        assert got == [midnight(121), midnight(122), midnight(123)]

    def test_end_time_in_7_days_with_min_runs_100_gives_exactly_7(self, client, flow):
        dep = deploy(client, flow["id"])
        got = times(schedule(client, dep["id"], end_time=(NOW + dt.timedelta(days=7)).isoformat(), min_runs=100))
        assert got == [midnight(i) for i in range(1, 8)]

    def test_backfill_20_days_gives_exactly_20_past_runs(self, client, flow):
        dep = deploy(client, flow["id"])
        got = times(schedule(client, dep["id"], start_time=(NOW - dt.timedelta(days=20)).isoformat(),
                             end_time=NOW.isoformat(), min_runs=100))
        assert got == [midnight(i) for i in range(-19, 1)]

    def test_max_runs_caps_before_min_runs(self, client, flow):
        dep = deploy(client, flow["id"])
        start = NOW + dt.timedelta(days=100)
        got = times(schedule(client, dep["id"], start_time=start.isoformat(),
                             end_time=(NOW + dt.timedelta(days=150)).isoformat(), max_runs=3, min_runs=100))
        assert got == [midnight(101), midnight(102), midnight(103)]

    def test_unknown_deployment_is_200_null_and_creates_nothing(self, client, flow):
        unknown = str(uuid.uuid4())
        r = client.post(f"deployments/{unknown}/schedule", json={})
        assert r.status_code == 200
        assert r.json() is None
        assert runs_of(client, unknown) == []

    def test_paused_deployment_still_gets_runs(self, client, flow):
        dep = deploy(client, flow["id"], paused=True)
        assert len(schedule(client, dep["id"])) == 3

    def test_inactive_schedules_produce_no_runs(self, client, flow):
        dep = deploy(client, flow["id"], schedules=[{"schedule": DAY, "active": False}])
        assert schedule(client, dep["id"]) == []

    def test_only_active_schedules_contribute(self, client, flow):
        two_days = {"interval": 2 * 86400, "anchor_date": "2020-01-01T12:00:00+00:00"}
        dep = deploy(client, flow["id"], schedules=[{"schedule": DAY, "active": True},
                                                     {"schedule": two_days, "active": False}])
        assert times(schedule(client, dep["id"])) == [midnight(1), midnight(2), midnight(3)]

    def test_deployment_without_schedules_gets_none(self, client, flow):
        dep = deploy(client, flow["id"], schedules=[])
        assert schedule(client, dep["id"], max_runs=3) == []

    @pytest.mark.parametrize("min_time", [
        "P17D", 17 * 86400, 17 * 86400.0,
        "1468800",  # the reference (pydantic v1) also takes a string of seconds
    ])
    def test_min_time_as_iso_duration_or_seconds(self, client, flow, min_time):
        dep = deploy(client, flow["id"])
        assert times(schedule(client, dep["id"], min_time=min_time)) == [midnight(i) for i in range(1, 19)]

    def test_scheduling_twice_adds_nothing(self, client, flow):
        dep = deploy(client, flow["id"])
        first = schedule(client, dep["id"])
        second = schedule(client, dep["id"])
        assert sorted(r["id"] for r in second) == sorted(r["id"] for r in first)
        assert len(second) == 3

    def test_overlapping_windows_only_add_the_new_dates(self, client, flow):
        dep = deploy(client, flow["id"])
        schedule(client, dep["id"])
        got = times(schedule(client, dep["id"], min_runs=5))
        assert got == [midnight(i) for i in range(1, 6)]

    def test_bad_body_is_422(self, client, flow):
        dep = deploy(client, flow["id"])
        r = client.post(f"deployments/{dep['id']}/schedule", json={"min_runs": "many"})
        assert r.status_code == 422
        assert runs_of(client, dep["id"]) == []


class TestGeneratedRunShape:
    """Spec §5.6: what an auto-scheduled run looks like on the wire."""

    @pytest.fixture
    def ny(self, client, flow):
        return deploy(client, flow["id"], name="ny", version="v7", tags=["b", "a"], parameters={"x": 1},
                      schedules=[{"schedule": {"cron": "0 9 * * *", "timezone": "America/New_York"}}])

    def test_exact_keys_and_values(self, client, ny):
        runs = sorted(schedule(client, ny["id"]), key=lambda r: r["next_scheduled_start_time"])
        assert [r["next_scheduled_start_time"] for r in runs] == [
            "2024-03-05T14:00:00+00:00", "2024-03-06T14:00:00+00:00", "2024-03-07T14:00:00+00:00"]
        run = runs[0]
        assert list(run) == RUN_KEYS
        assert run["flow_id"] == ny["flow_id"]
        assert run["deployment_id"] == ny["id"]
        assert run["deployment_version"] == "v7"
        assert run["parameters"] == {"x": 1}
        assert run["tags"] == ["auto-scheduled", "b", "a"]
        assert run["auto_scheduled"] is True
        assert run["state_type"] == "SCHEDULED"
        assert run["state_name"] == "Scheduled"
        assert run["expected_start_time"] == run["next_scheduled_start_time"] == "2024-03-05T14:00:00+00:00"
        assert run["run_count"] == 0
        assert run["context"] == {}
        assert run["job_variables"] == {}
        assert run["created_by"] is None
        assert run["work_queue_name"] is None
        assert run["infrastructure_document_id"] is None
        assert run["created"] == NOW.isoformat()

    def test_idempotency_key_is_byte_exact_with_the_schedule_zone_offset(self, client, ny):
        runs = schedule(client, ny["id"])
        assert sorted(r["idempotency_key"] for r in runs) == [
            f"scheduled {ny['id']} 2024-03-05T09:00:00-05:00",
            f"scheduled {ny['id']} 2024-03-06T09:00:00-05:00",
            f"scheduled {ny['id']} 2024-03-07T09:00:00-05:00",
        ]

    def test_state_is_scheduled_with_zone_time_and_null_flow_run_id(self, client, ny):
        run = min(schedule(client, ny["id"]), key=lambda r: r["next_scheduled_start_time"])
        state = run["state"]
        assert list(state) == ["id", "type", "name", "timestamp", "message", "data", "state_details"]
        assert state["type"] == "SCHEDULED"
        assert state["name"] == "Scheduled"
        assert state["message"] == "Flow run scheduled"
        assert state["timestamp"] == NOW.isoformat()
        assert state["data"] is None
        assert state["state_details"] == {**STATE_DETAILS, "scheduled_time": "2024-03-05T09:00:00-05:00"}
        assert run["state_id"] == state["id"]

    def test_name_is_a_two_word_slug(self, client, ny):
        for run in schedule(client, ny["id"]):
            words = run["name"].split("-")
            assert len(words) == 2 and all(w.isalpha() and w.islower() for w in words), run["name"]

    def test_utc_schedule_renders_plus_zero_offset(self, client, flow):
        dep = deploy(client, flow["id"])
        keys = sorted(r["idempotency_key"] for r in schedule(client, dep["id"]))
        assert keys[0] == f"scheduled {dep['id']} {midnight(1).isoformat()}"
        assert keys[0].endswith("T00:00:00+00:00")

    def test_same_instant_in_two_zones_gives_two_runs(self, client, flow):
        """§5.4: identical instants collapse only when the offset string is identical too."""
        utc = {"cron": "0 14 * * *", "timezone": "UTC"}
        ny = {"cron": "0 9 * * *", "timezone": "America/New_York"}
        dep = deploy(client, flow["id"], schedules=[{"schedule": utc}, {"schedule": ny}])
        runs = schedule(client, dep["id"])
        assert len(runs) == 6
        assert len({r["next_scheduled_start_time"] for r in runs}) == 3

    def test_same_schedule_twice_collapses(self, client, flow):
        dep = deploy(client, flow["id"], schedules=[{"schedule": DAY}, {"schedule": DAY}])
        assert len(schedule(client, dep["id"])) == 3

    def test_deployment_work_queue_is_carried(self, client, flow):
        dep = deploy(client, flow["id"], work_queue_name="wq-a")
        run = schedule(client, dep["id"])[0]
        assert run["work_queue_name"] == "wq-a"
        assert run["work_queue_id"] is not None
