"""`flow.serve()` (orchestration spec §6.4, behaviour 143, §3.5 pause/resume and cancellation).

ONE `serve(...)` subprocess for the module serves five deployments of one flow file: two logging
tasks, an interval schedule whose first run is due ~40 s after the module starts, a flow with
``retries=1`` failing on its first run, a flow that pauses, and a flow that sleeps (cancelled).
Each test creates its run through the API and reads the outcome through the API. Expected values
are what `prefect server start` (2.20.26) records for the same runner.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
from prefect.client.schemas.objects import StateType
from prefect.deployments import run_deployment
from runtime import (
    api,
    new_uid,
    pid_alive,
    prefect_cli,
    python_script,
    state_history,
    task_runs_of,
    wait_for_final,
    wait_for_logs,
    wait_for_type,
    wait_for_value,
    write,
)

pytestmark = pytest.mark.e2e

SCHEDULE_DELAY = 40  # seconds from the module's start to the interval schedule's first run
RUN_TIMEOUT = 60

# UID and ANCHOR are substituted into the file: the runner's child processes import it (no argv)
SERVE_FILE = '''
import datetime as dt
import os
import time

from prefect import flow, get_run_logger, pause_flow_run, serve, task
from prefect.client.schemas.schedules import IntervalSchedule
from prefect.runtime import flow_run

UID = "@UID@"
ANCHOR = dt.datetime.fromisoformat("@ANCHOR@")


@task(name="greet")
def greet(who):
    get_run_logger().info("hello %s", who)
    return who


@task(name="shout")
def shout(word):
    get_run_logger().info("%s!", word.upper())
    return word.upper()


@flow(name=f"serve-logs-{UID}")
def logs_flow(who: str = "world"):
    get_run_logger().info("logs flow starting")
    return shout(greet(who))


@flow(name=f"serve-sched-{UID}")
def sched_flow():
    get_run_logger().info("scheduled run executing")


@flow(name=f"serve-retry-{UID}", retries=1, retry_delay_seconds=0)
def retry_flow():
    if flow_run.run_count == 1:
        raise RuntimeError("fails on the first run")
    get_run_logger().info("second run %s", flow_run.run_count)


@flow(name=f"serve-pause-{UID}")
def pause_flow():
    get_run_logger().info("before pause")
    pause_flow_run(timeout=90, poll_interval=1)
    get_run_logger().info("after resume")


@flow(name=f"serve-sleep-{UID}")
def sleep_flow(pid_file: str, seconds: int = 120):
    with open(pid_file + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.replace(pid_file + ".tmp", pid_file)
    get_run_logger().info("sleeping")
    time.sleep(seconds)


if __name__ == "__main__":
    serve(
        logs_flow.to_deployment(name="logs"),
        sched_flow.to_deployment(
            name="sched", schedule=IntervalSchedule(interval=dt.timedelta(hours=1), anchor_date=ANCHOR)),
        retry_flow.to_deployment(name="retry"),
        pause_flow.to_deployment(name="pause"),
        sleep_flow.to_deployment(name="sleep"),
    )
'''

DEPLOYMENTS = ("logs", "sched", "retry", "pause", "sleep")


class Served:
    def __init__(self, uid, runtime, directory, first_scheduled):
        self.uid = uid
        self.runtime = runtime
        self.directory = directory
        self.first_scheduled = first_scheduled
        self.deployment_ids = {}

    def name(self, dep: str) -> str:
        return f"serve-{dep}-{self.uid}/{dep}"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    directory = tmp_path_factory.mktemp("serve")
    uid = new_uid()
    first = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=SCHEDULE_DELAY)).replace(microsecond=0)
    anchor = first - dt.timedelta(hours=1)
    script = write(directory, "serve_flows.py",
                   SERVE_FILE.replace("@UID@", uid).replace("@ANCHOR@", anchor.isoformat()))
    rt = python_script("flow-serve", script, directory)
    s = Served(uid, rt, directory, first)
    try:
        async def deployments_exist():
            async with get_client() as client:
                for dep in DEPLOYMENTS:
                    try:
                        s.deployment_ids[dep] = (await client.read_deployment_by_name(s.name(dep))).id
                    except Exception:  # noqa: BLE001 - not created yet
                        return False
            return True

        asyncio.run(wait_for_value(deployments_exist, 60, "the served deployments", [rt]))
        yield s
    finally:
        rt.stop()


async def create_run(client, served: Served, dep: str, **kwargs):
    return await client.create_flow_run_from_deployment(served.deployment_ids[dep], **kwargs)


class TestServedRun:
    async def test_run_deployment_run_completes_with_tasks_logs_and_state_history(self, served):
        async with get_client() as client:
            run = await run_deployment(served.name("logs"), parameters={"who": "e2e"}, timeout=0)
            assert run.state_type == StateType.SCHEDULED
            done = await wait_for_final(client, run.id, RUN_TIMEOUT, [served.runtime])
            assert done.state_type.value == "COMPLETED", await client.read_flow_run(run.id)
            assert done.run_count == 1
            assert done.parameters == {"who": "e2e"}
            assert done.deployment_id == served.deployment_ids["logs"]
            assert done.infrastructure_pid is None  # unlike workers and agents, the 2.20 runner records none

            tasks = await task_runs_of(client, run.id)
            assert sorted(tasks) == ["greet-0", "shout-0"]
            assert all(t.state_type.value == "COMPLETED" for t in tasks.values())
            assert all(t.run_count == 1 for t in tasks.values())
            assert tasks["greet-0"].end_time <= tasks["shout-0"].start_time

            messages = await wait_for_logs(client, run.id, ["logs flow starting", "hello e2e", "E2E!"],
                                           runtimes=[served.runtime])
            assert messages.index("hello e2e") < messages.index("E2E!")

            assert state_history(run.id) == [
                ("SCHEDULED", "Scheduled"), ("PENDING", "Pending"), ("RUNNING", "Running"),
                ("COMPLETED", "Completed"),
            ]
            resp = api("GET", "/flow_run_states/", params={"flow_run_id": str(run.id)})
            assert resp.status_code == 200
            assert {s["state_details"]["flow_run_id"] for s in resp.json()} == {str(run.id)}

    async def test_served_deployment_is_ready_while_the_runner_polls(self, served):
        async with get_client() as client:
            dep = await client.read_deployment(served.deployment_ids["logs"])
            assert dep.status.value == "READY"
            assert dep.last_polled is not None


class TestServedFlowRetries:
    async def test_flow_with_retries_1_completes_on_the_second_run(self, served):
        """Behaviour 143: FAILED → REJECT AwaitingRetry → RUNNING → COMPLETED inside the runner's process."""
        async with get_client() as client:
            run = await create_run(client, served, "retry")
            done = await wait_for_final(client, run.id, RUN_TIMEOUT, [served.runtime])
            assert done.state_type.value == "COMPLETED"
            assert done.run_count == 2
            assert state_history(run.id) == [
                ("SCHEDULED", "Scheduled"), ("PENDING", "Pending"), ("RUNNING", "Running"),
                ("SCHEDULED", "AwaitingRetry"), ("RUNNING", "Running"), ("COMPLETED", "Completed"),
            ]
            await wait_for_logs(client, run.id, ["second run 2"], runtimes=[served.runtime])


class TestPauseAndResume:
    async def test_paused_run_resumed_through_the_api_completes(self, served):
        async with get_client() as client:
            run = await create_run(client, served, "pause")
            paused = await wait_for_type(client, run.id, "PAUSED", RUN_TIMEOUT, [served.runtime])
            assert paused.state_name == "Paused"
            details = paused.state.state_details
            assert details.pause_key == "1"
            assert details.pause_reschedule is False
            assert details.pause_timeout is not None
            remaining = (details.pause_timeout - dt.datetime.now(dt.timezone.utc)).total_seconds()
            assert 30 < remaining <= 90

            result = await client.resume_flow_run(run.id)
            assert result.status.value == "ACCEPT"
            assert result.state.type == StateType.RUNNING

            done = await wait_for_final(client, run.id, 30, [served.runtime])
            assert done.state_type.value == "COMPLETED"
            assert done.run_count == 2  # resuming enters RUNNING again
            assert state_history(run.id) == [
                ("SCHEDULED", "Scheduled"), ("PENDING", "Pending"), ("RUNNING", "Running"),
                ("PAUSED", "Paused"), ("RUNNING", "Running"), ("COMPLETED", "Completed"),
            ]
            messages = await wait_for_logs(client, run.id, ["before pause", "after resume"],
                                           runtimes=[served.runtime])
            assert messages.index("before pause") < messages.index("after resume")


class TestServedCancellation:
    async def test_cancelling_a_sleeping_served_run_kills_its_process(self, served):
        pid_file = served.directory / f"sleep-{new_uid()}.pid"
        async with get_client() as client:
            run = await create_run(client, served, "sleep", parameters={"pid_file": str(pid_file)})
            await wait_for_type(client, run.id, "RUNNING", RUN_TIMEOUT, [served.runtime])

            async def pid_written():
                return pid_file.exists() and int(pid_file.read_text())

            pid = await wait_for_value(pid_written, 30, "the flow's pid file", [served.runtime])
            assert pid_alive(pid)

            cancel = await asyncio.to_thread(prefect_cli, "flow-run", "cancel", str(run.id))
            assert cancel.returncode == 0, cancel.stdout + cancel.stderr
            assert f"Flow run '{run.id}' was successfully scheduled for cancellation" in cancel.stdout

            done = await wait_for_final(client, run.id, 40, [served.runtime])
            assert done.state_type.value == "CANCELLED"
            assert done.state_name == "Cancelled"
            history = state_history(run.id)
            assert history[:3] == [("SCHEDULED", "Scheduled"), ("PENDING", "Pending"), ("RUNNING", "Running")]
            assert history[-2:] == [("CANCELLING", "Cancelling"), ("CANCELLED", "Cancelled")]

            deadline = time.monotonic() + 15
            while pid_alive(pid) and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
            assert not pid_alive(pid), f"flow process {pid} still alive after cancellation"


class TestServedSchedule:
    async def test_interval_schedule_run_is_picked_up_and_completes(self, served):
        dep_id = served.deployment_ids["sched"]
        async with get_client() as client:
            async def scheduled_run():
                runs = await client.read_flow_runs(
                    deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[dep_id])))
                due = [r for r in runs if r.expected_start_time == served.first_scheduled]
                return due[0] if due else None

            run = await wait_for_value(scheduled_run, 30, "the schedule's first run", [served.runtime])
            assert run.auto_scheduled is True
            done = await wait_for_final(client, run.id, SCHEDULE_DELAY + RUN_TIMEOUT, [served.runtime])
            assert done.state_type.value == "COMPLETED"
            # the runner prefetches it ~10 s early and the flow waits (WAIT) for its time; the reference rounds
            # the wait to the nearest second, so RUNNING may come up to 0.5 s before it
            assert done.start_time >= served.first_scheduled - dt.timedelta(seconds=1)
            history = state_history(run.id)
            assert history[0] == ("SCHEDULED", "Scheduled")
            assert history[-3:] == [("PENDING", "Pending"), ("RUNNING", "Running"), ("COMPLETED", "Completed")]
            await wait_for_logs(client, run.id, ["scheduled run executing"], runtimes=[served.runtime])


class TestServeShutdown:
    """Runs last in the module: it stops the module's serve process."""

    async def test_stopping_serve_pauses_its_deployments_and_drops_their_future_scheduled_runs(self, served):
        served.runtime.stop()
        assert served.runtime.returncode is not None
        async with get_client() as client:
            for dep in DEPLOYMENTS:
                d = await client.read_deployment(served.deployment_ids[dep])
                assert d.paused is True, dep
            runs = await client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[served.deployment_ids["sched"]])))
            assert [r.state_type.value for r in runs] == ["COMPLETED"]
