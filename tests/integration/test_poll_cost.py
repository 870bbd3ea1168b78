"""Polling writes at most one item per poll interval, whatever the number of deployments polled
(issue 12 item 3): a ``flow.serve()`` poll writes its set's poll record, a worker poll of a queue
writes the queue's — the deployments' READY/``last_polled`` are derived when they are read.

Measured on ``bench/cost.py``'s counting store (DynamoDB's bill over the in-memory store), at two
numbers of deployments. Every billed call advances the clock by 1 s (``World.call``).
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.integration.test_cost_growth import cost

POLL_EVERY = 10  # seconds: what serve() (PREFECT_RUNNER_POLL_FREQUENCY) and workers wait between polls


@pytest.fixture(scope="module", params=[10, 40], ids=lambda n: f"{n}-deployments")
def world(request):
    from handlers.routes import routes

    world = cost.World()
    try:
        world.grow(request.param, 5 * request.param, log=lambda _: None)
        world.routes = {r.function_id: r for r in routes()}
        yield world
    finally:
        world.close()


def _serve_poll(world) -> dict:
    before = world.clock.at + dt.timedelta(seconds=10)
    return {"json": {"deployment_ids": world.w["dep_ids"], "scheduled_before": before.isoformat(), "limit": 10}}


def _queue_poll(world) -> dict:
    before = world.clock.at + dt.timedelta(seconds=10)
    return {"path": {"name": "pool-0"}, "json": {"work_queue_names": ["default"], "scheduled_before": before.isoformat()}}


def _polls(world, function_id: str, spec, n: int) -> list[cost.Bill]:
    """``n`` polls ``POLL_EVERY`` seconds apart, each followed by one more a second later."""
    bills = []
    for _ in range(n):
        world.clock.advance(seconds=POLL_EVERY - 1)
        for _ in range(2):
            status, bill = world.call(world.routes[function_id], spec(world))
            assert status == 200
            bills.append(bill)
    return bills


def _written(bill: cost.Bill) -> dict[str, int]:
    writes = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
    return {k: n for k, n in bill.requests.items() if k.endswith(writes)}


class TestServePollCost:
    def test_one_record_write_per_interval_for_every_deployment_polled(self, world):
        fid = "DeploymentsGetScheduledFlowRunsFunction"
        first = _polls(world, fid, _serve_poll, 1)[0]  # a new set: each deployment gets its pointer, once
        assert first.items_written == len(world.w["dep_ids"]) + 1
        bills = _polls(world, fid, _serve_poll, 3)
        assert [_written(b) for b in bills] == [{"PollRecords.PutItem": 1}, {}] * 3
        assert [b.items_written for b in bills] == [1, 0] * 3
        assert all(b.gsi_wcu == 0 for b in bills)

    def test_the_deployments_read_ready_with_the_last_recorded_poll(self, world):
        _polls(world, "DeploymentsGetScheduledFlowRunsFunction", _serve_poll, 1)
        recorded = world.clock.at
        world.clock.advance(seconds=2)
        page = world.client.post("deployments/filter", json={"limit": 200}).json()
        polled = {d["id"]: d for d in page if d["id"] in set(world.w["dep_ids"])}
        assert len(polled) == len(world.w["dep_ids"])
        for dep in polled.values():
            assert dep["status"] == "READY"
            assert dt.datetime.fromisoformat(dep["last_polled"]) >= recorded - dt.timedelta(seconds=1)


class TestWorkerPollCost:
    def test_one_queue_write_per_interval_for_every_deployment_on_it(self, world):
        fid = "WorkPoolsGetScheduledFlowRunsFunction"
        _polls(world, fid, _queue_poll, 1)  # deployments never polled on the queue are marked once
        bills = _polls(world, fid, _queue_poll, 3)
        assert [_written(b) for b in bills] == [{"WorkQueues.PutItem": 1}, {}] * 3
        assert [b.items_written for b in bills] == [1, 0] * 3

    def test_requests_do_not_depend_on_the_number_of_deployments(self, world):
        bills = _polls(world, "WorkPoolsGetScheduledFlowRunsFunction", _queue_poll, 2)
        # the pool and the queue by name, the queue's scheduled runs, its never-polled deployments
        # (a sparse index: none), and once per interval the queue's poll record
        reads = {"Guards.GetItem": 2, "WorkPools.GetItem": 1, "WorkQueues.GetItem": 1, "FlowRuns.Query": 1,
                 "Deployments.Query": 1}
        assert [b.requests for b in bills] == [{**reads, "WorkQueues.PutItem": 1}, reads] * 2
