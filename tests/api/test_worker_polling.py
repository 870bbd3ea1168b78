"""POST /work_pools/{name}/get_scheduled_flow_runs — what `prefect worker start` polls
(orchestration spec §1.9, §4.4; behaviours 114-122 and 125, checked against the 2.20 reference)."""

import pytest

from tests.api.flow_run_support import make_deployment
from tests.api.polling_support import (
    CORE_FLOW_RUN_KEYS,
    NOW,
    Runs,
    at,
    force,
    make_pool,
    make_pool_queue,
    poll_pool,
    polled_ids,
    pool_queue,
)


@pytest.fixture(autouse=True)
def frozen(clock):
    clock.freeze(NOW)


@pytest.fixture
def world(client):
    """Pool P (process): default (prio 1) runs at -30 s and +1 h, q2 (prio 2) at -60 s and -10 s,
    q3 (prio 3) at -90 s."""
    make_pool(client, "P")
    make_pool_queue(client, "P", "q2", priority=2)
    make_pool_queue(client, "P", "q3")
    runs = Runs(client)
    w = {
        "d30": runs.scheduled("P", None, -30), "d1h": runs.scheduled("P", None, 3600),
        "q60": runs.scheduled("P", "q2", -60), "q10": runs.scheduled("P", "q2", -10),
        "q90": runs.scheduled("P", "q3", -90),
    }
    return {k: v["id"] for k, v in w.items()} | {"runs": runs}


def ids(world, *names):
    return [world[n] for n in names]


class TestPoolAndQueueDefaults:
    def test_new_process_pool_is_not_ready_and_queues_take_the_next_priority(self, client):  # 114
        pool = make_pool(client, "P")
        assert (pool["status"], pool["base_job_template"]) == ("NOT_READY", {})
        assert pool_queue(client, "P", "default")["priority"] == 1
        q2 = make_pool_queue(client, "P", "q2", priority=2)
        assert (q2["priority"], q2["status"]) == (2, "NOT_READY")
        assert make_pool_queue(client, "P", "q3")["priority"] == 3


class TestGetScheduledFlowRuns:
    def test_orders_by_queue_priority_then_scheduled_time(self, client, world):  # 115
        assert polled_ids(poll_pool(client, "P")) == ids(world, "d30", "d1h", "q60", "q10", "q90")

    def test_scheduled_before_drops_future_runs(self, client, world):  # 116
        r = poll_pool(client, "P", scheduled_before=at(0))
        assert polled_ids(r) == ids(world, "d30", "q60", "q10", "q90")

    def test_work_queue_names_restrict_the_queues(self, client, world):
        assert polled_ids(poll_pool(client, "P", work_queue_names=["q2", "q3"])) == ids(world, "q60", "q10", "q90")

    def test_scheduled_after_is_inclusive_lower_bound(self, client, world):
        assert polled_ids(poll_pool(client, "P", scheduled_after=at(-45))) == ids(world, "d30", "d1h", "q10")
        assert polled_ids(poll_pool(client, "P", scheduled_after=at(-30))) == ids(world, "d30", "d1h", "q10")

    def test_limit_cuts_after_ordering(self, client, world):
        assert polled_ids(poll_pool(client, "P", limit=2)) == ids(world, "d30", "d1h")

    @pytest.mark.parametrize("body", [None, {"work_queue_names": None, "scheduled_before": None, "limit": None},
                                      {"work_queue_names": []}])
    def test_absent_or_null_fields_mean_every_queue(self, client, world, body):  # 117
        r = client.post("work_pools/P/get_scheduled_flow_runs", json=body) if body is not None else \
            client.post("work_pools/P/get_scheduled_flow_runs")
        assert len(polled_ids(r)) == 5

    def test_unknown_queue_name_is_404_without_side_effects(self, client, world):
        r = poll_pool(client, "P", work_queue_names=["q2", "nope"])
        assert (r.status_code, r.json()) == (404, {"detail": "Work pool queue 'P/nope' not found."})
        assert pool_queue(client, "P", "q2")["last_polled"] is None

    def test_unknown_pool_is_404(self, client):
        r = poll_pool(client, "nope")
        assert (r.status_code, r.json()) == (404, {"detail": 'Work pool "nope" not found.'})

    def test_limit_above_default_is_422(self, client, world):
        r = poll_pool(client, "P", limit=201)
        assert (r.status_code, r.json()) == (422, {"detail": "Invalid limit: must be less than or equal to 200."})

    def test_items_carry_pool_queue_and_the_core_flow_run_with_null_state_quirk_q13(self, client, world):  # 118
        items = poll_pool(client, "P", work_queue_names=["q2"]).json()
        pool = client.get("work_pools/P").json()
        assert [list(i) for i in items] == [["work_pool_id", "work_queue_id", "flow_run"]] * 2
        assert {(i["work_pool_id"], i["work_queue_id"]) for i in items} == {(pool["id"], pool_queue(client, "P", "q2")["id"])}
        run = items[0]["flow_run"]
        assert list(run) == CORE_FLOW_RUN_KEYS
        assert run["state"] is None
        assert (run["state_type"], run["state_name"]) == ("SCHEDULED", "Scheduled")
        assert run["work_queue_name"] == "q2"  # the stored column
        assert run["work_queue_id"] == items[0]["work_queue_id"]

    def test_late_and_other_scheduled_names_are_handed_out(self, client, world):
        late = world["runs"].scheduled("P", "q3", -120, name="Late")
        assert polled_ids(poll_pool(client, "P", work_queue_names=["q3"])) == [late["id"], world["q90"]]

    def test_in_process_retries_are_never_handed_to_workers(self, client, world):
        retry = world["runs"].scheduled("P", "q3", -200, name="AwaitingRetry",
                                        empirical_policy={"retry_type": "in_process"})
        assert retry["empirical_policy"]["retry_type"] == "in_process"
        assert polled_ids(poll_pool(client, "P", work_queue_names=["q3"])) == [world["q90"]]

    def test_runs_that_left_scheduled_are_not_returned(self, client, world):
        force(client, world["q60"], "PENDING")
        force(client, world["q10"], "COMPLETED")
        assert polled_ids(poll_pool(client, "P", work_queue_names=["q2"])) == []

    def test_default_agent_pool_can_be_polled(self, client):  # 125
        client.post("work_queues/", json={"name": "agentq"})
        runs = Runs(client)
        run = runs.scheduled(None, "agentq", -5)
        pool = client.get("work_pools/default-agent-pool").json()
        assert pool["status"] is None
        assert polled_ids(poll_pool(client, "default-agent-pool")) == [run["id"]]


class TestConcurrencyLimits:
    def test_queue_limit_counts_its_pending_and_running_runs(self, client, world):  # 120
        client.patch("work_pools/P/queues/q2", json={"concurrency_limit": 1})
        force(client, world["q60"], "PENDING")
        assert polled_ids(poll_pool(client, "P")) == ids(world, "d30", "d1h", "q90")

    def test_queue_limit_leaves_room_for_the_earliest(self, client, world):
        client.patch("work_pools/P/queues/q2", json={"concurrency_limit": 1})
        assert polled_ids(poll_pool(client, "P", work_queue_names=["q2"])) == ids(world, "q60")

    def test_pool_limit_counts_runs_across_its_queues(self, client, world):
        client.patch("work_pools/P", json={"concurrency_limit": 2})
        force(client, world["q60"], "RUNNING")
        assert polled_ids(poll_pool(client, "P")) == ids(world, "d30")

    def test_pool_limit_counts_queues_that_were_not_polled(self, client, world):
        client.patch("work_pools/P", json={"concurrency_limit": 2})
        force(client, world["d30"], "PENDING")
        force(client, world["d1h"], "RUNNING")
        assert polled_ids(poll_pool(client, "P", work_queue_names=["q2"])) == []

    def test_finished_and_cancelling_runs_do_not_count(self, client, world):
        client.patch("work_pools/P/queues/q2", json={"concurrency_limit": 1})
        force(client, world["q60"], "COMPLETED")
        assert polled_ids(poll_pool(client, "P", work_queue_names=["q2"])) == ids(world, "q10")
        force(client, world["q10"], "RUNNING")
        force(client, world["q10"], "CANCELLING")
        extra = world["runs"].scheduled("P", "q2", -1)
        assert polled_ids(poll_pool(client, "P", work_queue_names=["q2"])) == [extra["id"]]


class TestPausedPoolsAndQueues:
    def test_paused_queue_contributes_nothing_and_stays_paused(self, client, world, clock):  # 121
        client.patch("work_pools/P/queues/q3", json={"is_paused": True})
        assert polled_ids(poll_pool(client, "P")) == ids(world, "d30", "d1h", "q60", "q10")
        assert polled_ids(poll_pool(client, "P", work_queue_names=["q3"])) == []
        q3 = pool_queue(client, "P", "q3")
        assert (q3["status"], q3["last_polled"]) == ("PAUSED", NOW.isoformat())

    def test_unpausing_a_recently_polled_queue_makes_it_ready(self, client, world):
        client.patch("work_pools/P/queues/q3", json={"is_paused": True})
        poll_pool(client, "P", work_queue_names=["q3"])
        client.patch("work_pools/P/queues/q3", json={"is_paused": False})
        assert pool_queue(client, "P", "q3")["status"] == "READY"

    def test_paused_pool_returns_nothing_and_unpauses_to_not_ready(self, client, world):  # 122
        client.patch("work_pools/P", json={"is_paused": True})
        assert polled_ids(poll_pool(client, "P")) == []
        assert client.get("work_pools/P").json()["status"] == "PAUSED"
        client.patch("work_pools/P", json={"is_paused": False})
        assert client.get("work_pools/P").json()["status"] == "NOT_READY"

    def test_unpausing_a_pool_with_an_online_worker_makes_it_ready(self, client):
        make_pool(client, "P", is_paused=True)
        client.post("work_pools/P/workers/heartbeat", json={"name": "w"})
        assert client.get("work_pools/P").json()["status"] == "PAUSED"
        client.patch("work_pools/P", json={"is_paused": False})
        assert client.get("work_pools/P").json()["status"] == "READY"


class TestPollBookkeeping:
    def test_poll_readies_queues_and_their_deployments_but_not_the_pool(self, client, world):  # 119
        poll_pool(client, "P", work_queue_names=["q2"])
        q2 = pool_queue(client, "P", "q2")
        assert (q2["status"], q2["last_polled"]) == ("READY", NOW.isoformat())
        assert pool_queue(client, "P", "default")["status"] == "NOT_READY"
        dep = client.get(f"deployments/{world['runs'].deployment('P', 'q2')}").json()
        assert (dep["status"], dep["last_polled"]) == ("READY", NOW.isoformat())
        other = client.get(f"deployments/{world['runs'].deployment('P', None)}").json()
        assert (other["status"], other["last_polled"]) == ("NOT_READY", None)
        assert client.get("work_pools/P").json()["status"] == "NOT_READY"

    def test_polling_every_queue_readies_all_of_them(self, client, world):
        poll_pool(client, "P")
        queues = client.post("work_pools/P/queues/filter", json={}).json()
        assert {(q["name"], q["status"]) for q in queues} == {("default", "READY"), ("q2", "READY"), ("q3", "READY")}

    def test_queue_and_deployment_read_not_ready_sixty_seconds_after_the_last_poll(self, client, world, clock):  # 135
        poll_pool(client, "P", work_queue_names=["q2"])
        dep_id = world["runs"].deployment("P", "q2")
        clock.advance(seconds=60)
        assert pool_queue(client, "P", "q2")["status"] == "READY"
        assert client.get(f"deployments/{dep_id}").json()["status"] == "READY"
        clock.advance(seconds=1)
        assert pool_queue(client, "P", "q2")["status"] == "NOT_READY"
        assert client.get(f"deployments/{dep_id}").json()["status"] == "NOT_READY"
        [listed] = [d for d in client.post("deployments/filter", json={}).json() if d["id"] == dep_id]
        assert listed["status"] == "NOT_READY"
        poll_pool(client, "P", work_queue_names=["q2"])
        assert pool_queue(client, "P", "q2")["status"] == "READY"
        assert client.get(f"deployments/{dep_id}").json()["status"] == "READY"

    def test_a_second_poll_within_five_seconds_writes_nothing(self, client, world, clock, dynamo_calls):
        poll_pool(client, "P")
        dynamo_calls.clear()
        clock.advance(seconds=4)
        assert len(polled_ids(poll_pool(client, "P"))) == 5
        assert "PutItem" not in dynamo_calls and "TransactWriteItems" not in dynamo_calls
        assert pool_queue(client, "P", "q2")["last_polled"] == NOW.isoformat()
        clock.advance(seconds=2)
        poll_pool(client, "P")
        assert pool_queue(client, "P", "q2")["last_polled"] == at(6)
        dep = client.get(f"deployments/{world['runs'].deployment('P', 'q2')}").json()
        assert dep["last_polled"] == at(6)

    def test_a_deployment_created_since_the_recorded_poll_is_ready_after_the_next_poll(self, client, world, clock):
        # the reference marks every deployment of a polled queue READY at each poll; coalescing the
        # queue's record must not delay a new deployment until the window has passed
        poll_pool(client, "P", work_queue_names=["q2"])
        clock.advance(seconds=2)
        dep_id = make_deployment(client, world["runs"].flow_id, "late-comer", work_pool_name="P",
                                 work_queue_name="q2")
        assert client.get(f"deployments/{dep_id}").json()["status"] == "NOT_READY"
        poll_pool(client, "P", work_queue_names=["q2"])
        dep = client.get(f"deployments/{dep_id}").json()
        assert (dep["status"], dep["last_polled"]) == ("READY", at(2))
        assert pool_queue(client, "P", "q2")["last_polled"] == NOW.isoformat()  # the queue's record stays coalesced

    def test_later_polls_write_only_the_queues_poll_record(self, client, world, clock, dynamo_calls):
        # issue 12: the deployments' READY/last_polled follow their queue's record when read
        for n in range(3):
            make_deployment(client, world["runs"].flow_id, f"more-{n}", work_pool_name="P", work_queue_name="q2")
        poll_pool(client, "P", work_queue_names=["q2"])  # each deployment never polled is written once
        clock.advance(seconds=10)
        dynamo_calls.clear()
        poll_pool(client, "P", work_queue_names=["q2"])
        assert dynamo_calls.count("PutItem") == 1 and "TransactWriteItems" not in dynamo_calls
        listed = [d for d in client.post("deployments/filter", json={}).json() if d["work_queue_name"] == "q2"]
        assert [(d["status"], d["last_polled"]) for d in listed] == [("READY", at(10))] * 4

    def test_a_deployment_moved_to_another_queue_keeps_the_last_polled_its_queue_gave_it(self, client, world,
                                                                                            clock):
        dep_id = world["runs"].deployment("P", "q2")
        poll_pool(client, "P", work_queue_names=["q2"])
        clock.advance(seconds=30)
        poll_pool(client, "P", work_queue_names=["q2"])
        clock.advance(seconds=10)
        assert client.patch(f"deployments/{dep_id}", json={"work_pool_name": "P",
                                                           "work_queue_name": "q3"}).status_code == 204
        dep = client.get(f"deployments/{dep_id}").json()
        assert (dep["work_queue_name"], dep["status"], dep["last_polled"]) == ("q3", "READY", at(30))
        clock.advance(seconds=51)  # 61 s after its last poll; q3 was never polled (the foreman's rule)
        assert client.get(f"deployments/{dep_id}").json()["status"] == "NOT_READY"

    def test_a_deployment_whose_queue_is_deleted_keeps_its_last_polled(self, client, world, clock):
        dep_id = world["runs"].deployment("P", "q2")
        poll_pool(client, "P", work_queue_names=["q2"])
        clock.advance(seconds=20)
        poll_pool(client, "P", work_queue_names=["q2"])
        assert client.delete("work_pools/P/queues/q2").status_code == 204
        dep = client.get(f"deployments/{dep_id}").json()
        assert (dep["work_queue_name"], dep["status"], dep["last_polled"]) == ("q2", "READY", at(20))

    def test_a_poll_never_undoes_a_concurrent_queue_change(self, client, world, dynamo_ctx, clock):
        from domain.services import polling

        _, poll = polling.get_scheduled_flow_runs(dynamo_ctx, "P", polling.WorkerPoll(work_queue_names=["q2"]))
        clock.advance(seconds=1)
        client.patch("work_pools/P/queues/q2", json={"is_paused": True, "description": "changed"})
        polling.record(dynamo_ctx, poll)
        q2 = pool_queue(client, "P", "q2")
        assert (q2["is_paused"], q2["description"], q2["status"]) == (True, "changed", "PAUSED")
        assert q2["last_polled"] == NOW.isoformat()  # the poll's bookkeeping applied to the new version


class TestPollCost:
    def test_requests_do_not_grow_with_finished_runs(self, client, world, dynamo_calls):
        poll_pool(client, "P")
        client.patch("work_pools/P", json={"concurrency_limit": 50})
        client.patch("work_pools/P/queues/q2", json={"concurrency_limit": 10})

        def finish(n):
            for i in range(n):
                run = world["runs"].scheduled("P", "q2", -300 - i)
                force(client, run["id"], "COMPLETED")

        finish(2)
        dynamo_calls.clear()
        first = polled_ids(poll_pool(client, "P"))
        calls = list(dynamo_calls)
        finish(25)
        dynamo_calls.clear()
        assert polled_ids(poll_pool(client, "P")) == first
        assert list(dynamo_calls) == calls
        # the pool's queues, then per queue its active runs (the limits) and its scheduled runs,
        # then (the queues' poll records being fresh) per queue its deployments stored NOT_READY
        assert calls.count("Query") == 1 + 3 + 3 + 3
