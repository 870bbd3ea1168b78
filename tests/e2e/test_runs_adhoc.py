"""Ad-hoc runs (orchestration spec §6.1, behaviours 140, 132-133): `python flow.py` against the server.

One subprocess runs a flow file with three flows one after the other: a parent (a task with
``retries=1`` failing once, a subflow, a markdown artifact), a flow with ``retries=1`` failing on
its first run, and a flow that raises. The tests read what it left behind through the API.
Expected values are what `prefect server start` (2.20.26) records for the same file.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from prefect.client.orchestration import get_client
from prefect.states import Scheduled
from runtime import (
    ARTIFACT_KEYS,
    FLOW_RUN_KEYS,
    LOG_KEYS,
    STATE_DETAILS_KEYS,
    STATE_KEYS,
    TASK_RUN_KEYS,
    api,
    artifacts_of,
    new_uid,
    prefect_cli,
    python_script,
    runs_of_flow,
    state_history,
    task_runs_of,
    task_state_history,
    wait_for_logs,
    wait_for_run,
    write,
)

pytestmark = pytest.mark.e2e

FLOW_FILE = '''
import sys
from prefect import flow, task, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.runtime import flow_run, task_run

UID = sys.argv[1]


@task(retries=1, retry_delay_seconds=1, tags=["tg"])
def flaky(x):
    if task_run.run_count == 1:
        raise ValueError("first try fails")
    get_run_logger().info("flaky succeeded on try %s", task_run.run_count)
    return x * 2


@flow(name=f"child-{UID}")
def child(y):
    get_run_logger().info("child got %s", y)
    return y + 1


@flow(name=f"parent-{UID}")
def parent(x: int = 3):
    get_run_logger().info("parent starting")
    z = child(flaky(x))
    create_markdown_artifact(key=f"report-{UID}", markdown="# hi", description="e2e report")
    return z


@flow(name=f"retried-{UID}", retries=1, retry_delay_seconds=0)
def retried():
    if flow_run.run_count == 1:
        raise RuntimeError("flow fails on its first run")
    get_run_logger().info("flow run_count %s", flow_run.run_count)
    return "ok"


@flow(name=f"failing-{UID}")
def failing():
    raise ValueError(f"boom-{UID}")


if __name__ == "__main__":
    print("parent returned", parent(3))
    print("retried returned", retried())
    print("failing returned", failing(return_state=True))
'''


@pytest.fixture(scope="module")
def adhoc(tmp_path_factory):
    """Run the flow file once; yield (uid, runtime) after it exited 0."""
    directory = tmp_path_factory.mktemp("adhoc")
    uid = new_uid()
    script = write(directory, "flow.py", FLOW_FILE)
    rt = python_script("python-flow-py", script, directory, uid)
    try:
        code = rt.wait(timeout=90)
        assert code == 0, rt.describe()
        assert "parent returned 7" in rt.output(), rt.describe()
        yield uid, rt
    finally:
        rt.stop()


async def only_run(client, flow_name):
    runs = await runs_of_flow(client, flow_name)
    assert len(runs) == 1, [(r.id, r.state_name) for r in runs]
    return runs[0]


class TestPythonFlowPy:
    async def test_parent_flow_run_completes_with_pending_running_completed_history(self, adhoc):
        uid, _ = adhoc
        async with get_client() as client:
            run = await only_run(client, f"parent-{uid}")
            assert run.state_type.value == "COMPLETED"
            assert run.state_name == "Completed"
            assert run.run_count == 1
            assert run.parameters == {"x": 3}
            assert run.deployment_id is None
            assert run.parent_task_run_id is None
            assert run.start_time is not None and run.end_time is not None
            assert run.end_time >= run.start_time
            assert state_history(run.id) == [("PENDING", "Pending"), ("RUNNING", "Running"),
                                             ("COMPLETED", "Completed")]

    async def test_task_with_one_retry_completes_on_its_second_run(self, adhoc):
        uid, _ = adhoc
        async with get_client() as client:
            run = await only_run(client, f"parent-{uid}")
            tasks = await task_runs_of(client, run.id)
            flaky = tasks["flaky-0"]
            assert flaky.state_type.value == "COMPLETED"
            assert flaky.run_count == 2
            assert flaky.tags == ["tg"]
            assert flaky.flow_run_id == run.id
            assert flaky.empirical_policy.retries == 1
            assert task_state_history(flaky.id) == [
                ("PENDING", "Pending"), ("RUNNING", "Running"), ("SCHEDULED", "AwaitingRetry"),
                ("RUNNING", "Retrying"), ("COMPLETED", "Completed"),
            ]

    async def test_subflow_completes_and_its_parent_task_links_to_it(self, adhoc):
        uid, _ = adhoc
        async with get_client() as client:
            parent = await only_run(client, f"parent-{uid}")
            child = await only_run(client, f"child-{uid}")
            assert child.state_type.value == "COMPLETED"
            assert child.parameters == {"y": 6}
            assert child.parent_task_run_id is not None
            assert state_history(child.id) == [("PENDING", "Pending"), ("RUNNING", "Running"),
                                               ("COMPLETED", "Completed")]

            tasks = await task_runs_of(client, parent.id)
            assert set(tasks) - {"flaky-0"} and len(tasks) == 2  # the placeholder has a generated name
            placeholder = next(t for name, t in tasks.items() if name != "flaky-0")
            assert placeholder.id == child.parent_task_run_id
            assert placeholder.flow_run_id == parent.id
            assert placeholder.state_type.value == "COMPLETED"
            assert placeholder.state.state_details.child_flow_run_id == child.id
            assert placeholder.task_inputs["y"] == []
            # the placeholder mirrors the subflow's states (its own Pending, then the child's)
            assert task_state_history(placeholder.id) == [
                ("PENDING", "Pending"), ("PENDING", "Pending"), ("RUNNING", "Running"), ("COMPLETED", "Completed"),
            ]

    async def test_markdown_artifact_is_listed_by_artifacts_filter(self, adhoc):
        uid, _ = adhoc
        async with get_client() as client:
            run = await only_run(client, f"parent-{uid}")
            arts = await artifacts_of(client, run.id)
            assert [(a.key, a.type, a.data, a.description, a.task_run_id) for a in arts] == [
                (f"report-{uid}", "markdown", "# hi", "e2e report", None)]
        resp = api("POST", "/artifacts/filter", json={"artifacts": {"key": {"any_": [f"report-{uid}"]}}})
        assert resp.status_code == 200
        (row,) = resp.json()
        assert row["flow_run_id"] == str(run.id)
        assert row["key"] == f"report-{uid}"
        assert row["type"] == "markdown"

    async def test_flow_and_task_logs_are_readable_by_logs_filter(self, adhoc):
        uid, rt = adhoc
        async with get_client() as client:
            parent = await only_run(client, f"parent-{uid}")
            child = await only_run(client, f"child-{uid}")
            flaky = (await task_runs_of(client, parent.id))["flaky-0"]
            messages = await wait_for_logs(client, parent.id, ["parent starting", "flaky succeeded on try 2",
                                                               "Finished in state Completed()"], runtimes=[rt])
            assert messages.index("parent starting") < messages.index("flaky succeeded on try 2")
            assert "child got 6" not in messages  # the subflow's logs belong to the subflow run
            await wait_for_logs(client, child.id, ["child got 6"], runtimes=[rt])

            resp = api("POST", "/logs/filter", json={"logs": {"task_run_id": {"any_": [str(flaky.id)]}},
                                                     "sort": "TIMESTAMP_ASC"})
            assert resp.status_code == 200
            rows = resp.json()
            assert "flaky succeeded on try 2" in [r["message"] for r in rows]
            row = next(r for r in rows if r["message"] == "flaky succeeded on try 2")
            assert row["flow_run_id"] == str(parent.id)
            assert row["level"] == 20
            assert row["name"] == "prefect.task_runs"


class TestCli:
    async def test_flow_run_logs_and_artifact_inspect_show_the_run(self, adhoc):
        uid, _ = adhoc
        async with get_client() as client:
            run = await only_run(client, f"parent-{uid}")
            await wait_for_logs(client, run.id, ["Finished in state Completed()"])
        rid = str(run.id)
        logs, art = await asyncio.gather(*(asyncio.to_thread(prefect_cli, *args) for args in [
            ("flow-run", "logs", rid), ("artifact", "inspect", f"report-{uid}")]))
        for result in (logs, art):
            assert result.returncode == 0, result.stdout + result.stderr
        lines = logs.stdout.splitlines()
        assert any(ln.endswith(f"| INFO    | Flow run '{run.name}' - parent starting") for ln in lines), logs.stdout
        assert any(ln.endswith("- flaky succeeded on try 2") for ln in lines), logs.stdout
        assert f"'key': 'report-{uid}'" in art.stdout and f"'flow_run_id': '{rid}'" in art.stdout


class TestWireShapes:
    """The raw JSON the routes answer for the run `python flow.py` left behind: 2.20 keys, in order."""

    async def test_flow_run_its_states_task_runs_logs_and_artifacts_have_the_2_20_keys(self, adhoc):
        uid, _ = adhoc
        async with get_client() as client:
            run_id = str((await only_run(client, f"parent-{uid}")).id)

        run = api("GET", f"/flow_runs/{run_id}").json()
        assert list(run) == FLOW_RUN_KEYS
        assert list(run["state"]) == STATE_KEYS
        assert list(run["state"]["state_details"]) == STATE_DETAILS_KEYS
        assert run["state"]["state_details"]["flow_run_id"] == run_id
        assert run["empirical_policy"] == {"max_retries": 0, "retry_delay_seconds": 0.0, "retries": 0,
                                           "retry_delay": 0, "pause_keys": [], "resuming": False,
                                           "retry_type": None}
        assert (run["work_queue_name"], run["work_pool_name"], run["infrastructure_pid"]) == (None, None, None)
        assert (run["deployment_id"], run["auto_scheduled"], run["job_variables"]) == (None, False, {})
        assert run["total_run_time"] > 0
        assert run["estimated_run_time"] == run["total_run_time"]  # a finished run: its total
        assert run["flow_version"] and run["state_id"] == run["state"]["id"]

        states = api("GET", "/flow_run_states/", params={"flow_run_id": run_id}).json()
        assert all(list(s) == STATE_KEYS and list(s["state_details"]) == STATE_DETAILS_KEYS for s in states)
        assert run["state"]["id"] in {s["id"] for s in states}

        tasks = api("POST", "/task_runs/filter", json={"task_runs": {"flow_run_id": {"any_": [run_id]}}}).json()
        assert len(tasks) == 2 and all(list(t) == TASK_RUN_KEYS for t in tasks)
        flaky = next(t for t in tasks if t["name"] == "flaky-0")
        assert flaky["empirical_policy"] == {"max_retries": 0, "retry_delay_seconds": 0.0, "retries": 1,
                                             "retry_delay": 1, "retry_jitter_factor": None}
        assert flaky["dynamic_key"] == "0" and flaky["task_key"].startswith("flaky-")
        assert flaky["flow_run_run_count"] == 1
        assert flaky["task_inputs"] == {"x": []}
        assert flaky["total_run_time"] > 0
        task_states = api("GET", "/task_run_states/", params={"task_run_id": flaky["id"]}).json()
        assert all(list(s) == STATE_KEYS and list(s["state_details"]) == STATE_DETAILS_KEYS for s in task_states)
        assert {s["state_details"]["task_run_id"] for s in task_states} == {flaky["id"]}

        logs = api("POST", "/logs/filter", json={"logs": {"flow_run_id": {"any_": [run_id]}}}).json()
        assert logs and all(list(log) == LOG_KEYS for log in logs)
        assert {log["flow_run_id"] for log in logs} == {run_id}

        arts = api("POST", "/artifacts/filter", json={"artifacts": {"flow_run_id": {"any_": [run_id]}}}).json()
        assert len(arts) == 1 and list(arts[0]) == ARTIFACT_KEYS
        assert arts[0]["metadata_"] is None


class TestFlowRetries:
    async def test_flow_with_retries_1_failing_once_completes_with_run_count_2(self, adhoc):
        uid, rt = adhoc
        async with get_client() as client:
            run = await only_run(client, f"retried-{uid}")
            assert run.state_type.value == "COMPLETED"
            assert run.run_count == 2
            assert run.empirical_policy.retries == 1
            assert run.empirical_policy.retry_type == "in_process"
            assert state_history(run.id) == [
                ("PENDING", "Pending"), ("RUNNING", "Running"), ("SCHEDULED", "AwaitingRetry"),
                ("RUNNING", "Running"), ("COMPLETED", "Completed"),
            ]
            resp = api("GET", "/flow_run_states/", params={"flow_run_id": str(run.id)})
            retry = next(s for s in resp.json() if s["name"] == "AwaitingRetry")
            assert retry["message"] == "Flow run encountered an exception. RuntimeError: flow fails on its first run"
            await wait_for_logs(client, run.id, ["flow run_count 2"], runtimes=[rt])


class TestFailingFlow:
    async def test_flow_that_raises_is_failed_with_the_exception_message(self, adhoc):
        uid, _ = adhoc
        async with get_client() as client:
            run = await only_run(client, f"failing-{uid}")
            assert run.state_type.value == "FAILED"
            assert run.state_name == "Failed"
            assert run.state.message == f"Flow run encountered an exception. ValueError: boom-{uid}"
            assert run.run_count == 1
            assert state_history(run.id) == [("PENDING", "Pending"), ("RUNNING", "Running"), ("FAILED", "Failed")]


class TestLateRuns:
    async def test_run_scheduled_60s_ago_without_a_runner_becomes_late(self, uid):
        """Late-runs service (spec §4.1): every 5 s, runs `Scheduled` more than 15 s overdue."""
        async with get_client() as client:
            flow_id = await client.create_flow_from_name(f"e2e-late-{uid}")
            dep_id = await client.create_deployment(flow_id=flow_id, name=f"late-{uid}")
            due = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=60)
            run = await client.create_flow_run_from_deployment(dep_id, state=Scheduled(scheduled_time=due))
            assert run.state_name == "Scheduled"

            late = await wait_for_run(client, run.id, lambda r: r.state_name == "Late", timeout=30,
                                      what="Late state")
            assert late.state_type.value == "SCHEDULED"
            assert late.state.message is None
            assert abs((late.state.state_details.scheduled_time - due).total_seconds()) < 0.01
            assert late.next_scheduled_start_time == late.state.state_details.scheduled_time
            assert state_history(run.id) == [("SCHEDULED", "Scheduled"), ("SCHEDULED", "Late")]
