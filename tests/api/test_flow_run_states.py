"""GET /flow_run_states/{id} for the states the scheduler writes without a history item
(orchestration spec §1.6): a scheduler-inserted run's first state, before and after the run moves,
its Late state, and the states of deleted runs — bodies as ``prefect server start`` 2.20.26 answers.
"""

import datetime as dt
import uuid

import pytest

from domain.first_state_ids import first_state_id
from domain.services import run_services, scheduler
from tests.api.flow_run_support import accept, deployment_run, history, make_deployment, make_flow, run

UTC = dt.timezone.utc
NOW = dt.datetime(2024, 3, 5, 10, 17, 23, 500000, tzinfo=UTC)
HOURLY = {"interval": 3600, "anchor_date": "2020-01-01T00:00:00+00:00"}
NOT_FOUND = (404, {"detail": "Flow run state not found"})


def details(**values):
    return {
        "flow_run_id": None, "task_run_id": None, "child_flow_run_id": None, "scheduled_time": None,
        "cache_key": None, "cache_expiration": None, "untrackable_result": False, "pause_timeout": None,
        "pause_reschedule": False, "pause_key": None, "run_input_keyset": None, "refresh_cache": None,
        "retriable": None, "transition_id": None, "task_parameters_id": None, **values,
    }


def scheduled_first_state(run_id: str, scheduled_time: str) -> dict:
    """The first state the reference's scheduler writes: no flow_run_id in its details."""
    return {"id": first_state_id(run_id), "type": "SCHEDULED", "name": "Scheduled",
            "timestamp": "2024-03-05T10:17:23.500000+00:00", "message": "Flow run scheduled", "data": None,
            "state_details": details(scheduled_time=scheduled_time)}


@pytest.fixture(autouse=True)
def frozen(clock):
    clock.freeze(NOW)


@pytest.fixture
def dep_id(client):
    return make_deployment(client, make_flow(client), schedules=[{"schedule": HOURLY, "active": True}])


@pytest.fixture
def first_run(client, dep_id, dynamo_ctx):
    """The earliest run the scheduler inserted for the deployment (11:00 UTC, the next hour)."""
    scheduler.tick(dynamo_ctx)
    r = client.post("flow_runs/filter", json={"deployments": {"id": {"any_": [dep_id]}},
                                              "sort": "EXPECTED_START_TIME_ASC", "limit": 1})
    assert r.status_code == 200, r.text
    return r.json()[0]


def read_state(client, state_id: str):
    r = client.get(f"flow_run_states/{state_id}")
    return r.status_code, r.json()


class TestReadFlowRunState:
    def test_a_scheduler_inserted_run_that_has_not_moved_answers_its_first_state(self, client, first_run):
        expected = scheduled_first_state(first_run["id"], "2024-03-05T11:00:00+00:00")
        assert first_run["state"] == expected
        assert read_state(client, expected["id"]) == (200, expected)

    def test_the_first_state_answers_the_same_after_the_run_moves_and_is_listed_once(self, client, first_run,
                                                                                     clock):
        expected = scheduled_first_state(first_run["id"], "2024-03-05T11:00:00+00:00")
        clock.advance(seconds=5)
        pending = accept(client, first_run["id"], "PENDING")
        assert read_state(client, expected["id"]) == (200, expected)
        assert read_state(client, pending["id"]) == (200, pending)
        assert history(client, first_run["id"]) == [expected, pending]

    def test_a_late_run_answers_its_first_and_its_late_state_each_once_in_history(self, client, first_run, clock,
                                                                                 dynamo_ctx):
        expected = scheduled_first_state(first_run["id"], "2024-03-05T11:00:00+00:00")
        clock.freeze(dt.datetime(2024, 3, 5, 11, 1, tzinfo=UTC))
        run_services.mark_late_runs(dynamo_ctx)
        late = run(client, first_run["id"])["state"]
        assert (late["name"], late["state_details"]["flow_run_id"]) == ("Late", first_run["id"])
        assert read_state(client, expected["id"]) == (200, expected)
        assert read_state(client, late["id"]) == (200, late)
        assert history(client, first_run["id"]) == [expected, late]

    def test_an_unknown_state_id_is_404(self, client, first_run):
        assert read_state(client, str(uuid.uuid4())) == NOT_FOUND

    def test_ids_that_only_look_related_to_a_scheduler_run_are_404(self, client, first_run):
        # the run id itself (a version-5 UUID) and a version-1 UUID name no state
        assert read_state(client, first_run["id"]) == NOT_FOUND
        assert read_state(client, str(uuid.uuid1())) == NOT_FOUND

    def test_a_deleted_scheduler_run_states_are_404_as_the_reference_deletes_them(self, client, first_run, clock):
        clock.advance(seconds=5)
        pending = accept(client, first_run["id"], "PENDING")
        assert client.delete(f"flow_runs/{first_run['id']}").status_code == 204
        assert read_state(client, first_run["state"]["id"]) == NOT_FOUND
        assert read_state(client, pending["id"]) == NOT_FOUND

    def test_a_deleted_run_that_has_not_moved_is_404(self, client, first_run):
        assert client.delete(f"flow_runs/{first_run['id']}").status_code == 204
        assert read_state(client, first_run["state"]["id"]) == NOT_FOUND

    def test_a_scheduler_run_inserted_again_after_deletion_answers_its_new_first_state(self, client, dep_id,
                                                                                      first_run, clock):
        clock.advance(seconds=5)
        accept(client, first_run["id"], "PENDING")  # stores the first state as a history item
        assert client.delete(f"flow_runs/{first_run['id']}").status_code == 204
        clock.freeze(NOW + dt.timedelta(seconds=30))
        r = client.post(f"deployments/{dep_id}/schedule", json={"end_time": "2024-03-05T12:00:00+00:00"})
        assert (r.status_code, r.json()) == (200, None)
        again = run(client, first_run["id"])["state"]
        assert (again["id"], again["timestamp"]) == (first_run["state"]["id"], "2024-03-05T10:17:53.500000+00:00")
        assert read_state(client, again["id"]) == (200, again)

    def test_a_deployment_run_and_an_api_created_run_answer_their_first_state(self, client, dep_id):
        for created in (deployment_run(client, dep_id),
                        client.post("flow_runs/", json={"flow_id": run_flow_id(client, dep_id),
                                                        "state": {"type": "SCHEDULED"}}).json()):
            assert read_state(client, created["state"]["id"]) == (200, created["state"])
            assert created["state"]["state_details"]["flow_run_id"] == created["id"]


def run_flow_id(client, dep_id: str) -> str:
    return client.get(f"deployments/{dep_id}").json()["flow_id"]
