"""The /deployments/{id}/schedules sub-resource and the deprecated work_queue_check
(spec §3.13, §3.14, §4.5, §5.3; §8 items 177–188)."""

import datetime as dt
import uuid

import pytest

SCHEDULE_KEYS = ["id", "created", "updated", "deployment_id", "schedule", "active", "max_active_runs",
                 "max_scheduled_runs", "catchup"]
WORK_QUEUE_KEYS = ["id", "created", "updated", "name", "description", "is_paused", "concurrency_limit", "priority",
                   "work_pool_id", "filter", "last_polled"]
DAY = {"interval": 86400, "anchor_date": "2020-01-01T00:00:00+00:00"}


def interval(seconds: int) -> dict:
    return {"interval": seconds, "anchor_date": "2020-01-01T00:00:00+00:00"}


def out(seconds: int) -> dict:
    return {"interval": float(seconds), "anchor_date": "2020-01-01T00:00:00+00:00", "timezone": "UTC"}


@pytest.fixture
def flow(client):
    return client.post("flows/", json={"name": "my-flow"}).json()


def deploy(client, flow_id, name="D", **body) -> dict:
    r = client.post("deployments/", json={"name": name, "flow_id": flow_id, **body})
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def d(client, flow):
    return deploy(client, flow["id"], tags=["test"], schedules=[{"schedule": interval(86400)},
                                                                 {"schedule": interval(3600), "active": False}])


def schedules_of(client, dep_id) -> list[dict]:
    r = client.get(f"deployments/{dep_id}/schedules")
    assert r.status_code == 200, r.text
    return r.json()


def auto_runs(client, dep_id) -> list[dict]:
    body = {"flow_runs": {"deployment_id": {"any_": [dep_id]}, "state": {"type": {"any_": ["SCHEDULED"]}}}}
    return [r for r in client.post("flow_runs/filter", json=body).json() if r["auto_scheduled"]]


def seed_auto_runs(client, dep_id) -> None:
    assert client.post(f"deployments/{dep_id}/schedule", json={}).status_code == 200
    assert len(auto_runs(client, dep_id)) == 3


class TestReadDeploymentSchedules:
    def test_lists_schedules_most_recently_updated_first(self, client, d):
        got = schedules_of(client, d["id"])
        assert got == d["schedules"]
        assert [s["schedule"] for s in got] == [out(3600), out(86400)]
        assert all(list(s) == SCHEDULE_KEYS for s in got)

    def test_updated_schedule_moves_to_the_front(self, client, d):
        last = d["schedules"][-1]
        assert client.patch(f"deployments/{d['id']}/schedules/{last['id']}", json={}).status_code == 204
        assert [s["id"] for s in schedules_of(client, d["id"])] == [last["id"], d["schedules"][0]["id"]]

    def test_unknown_deployment_is_404_with_period(self, client):
        r = client.get(f"deployments/{uuid.uuid4()}/schedules")
        assert r.status_code == 404
        assert r.json() == {"detail": "Deployment not found."}

    def test_read_is_one_get_item(self, client, d, dynamo_calls):
        dynamo_calls.clear()
        schedules_of(client, d["id"])
        assert list(dynamo_calls) == ["GetItem"]


class TestCreateDeploymentSchedules:
    def test_appends_in_input_order_with_201(self, client, flow):
        dep = deploy(client, flow["id"])
        r = client.post(f"deployments/{dep['id']}/schedules", json=[
            {"schedule": interval(3600), "active": True},
            {"schedule": {"cron": "0 0 * * *"}, "active": False, "max_active_runs": 3, "max_scheduled_runs": 4,
             "catchup": True}])
        assert r.status_code == 201
        created = r.json()
        assert [list(s) for s in created] == [SCHEDULE_KEYS, SCHEDULE_KEYS]
        assert [s["schedule"] for s in created] == [out(3600), {"cron": "0 0 * * *", "timezone": None, "day_or": True}]
        assert [(s["active"], s["max_active_runs"], s["max_scheduled_runs"], s["catchup"]) for s in created] == [
            (True, None, None, False), (False, 3, 4, True)]
        assert all(s["deployment_id"] == dep["id"] for s in created)
        assert {s["id"] for s in schedules_of(client, dep["id"])} == {s["id"] for s in created}

    def test_existing_schedules_and_runs_are_kept(self, client, d):
        seed_auto_runs(client, d["id"])
        r = client.post(f"deployments/{d['id']}/schedules", json=[{"schedule": interval(60)}])
        assert r.status_code == 201
        ids = {s["id"] for s in schedules_of(client, d["id"])}
        assert ids == {s["id"] for s in d["schedules"]} | {r.json()[0]["id"]}
        assert len(auto_runs(client, d["id"])) == 3

    def test_new_schedule_becomes_the_legacy_schedule(self, client, d):
        r = client.post(f"deployments/{d['id']}/schedules", json=[{"schedule": interval(60)}])
        got = client.get(f"deployments/{d['id']}").json()
        assert got["schedules"][0]["id"] == r.json()[0]["id"]
        assert got["schedule"] == out(60)

    def test_empty_list_is_201_empty(self, client, d):
        r = client.post(f"deployments/{d['id']}/schedules", json=[])
        assert r.status_code == 201
        assert r.json() == []

    def test_object_body_is_422_not_a_list(self, client, d):
        r = client.post(f"deployments/{d['id']}/schedules", json={"schedule": interval(60)})
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [
            {"loc": ["body"], "msg": "value is not a valid list", "type": "type_error.list"}]

    def test_missing_body_is_422_field_required(self, client, d):
        r = client.post(f"deployments/{d['id']}/schedules")
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [
            {"loc": ["body"], "msg": "field required", "type": "value_error.missing"}]

    def test_max_scheduled_runs_above_setting_is_422(self, client, d):
        r = client.post(f"deployments/{d['id']}/schedules", json=[{"schedule": interval(60), "max_scheduled_runs": 51}])
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [{"loc": ["body", 0, "max_scheduled_runs"],
                                                  "msg": "`max_scheduled_runs` must be less than or equal to 50.",
                                                  "type": "value_error"}]
        assert len(schedules_of(client, d["id"])) == 2

    @pytest.mark.parametrize("field", ["max_active_runs", "max_scheduled_runs"])
    def test_non_positive_limits_are_422(self, client, d, field):
        r = client.post(f"deployments/{d['id']}/schedules", json=[{"schedule": interval(60), field: 0}])
        assert r.status_code == 422

    def test_schedule_is_required(self, client, d):
        r = client.post(f"deployments/{d['id']}/schedules", json=[{"active": True}])
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [
            {"loc": ["body", 0, "schedule"], "msg": "field required", "type": "value_error.missing"}]

    def test_unknown_deployment_is_404(self, client):
        r = client.post(f"deployments/{uuid.uuid4()}/schedules", json=[{"schedule": interval(60)}])
        assert r.status_code == 404
        assert r.json() == {"detail": "Deployment not found."}


class TestUpdateDeploymentSchedule:
    def test_deactivate_a_schedule(self, client, d):
        target = d["schedules"][1]
        assert target["active"] is True
        r = client.patch(f"deployments/{d['id']}/schedules/{target['id']}", json={"active": False})
        assert r.status_code == 204
        assert r.content == b""
        got = {s["id"]: s for s in schedules_of(client, d["id"])}
        assert got[target["id"]]["active"] is False
        assert got[target["id"]]["updated"] > target["updated"]
        assert got[target["id"]]["created"] == target["created"]

    def test_change_schedule_and_limits(self, client, d):
        target = d["schedules"][0]
        body = {"schedule": {"rrule": "FREQ=DAILY"}, "max_active_runs": 2, "max_scheduled_runs": 50, "catchup": True}
        assert client.patch(f"deployments/{d['id']}/schedules/{target['id']}", json=body).status_code == 204
        got = schedules_of(client, d["id"])[0]
        assert got["id"] == target["id"]
        assert (got["schedule"], got["max_active_runs"], got["max_scheduled_runs"], got["catchup"]) == (
            {"rrule": "FREQ=DAILY", "timezone": "UTC"}, 2, 50, True)

    def test_null_values_leave_fields_unchanged(self, client, d):
        target = d["schedules"][0]
        body = {"active": None, "schedule": None, "max_active_runs": None, "max_scheduled_runs": None,
                "catchup": None}
        assert client.patch(f"deployments/{d['id']}/schedules/{target['id']}", json=body).status_code == 204
        got = schedules_of(client, d["id"])[0]
        assert {k: got[k] for k in ("schedule", "active", "max_active_runs", "max_scheduled_runs", "catchup")} == \
            {k: target[k] for k in ("schedule", "active", "max_active_runs", "max_scheduled_runs", "catchup")}

    def test_unknown_schedule_is_404(self, client, d):
        r = client.patch(f"deployments/{d['id']}/schedules/{uuid.uuid4()}", json={"active": False})
        assert r.status_code == 404
        assert r.json() == {"detail": "Schedule not found."}

    def test_schedule_of_another_deployment_is_404(self, client, flow, d):
        other = deploy(client, flow["id"], "other", schedule=DAY)
        r = client.patch(f"deployments/{d['id']}/schedules/{other['schedules'][0]['id']}", json={"active": False})
        assert r.status_code == 404
        assert r.json() == {"detail": "Schedule not found."}
        assert schedules_of(client, other["id"])[0]["active"] is True

    def test_unknown_deployment_is_404(self, client):
        r = client.patch(f"deployments/{uuid.uuid4()}/schedules/{uuid.uuid4()}", json={"active": False})
        assert r.status_code == 404
        assert r.json() == {"detail": "Deployment not found."}

    def test_update_deletes_auto_scheduled_runs(self, client, d):
        seed_auto_runs(client, d["id"])
        assert client.patch(f"deployments/{d['id']}/schedules/{d['schedules'][1]['id']}",
                            json={"active": True}).status_code == 204
        assert auto_runs(client, d["id"]) == []

    def test_invalid_limits_are_422(self, client, d):
        sid = d["schedules"][0]["id"]
        r = client.patch(f"deployments/{d['id']}/schedules/{sid}", json={"max_scheduled_runs": 100})
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [{"loc": ["body", "max_scheduled_runs"],
                                                  "msg": "`max_scheduled_runs` must be less than or equal to 50.",
                                                  "type": "value_error"}]
        assert client.patch(f"deployments/{d['id']}/schedules/{sid}", json={"max_active_runs": 0}).status_code == 422
        assert client.patch(f"deployments/{d['id']}/schedules/{sid}", json={"bogus": 1}).status_code == 422

    def test_empty_body_is_accepted_and_no_body_is_field_required(self, client, d):
        sid = d["schedules"][0]["id"]
        assert client.patch(f"deployments/{d['id']}/schedules/{sid}", json={}).status_code == 204
        r = client.patch(f"deployments/{d['id']}/schedules/{sid}")  # the reference: its body is required
        assert (r.status_code, r.json()["exception_detail"]) == (
            422, [{"loc": ["body"], "msg": "field required", "type": "value_error.missing"}])


class TestDeleteDeploymentSchedule:
    def test_delete_removes_it_and_the_auto_scheduled_runs(self, client, d):
        seed_auto_runs(client, d["id"])
        target, kept = d["schedules"][1], d["schedules"][0]
        r = client.delete(f"deployments/{d['id']}/schedules/{target['id']}")
        assert r.status_code == 204
        assert [s["id"] for s in schedules_of(client, d["id"])] == [kept["id"]]
        assert auto_runs(client, d["id"]) == []

    def test_unknown_schedule_is_404(self, client, d):
        r = client.delete(f"deployments/{d['id']}/schedules/{uuid.uuid4()}")
        assert r.status_code == 404
        assert r.json() == {"detail": "Schedule not found."}

    def test_schedule_of_another_deployment_is_404(self, client, flow, d):
        other = deploy(client, flow["id"], "other", schedule=DAY)
        r = client.delete(f"deployments/{d['id']}/schedules/{other['schedules'][0]['id']}")
        assert r.status_code == 404
        assert len(schedules_of(client, other["id"])) == 1

    def test_unknown_deployment_is_404(self, client):
        r = client.delete(f"deployments/{uuid.uuid4()}/schedules/{uuid.uuid4()}")
        assert r.status_code == 404
        assert r.json() == {"detail": "Deployment not found."}

    def test_deleting_every_schedule_leaves_null_legacy_schedule(self, client, d):
        for s in d["schedules"]:
            assert client.delete(f"deployments/{d['id']}/schedules/{s['id']}").status_code == 204
        got = client.get(f"deployments/{d['id']}").json()
        assert (got["schedules"], got["schedule"]) == ([], None)


class TestWorkQueueCheck:
    def test_unknown_deployment_is_404(self, client):
        r = client.get(f"deployments/{uuid.uuid4()}/work_queue_check")
        assert r.status_code == 404
        assert r.json() == {"detail": "Deployment not found"}

    def test_matching_legacy_filters_and_unfiltered_queues(self, client, flow):
        pool = client.post("work_pools/", json={"name": "pool", "type": "test-type"})
        assert pool.status_code == 201, pool.text
        for name, tags in (("First", ["a"]), ("Second", ["b"]), ("Third", ["z"])):
            r = client.post("work_pools/pool/queues", json={"name": name, "filter": {"tags": tags,
                                                                                   "deployment_ids": None}})
            assert r.status_code == 201, r.text
        dep = deploy(client, flow["id"], tags=["a", "b", "c"])
        r = client.get(f"deployments/{dep['id']}/work_queue_check")
        assert r.status_code == 200
        got = {q["name"]: q for q in r.json()}
        assert sorted(got) == ["First", "Second", "default"]
        assert all(list(q) == WORK_QUEUE_KEYS for q in r.json())
        assert got["First"]["filter"] == {"tags": ["a"], "deployment_ids": None}
        assert got["default"]["filter"] is None

    def test_deployment_ids_filter(self, client, flow):
        dep = deploy(client, flow["id"], tags=["a"])
        client.post("work_pools/", json={"name": "pool", "type": "test-type"})
        client.post("work_pools/pool/queues", json={"name": "mine", "filter": {"tags": [], "deployment_ids": [dep["id"]]}})
        client.post("work_pools/pool/queues", json={"name": "theirs",
                                                    "filter": {"tags": None, "deployment_ids": [str(uuid.uuid4())]}})
        names = sorted(q["name"] for q in client.get(f"deployments/{dep['id']}/work_queue_check").json())
        assert names == ["default", "mine"]


class TestSchedulesTimestamps:
    def test_patching_a_schedule_does_not_bump_the_deployment(self, client, d, clock):
        clock.freeze(dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5))
        client.patch(f"deployments/{d['id']}/schedules/{d['schedules'][0]['id']}", json={"active": False})
        assert client.get(f"deployments/{d['id']}").json()["updated"] == d["updated"]
