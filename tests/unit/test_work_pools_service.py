"""Work pool / work queue / variable services on in-memory stores (no moto): the domain API the
deployments service uses, priority bookkeeping, cascades and race behaviour."""

from __future__ import annotations

import concurrent.futures
import datetime as dt

import pytest

from domain import ids
from domain.errors import Conflict, IntegrityConflict, NotFound
from domain.services import variables, work_pools, work_queues
from domain.services.work_pools import WorkPoolCreate, WorkPoolQuery
from domain.services.work_queues import WorkQueueCreate, WorkQueueUpdate


def pool(ctx, name="p", **kw):
    work_pools.create(ctx, WorkPoolCreate(name=name, **kw))
    return work_pools.read_pool_by_name(ctx, name)


def priorities(ctx, pool_doc):
    queues = sorted(work_queues.pool_queues(ctx, pool_doc["id"]), key=lambda q: q["priority"])
    return [(q["name"], q["priority"]) for q in queues]


class TestReadPoolByName:
    def test_returns_the_stored_document_or_none(self, memory_ctx):
        created = work_pools.create(memory_ctx, WorkPoolCreate(name="p", type="process"))
        assert work_pools.read_pool_by_name(memory_ctx, "p") == created
        assert work_pools.read_pool_by_name(memory_ctx, "nope") is None

    def test_is_one_get_item(self, memory_ctx):
        pool(memory_ctx)
        memory_ctx.stores.work_pools.calls.clear()
        work_pools.read_pool_by_name(memory_ctx, "p")
        assert memory_ctx.stores.work_pools.calls == ["GetItem"]


class TestEnsureDefaultAgentPool:
    def test_creates_once_with_its_default_queue(self, memory_ctx):
        first = work_pools.ensure_default_agent_pool(memory_ctx)
        again = work_pools.ensure_default_agent_pool(memory_ctx)
        assert first == again
        assert (first["name"], first["type"], first["status"]) == ("default-agent-pool", "prefect-agent", None)
        assert priorities(memory_ctx, first) == [("default", 1)]

    def test_concurrent_calls_agree(self, memory_ctx):
        with concurrent.futures.ThreadPoolExecutor(max_workers=10) as ex:
            results = list(ex.map(lambda _: work_pools.ensure_default_agent_pool(memory_ctx), range(10)))
        assert len({r["id"] for r in results}) == 1
        assert len(memory_ctx.stores.work_pools.dump()) == 1
        assert len(memory_ctx.stores.work_queues.dump()) == 1


class TestGetOrCreateInPool:
    def test_creates_with_the_first_free_priority_then_returns_it(self, memory_ctx):
        p = pool(memory_ctx)
        q = work_queues.get_or_create_in_pool(memory_ctx, p, "q")
        assert (q["name"], q["work_pool_id"]) == ("q", p["id"])
        assert q["priority"] == 2
        assert work_queues.get_or_create_in_pool(memory_ctx, p, "q") == q

    def test_parallel_calls_create_one_queue(self, memory_ctx):
        p = pool(memory_ctx)
        with concurrent.futures.ThreadPoolExecutor(max_workers=20) as ex:
            results = list(ex.map(lambda _: work_queues.get_or_create_in_pool(memory_ctx, p, "q"), range(20)))
        assert len({r["id"] for r in results}) == 1
        assert [n for n, _ in priorities(memory_ctx, p)] == ["default", "q"]

    def test_finds_a_renamed_queue_by_its_new_name(self, memory_ctx):
        p = pool(memory_ctx)
        q = work_queues.get_or_create_in_pool(memory_ctx, p, "old")
        work_queues.update_in_pool(memory_ctx, "p", "old", WorkQueueUpdate(name="new"))
        assert work_queues.get_or_create_in_pool(memory_ctx, p, "new")["id"] == q["id"]
        fresh = work_queues.get_or_create_in_pool(memory_ctx, p, "old")
        assert fresh["id"] != q["id"]  # a new queue: the rename freed the old name


class TestEnsureWorkQueueExists:
    def test_creates_pool_and_queue_with_priority_one_shifting_others(self, memory_ctx):
        q = work_queues.ensure_work_queue_exists(memory_ctx, "a")
        p = work_pools.read_pool_by_name(memory_ctx, "default-agent-pool")
        assert q["work_pool_id"] == p["id"]
        assert priorities(memory_ctx, p) == [("a", 1), ("default", 2)]
        work_queues.ensure_work_queue_exists(memory_ctx, "b")
        assert priorities(memory_ctx, p) == [("b", 1), ("a", 2), ("default", 3)]

    def test_existing_queue_is_returned_unchanged(self, memory_ctx):
        q = work_queues.ensure_work_queue_exists(memory_ctx, "a")
        assert work_queues.ensure_work_queue_exists(memory_ctx, "a") == q

    def test_default_is_the_pools_default_queue(self, memory_ctx):
        q = work_queues.ensure_work_queue_exists(memory_ctx, "default")
        p = work_pools.read_pool_by_name(memory_ctx, "default-agent-pool")
        assert q["id"] == p["default_queue_id"]


class TestPriorityBookkeeping:
    @pytest.mark.parametrize(("existing", "new", "expected"), [
        ([1, 2, 3], 2, [1, 2, 3, 4]),
        ([1, 3, 4], 3, [1, 3, 4, 5]),
        ([1, 5], 3, [1, 3, 5]),
        ([2, 3], 1, [1, 2, 3]),
        ([1, 2], 5, [1, 2, 5]),
    ])
    def test_explicit_priority_bumps_only_what_collides(self, memory_ctx, existing, new, expected):
        p = pool(memory_ctx)
        work_queues.update_in_pool(memory_ctx, "p", "default", WorkQueueUpdate(priority=existing[0]))
        for i, prio in enumerate(existing[1:]):
            work_queues.create_in_pool(memory_ctx, "p", WorkQueueCreate(name=f"q{i}", priority=prio))
        assert sorted(pr for _, pr in priorities(memory_ctx, p)) == existing
        work_queues.create_in_pool(memory_ctx, "p", WorkQueueCreate(name="new", priority=new))
        got = priorities(memory_ctx, p)
        assert sorted(pr for _, pr in got) == expected
        assert dict(got)["new"] == new


class TestQueueWire:
    def test_response_and_core_shapes(self, memory_ctx):
        p = pool(memory_ctx)
        q = work_queues.read_queue(memory_ctx, p["default_queue_id"])
        wire = work_queues.queue_wire(memory_ctx, q)
        assert list(wire) == list(work_queues.RESPONSE_KEYS)
        assert (wire["work_pool_name"], wire["status"]) == ("p", "NOT_READY")
        core = work_queues.core_wire(q)
        assert list(core) == list(work_queues.CORE_KEYS)
        assert "_pool_name" not in wire and "status" not in core

    def test_pool_name_falls_back_to_the_pool(self, memory_ctx):
        p = pool(memory_ctx)
        q = work_queues.read_queue(memory_ctx, p["default_queue_id"])
        q.pop("_pool_name")
        assert work_queues.queue_wire(memory_ctx, q)["work_pool_name"] == "p"


class TestMarkPolled:
    def test_sets_last_polled_and_readies_not_ready_queues_only(self, memory_ctx):
        p = pool(memory_ctx)
        paused = work_queues.get_or_create_in_pool(memory_ctx, p, "paused")
        work_queues.update_in_pool(memory_ctx, "p", "paused", WorkQueueUpdate(is_paused=True))
        now = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
        work_queues.mark_polled(memory_ctx, [p["default_queue_id"], paused["id"], ids.new_id()], now)
        default = work_queues.read_queue(memory_ctx, p["default_queue_id"])
        assert (default["last_polled"], default["status"]) == ("2030-01-01T00:00:00+00:00", "READY")
        assert work_queues.read_queue(memory_ctx, paused["id"])["status"] == "PAUSED"


class TestDeletePool:
    def test_cascades_queues_and_detaches_deployments(self, memory_ctx):
        p = pool(memory_ctx)
        dep = {"id": ids.new_id(), "name": "d", "flow_id": ids.new_id(), "work_queue_id": p["default_queue_id"],
               "_rev": 0, "paused": False}
        memory_ctx.stores.deployments.put(dep)
        work_pools.delete(memory_ctx, "p")
        assert memory_ctx.stores.work_queues.dump() == []
        stored = memory_ctx.stores.deployments.get(dep["id"])
        assert (stored["work_queue_id"], stored["_rev"]) == (None, 1)

    def test_unknown_is_not_found(self, memory_ctx):
        with pytest.raises(NotFound):
            work_pools.delete(memory_ctx, "nope")


class TestRenameQueue:
    def test_deployments_see_the_new_name(self, memory_ctx):
        p = pool(memory_ctx)
        q = work_queues.get_or_create_in_pool(memory_ctx, p, "old")
        dep = {"id": ids.new_id(), "name": "d", "work_queue_id": q["id"], "_wq_name": "old", "_rev": 3}
        memory_ctx.stores.deployments.put(dep)
        work_queues.update_in_pool(memory_ctx, "p", "old", WorkQueueUpdate(name="new"))
        assert memory_ctx.stores.deployments.get(dep["id"])["_wq_name"] == "new"

    def test_to_a_taken_name_is_an_integrity_conflict(self, memory_ctx):
        p = pool(memory_ctx)
        work_queues.get_or_create_in_pool(memory_ctx, p, "a")
        with pytest.raises(IntegrityConflict):
            work_queues.update_in_pool(memory_ctx, "p", "a", WorkQueueUpdate(name="default"))


class TestCreatePool:
    def test_duplicate_is_conflict(self, memory_ctx):
        pool(memory_ctx)
        with pytest.raises(Conflict):
            work_pools.create(memory_ctx, WorkPoolCreate(name="p"))

    def test_filter_reads_the_name_index_in_order(self, memory_ctx):
        for name in ("b", "a"):
            pool(memory_ctx, name)
        memory_ctx.stores.work_pools.calls.clear()
        rows = work_pools.filter_pools(memory_ctx, WorkPoolQuery())
        assert [r["name"] for r in rows] == ["a", "b"]
        assert memory_ctx.stores.work_pools.calls == ["Query"]


class TestVariablesByName:
    def test_read_by_name_follows_renames(self, memory_ctx):
        v = variables.create(memory_ctx, variables.VariableCreate(name="old", value="1"))
        variables.update(memory_ctx, v["id"], variables.VariableUpdate(name="new"))
        assert variables.read_by_name(memory_ctx, "new")["id"] == v["id"]
        assert variables.read_by_name(memory_ctx, "old") is None
        assert variables.value_of(memory_ctx, "new") == "1"
        assert variables.all_values(memory_ctx) == {"new": "1"}
