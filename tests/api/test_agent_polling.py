"""POST /work_queues/{id}/get_runs and GET /work_queues/{id}/status — what `prefect agent start`
polls (orchestration spec §1.10; behaviours 126-131; checked against the 2.20 reference)."""

import uuid

import pytest

from tests.api.flow_run_support import FLOW_RUN_KEYS
from tests.api.polling_support import (
    NOW,
    QUEUE_STATUS_KEYS,
    Runs,
    at,
    force,
    make_legacy_queue,
    make_pool,
    make_pool_queue,
)

POLICY = {"maximum_late_runs": 0, "maximum_seconds_since_last_polled": 60}


@pytest.fixture(autouse=True)
def frozen(clock):
    clock.freeze(NOW)


@pytest.fixture
def agentq(client):
    return make_legacy_queue(client, "agentq")


def get_runs(client, queue_id, headers=None, **body):
    return client.post(f"work_queues/{queue_id}/get_runs", json=body, headers=headers or {})


def run_ids(response):
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json()]


class TestCreateLegacyQueue:
    def test_new_queue_is_in_the_default_agent_pool_and_not_ready(self, client):  # 126
        q = make_legacy_queue(client, "aq-1")
        assert (q["work_pool_name"], q["status"], q["last_polled"]) == ("default-agent-pool", "NOT_READY", None)


class TestGetRuns:
    def test_due_runs_earliest_first_as_flow_run_responses(self, client, agentq):  # 127
        runs = Runs(client)
        late, early, future = runs.scheduled(None, "agentq", -5), runs.scheduled(None, "agentq", -50), \
            runs.scheduled(None, "agentq", 60)
        r = get_runs(client, agentq["id"], limit=10, scheduled_before=at(0), agent_id=str(uuid.uuid4()))
        assert run_ids(r) == [early["id"], late["id"]]
        body = r.json()[0]
        assert list(body) == FLOW_RUN_KEYS
        assert body["state"]["type"] == "SCHEDULED"
        assert (body["work_queue_name"], body["work_pool_name"]) == ("agentq", "default-agent-pool")
        assert run_ids(get_runs(client, agentq["id"])) == [early["id"], late["id"], future["id"]]

    def test_poll_readies_the_queue_and_its_deployments(self, client, agentq):
        runs = Runs(client)
        runs.scheduled(None, "agentq", -5)
        get_runs(client, agentq["id"], limit=10, scheduled_before=at(15))
        q = client.get(f"work_queues/{agentq['id']}").json()
        assert (q["status"], q["last_polled"]) == ("READY", NOW.isoformat())
        dep = client.get(f"deployments/{runs.deployment(None, 'agentq')}").json()
        assert (dep["status"], dep["last_polled"]) == ("READY", NOW.isoformat())

    def test_ui_header_suppresses_every_side_effect(self, client, agentq):
        runs = Runs(client)
        run = runs.scheduled(None, "agentq", -5)
        r = get_runs(client, agentq["id"], headers={"X-Prefect-Ui": "true"})
        assert run_ids(r) == [run["id"]]
        q = client.get(f"work_queues/{agentq['id']}").json()
        assert (q["status"], q["last_polled"]) == ("NOT_READY", None)
        assert client.get(f"deployments/{runs.deployment(None, 'agentq')}").json()["status"] == "NOT_READY"

    def test_unknown_queue_is_404_with_exception_message_quirk_q16(self, client):  # 128
        qid = str(uuid.uuid4())
        r = get_runs(client, qid)
        assert (r.status_code, r.json()) == (404, {"exception_message": f"Work queue with id {qid} not found."})

    def test_limit_above_default_is_422(self, client, agentq):
        r = get_runs(client, agentq["id"], limit=201)
        assert (r.status_code, r.json()) == (422, {"detail": "Invalid limit: must be less than or equal to 200."})

    def test_limit_cuts_the_earliest(self, client, agentq):
        runs = Runs(client)
        first = runs.scheduled(None, "agentq", -30)
        runs.scheduled(None, "agentq", -10)
        assert run_ids(get_runs(client, agentq["id"], limit=1)) == [first["id"]]

    def test_concurrency_limit_counts_pending_running_and_cancelling(self, client, agentq):  # 129
        runs = Runs(client)
        busy, waiting = runs.scheduled(None, "agentq", -30), runs.scheduled(None, "agentq", -10)
        client.patch(f"work_queues/{agentq['id']}", json={"concurrency_limit": 1})
        force(client, busy["id"], "PENDING")
        assert run_ids(get_runs(client, agentq["id"])) == []
        force(client, busy["id"], "RUNNING")
        force(client, busy["id"], "CANCELLING")
        assert run_ids(get_runs(client, agentq["id"])) == []
        force(client, busy["id"], "CANCELLED")
        assert run_ids(get_runs(client, agentq["id"])) == [waiting["id"]]

    def test_paused_queue_returns_nothing(self, client, agentq):
        Runs(client).scheduled(None, "agentq", -5)
        client.patch(f"work_queues/{agentq['id']}", json={"is_paused": True})
        assert run_ids(get_runs(client, agentq["id"])) == []

    def test_in_process_retries_are_handed_out_here_quirk_q9(self, client, agentq):
        run = Runs(client).scheduled(None, "agentq", -5, name="AwaitingRetry",
                                     empirical_policy={"retry_type": "in_process"})
        assert run_ids(get_runs(client, agentq["id"])) == [run["id"]]

    def test_runs_match_by_stored_queue_name_across_pools_quirk_q9(self, client):  # 130
        make_pool(client, "P")
        make_pool_queue(client, "P", "shared-q")
        legacy = make_legacy_queue(client, "shared-q")
        runs = Runs(client)
        pool_run = runs.scheduled("P", "shared-q", -20)
        legacy_run = runs.scheduled(None, "shared-q", -10)
        assert run_ids(get_runs(client, legacy["id"])) == [pool_run["id"], legacy_run["id"]]
        assert client.get(f"deployments/{runs.deployment(None, 'shared-q')}").json()["status"] == "READY"
        assert client.get(f"deployments/{runs.deployment('P', 'shared-q')}").json()["status"] == "NOT_READY"
        assert client.get("work_pools/P/queues/shared-q").json()["status"] == "NOT_READY"


class TestLegacyFilterQueue:
    def test_tag_filter_matches_runs_with_every_tag_and_a_deployment(self, client):
        runs = Runs(client)
        tagged = runs.scheduled(None, "other", -20, tags=["etl", "nightly"])
        runs.scheduled(None, "other", -10, tags=["etl"])
        q = make_legacy_queue(client, "tagq", filter={"tags": ["etl", "nightly"]})
        assert run_ids(get_runs(client, q["id"])) == [tagged["id"]]

    def test_deployment_filter_and_scheduled_before(self, client):
        runs = Runs(client)
        due = runs.scheduled(None, "a", -20)
        runs.scheduled(None, "a", 100)
        runs.scheduled(None, "b", -30)
        q = make_legacy_queue(client, "depq", filter={"deployment_ids": [runs.deployment(None, "a")]})
        assert run_ids(get_runs(client, q["id"], scheduled_before=at(0))) == [due["id"]]

    def test_concurrency_counts_matching_pending_and_running_runs(self, client):
        runs = Runs(client)
        busy, waiting = runs.scheduled(None, "a", -20, tags=["t"]), runs.scheduled(None, "a", -10, tags=["t"])
        q = make_legacy_queue(client, "limq", filter={"tags": ["t"]}, concurrency_limit=1)
        assert run_ids(get_runs(client, q["id"])) == [busy["id"]]
        force(client, busy["id"], "RUNNING")
        assert run_ids(get_runs(client, q["id"])) == []
        force(client, busy["id"], "COMPLETED")
        assert run_ids(get_runs(client, q["id"])) == [waiting["id"]]


class TestWorkQueueStatus:
    def test_healthy_right_after_a_poll(self, client, agentq):  # 131
        get_runs(client, agentq["id"])
        r = client.get(f"work_queues/{agentq['id']}/status")
        assert r.status_code == 200
        body = r.json()
        assert list(body) == QUEUE_STATUS_KEYS
        assert body == {"healthy": True, "late_runs_count": 0, "last_polled": NOW.isoformat(),
                        "health_check_policy": POLICY}

    def test_never_polled_or_stale_is_unhealthy(self, client, agentq, clock):
        assert client.get(f"work_queues/{agentq['id']}/status").json()["healthy"] is False
        get_runs(client, agentq["id"])
        clock.advance(seconds=60, microseconds=999999)  # whole seconds, as the reference compares
        assert client.get(f"work_queues/{agentq['id']}/status").json()["healthy"] is True
        clock.advance(microseconds=1)
        assert client.get(f"work_queues/{agentq['id']}/status").json()["healthy"] is False

    def test_late_runs_of_the_queue_make_it_unhealthy(self, client, agentq):
        runs = Runs(client)
        runs.scheduled(None, "agentq", -100, name="Late")
        runs.scheduled(None, "agentq", -100)
        get_runs(client, agentq["id"])
        body = client.get(f"work_queues/{agentq['id']}/status").json()
        assert (body["late_runs_count"], body["healthy"]) == (1, False)

    def test_unknown_queue_is_404_without_a_period_quirk_q16(self, client):
        qid = str(uuid.uuid4())
        r = client.get(f"work_queues/{qid}/status")
        assert (r.status_code, r.json()) == (404, {"exception_message": f"Work queue with id {qid} not found"})
