"""What a call costs on DynamoDB must follow its answer, not the stored history (issue 12).

The full local app runs on ``bench/cost.py``'s counting store (the in-memory store billed as
DynamoDB bills it). The same world is measured with a small history and again after it has grown
tenfold (more runs, each with its task runs, states, logs and guards; deployments unchanged): for the
routes below the DynamoDB requests (per table and operation) and the items read per call must not
change. Routes whose cost still grows with history are listed in the README ("DynamoDB cost per
call") and are not asserted here: ``/flow_runs/filter`` by deployment with a limit still reads
every run of the deployment (the ``by_deployment`` index is sorted by creation and the filter is
applied after the read), so it is left out until that path is bounded.
"""

from __future__ import annotations

import importlib.util
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEPLOYMENTS = 10
RUNS = 100  # grown to 10 x RUNS


def _load_cost():
    spec = importlib.util.spec_from_file_location("bench_cost", ROOT / "bench" / "cost.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_cost"] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


cost = _load_cost()


def _set_state(type_, name):
    return cost._state(type_, name)


# the bench's own request for these routes (bench/cost.py requests_for)
SAME_AS_BENCH = [
    "FlowsReadFunction", "FlowsReadByNameFunction", "DeploymentsReadFunction", "DeploymentsReadByNameFunction",
    "FlowRunsReadFunction", "TaskRunsReadFunction", "WorkPoolsReadFunction", "WorkQueuesReadFunction",
    "WorkQueuesReadByNameFunction", "VariablesReadByNameFunction", "FlowRunStatesByFlowRunFunction",
    "TaskRunStatesByTaskRunFunction", "DeploymentsCreateFlowRunFunction", "FlowRunsCreateFunction",
    "TaskRunsCreateFunction", "FlowRunsSetStateFunction", "TaskRunsSetStateFunction", "LogsCreateFunction",
    "WorkPoolsGetScheduledFlowRunsFunction", "DeploymentsGetScheduledFlowRunsFunction",
    "WorkPoolsWorkerHeartbeatFunction",
]
RENAMED = {"LogsFilterFunction:by flow run, limit 200": "LogsFilterFunction"}
EXTRA = [
    "FlowRunsSetStateFunction:RUNNING to COMPLETED",
    "TaskRunsSetStateFunction:RUNNING to COMPLETED",
    "FlowRunsFilterFunction:worker cancellation check, CANCELLING in a pool",
    "FlowRunsFilterFunction:worker cancellation check, CANCELLED named Cancelling in a pool",
    # (deployment, state type) partitions; limit 2: the small history has 3 COMPLETED runs per deployment
    "FlowRunsFilterFunction:one deployment, COMPLETED, limit 2",
]
# bench/cost.py shapes_for: the UI's count shapes answered from the run counters (domain/run_counters.py)
COUNTED = [
    "flow_runs/count: all runs",
    "flow_runs/count: state type COMPLETED",
    "flow_runs/count: state name Late",
    "flow_runs/count: one deployment",
    "flow_runs/count: one flow",
    "flow_runs/count: one work queue",
    "flow_runs/count: one work pool",
    "flow_runs/count: one deployment, COMPLETED",
    "task_runs/count: all task runs",
    # and through the time-window indexes (by_expected_start, by_start): the cost follows the window
    "flow_runs/count: expected start in the last 24 h",
    "flow_runs/count: FAILED or CRASHED in the last 24 h (dashboard)",
    "task_runs/count: COMPLETED, started in the last 24 h (dashboard)",
]
# bench/cost.py shapes_for: filters read from the selective indexes (the tag index, the
# (deployment, state type) partitions) a page at a time (issue 12 item 4)
FILTERED = [
    "flow_runs/filter: one deployment, limit 10",
    "flow_runs/filter: tag, limit 50",
    "deployments/filter: tag, limit 50",
]
CASES = sorted(SAME_AS_BENCH + list(RENAMED) + EXTRA + COUNTED + FILTERED)


def _cases(w: dict) -> dict[str, tuple[str, dict]]:
    """case name -> (function id, request spec): the calls whose cost must stay flat."""
    specs = cost.requests_for(w)
    cases = {fid: (fid, specs[fid]) for fid in SAME_AS_BENCH}
    cases.update({case: (fid, specs[fid]) for case, fid in RENAMED.items()})
    cases["FlowRunsSetStateFunction:RUNNING to COMPLETED"] = ("FlowRunsSetStateFunction", {
        "setup": cost._running_run, "json": _set_state("COMPLETED", "Completed")})
    cases["TaskRunsSetStateFunction:RUNNING to COMPLETED"] = ("TaskRunsSetStateFunction", {
        "setup": cost._running_task_run, "json": _set_state("COMPLETED", "Completed")})
    pool = {"work_pools": {"name": {"any_": ["pool-0"]}}}  # orchestration spec 6.2, every 20 s
    cases["FlowRunsFilterFunction:worker cancellation check, CANCELLING in a pool"] = ("FlowRunsFilterFunction", {
        "json": {"flow_runs": {"state": {"type": {"any_": ["CANCELLING"]}}}, **pool}})
    cases["FlowRunsFilterFunction:worker cancellation check, CANCELLED named Cancelling in a pool"] = (
        "FlowRunsFilterFunction", {"json": {"flow_runs": {"state": {
            "type": {"any_": ["CANCELLED"]}, "name": {"any_": ["Cancelling"]}}}, **pool}})
    cases["FlowRunsFilterFunction:one deployment, COMPLETED, limit 2"] = ("FlowRunsFilterFunction", {"json": {
        "flow_runs": {"deployment_id": {"any_": [w["deployment"]]}, "state": {"type": {"any_": ["COMPLETED"]}}},
        "sort": "EXPECTED_START_TIME_DESC", "limit": 2}})
    shapes = {label: (fid, spec) for label, fid, spec in cost.shapes_for(w)}
    cases.update({label: shapes[label] for label in COUNTED + FILTERED})
    return cases


@pytest.fixture(scope="module")
def measured():
    from handlers.routes import routes

    by_id = {r.function_id: r for r in routes()}
    world = cost.World()
    try:
        out = {}
        for runs in (RUNS, 10 * RUNS):
            world.grow(DEPLOYMENTS, runs, total=10 * RUNS, log=lambda _: None)
            cases = _cases(world.w)
            snap = cost.snapshot(world.ctx.stores)
            for case, (fid, spec) in cases.items():
                world.clock.at = world.t_measure
                status, bill = world.call(by_id[fid], spec)
                out.setdefault(case, []).append((status, bill))
                cost.restore(world.ctx.stores, snap)
        return out
    finally:
        world.close()


class TestCostPerCallIsIndependentOfHistory:
    @pytest.mark.parametrize("case", CASES)
    def test_requests_and_items_read_are_the_same_with_ten_times_the_history(self, measured, case):
        (status_small, small), (status_large, large) = measured[case]
        assert status_small == status_large
        assert status_small < 400, f"{case} answered {status_small}: the call did no real work"
        assert large.requests == small.requests, f"{case}: DynamoDB requests changed with history"
        assert large.items_read == small.items_read, f"{case}: items read changed with history"
        assert small.total_requests >= 1
