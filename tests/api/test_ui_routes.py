"""The routes only the 2.20 UI calls (issue 11): histories, lateness, the flow-runs scatter, the run
graph, saved searches, block capabilities and the UI task-run counts. Shapes and texts checked against
``prefect server start`` 2.20.26 with the calls the UI sends (recorded in headless Chromium).

Runs and task runs are written straight into the stores (as orchestration leaves them), so these
tests depend on nothing but the routes under test.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from domain.timeutil import iso_utc

T0 = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.timezone.utc)
FLOW_ID = str(uuid.uuid4())


def at(**kw) -> str:
    return iso_utc(T0 + dt.timedelta(**kw))


@pytest.fixture
def now(clock):
    return clock.freeze(T0 + dt.timedelta(hours=2))


@pytest.fixture
def put_run(dynamo_ctx):
    def put(state_type="COMPLETED", state_name=None, expected=None, start=None, end=None, total=0.0, **extra):
        run_id = extra.pop("id", None) or str(uuid.uuid4())
        flow_id = extra.get("flow_id", FLOW_ID)
        if dynamo_ctx.stores.flows.get(flow_id) is None:
            dynamo_ctx.stores.flows.put({"id": flow_id, "name": f"flow-{flow_id[:8]}", "created": at(),
                                         "updated": at(), "tags": []})
        doc = {
            "id": run_id, "created": expected or at(), "updated": expected or at(), "name": f"run-{run_id[:4]}",
            "flow_id": extra.pop("flow_id", FLOW_ID), "state_type": state_type,
            "state_name": state_name or state_type.title(), "expected_start_time": expected, "start_time": start,
            "end_time": end, "total_run_time": total, "tags": [], "parameters": {}, "deployment_id": None,
            "work_queue_id": None, "parent_task_run_id": None,
            "state": {"id": str(uuid.uuid4()), "type": state_type, "name": state_name or state_type.title(),
                      "timestamp": end or start or expected},
            **extra,
        }
        dynamo_ctx.stores.flow_runs.put(doc)
        return doc

    return put


@pytest.fixture
def put_task(dynamo_ctx):
    def put(flow_run_id, name, state_type="COMPLETED", expected=None, start=None, end=None, inputs=None, **extra):
        task_id = extra.pop("id", None) or str(uuid.uuid4())
        doc = {
            "id": task_id, "created": expected or at(), "updated": expected or at(), "name": name,
            "flow_run_id": flow_run_id, "task_key": name, "dynamic_key": "0", "state_type": state_type,
            "state_name": state_type.title(), "expected_start_time": expected, "start_time": start,
            "end_time": end, "total_run_time": 0.0, "task_inputs": inputs or {}, "tags": [], **extra,
        }
        dynamo_ctx.stores.task_runs.put(doc)
        return doc

    return put


HISTORY = {"history_start": at(), "history_end": at(hours=2), "history_interval_seconds": 3600}


class TestFlowRunHistory:
    def test_runs_are_bucketed_by_expected_start_and_grouped_by_state(self, client, now, put_run):
        put_run("COMPLETED", expected=at(minutes=5), start=at(minutes=5, seconds=3), end=at(minutes=6), total=57.0)
        put_run("COMPLETED", expected=at(minutes=10), start=at(minutes=10), end=at(minutes=11), total=60.0)
        put_run("FAILED", expected=at(minutes=20), start=at(minutes=20), end=at(minutes=21), total=1.5)
        put_run("SCHEDULED", state_name="Late", expected=at(minutes=70))
        put_run("COMPLETED", expected=at(hours=3))  # after history_end: in no interval
        r = client.post("flow_runs/history", json=HISTORY)
        assert r.status_code == 200
        assert r.json() == [
            {"interval_start": "2026-06-01T12:00:00+00:00", "interval_end": "2026-06-01T13:00:00+00:00", "states": [
                {"state_type": "COMPLETED", "state_name": "Completed", "count_runs": 2,
                 "sum_estimated_run_time": 117.0, "sum_estimated_lateness": 3.0},
                {"state_type": "FAILED", "state_name": "Failed", "count_runs": 1,
                 "sum_estimated_run_time": 1.5, "sum_estimated_lateness": 0.0},
            ]},
            {"interval_start": "2026-06-01T13:00:00+00:00", "interval_end": "2026-06-01T14:00:00+00:00", "states": [
                {"state_type": "SCHEDULED", "state_name": "Late", "count_runs": 1,
                 "sum_estimated_run_time": 0.0, "sum_estimated_lateness": 3000.0},
            ]},
        ]

    def test_empty_store_gives_every_interval_with_no_states(self, client, now):
        r = client.post("flow_runs/history", json={**HISTORY, "history_interval_seconds": 1800})
        assert r.status_code == 200
        assert [(i["interval_start"][11:16], i["interval_end"][11:16], i["states"]) for i in r.json()] == [
            ("12:00", "12:30", []), ("12:30", "13:00", []), ("13:00", "13:30", []), ("13:30", "14:00", [])]

    def test_last_interval_may_end_after_history_end(self, client, now):
        r = client.post("flow_runs/history", json={**HISTORY, "history_end": at(minutes=90)})
        assert [i["interval_end"] for i in r.json()] == ["2026-06-01T13:00:00+00:00", "2026-06-01T14:00:00+00:00"]

    def test_at_most_500_intervals(self, client, now):
        r = client.post("flow_runs/history", json={**HISTORY, "history_interval_seconds": 1})
        assert r.status_code == 200
        assert len(r.json()) == 500

    def test_interval_under_one_second_is_422(self, client, now):
        r = client.post("flow_runs/history", json={**HISTORY, "history_interval_seconds": 0.5})
        assert r.status_code == 422
        assert r.json() == {"detail": "History interval must not be less than 1 second."}

    def test_missing_fields_are_the_reference_envelope(self, client, now):
        r = client.post("flow_runs/history", json={})
        assert r.status_code == 422
        assert [e["loc"] for e in r.json()["exception_detail"]] == [
            ["body", "history_start"], ["body", "history_end"], ["body", "history_interval_seconds"]]

    def test_filters_apply(self, client, now, put_run):
        other = str(uuid.uuid4())
        put_run("COMPLETED", expected=at(minutes=5))
        put_run("COMPLETED", expected=at(minutes=6), flow_id=other)
        r = client.post("flow_runs/history", json={**HISTORY, "flows": {"id": {"any_": [other]}}})
        assert [s["count_runs"] for i in r.json() for s in i["states"]] == [1]

    def test_read_from_the_expected_start_index_not_a_scan(self, client, now, put_run, dynamo_calls):
        put_run("COMPLETED", expected=at(minutes=5))
        dynamo_calls.clear()
        client.post("flow_runs/history", json=HISTORY)
        assert "Scan" not in dynamo_calls
        assert "Query" in dynamo_calls


class TestTaskRunHistory:
    def test_dashboard_call_buckets_task_runs(self, client, now, put_run, put_task):
        run = put_run("COMPLETED", expected=at())
        put_task(run["id"], "a", expected=at(minutes=1), start=at(minutes=1), end=at(minutes=2))
        put_task(run["id"], "b", "FAILED", expected=at(minutes=61), start=at(minutes=61), end=at(minutes=62))
        put_task(run["id"], "c", expected=at(minutes=2), start=None)  # outside the start_time filter
        body = {**HISTORY, "flow_runs": {},
                "task_runs": {"start_time": {"after_": at(), "before_": at(hours=2)}}}
        r = client.post("task_runs/history", json=body)
        assert r.status_code == 200
        assert [[(s["state_type"], s["count_runs"]) for s in i["states"]] for i in r.json()] == [
            [("COMPLETED", 1)], [("FAILED", 1)]]

    def test_flow_filter_joins_through_the_flow_run(self, client, now, put_run, put_task):
        mine = put_run("COMPLETED", expected=at())
        theirs = put_run("COMPLETED", expected=at(), flow_id=str(uuid.uuid4()))
        put_task(mine["id"], "a", expected=at(minutes=1), start=at(minutes=1))
        put_task(theirs["id"], "b", expected=at(minutes=1), start=at(minutes=1))
        r = client.post("task_runs/history", json={**HISTORY, "flows": {"id": {"any_": [FLOW_ID]}}})
        assert [s["count_runs"] for i in r.json() for s in i["states"]] == [1]


class TestFlowRunLateness:
    def test_average_of_whole_second_lateness_as_the_reference(self, client, now, put_run):
        put_run("COMPLETED", expected=at(), start=at(seconds=10.7))  # 10 whole seconds
        put_run("COMPLETED", expected=at(), start=at())  # on time
        put_run("SCHEDULED", expected=at(hours=1, minutes=59))  # overdue by 60 s, not started
        put_run("CANCELLED", expected=at())  # terminal, never started: 0
        r = client.post("flow_runs/lateness", json={})
        assert r.status_code == 200
        assert r.json() == 17.5

    def test_no_matching_run_is_null(self, client, now):
        r = client.post("flow_runs/lateness", json={"flow_runs": {"expected_start_time": {
            "after_": at(), "before_": at(hours=1)}}})
        assert r.status_code == 200
        assert r.json() is None

    def test_window_filter_limits_the_runs(self, client, now, put_run):
        put_run("COMPLETED", expected=at(minutes=1), start=at(minutes=1, seconds=4))
        put_run("COMPLETED", expected=at(hours=-5), start=at(hours=-4))
        r = client.post("flow_runs/lateness", json={"flow_runs": {"expected_start_time": {
            "after_": at(), "before_": at(hours=1)}}})
        assert r.json() == 4.0


class TestUiFlowRunHistory:
    def test_points_for_the_scatter_plot(self, client, now, put_run):
        a = put_run("COMPLETED", expected=at(minutes=1), start=at(minutes=1, seconds=2), total=30.0)
        b = put_run("SCHEDULED", expected=at(minutes=30))
        r = client.post("ui/flow_runs/history", json={"sort": "EXPECTED_START_TIME_DESC", "flow_runs": {
            "expected_start_time": {"after_": at(), "before_": at(hours=1)}}})
        assert r.status_code == 200
        assert r.json() == [
            {"id": b["id"], "state_type": "SCHEDULED", "timestamp": "2026-06-01T12:30:00+00:00",
             "duration": 0.0, "lateness": 5400.0},
            {"id": a["id"], "state_type": "COMPLETED", "timestamp": "2026-06-01T12:01:02+00:00",
             "duration": 30.0, "lateness": 2.0},
        ]

    def test_limit_over_1000_is_422(self, client, now):
        r = client.post("ui/flow_runs/history", json={"limit": 1001})
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["loc"] == ["body", "limit"]


class TestFlowRunGraphV2:
    def test_nodes_edges_subflows_and_states(self, client, now, put_run, put_task, dynamo_ctx):
        dynamo_ctx.stores.flows.put({"id": "f-child", "name": "child-flow", "created": at(), "updated": at()})
        run = put_run("COMPLETED", expected=at(), start=at(seconds=1), end=at(seconds=30))
        extract = put_task(run["id"], "extract-0", expected=at(seconds=2), start=at(seconds=2), end=at(seconds=3))
        load = put_task(run["id"], "load-0", expected=at(seconds=4), start=at(seconds=4), end=at(seconds=5),
                        inputs={"rows": [{"input_type": "task_run", "id": extract["id"]}],
                                "n": [{"input_type": "parameter", "name": "n"}]})
        wrapper = put_task(run["id"], "child-0", expected=at(seconds=6), start=at(seconds=6), end=at(seconds=9))
        sub = put_run("COMPLETED", expected=at(seconds=6), start=at(seconds=7), end=at(seconds=8),
                      flow_id="f-child", parent_task_run_id=wrapper["id"], name="quick-fox")
        put_task(run["id"], "pending-0", "PENDING", expected=at(seconds=7))
        r = client.get(f"flow_runs/{run['id']}/graph-v2")
        assert r.status_code == 200
        body = r.json()
        assert list(body) == ["start_time", "end_time", "root_node_ids", "nodes", "artifacts", "states"]
        assert body["start_time"] == at(seconds=1)
        assert body["end_time"] == at(seconds=30)
        assert body["root_node_ids"] == [extract["id"], sub["id"]]
        assert [n[0] for n in body["nodes"]] == [extract["id"], load["id"], sub["id"]]
        assert body["nodes"][0][1] == {
            "kind": "task-run", "id": extract["id"], "label": "extract-0", "state_type": "COMPLETED",
            "start_time": at(seconds=2), "end_time": at(seconds=3), "parents": [],
            "children": [{"id": load["id"]}], "artifacts": []}
        assert body["nodes"][1][1]["parents"] == [{"id": extract["id"]}]
        assert body["nodes"][2][1] == {
            "kind": "flow-run", "id": sub["id"], "label": "child-flow / quick-fox", "state_type": "COMPLETED",
            "start_time": at(seconds=7), "end_time": at(seconds=8), "parents": [], "children": [], "artifacts": []}
        assert body["states"] == [{"id": run["state"]["id"], "timestamp": at(seconds=30), "type": "COMPLETED",
                                   "name": "Completed"}]
        assert body["artifacts"] == []

    def test_since_drops_nodes_that_ended_before(self, client, now, put_run, put_task):
        run = put_run("RUNNING", expected=at(), start=at())
        put_task(run["id"], "old", expected=at(seconds=1), start=at(seconds=1), end=at(seconds=2))
        new = put_task(run["id"], "new", "RUNNING", expected=at(seconds=3), start=at(seconds=3))
        r = client.get(f"flow_runs/{run['id']}/graph-v2", params={"since": at(seconds=2, microseconds=1)})
        assert [n[0] for n in r.json()["nodes"]] == [new["id"]]

    def test_unknown_run_is_404_exception_message(self, client, now):
        rid = str(uuid.uuid4())
        r = client.get(f"flow_runs/{rid}/graph-v2")
        assert r.status_code == 404
        assert r.json() == {"exception_message": f"Flow run {rid} not found"}

    def test_non_uuid_is_404_not_found(self, client, now):
        r = client.get("flow_runs/xyz/graph-v2")
        assert r.status_code == 404
        assert r.json() == {"detail": "Not Found"}

    def test_bad_since_is_422(self, client, now):
        r = client.get(f"flow_runs/{uuid.uuid4()}/graph-v2", params={"since": "xx"})
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [
            {"loc": ["query", "since"], "msg": "invalid datetime format", "type": "value_error.datetime"}]


SEARCH = {"name": "late runs", "filters": [
    {"object": "flow_run", "property": "state", "type": "state", "operation": "or", "value": ["Late"]}]}


class TestSavedSearches:
    def test_put_creates_201_then_replaces_filters_200_keeping_id(self, client, now):
        r = client.put("saved_searches/", json=SEARCH)
        assert r.status_code == 201
        first = r.json()
        assert list(first) == ["id", "created", "updated", "name", "filters"]
        assert first["filters"] == SEARCH["filters"]
        r = client.put("saved_searches/", json={"name": "late runs", "filters": []})
        assert r.status_code == 200
        assert r.json()["id"] == first["id"]
        assert r.json()["filters"] == []
        assert client.get(f"saved_searches/{first['id']}").json() == r.json()

    def test_filter_lists_by_name_with_offset_limit(self, client, now):
        for name in ("b", "a", "c"):
            client.put("saved_searches/", json={"name": name})
        r = client.post("saved_searches/filter", json={})
        assert r.status_code == 200
        assert [s["name"] for s in r.json()] == ["a", "b", "c"]
        assert [s["name"] for s in client.post("saved_searches/filter", json={"offset": 1, "limit": 1}).json()] == ["b"]

    def test_delete_then_read_is_404(self, client, now):
        sid = client.put("saved_searches/", json=SEARCH).json()["id"]
        assert client.delete(f"saved_searches/{sid}").status_code == 204
        r = client.get(f"saved_searches/{sid}")
        assert r.status_code == 404
        assert r.json() == {"detail": "Saved search not found"}
        r = client.delete(f"saved_searches/{sid}")
        assert r.status_code == 404
        assert r.json() == {"detail": "Saved search not found"}

    def test_unknown_keys_and_missing_name_are_422(self, client, now):
        assert client.put("saved_searches/", json={"name": "x", "extra": 1}).status_code == 422
        r = client.put("saved_searches/", json={})
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["loc"] == ["body", "name"]

    def test_non_uuid_id_is_422(self, client, now):
        r = client.get("saved_searches/xyz")
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [
            {"loc": ["path", "id"], "msg": "value is not a valid uuid", "type": "type_error.uuid"}]


class TestBlockCapabilities:
    def test_distinct_capabilities_of_registered_schemas_sorted(self, client, now):
        for slug, caps in (("store-a", ["read-path", "write-path"]), ("notify-b", ["notify", "read-path"])):
            t = client.post("block_types/", json={"name": slug, "slug": slug})
            assert t.status_code == 201, t.text
            s = client.post("block_schemas/", json={"fields": {"title": slug, "type": "object", "properties": {}},
                                                    "block_type_id": t.json()["id"], "capabilities": caps})
            assert s.status_code == 201, s.text
        r = client.get("block_capabilities/")
        assert r.status_code == 200
        assert r.json() == ["notify", "read-path", "write-path"]

    def test_empty_store_is_empty_list(self, client, now):
        assert client.get("block_capabilities/").json() == []


class TestUiTaskRunCounts:
    def test_every_state_type_is_present(self, client, now, put_run, put_task):
        run = put_run("RUNNING", expected=at())
        put_task(run["id"], "a", "COMPLETED", expected=at())
        put_task(run["id"], "b", "COMPLETED", expected=at())
        put_task(run["id"], "c", "RUNNING", expected=at())
        r = client.post("ui/task_runs/count", json={"flow_runs": {"id": {"any_": [run["id"]]}}})
        assert r.status_code == 200
        assert r.json() == {"COMPLETED": 2, "PENDING": 0, "RUNNING": 1, "FAILED": 0, "CANCELLED": 0, "CRASHED": 0,
                            "PAUSED": 0, "CANCELLING": 0, "SCHEDULED": 0}


class TestDashboardTaskRunCounts:
    def test_twenty_buckets_of_terminal_runs(self, client, now, put_run, put_task):
        run = put_run("RUNNING", expected=at())
        put_task(run["id"], "a", "COMPLETED", expected=at(minutes=1), start=at(minutes=1))
        put_task(run["id"], "b", "CRASHED", expected=at(minutes=1), start=at(minutes=1, seconds=5))
        put_task(run["id"], "c", "RUNNING", expected=at(minutes=1), start=at(minutes=1))  # not terminal
        put_task(run["id"], "d", "FAILED", expected=at(minutes=119), start=at(minutes=119, seconds=30))
        r = client.post("ui/task_runs/dashboard/counts",
                        json={"task_runs": {"start_time": {"after_": at(seconds=20), "before_": at(hours=2)}}})
        assert r.status_code == 200
        body = r.json()
        assert len(body) == 20
        assert body[0] == {"completed": 1, "failed": 1}
        assert body[19] == {"completed": 0, "failed": 1}
        assert sum(b["completed"] + b["failed"] for b in body) == 3

    def test_after_is_required(self, client, now):
        r = client.post("ui/task_runs/dashboard/counts", json={"task_runs": {}})
        assert r.status_code == 422
        assert r.json() == {"detail": "task_runs.start_time.after_ is required"}


@pytest.fixture
def block_document_id(client):
    t = client.post("block_types/", json={"name": "Secret", "slug": "secret"})
    s = client.post("block_schemas/", json={"fields": {"title": "Secret", "type": "object", "properties": {}},
                                            "block_type_id": t.json()["id"], "capabilities": []})
    d = client.post("block_documents/", json={"name": "s", "data": {}, "block_type_id": t.json()["id"],
                                              "block_schema_id": s.json()["id"]})
    assert d.status_code == 201, d.text
    return d.json()["id"]


POLICY_KEYS = ["id", "created", "updated", "is_active", "state_names", "tags", "block_document_id", "message_template"]


class TestNotificationPolicies:
    def test_create_read_patch_delete(self, client, now, block_document_id):
        r = client.post("flow_run_notification_policies/", json={
            "state_names": ["Failed"], "tags": ["etl"], "block_document_id": block_document_id})
        assert r.status_code == 201
        body = r.json()
        assert list(body) == POLICY_KEYS
        assert (body["is_active"], body["message_template"]) == (True, None)
        pid = body["id"]
        r = client.patch(f"flow_run_notification_policies/{pid}", json={"is_active": False,
                                                                          "message_template": "{flow_name} failed"})
        assert r.status_code == 204
        got = client.get(f"flow_run_notification_policies/{pid}").json()
        assert (got["is_active"], got["message_template"], got["tags"]) == (False, "{flow_name} failed", ["etl"])
        assert client.delete(f"flow_run_notification_policies/{pid}").status_code == 204
        r = client.get(f"flow_run_notification_policies/{pid}")
        assert r.status_code == 404
        assert r.json() == {"detail": "flow run notification policy not found"}

    def test_unknown_template_variable_is_422(self, client, now, block_document_id):
        r = client.post("flow_run_notification_policies/", json={
            "state_names": [], "tags": [], "block_document_id": block_document_id, "message_template": "{bad}"})
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [{"loc": ["body", "message_template"],
                                                 "msg": "Invalid template variable provided: 'bad'",
                                                 "type": "value_error"}]

    def test_unknown_block_document_is_the_integrity_409(self, client, now):
        r = client.post("flow_run_notification_policies/", json={
            "state_names": [], "tags": [], "block_document_id": str(uuid.uuid4())})
        assert r.status_code == 409
        assert r.json()["detail"].startswith("Data integrity conflict.")

    def test_patch_unknown_is_404_with_the_reference_literal_text_quirk(self, client, now):
        r = client.patch(f"flow_run_notification_policies/{uuid.uuid4()}", json={"is_active": False})
        assert r.status_code == 404
        assert r.json() == {"detail": "Flow run notification policy <built-in function id> not found"}

    def test_filter_by_is_active(self, client, now, block_document_id):
        ids = []
        for active in (True, False):
            ids.append(client.post("flow_run_notification_policies/", json={
                "is_active": active, "state_names": [], "tags": [], "block_document_id": block_document_id}).json()["id"])
        assert sorted(p["id"] for p in client.post("flow_run_notification_policies/filter", json={}).json()) == sorted(ids)
        r = client.post("flow_run_notification_policies/filter",
                        json={"flow_run_notification_policy_filter": {"is_active": {"eq_": True}}})
        assert [p["id"] for p in r.json()] == [ids[0]]
        # an empty filter object means the reference's default: inactive only
        r = client.post("flow_run_notification_policies/filter", json={"flow_run_notification_policy_filter": {}})
        assert [p["id"] for p in r.json()] == [ids[1]]


SCHEMA = {"type": "object", "properties": {"n": {"type": "integer"}, "m": {"type": "array", "items": {"type": "integer"}}},
          "required": ["n"]}


class TestUiSchemasValidate:
    @pytest.mark.parametrize(("values", "errors"), [
        ({"n": 1}, []),
        ({"n": 5, "m": [1, "a"]}, [{"property": "m", "errors": [{"index": 1, "errors": ["'a' is not of type 'integer'"]}]}]),
        ({"m": "x"}, [{"property": "m", "errors": ["'x' is not valid under any of the given schemas"]},
                      {"property": "n", "errors": ["'n' is a required property"]}]),
        ({"n": {"__prefect_kind": "workspace_variable", "variable_name": "nope"}},
         [{"property": "n", "errors": ["Variable 'nope' not found in workspace."]}]),
        ({"n": {"__prefect_kind": "json", "value": "{bad"}},
         [{"property": "n", "errors": ["Invalid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"]}]),
        ({"n": {"__prefect_kind": "jinja", "template": "{{ x }}"}}, []),
    ])
    def test_errors_as_the_reference_nests_them(self, client, now, values, errors):
        r = client.post("ui/schemas/validate", json={"schema": SCHEMA, "values": values})
        assert r.status_code == 200
        assert r.json() == {"errors": errors, "valid": not errors}

    def test_workspace_variable_is_hydrated(self, client, now):
        assert client.post("variables/", json={"name": "v", "value": "hello"}).status_code == 201
        r = client.post("ui/schemas/validate", json={"schema": SCHEMA, "values": {
            "n": {"__prefect_kind": "workspace_variable", "variable_name": "v"}}})
        assert r.json() == {"errors": [{"property": "n", "errors": ["'hello' is not of type 'integer'"]}], "valid": False}

    def test_invalid_schema_is_422(self, client, now):
        r = client.post("ui/schemas/validate", json={"schema": {"type": "object", "properties": {"n": {"type": "bogus"}}},
                                                     "values": {}})
        assert r.status_code == 422
        assert r.json() == {"detail": "Invalid schema: 'bogus' is not valid under any of the given schemas"}

    def test_values_are_required(self, client, now):
        r = client.post("ui/schemas/validate", json={"schema": {}})
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["loc"] == ["body", "values"]


class TestAdminSettings:
    def test_settings_by_reference_names_with_the_key_masked(self, client, now):
        r = client.get("admin/settings")
        assert r.status_code == 200
        body = r.json()
        assert body["PREFECT_API_DEFAULT_LIMIT"] == 200
        assert body["PREFECT_SERVER_CORS_ALLOWED_ORIGINS"] == "*"
        assert body["PREFECT_API_SERVICES_LATE_RUNS_AFTER_SECONDS"] == 15.0
        assert body["PREFECT_API_KEY"] == "********"
