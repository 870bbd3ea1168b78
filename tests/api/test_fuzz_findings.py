"""What the fuzz suite (tests/fuzz, ``make fuzz``) found: each case answered 5xx on flowplane and
is pinned here by behaviour, on the DynamoDB adapter (moto).

Spec rule for reference quirks: where the reference itself answers 5xx, flowplane answers a clear
4xx in the reference's envelope for that route, and the test name says so. Measured against
``prefect server start`` 2.20.26.
"""

from __future__ import annotations

INVALID = "Invalid request received."


def make_deployment(client) -> str:
    flow = client.post("flows/", json={"name": "f"}).json()
    r = client.post("deployments/", json={"name": "d", "flow_id": flow["id"]})
    assert r.status_code == 201, r.text
    return r.json()["id"]


class TestCreateFlowRunFromDeployment:
    def test_a_pause_key_that_is_not_a_string_is_422_as_on_post_flow_runs(self, client):
        """Was a 500 (the policy was validated after the body). The reference keeps any pause keys
        as a set; flowplane answers both run-creating routes alike: pause keys are strings."""
        dep = make_deployment(client)
        r = client.post(f"deployments/{dep}/create_flow_run", json={"empirical_policy": {"pause_keys": [None]}})
        assert r.status_code == 422
        assert r.json() == {
            "exception_message": INVALID,
            "exception_detail": [{"loc": ["body", "empirical_policy", "pause_keys", 0],
                                  "msg": "none is not an allowed value", "type": "type_error.none.not_allowed"}],
            "request_body": {"empirical_policy": {"pause_keys": [None]}},
        }
        assert client.post("flow_runs/filter", json={}).json() == []

    def test_a_valid_policy_is_kept(self, client):
        dep = make_deployment(client)
        r = client.post(f"deployments/{dep}/create_flow_run",
                        json={"empirical_policy": {"retries": 2, "retry_delay": 5, "pause_keys": ["k"]}})
        assert r.status_code == 201
        assert r.json()["empirical_policy"] == {"max_retries": 0, "retry_delay_seconds": 0.0, "retries": 2,
                                                "retry_delay": 5, "pause_keys": ["k"], "resuming": False,
                                                "retry_type": None}


class TestPutSavedSearch:
    def test_an_empty_name_is_422_not_500(self, client):
        """DynamoDB cannot index an empty name (the reference creates it; the UI never sends one):
        refused up front, as for flows and deployments, and nothing is stored."""
        r = client.put("saved_searches/", json={"name": "", "filters": []})
        assert r.status_code == 422
        assert [e["loc"] for e in r.json()["exception_detail"]] == [["body", "name"]]
        assert client.post("saved_searches/filter", json={}).json() == []


HISTORY = {"history_start": "2000-01-01T00:00:00Z", "history_end": "2000-01-02T00:00:00Z"}
TOO_LONG = {"detail": "History interval must be a finite number of seconds of at most 999999999 days."}


class TestRunHistory:
    def test_an_interval_past_timedeltas_range_is_422_where_the_reference_answers_500(self, client):
        for path in ("flow_runs/history", "task_runs/history"):
            r = client.post(path, json={**HISTORY, "history_interval_seconds": 86_400_000_000_000.0})
            assert (r.status_code, r.json()) == (422, TOO_LONG)

    def test_a_nan_interval_is_422_where_the_reference_answers_500(self, client):
        raw = b'{"history_start": "2000-01-01T00:00:00Z", "history_end": "2000-01-02T00:00:00Z", ' \
              b'"history_interval_seconds": NaN}'
        r = client.post("flow_runs/history", content=raw, headers={"content-type": "application/json"})
        assert (r.status_code, r.json()) == (422, TOO_LONG)

    def test_an_interval_running_past_year_9999_ends_at_the_end_of_time_where_the_reference_answers_500(
            self, client):
        body = {"history_start": "9999-01-01T00:00:00Z", "history_end": "9999-12-31T00:00:00Z",
                "history_interval_seconds": 86_400 * 400}
        r = client.post("flow_runs/history", json=body)
        assert (r.status_code, r.json()) == (200, [{"interval_start": "9999-01-01T00:00:00+00:00",
                                                    "interval_end": "9999-12-31T23:59:59.999999+00:00",
                                                    "states": []}])


class TestCreateFlowRunInput:
    def test_an_empty_key_is_422_not_500(self, client):
        """DynamoDB cannot index an empty key (the reference stores it; no client sends one): refused
        with the key rule's text, and nothing is stored."""
        flow = client.post("flows/", json={"name": "f"}).json()
        run = client.post("flow_runs/", json={"flow_id": flow["id"]}).json()
        r = client.post(f"flow_runs/{run['id']}/input", json={"key": "", "value": "1"})
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [{"loc": ["body", "key"], "type": "value_error",
                                                 "msg": "value must only contain lowercase letters, numbers, "
                                                        "and dashes."}]
        assert client.post(f"flow_runs/{run['id']}/input/filter", json={"prefix": ""}).json() == []


class TestWorkerHeartbeat:
    def test_an_interval_past_the_calendar_is_kept_and_the_pool_stays_readable(self, client):
        """The reference answers 204 and then 500s on every ``workers/filter`` of the pool; flowplane
        keeps the interval as given: a huge one is ONLINE until the end of time, a hugely negative
        one OFFLINE at once."""
        assert client.post("work_pools/", json={"name": "p"}).status_code == 201
        for name, interval in (("big", 10**15), ("negative", -21_305_304_001)):
            r = client.post("work_pools/p/workers/heartbeat", json={"name": name, "heartbeat_interval_seconds": interval})
            assert r.status_code == 204
        r = client.post("work_pools/p/workers/filter", json={})
        assert r.status_code == 200
        assert {w["name"]: (w["heartbeat_interval_seconds"], w["status"]) for w in r.json()} == {
            "big": (10**15, "ONLINE"), "negative": (-21_305_304_001, "OFFLINE")}


class TestConcurrencyLimitFilters:
    def test_an_offset_near_the_largest_integer_is_an_empty_page_not_500(self, client):
        """``offset + limit`` past ``sys.maxsize`` crashed the index read; the reference answers [] for
        2**63 - 200 and 500 for 10**30: both are an empty page here, for both kinds of limit."""
        assert client.post("concurrency_limits/", json={"tag": "t", "concurrency_limit": 1}).status_code == 200
        for path in ("concurrency_limits/filter", "v2/concurrency_limits/filter"):
            for offset in (9_223_372_036_854_775_608, 10**30):
                r = client.post(path, json={"offset": offset})
                assert (r.status_code, r.json()) == (200, [])


class TestFilterDatetimes:
    def test_a_time_whose_utc_instant_is_before_year_one_is_422_where_the_reference_answers_500(self, client):
        for path, body in (
            ("deployments/count", {"flow_runs": {"start_time": {"after_": "0001-01-01T00:00:00+00:01"}}}),
            ("ui/task_runs/dashboard/counts", {"task_runs": {"start_time": {"after_": "0001-01-01T00:00:00+00:01"}}}),
            ("flow_runs/filter", {"flow_runs": {"start_time": {"before_": "9999-12-31T23:59:00-00:05"}}}),
        ):
            r = client.post(path, json=body)
            where = next(iter(body))
            field = "after_" if "after_" in body[where]["start_time"] else "before_"
            given = body[where]["start_time"][field]
            assert r.status_code == 422, path
            assert r.json()["exception_detail"] == [{"loc": ["body", where, "start_time", field],
                                                     "msg": f"Unable to parse string [{given}]",
                                                     "type": "value_error.parser"}]

    def test_the_same_instants_inside_the_calendar_are_fine(self, client):
        r = client.post("flow_runs/filter", json={"flow_runs": {"start_time": {"after_": "0001-01-01T00:00:00-00:01"}}})
        assert (r.status_code, r.json()) == (200, [])


BEFORE_YEAR_ONE = "0001-01-01T00:00:00+00:01"  # its UTC instant is 23:59 on 31 Dec of year 0
OUT_OF_RANGE = {"detail": "A date or number in the request is out of range."}


class TestOutOfRangeTimes:
    """A time from the request whose UTC instant leaves the calendar (or an arithmetic overflow it
    causes) is one 422 ``{"detail": …}`` for every route (``handlers/_app.py``), not a 500."""

    def test_log_timestamp_is_422_where_the_reference_answers_500(self, client):
        r = client.post("logs/", json=[{"name": "x", "level": 20, "message": "m", "timestamp": BEFORE_YEAR_ONE}])
        assert (r.status_code, r.json()) == (422, OUT_OF_RANGE)
        assert client.post("logs/filter", json={}).json() == []

    def test_history_start_is_422_where_the_reference_answers_500(self, client):
        r = client.post("flow_runs/history", json={"history_start": BEFORE_YEAR_ONE, "history_end": "2000-01-01T00:00:00Z",
                                                   "history_interval_seconds": 3600})
        assert (r.status_code, r.json()) == (422, OUT_OF_RANGE)

    def test_scheduled_before_of_a_pool_poll_is_422_where_the_reference_answers_500(self, client):
        assert client.post("work_pools/", json={"name": "p"}).status_code == 201
        r = client.post("work_pools/p/get_scheduled_flow_runs", json={"scheduled_before": BEFORE_YEAR_ONE})
        assert (r.status_code, r.json()) == (422, OUT_OF_RANGE)

    def test_a_scheduled_time_flowplane_cannot_store_in_utc_is_422_and_no_run_is_left(self, client):
        """The reference stores it with the caller's offset (201); flowplane keeps times in UTC,
        which cannot hold this one: refused, all or nothing."""
        flow = client.post("flows/", json={"name": "f"}).json()
        r = client.post("flow_runs/", json={"flow_id": flow["id"], "state": {
            "type": "SCHEDULED", "state_details": {"scheduled_time": BEFORE_YEAR_ONE}}})
        assert (r.status_code, r.json()) == (422, OUT_OF_RANGE)
        assert client.post("flow_runs/filter", json={}).json() == []


UNITERABLE_RRULE = {"rrule": "FREQ=HOURLY;BYHOUR=99"}  # dateutil parses it, then fails on the first date


class TestScheduleDeployment:
    def test_an_rrule_that_yields_no_date_schedules_nothing_where_the_reference_answers_500(self, client):
        """Accepted at create, as the reference does; ``POST …/schedule`` then answers as for any
        deployment (200 null) and creates no run."""
        flow = client.post("flows/", json={"name": "f"}).json()
        r = client.post("deployments/", json={"name": "d", "flow_id": flow["id"],
                                              "schedules": [{"schedule": UNITERABLE_RRULE}]})
        assert r.status_code == 201
        s = client.post(f"deployments/{r.json()['id']}/schedule", json={})
        assert (s.status_code, s.json()) == (200, None)
        assert client.post("flow_runs/filter", json={}).json() == []


class TestSchedulerTick:
    def test_a_deployment_whose_rrule_yields_no_date_does_not_stop_the_tick(self, memory_ctx, clock):
        from domain.services import deployments, flows, scheduler
        from domain.services.deployment_models import DeploymentCreate

        clock.freeze()
        flow, _ = flows.create(memory_ctx, flows.FlowCreate(name="f"))
        for name, schedule in (("bad", UNITERABLE_RRULE), ("good", {"interval": 3600})):
            deployments.create(memory_ctx, DeploymentCreate.model_validate(
                {"name": name, "flow_id": flow["id"], "schedules": [{"schedule": schedule}]}))
        scheduler.tick(memory_ctx)
        clock.advance(seconds=scheduler.SETTLE.total_seconds() + 1)
        scheduler.tick(memory_ctx)
        runs = memory_ctx.stores.flow_runs.dump()
        good = {d["id"] for d in memory_ctx.stores.deployments.dump() if d["name"] == "good"}
        assert runs and {r["deployment_id"] for r in runs} == good
