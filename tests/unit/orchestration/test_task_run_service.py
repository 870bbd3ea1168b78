"""The task-run proposal service on the in-memory store: what it reads, that it commits in one
transaction, and that racing proposals never over-take tag slots."""

from __future__ import annotations

import concurrent.futures
import uuid

from domain.services import task_runs
from domain.services.task_run_orchestration import propose_task_run_state
from domain.states import StateCreate, new_state


def flow_run(ctx, state_type="RUNNING"):
    from domain.services.flow_runs import new_run

    run_id = str(uuid.uuid4())
    doc = new_run(run_id=run_id, now=ctx.now(), flow_id=str(uuid.uuid4()))
    state = new_state(str(uuid.uuid4()), state_type, name=None, message=None, data=None,
                      details={"flow_run_id": run_id}, timestamp=ctx.now())
    doc.update(state=state, state_type=state_type, state_name=state["name"], run_count=1)
    ctx.stores.flow_runs.put(doc)
    return doc


def new_task(ctx, flow_run_id, dynamic_key="0", **body):
    run, created = task_runs.create(ctx, task_runs.TaskRunCreate(
        flow_run_id=flow_run_id, task_key="k", dynamic_key=dynamic_key, **body))
    assert created
    return run


def calls(ctx):
    out = []
    for store in vars(ctx.stores).values():
        out.extend(store.calls)
        store.calls.clear()
    return sorted(out)


class TestProposeTaskRunState:
    def test_running_reads_the_task_and_its_flow_run_and_writes_one_transaction(self, memory_ctx):
        task = new_task(memory_ctx, flow_run(memory_ctx)["id"])
        calls(memory_ctx)
        result, status = propose_task_run_state(memory_ctx, task["id"], StateCreate(type="RUNNING"))
        assert (status, result["status"]) == (201, "ACCEPT")
        # one TransactWriteItems request holding the run, its history item and its counter (the memory
        # store logs one call per item of the transaction)
        assert calls(memory_ctx) == ["GetItem", "GetItem"] + ["TransactWriteItems"] * 3

    def test_a_wait_writes_nothing(self, memory_ctx):
        task = new_task(memory_ctx, flow_run(memory_ctx, "PENDING")["id"])
        calls(memory_ctx)
        result, status = propose_task_run_state(memory_ctx, task["id"], StateCreate(type="RUNNING"))
        assert (status, result["status"]) == (200, "ABORT")
        assert calls(memory_ctx) == ["GetItem", "GetItem"]

    def test_completing_a_task_without_tags_reads_only_the_task(self, memory_ctx):
        task = new_task(memory_ctx, flow_run(memory_ctx)["id"])
        propose_task_run_state(memory_ctx, task["id"], StateCreate(type="RUNNING"))
        calls(memory_ctx)
        propose_task_run_state(memory_ctx, task["id"], StateCreate(type="COMPLETED"))
        assert calls(memory_ctx) == ["GetItem"] + ["TransactWriteItems"] * 3  # run, history, counter

    def test_racing_proposals_take_exactly_the_limits_slots(self, memory_ctx):
        memory_ctx.stores.concurrency_limits.put({"id": "L", "tag": "t", "concurrency_limit": 4, "active_slots": [],
                                                  "created": "x", "updated": "x", "_rev": 0})
        fid = flow_run(memory_ctx)["id"]
        ids = [new_task(memory_ctx, fid, str(i), tags=["t"])["id"] for i in range(16)]

        def run(tid):
            return propose_task_run_state(memory_ctx, tid, StateCreate(type="RUNNING"))[0]["status"]

        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as ex:
            statuses = list(ex.map(run, ids))
        winners = sorted(t for t, s in zip(ids, statuses, strict=True) if s == "ACCEPT")
        assert (len(winners), statuses.count("WAIT")) == (4, 12)
        assert sorted(memory_ctx.stores.concurrency_limits.get("L")["active_slots"]) == winners
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
            list(ex.map(lambda t: propose_task_run_state(memory_ctx, t, StateCreate(type="COMPLETED")), winners))
        assert memory_ctx.stores.concurrency_limits.get("L")["active_slots"] == []


class TestStateHistoryItems:
    def items(self, ctx, task_id):
        return {i["type"]: i for i in ctx.stores.task_run_states.dump() if i["task_run_id"] == task_id}

    def test_history_items_expire_after_the_retention(self, memory_ctx, clock):
        now = clock.freeze()
        task = new_task(memory_ctx, flow_run(memory_ctx)["id"])
        item = self.items(memory_ctx, task["id"])["PENDING"]
        assert item["_expires_at"] == int((now + memory_ctx.settings.history_retention).timestamp())
        assert "_cache_key" not in item

    def test_a_cache_entry_lives_until_its_expiration_or_forever(self, memory_ctx, clock):
        import datetime as dt

        now = clock.freeze()
        fid = flow_run(memory_ctx)["id"]
        later = now + dt.timedelta(days=400)
        a, b = new_task(memory_ctx, fid, "0"), new_task(memory_ctx, fid, "1")
        for task, expiration in ((a, later), (b, None)):
            propose_task_run_state(memory_ctx, task["id"], StateCreate(
                type="COMPLETED", state_details={"cache_key": f"K{task['id']}", "cache_expiration": expiration}))
        assert self.items(memory_ctx, a["id"])["COMPLETED"]["_expires_at"] == int(later.timestamp())
        assert self.items(memory_ctx, b["id"])["COMPLETED"]["_expires_at"] is None

    def test_the_current_state_is_listed_even_once_its_item_expired(self, memory_ctx):
        task = new_task(memory_ctx, flow_run(memory_ctx)["id"])
        propose_task_run_state(memory_ctx, task["id"], StateCreate(type="RUNNING"))
        current = memory_ctx.stores.task_runs.get(task["id"])["state"]
        memory_ctx.stores.task_run_states.delete(current["id"])  # TTL took it
        states = task_runs.read_states(memory_ctx, task["id"])
        assert [s["type"] for s in states] == ["PENDING", "RUNNING"]
        assert states[-1]["id"] == current["id"]
