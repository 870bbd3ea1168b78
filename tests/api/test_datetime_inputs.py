"""Datetimes sent as JSON numbers (or numeric text) answer what the reference answers.

Every request-body datetime of the reference is prefect's ``DateTimeTZ``: text goes through
pendulum's parser and anything that is not text — a number, a boolean, an array — is refused with
"Unrecognized datetime." (it is never read as Unix time). Numeric text is pendulum's: four digits
are a year, seven an ordinal date, eight a calendar date, most others "Unable to parse string".
The one datetime query parameter (``graph-v2?since=``) is pydantic v1's plain ``datetime``, where a
number *is* Unix time. Every status and envelope below was checked against ``prefect server start``
(prefect 2.20.26, pydantic v2 installed, server models through pydantic.v1) with the same requests.
"""

from __future__ import annotations

import pytest

from tests.api.flow_run_support import create_run, make_deployment, make_flow, propose

UNRECOGNIZED = ("Unrecognized datetime.", "value_error")


def _parser(text: str) -> tuple[str, str]:
    return (f"Unable to parse string [{text}]", "value_error.parser")


# (value sent, the reference's msg and type) for every body datetime
REFUSED = [
    pytest.param(0, *UNRECOGNIZED, id="zero"),
    pytest.param(1700000000, *UNRECOGNIZED, id="unix-seconds"),
    pytest.param(1700000000.5, *UNRECOGNIZED, id="float"),
    pytest.param(-1, *UNRECOGNIZED, id="negative"),
    pytest.param(True, *UNRECOGNIZED, id="true"),
    pytest.param(False, *UNRECOGNIZED, id="false"),
    pytest.param(1e20, *UNRECOGNIZED, id="huge-float"),
    pytest.param(10**30, *UNRECOGNIZED, id="huge-int"),
    pytest.param([], *UNRECOGNIZED, id="array"),
    pytest.param("1700000000", *_parser("1700000000"), id="unix-text"),
    pytest.param("17000000000", *_parser("17000000000"), id="eleven-digits"),
    pytest.param("-5", *_parser("-5"), id="negative-text"),
    pytest.param("1.5", *_parser("1.5"), id="decimal-text"),
    pytest.param("1e3", *_parser("1e3"), id="exponent-text"),
    pytest.param("0", *_parser("0"), id="zero-text"),
    pytest.param("", "year 0 is out of range", "value_error", id="empty-text"),
    pytest.param("0000", "year 0 is out of range", "value_error", id="year-zero"),
    pytest.param("20231301", "month must be in 1..12", "value_error", id="month-13"),
]

# numeric text the reference reads as a date (pendulum's basic ISO-8601 forms)
DIGIT_DATES = [
    pytest.param("2023", "2023-01-01T00:00:00+00:00", id="year"),
    pytest.param("2023111", "2023-04-21T00:00:00+00:00", id="ordinal"),
    pytest.param("20231114", "2023-11-14T00:00:00+00:00", id="calendar-date"),
]


def detail(r) -> list[dict]:
    assert r.status_code == 422, r.text
    return r.json()["exception_detail"]


def refused(r, loc: list, msg: str, typ: str) -> None:
    assert detail(r) == [{"loc": loc, "msg": msg, "type": typ}]


def flow_run_count(client) -> int:
    return client.post("flow_runs/count", json={}).json()


class TestFilterDatetimes:
    """``before_``/``after_`` of every filter family (flow runs, task runs, logs, workers) on the
    filter, count and history-style routes that take them (reference checked on each route)."""

    ROUTES = [
        ("flow_runs/filter", {"flow_runs": {"expected_start_time": {"after_": "V"}}},
         ["flow_runs", "expected_start_time", "after_"]),
        ("flow_runs/count", {"flow_runs": {"start_time": {"before_": "V"}}}, ["flow_runs", "start_time", "before_"]),
        ("flows/filter", {"flow_runs": {"next_scheduled_start_time": {"before_": "V"}}},
         ["flow_runs", "next_scheduled_start_time", "before_"]),
        ("deployments/count", {"task_runs": {"start_time": {"after_": "V"}}}, ["task_runs", "start_time", "after_"]),
        ("task_runs/filter", {"task_runs": {"start_time": {"after_": "V"}}}, ["task_runs", "start_time", "after_"]),
        ("artifacts/filter", {"flow_runs": {"expected_start_time": {"after_": "V"}}},
         ["flow_runs", "expected_start_time", "after_"]),
        ("logs/filter", {"logs": {"timestamp": {"before_": "V"}}}, ["logs", "timestamp", "before_"]),
        ("ui/task_runs/dashboard/counts", {"task_runs": {"start_time": {"after_": "V"}}},
         ["task_runs", "start_time", "after_"]),
    ]

    @staticmethod
    def _body(template: dict, value) -> dict:
        if template == "V":
            return value
        if isinstance(template, dict):
            return {k: TestFilterDatetimes._body(v, value) for k, v in template.items()}
        return template

    @pytest.mark.parametrize(("value", "msg", "typ"), REFUSED)
    def test_a_number_or_numeric_text_is_refused_on_flow_runs_filter(self, client, value, msg, typ):
        r = client.post("flow_runs/filter", json={"flow_runs": {"expected_start_time": {"after_": value}}})
        refused(r, ["body", "flow_runs", "expected_start_time", "after_"], msg, typ)

    @pytest.mark.parametrize(("path", "template", "loc"), ROUTES, ids=[r[0] for r in ROUTES])
    def test_unix_seconds_are_refused_on_every_filter_route(self, client, path, template, loc):
        r = client.post(path, json=self._body(template, 1700000000))
        refused(r, ["body", *loc], *UNRECOGNIZED)

    @pytest.mark.parametrize(("path", "template", "loc"), ROUTES, ids=[r[0] for r in ROUTES])
    def test_unix_text_is_unparseable_on_every_filter_route(self, client, path, template, loc):
        r = client.post(path, json=self._body(template, "1700000000"))
        refused(r, ["body", *loc], *_parser("1700000000"))

    def test_workers_filter_refuses_a_number_for_last_heartbeat_time(self, client):
        client.post("work_pools/", json={"name": "pool", "type": "process"})
        r = client.post("work_pools/pool/workers/filter", json={"workers": {"last_heartbeat_time": {"after_": 0}}})
        refused(r, ["body", "workers", "last_heartbeat_time", "after_"], *UNRECOGNIZED)

    @pytest.mark.parametrize(("text", "expected"), DIGIT_DATES)
    def test_digit_only_dates_are_dates_not_unix_time(self, client, text, expected):
        flow = make_flow(client)
        at = {"type": "SCHEDULED", "state_details": {"scheduled_time": expected}}
        run = create_run(client, flow, state=at)
        after = client.post("flow_runs/filter", json={"flow_runs": {"expected_start_time": {"after_": text}}})
        before = client.post("flow_runs/filter", json={"flow_runs": {"expected_start_time": {"before_": text}}})
        assert after.status_code == before.status_code == 200
        assert [x["id"] for x in after.json()] == [x["id"] for x in before.json()] == [run["id"]]


class TestFlowRunCreateDatetimes:
    """POST /flow_runs/: the proposed state's ``timestamp`` (checked, then ignored) and its
    ``state_details`` datetimes; nothing is stored on refusal."""

    @pytest.mark.parametrize(("value", "msg", "typ"), REFUSED)
    def test_a_numeric_scheduled_time_is_422_and_creates_nothing(self, client, value, msg, typ):
        flow = make_flow(client)
        r = client.post("flow_runs/", json={"flow_id": flow, "state": {
            "type": "SCHEDULED", "state_details": {"scheduled_time": value}}})
        refused(r, ["body", "state", "state_details", "scheduled_time"], msg, typ)
        assert flow_run_count(client) == 0

    @pytest.mark.parametrize("field", ["cache_expiration", "pause_timeout"])
    def test_other_state_details_datetimes_refuse_numbers(self, client, field):
        flow = make_flow(client)
        r = client.post("flow_runs/", json={"flow_id": flow, "state": {"type": "PENDING", "state_details": {field: 5}}})
        refused(r, ["body", "state", "state_details", field], *UNRECOGNIZED)

    @pytest.mark.parametrize(("value", "msg", "typ"), [
        pytest.param(1700000000, *UNRECOGNIZED, id="number"),
        pytest.param("1700000000", *_parser("1700000000"), id="numeric-text"),
    ])
    def test_a_numeric_state_timestamp_is_422_although_it_would_be_ignored(self, client, value, msg, typ):
        flow = make_flow(client)
        r = client.post("flow_runs/", json={"flow_id": flow, "state": {"type": "SCHEDULED", "timestamp": value}})
        refused(r, ["body", "state", "timestamp"], msg, typ)
        assert flow_run_count(client) == 0

    def test_a_year_as_scheduled_time_is_new_year(self, client):
        run = create_run(client, make_flow(client), state={"type": "SCHEDULED", "state_details": {"scheduled_time": "2023"}})
        assert run["expected_start_time"] == "2023-01-01T00:00:00+00:00"
        assert run["state"]["state_details"]["scheduled_time"] == "2023-01-01T00:00:00+00:00"

    def test_run_times_are_not_create_fields_so_a_number_there_is_an_extra_key(self, client):
        r = client.post("flow_runs/", json={"flow_id": make_flow(client), "start_time": 0})
        refused(r, ["body", "start_time"], "extra fields not permitted", "value_error.extra")
        assert flow_run_count(client) == 0


class TestSetStateDatetimes:
    """POST /flow_runs/{id}/set_state and /task_runs/{id}/set_state: the run keeps its state."""

    def test_flow_run_scheduled_time_as_unix_seconds_is_422_and_state_unchanged(self, client):
        run = create_run(client, make_flow(client))
        r = client.post(f"flow_runs/{run['id']}/set_state", json={
            "state": {"type": "SCHEDULED", "state_details": {"scheduled_time": 1700000000}}, "force": True})
        refused(r, ["body", "state", "state_details", "scheduled_time"], *UNRECOGNIZED)
        assert client.get(f"flow_runs/{run['id']}").json()["state"]["type"] == "PENDING"

    def test_flow_run_state_timestamp_as_boolean_is_422(self, client):
        run = create_run(client, make_flow(client))
        r = client.post(f"flow_runs/{run['id']}/set_state", json={"state": {"type": "RUNNING", "timestamp": True}})
        refused(r, ["body", "state", "timestamp"], *UNRECOGNIZED)
        assert client.get(f"flow_runs/{run['id']}").json()["run_count"] == 0

    def test_task_run_scheduled_time_as_numeric_text_is_422(self, client):
        run = create_run(client, make_flow(client))
        task = client.post("task_runs/", json={"flow_run_id": run["id"], "task_key": "k", "dynamic_key": "0"}).json()
        r = propose(client, task["id"], "SCHEDULED", force=True, runs="task_runs", scheduled_time="-5")
        refused(r, ["body", "state", "state_details", "scheduled_time"], *_parser("-5"))


class TestTaskRunCreateDatetimes:
    def test_cache_expiration_as_number_is_422_and_creates_nothing(self, client):
        run = create_run(client, make_flow(client))
        r = client.post("task_runs/", json={"flow_run_id": run["id"], "task_key": "k", "dynamic_key": "0",
                                            "cache_expiration": 1700000000})
        refused(r, ["body", "cache_expiration"], *UNRECOGNIZED)
        assert client.post("task_runs/count", json={}).json() == 0


class TestRunHistoryDatetimes:
    @pytest.mark.parametrize("path", ["flow_runs/history", "task_runs/history"])
    @pytest.mark.parametrize(("field", "value", "msg", "typ"), [
        pytest.param("history_start", 0, *UNRECOGNIZED, id="start-number"),
        pytest.param("history_end", "1700000000", *_parser("1700000000"), id="end-numeric-text"),
    ])
    def test_numeric_history_bounds_are_422(self, client, path, field, value, msg, typ):
        body = {"history_start": "2020-01-01T00:00:00Z", "history_end": "2030-01-01T00:00:00Z",
                "history_interval_seconds": 86400 * 365, field: value}
        refused(client.post(path, json=body), ["body", field], msg, typ)


class TestScheduleAnchorDatetimes:
    """``anchor_date`` of an interval schedule, wherever a schedule is sent; the other union
    members' errors follow it (their extra-key order is the reference's set order, so compared
    as a set)."""

    @staticmethod
    def anchor_error(r) -> dict:
        errors = detail(r)
        return next(e for e in errors if e["loc"][-1] == "anchor_date" and e["type"] != "value_error.extra")

    @pytest.mark.parametrize(("value", "msg", "typ"), [
        pytest.param(1700000000, *UNRECOGNIZED, id="number"),
        pytest.param("1700000000", *_parser("1700000000"), id="numeric-text"),
        pytest.param("", "year 0 is out of range", "value_error", id="empty-text"),
    ])
    def test_deployment_create_with_numeric_anchor_is_422_and_stores_nothing(self, client, value, msg, typ):
        flow = make_flow(client)
        r = client.post("deployments/", json={"name": "d", "flow_id": flow,
                                              "schedule": {"interval": 60, "anchor_date": value}})
        assert self.anchor_error(r) == {"loc": ["body", "schedule", "anchor_date"], "msg": msg, "type": typ}
        assert sorted(map(repr, detail(r))) == sorted(map(repr, [
            {"loc": ["body", "schedule", "anchor_date"], "msg": msg, "type": typ},
            {"loc": ["body", "schedule", "cron"], "msg": "field required", "type": "value_error.missing"},
            {"loc": ["body", "schedule", "interval"], "msg": "extra fields not permitted", "type": "value_error.extra"},
            {"loc": ["body", "schedule", "anchor_date"], "msg": "extra fields not permitted", "type": "value_error.extra"},
            {"loc": ["body", "schedule", "rrule"], "msg": "field required", "type": "value_error.missing"},
            {"loc": ["body", "schedule", "interval"], "msg": "extra fields not permitted", "type": "value_error.extra"},
            {"loc": ["body", "schedule", "anchor_date"], "msg": "extra fields not permitted", "type": "value_error.extra"},
        ]))
        assert client.post("deployments/count", json={}).json() == 0

    def test_schedules_create_refuses_a_boolean_anchor(self, client):
        dep = make_deployment(client, make_flow(client))
        r = client.post(f"deployments/{dep}/schedules", json=[{"schedule": {"interval": 60, "anchor_date": True}}])
        assert self.anchor_error(r) == {"loc": ["body", 0, "schedule", "anchor_date"], "msg": "Unrecognized datetime.",
                                           "type": "value_error"}
        assert client.get(f"deployments/{dep}/schedules").json() == []

    def test_a_year_anchor_is_new_year(self, client):
        dep = make_deployment(client, make_flow(client), paused=True, schedule={"interval": 60, "anchor_date": "2023"})
        schedule = client.get(f"deployments/{dep}").json()["schedules"][0]["schedule"]
        assert schedule["anchor_date"] == "2023-01-01T00:00:00+00:00"


class TestDeploymentRouteDatetimes:
    """POST /deployments/{id}/schedule and /deployments/get_scheduled_flow_runs."""

    @pytest.mark.parametrize("field", ["start_time", "end_time"])
    def test_schedule_window_as_number_is_422_and_schedules_nothing(self, client, field):
        dep = make_deployment(client, make_flow(client), paused=True, schedule={"interval": 3600})
        r = client.post(f"deployments/{dep}/schedule", json={field: 1700000000})
        refused(r, ["body", field], *UNRECOGNIZED)
        assert flow_run_count(client) == 0

    def test_schedule_start_as_eleven_digit_text_is_unparseable(self, client):
        dep = make_deployment(client, make_flow(client), paused=True, schedule={"interval": 3600})
        r = client.post(f"deployments/{dep}/schedule", json={"start_time": "17000000000"})
        refused(r, ["body", "start_time"], *_parser("17000000000"))

    def test_get_scheduled_flow_runs_refuses_unix_seconds(self, client):
        dep = make_deployment(client, make_flow(client))
        r = client.post("deployments/get_scheduled_flow_runs", json={"deployment_ids": [dep], "scheduled_before": 0})
        refused(r, ["body", "scheduled_before"], *UNRECOGNIZED)


class TestPollingRouteDatetimes:
    """The worker's and the agent's polls: POST /work_pools/{name}/get_scheduled_flow_runs and
    POST /work_queues/{id}/get_runs (checked against prefect 2.20.26: 422, never Unix time)."""

    @pytest.mark.parametrize("field", ["scheduled_before", "scheduled_after"])
    def test_worker_poll_refuses_unix_seconds(self, client, field):
        assert client.post("work_pools/", json={"name": "p", "type": "process"}).status_code == 201
        r = client.post("work_pools/p/get_scheduled_flow_runs", json={field: 1700000000})
        refused(r, ["body", field], *UNRECOGNIZED)

    def test_agent_poll_refuses_numeric_text(self, client):
        queue = client.post("work_queues/", json={"name": "q"}).json()
        r = client.post(f"work_queues/{queue['id']}/get_runs", json={"scheduled_before": "1700000000"})
        refused(r, ["body", "scheduled_before"], *_parser("1700000000"))

    def test_worker_poll_still_reads_a_text_datetime(self, client):
        assert client.post("work_pools/", json={"name": "p", "type": "process"}).status_code == 201
        r = client.post("work_pools/p/get_scheduled_flow_runs", json={"scheduled_before": "2030-01-01T00:00:00Z"})
        assert (r.status_code, r.json()) == (200, [])


class TestLogCreateDatetimes:
    @pytest.mark.parametrize(("value", "msg", "typ"), [
        pytest.param(1700000000, *UNRECOGNIZED, id="number"),
        pytest.param("0", *_parser("0"), id="numeric-text"),
        pytest.param(None, "none is not an allowed value", "type_error.none.not_allowed", id="null"),
    ])
    def test_a_log_timestamp_that_is_no_datetime_is_422_and_nothing_is_stored(self, client, value, msg, typ):
        r = client.post("logs/", json=[{"name": "x", "level": 20, "message": "m", "timestamp": value}])
        refused(r, ["body", 0, "timestamp"], msg, typ)
        assert client.post("logs/filter", json={}).json() == []


class TestWorkQueueLastPolled:
    def test_patch_work_queue_refuses_unix_seconds_and_keeps_last_polled(self, client):
        queue = client.post("work_queues/", json={"name": "q"}).json()
        r = client.patch(f"work_queues/{queue['id']}", json={"last_polled": 1700000000})
        refused(r, ["body", "last_polled"], *UNRECOGNIZED)
        assert client.get(f"work_queues/{queue['id']}").json()["last_polled"] is None

    def test_patch_pool_queue_refuses_numeric_text(self, client):
        client.post("work_pools/", json={"name": "pool", "type": "process"})
        r = client.patch("work_pools/pool/queues/default", json={"last_polled": "1700000000"})
        refused(r, ["body", "last_polled"], *_parser("1700000000"))
        assert client.get("work_pools/pool/queues/default").json()["last_polled"] is None


class TestGraphSinceQuery:
    """GET /flow_runs/{id}/graph-v2?since= is pydantic v1's plain datetime in the reference: a
    number is Unix time (seconds; milliseconds beyond 2e10; past 3e20 the latest datetime)."""

    @pytest.fixture
    def finished_task(self, client):
        run = create_run(client, make_flow(client))
        task = client.post("task_runs/", json={"flow_run_id": run["id"], "task_key": "k", "dynamic_key": "0"}).json()
        assert propose(client, task["id"], "RUNNING", force=True, runs="task_runs").status_code == 201
        assert propose(client, task["id"], "COMPLETED", force=True, runs="task_runs").status_code == 201
        return run["id"]

    @pytest.mark.parametrize(("since", "kept"), [
        pytest.param("0", 1, id="epoch"),
        pytest.param("-1e20", 1, id="huge-negative"),
        pytest.param("1700000000", 1, id="seconds-2023"),
        pytest.param("1e400", 0, id="beyond-3e20-is-the-latest-datetime"),
        pytest.param("4102444800000", 0, id="milliseconds-2100"),
    ])
    def test_numeric_since_is_unix_time(self, client, finished_task, since, kept):
        r = client.get(f"flow_runs/{finished_task}/graph-v2", params={"since": since})
        assert r.status_code == 200, r.text
        assert len(r.json()["nodes"]) == kept

    @pytest.mark.parametrize(("since", "msg", "typ"), [
        pytest.param("nan", "cannot convert float NaN to integer", "value_error", id="nan"),
        pytest.param("abc", "invalid datetime format", "value_error.datetime", id="text"),
        pytest.param("2023-01-01", "invalid datetime format", "value_error.datetime", id="date-without-time"),
    ])
    def test_non_datetime_since_is_422(self, client, finished_task, since, msg, typ):
        r = client.get(f"flow_runs/{finished_task}/graph-v2", params={"since": since})
        refused(r, ["query", "since"], msg, typ)
