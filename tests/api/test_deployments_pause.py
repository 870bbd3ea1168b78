"""pause_deployment / resume_deployment and the legacy aliases set_schedule_inactive /
set_schedule_active (spec §3.10, §3.11, §5.3; §8 items 118–130)."""

import datetime as dt
import uuid

import pytest

DAY = {"interval": 86400, "anchor_date": "2020-01-01T00:00:00+00:00"}
PAUSE = ["pause_deployment", "set_schedule_inactive"]
RESUME = ["resume_deployment", "set_schedule_active"]


def multiple_schedules(dep_id: str) -> dict:
    return {"detail": [
        f"Error updating deployment: Deployment UUID('{dep_id}') has multiple schedules. Please use the UI or "
        "update your client to adjust this deployment's schedules."]}


@pytest.fixture
def flow(client):
    return client.post("flows/", json={"name": "my-flow"}).json()


def deploy(client, flow_id, name="D", **body) -> dict:
    r = client.post("deployments/", json={"name": name, "flow_id": flow_id, **body})
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def d(client, flow):
    return deploy(client, flow["id"], tags=["test"], schedule=DAY)


@pytest.fixture
def two(client, flow):
    return deploy(client, flow["id"], "two", schedules=[{"schedule": DAY}, {"schedule": {**DAY, "interval": 3600}}])


def get(client, dep_id) -> dict:
    return client.get(f"deployments/{dep_id}").json()


def runs_of(client, dep_id) -> list[dict]:
    return client.post("flow_runs/filter", json={"flow_runs": {"deployment_id": {"any_": [dep_id]}}}).json()


def call(client, route, dep_id):
    return client.post(f"deployments/{dep_id}/{route}")


@pytest.mark.parametrize("route", PAUSE)
class TestPauseDeployment:
    def test_pause_returns_null_and_pauses(self, client, d, route):
        r = call(client, route, d["id"])
        assert r.status_code == 200
        assert r.content == b"null"
        got = get(client, d["id"])
        assert (got["paused"], got["is_schedule_active"]) == (True, False)
        assert [s["active"] for s in got["schedules"]] == [False]

    def test_pause_is_idempotent(self, client, d, route):
        assert call(client, route, d["id"]).status_code == 200
        first = get(client, d["id"])
        r = call(client, route, d["id"])
        assert r.status_code == 200
        assert r.json() is None
        assert get(client, d["id"]) == first

    def test_unknown_id_is_404(self, client, route):
        r = call(client, route, uuid.uuid4())
        assert r.status_code == 404
        assert r.json() == {"detail": "Deployment not found"}

    def test_non_uuid_id_is_404_not_found(self, client, route):
        r = call(client, route, "not-a-uuid")
        assert r.status_code == 404
        assert r.json() == {"detail": "Not Found"}

    def test_two_schedules_are_422_and_nothing_changes(self, client, two, route):
        r = call(client, route, two["id"])
        assert r.status_code == 422
        assert r.json() == multiple_schedules(two["id"])
        assert get(client, two["id"]) == two

    def test_pause_deletes_auto_scheduled_runs_only(self, client, d, route):
        assert client.post(f"deployments/{d['id']}/schedule", json={}).status_code == 200
        at = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=2)).isoformat()
        manual = client.post(f"deployments/{d['id']}/create_flow_run",
                             json={"state": {"type": "SCHEDULED", "state_details": {"scheduled_time": at}}}).json()
        assert len(runs_of(client, d["id"])) == 4
        assert call(client, route, d["id"]).status_code == 200
        assert [r["id"] for r in runs_of(client, d["id"])] == [manual["id"]]

    def test_pause_without_schedules(self, client, flow, route):
        dep = deploy(client, flow["id"], "bare")
        assert call(client, route, dep["id"]).status_code == 200
        got = get(client, dep["id"])
        assert (got["paused"], got["is_schedule_active"], got["schedules"]) == (True, False, [])

    def test_pause_bumps_updated_only_on_change(self, client, d, route, clock):
        t1 = clock.freeze(dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=1))
        call(client, route, d["id"])
        assert dt.datetime.fromisoformat(get(client, d["id"])["updated"]) == t1
        clock.advance(minutes=1)
        call(client, route, d["id"])
        assert dt.datetime.fromisoformat(get(client, d["id"])["updated"]) == t1


@pytest.mark.parametrize("route", RESUME)
class TestResumeDeployment:
    def test_resume_returns_null_and_resumes(self, client, d, route):
        assert call(client, "pause_deployment", d["id"]).status_code == 200
        r = call(client, route, d["id"])
        assert r.status_code == 200
        assert r.content == b"null"
        got = get(client, d["id"])
        assert (got["paused"], got["is_schedule_active"]) == (False, True)
        assert [s["active"] for s in got["schedules"]] == [True]

    def test_resume_is_idempotent(self, client, d, route):
        assert call(client, route, d["id"]).status_code == 200
        assert call(client, route, d["id"]).status_code == 200
        assert get(client, d["id"])["is_schedule_active"] is True

    def test_unknown_id_is_404(self, client, route):
        r = call(client, route, uuid.uuid4())
        assert r.status_code == 404
        assert r.json() == {"detail": "Deployment not found"}

    def test_non_uuid_id_is_404_not_found(self, client, route):
        r = call(client, route, "not-a-uuid")
        assert r.status_code == 404
        assert r.json() == {"detail": "Not Found"}

    def test_resume_creates_no_runs_synchronously(self, client, flow, route):
        dep = deploy(client, flow["id"], schedule=DAY, is_schedule_active=False)
        assert runs_of(client, dep["id"]) == []
        assert call(client, route, dep["id"]).status_code == 200
        assert runs_of(client, dep["id"]) == []

    def test_resume_activates_the_single_inactive_schedule(self, client, flow, route):
        dep = deploy(client, flow["id"], schedules=[{"schedule": DAY, "active": False}], paused=True)
        assert [s["active"] for s in dep["schedules"]] == [False]
        assert call(client, route, dep["id"]).status_code == 200
        got = get(client, dep["id"])
        assert [s["active"] for s in got["schedules"]] == [True]
        assert got["paused"] is False

    def test_two_schedules_are_422(self, client, two, route):
        assert call(client, "pause_deployment", two["id"]).status_code == 422
        r = call(client, route, two["id"])
        assert r.status_code == 422
        assert r.json() == multiple_schedules(two["id"])

    def test_resume_without_legacy_schedule(self, client, flow, route):
        dep = deploy(client, flow["id"], "no-schedule", is_schedule_active=False)
        assert dep["paused"] is True
        assert call(client, route, dep["id"]).status_code == 200
        got = get(client, dep["id"])
        assert (got["paused"], got["is_schedule_active"], got["schedules"]) == (False, True, [])
        assert runs_of(client, dep["id"]) == []

    def test_resume_keeps_existing_runs(self, client, d, route):
        assert client.post(f"deployments/{d['id']}/schedule", json={}).status_code == 200
        before = sorted(r["id"] for r in runs_of(client, d["id"]))
        assert len(before) == 3
        assert call(client, route, d["id"]).status_code == 200
        assert sorted(r["id"] for r in runs_of(client, d["id"])) == before


class TestPauseResumeRoundTrip:
    def test_pause_then_resume_inverts_everything(self, client, d):
        assert client.post(f"deployments/{d['id']}/pause_deployment").json() is None
        paused = get(client, d["id"])
        assert (paused["paused"], paused["is_schedule_active"], paused["schedules"][0]["active"]) == (True, False, False)
        assert client.post(f"deployments/{d['id']}/resume_deployment").json() is None
        resumed = get(client, d["id"])
        assert (resumed["paused"], resumed["is_schedule_active"], resumed["schedules"][0]["active"]) == (
            False, True, True)
        assert resumed["schedules"][0]["id"] == d["schedules"][0]["id"]

    def test_filter_sees_the_pause(self, client, d):
        client.post(f"deployments/{d['id']}/set_schedule_inactive")
        r = client.post("deployments/filter", json={"deployments": {"is_schedule_active": {"eq_": False}}})
        assert [x["id"] for x in r.json()] == [d["id"]]
