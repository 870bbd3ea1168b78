"""Workers and agents (orchestration spec §6.2-6.3, behaviours 141-142, §3.5 cancellation).

ONE `prefect worker start --pool <p> --type process` subprocess serves the module's process pool;
deployments are made with ``flow.from_source(<local dir>, entrypoint=…).deploy(…)``. The legacy
agent test starts its own `prefect agent start -q <queue>` for a ``Deployment.build_from_flow``
deployment. Expected values are what `prefect server start` (2.20.26) records for the same runtimes.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate, WorkPoolUpdate
from prefect.client.schemas.objects import StateType
from prefect.deployments import run_deployment
from prefect.flows import Flow
from prefect.states import AwaitingRetry
from runtime import (
    UUID_RE,
    api,
    new_uid,
    pid_alive,
    prefect_cli,
    prefect_process,
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

RUN_TIMEOUT = 60

FLOWS_FILE = '''
import os
import time

from prefect import flow, get_run_logger, suspend_flow_run, task
from prefect.runtime import flow_run

UID = "@UID@"


@task(name="check-env")
def check_env(expected):
    value = os.environ.get("E2E_TOKEN")
    if value != expected:
        raise RuntimeError(f"E2E_TOKEN is {value!r}, expected {expected!r}")
    get_run_logger().info("token ok: %s", value)
    return value


@flow(name=f"worker-env-{UID}")
def env_flow(expected: str):
    get_run_logger().info("env flow starting")
    return check_env(expected)


@flow(name=f"worker-sleep-{UID}")
def sleep_flow(seconds: int = 120, pid_file: str = ""):
    if pid_file:
        with open(pid_file + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.replace(pid_file + ".tmp", pid_file)
    get_run_logger().info("sleeping %s s", seconds)
    time.sleep(seconds)


@flow(name=f"worker-once-{UID}")
def fails_once():
    if flow_run.run_count == 1:
        raise ValueError("fails on its first run")
    get_run_logger().info("succeeded on run %s", flow_run.run_count)


@flow(name=f"worker-crash-{UID}")
def crash_flow(code: int = 3):
    os._exit(code)


@flow(name=f"worker-suspend-{UID}")
def suspend_flow():
    get_run_logger().info("started, run_count %s", flow_run.run_count)
    suspend_flow_run(timeout=90)
    get_run_logger().info("after resume")
'''


class Pool:
    def __init__(self, name, worker_name, worker, source, uid):
        self.name = name
        self.worker_name = worker_name
        self.worker = worker
        self.source = source
        self.uid = uid

    async def deploy(self, entrypoint: str, name: str, **kwargs):
        flow = await Flow.from_source(source=str(self.source), entrypoint=entrypoint)
        return await flow.deploy(name, work_pool_name=self.name, print_next_steps=False, **kwargs)


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    """A process pool with one worker polling it, and a source directory with the flows."""
    uid = new_uid()
    source = tmp_path_factory.mktemp("worker-src")
    write(source, "worker_flows.py", FLOWS_FILE.replace("@UID@", uid))
    name, worker_name = f"wpool-{uid}", f"worker-{uid}"

    async def create_pool():
        async with get_client() as client:
            await client.create_work_pool(WorkPoolCreate(name=name, type="process"))

    asyncio.run(create_pool())
    worker = prefect_process("prefect-worker", source, source, "worker", "start", "--pool", name,
                             "--type", "process", "--name", worker_name)
    p = Pool(name, worker_name, worker, source, uid)
    try:
        async def online():
            resp = await asyncio.to_thread(api, "POST", f"/work_pools/{name}/workers/filter", json={})
            return resp.status_code == 200 and any(w["name"] == worker_name for w in resp.json())

        asyncio.run(wait_for_value(online, 60, "the worker's first heartbeat", [worker]))
        yield p
    finally:
        worker.stop()


class TestProcessWorker:
    async def test_worker_is_listed_online_by_workers_filter(self, pool):
        resp = api("POST", f"/work_pools/{pool.name}/workers/filter", json={})
        assert resp.status_code == 200
        rows = [w for w in resp.json() if w["name"] == pool.worker_name]
        assert len(rows) == 1
        assert rows[0]["status"] == "ONLINE"
        assert rows[0]["heartbeat_interval_seconds"] == 30
        async with get_client() as client:
            wp = await client.read_work_pool(pool.name)
            assert wp.status.value == "READY"
            # the worker filled the empty pool's base job template with the process template
            assert "env" in wp.base_job_template["variables"]["properties"]

    async def test_from_source_deployment_runs_with_its_job_variables_env(self, pool):
        token = new_uid()
        dep_id = await pool.deploy("worker_flows.py:env_flow", f"env-{pool.uid}",
                                   job_variables={"env": {"E2E_TOKEN": token}})
        async with get_client() as client:
            dep = await client.read_deployment(dep_id)
            assert dep.work_pool_name == pool.name
            assert dep.job_variables == {"env": {"E2E_TOKEN": token}}
            assert dep.entrypoint == "worker_flows.py:env_flow"

            run = await run_deployment(f"worker-env-{pool.uid}/env-{pool.uid}", parameters={"expected": token},
                                       timeout=0)
            done = await wait_for_final(client, run.id, RUN_TIMEOUT, [pool.worker])
            assert done.state_type.value == "COMPLETED"
            assert done.work_pool_name == pool.name
            assert done.infrastructure_pid is not None  # the worker PATCHes "<host>:<pid>"
            assert state_history(run.id) == [
                ("SCHEDULED", "Scheduled"), ("PENDING", "Pending"), ("RUNNING", "Running"),
                ("COMPLETED", "Completed"),
            ]
            tasks = await task_runs_of(client, run.id)
            assert [(n, t.state_type.value) for n, t in tasks.items()] == [("check-env-0", "COMPLETED")]
            await wait_for_logs(client, run.id, ["env flow starting", f"token ok: {token}"], runtimes=[pool.worker])

            # polled by the worker: READY from its next poll on in the reference; flowplane records a
            # queue's polls at most every 5 s, so a deployment created meanwhile may wait that long
            async def ready():
                return (await client.read_deployment(dep_id)).status.value == "READY"

            await wait_for_value(ready, 10, "deployment READY after the worker's polls", [pool.worker])

    async def test_run_level_job_variables_override_the_deployments_env(self, pool):
        token, override = new_uid(), new_uid()
        await pool.deploy("worker_flows.py:env_flow", f"envo-{pool.uid}", job_variables={"env": {"E2E_TOKEN": token}})
        async with get_client() as client:
            run = await run_deployment(f"worker-env-{pool.uid}/envo-{pool.uid}", parameters={"expected": override},
                                       job_variables={"env": {"E2E_TOKEN": override}}, timeout=0)
            assert run.job_variables == {"env": {"E2E_TOKEN": override}}
            done = await wait_for_final(client, run.id, RUN_TIMEOUT, [pool.worker])
            assert done.state_type.value == "COMPLETED", await wait_for_logs(client, run.id, [], runtimes=[pool.worker])
            assert done.job_variables == {"env": {"E2E_TOKEN": override}}
            await wait_for_logs(client, run.id, [f"token ok: {override}"], runtimes=[pool.worker])

    async def test_prefect_deployment_run_cli_then_the_worker_completes_it(self, pool):
        dep_name = f"cli-{pool.uid}"
        await pool.deploy("worker_flows.py:sleep_flow", dep_name, parameters={"seconds": 0})
        result = await asyncio.to_thread(prefect_cli, "deployment", "run", f"worker-sleep-{pool.uid}/{dep_name}")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Created flow run" in result.stdout
        run_id = UUID_RE.search(result.stdout.split("UUID:", 1)[1]).group(0)
        async with get_client() as client:
            done = await wait_for_final(client, run_id, RUN_TIMEOUT, [pool.worker])
            assert done.state_type.value == "COMPLETED"
            assert done.parameters == {"seconds": 0}
            await wait_for_logs(client, run_id, ["sleeping 0 s"], runtimes=[pool.worker])

    async def test_cancelling_a_sleeping_worker_run_kills_its_process(self, pool):
        dep_name = f"cancel-{pool.uid}"
        await pool.deploy("worker_flows.py:sleep_flow", dep_name)
        pid_file = pool.source / f"sleep-{new_uid()}.pid"
        async with get_client() as client:
            run = await run_deployment(f"worker-sleep-{pool.uid}/{dep_name}", timeout=0,
                                       parameters={"seconds": 120, "pid_file": str(pid_file)})
            await wait_for_type(client, run.id, "RUNNING", RUN_TIMEOUT, [pool.worker])

            async def pid_written():
                return pid_file.exists() and int(pid_file.read_text())

            pid = await wait_for_value(pid_written, 30, "the flow's pid file", [pool.worker])
            assert pid_alive(pid)
            running = await client.read_flow_run(run.id)
            assert running.infrastructure_pid.endswith(f":{pid}")

            cancel = await asyncio.to_thread(prefect_cli, "flow-run", "cancel", str(run.id))
            assert cancel.returncode == 0, cancel.stdout + cancel.stderr

            done = await wait_for_final(client, run.id, 40, [pool.worker])
            assert done.state_type.value == "CANCELLED"
            assert done.state_name == "Cancelled"
            assert state_history(run.id)[-2:] == [("CANCELLING", "Cancelling"), ("CANCELLED", "Cancelled")]

            deadline = time.monotonic() + 15
            while pid_alive(pid) and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
            assert not pid_alive(pid), f"flow process {pid} still alive after cancellation"


class TestCrashAndSuspend:
    async def test_flow_process_exiting_non_zero_is_crashed_by_the_worker(self, pool):
        dep_name = f"crash-{pool.uid}"
        await pool.deploy("worker_flows.py:crash_flow", dep_name)
        async with get_client() as client:
            run = await run_deployment(f"worker-crash-{pool.uid}/{dep_name}", timeout=0, parameters={"code": 3})
            done = await wait_for_final(client, run.id, RUN_TIMEOUT, [pool.worker])
            assert done.state_type.value == "CRASHED"
            assert done.state_name == "Crashed"
            assert done.state.message == "Flow run infrastructure exited with non-zero status code 3."
            assert state_history(run.id) == [
                ("SCHEDULED", "Scheduled"), ("PENDING", "Pending"), ("RUNNING", "Running"), ("CRASHED", "Crashed"),
            ]

    async def test_suspended_run_resumed_is_rescheduled_and_completed_by_the_worker(self, pool):
        """§3.5 suspend: PAUSED `Suspended` (the process exits) → resume → SCHEDULED `Resuming` → the
        worker runs the flow again; the same pause key is rejected to RUNNING and the flow goes on."""
        dep_name = f"suspend-{pool.uid}"
        await pool.deploy("worker_flows.py:suspend_flow", dep_name)
        async with get_client() as client:
            run = await run_deployment(f"worker-suspend-{pool.uid}/{dep_name}", timeout=0)
            paused = await wait_for_type(client, run.id, "PAUSED", RUN_TIMEOUT, [pool.worker])
            assert paused.state_name == "Suspended"
            assert paused.state.state_details.pause_reschedule is True
            assert paused.state.state_details.pause_key == "1"

            result = await client.resume_flow_run(run.id)
            assert result.status.value == "ACCEPT"
            assert (result.state.type, result.state.name) == (StateType.SCHEDULED, "Resuming")

            done = await wait_for_final(client, run.id, RUN_TIMEOUT, [pool.worker])
            assert done.state_type.value == "COMPLETED"
            assert state_history(run.id) == [
                ("SCHEDULED", "Scheduled"), ("PENDING", "Pending"), ("RUNNING", "Running"),
                ("PAUSED", "Suspended"), ("SCHEDULED", "Resuming"), ("PENDING", "Pending"), ("RUNNING", "Running"),
                ("COMPLETED", "Completed"),
            ]
            messages = await wait_for_logs(client, run.id, ["after resume"], runtimes=[pool.worker])
            # the flow ran twice; the rescheduled run's PENDING → RUNNING does not count again
            assert [m for m in messages if m.startswith("started, run_count")] == ["started, run_count 1"] * 2
            assert done.run_count == 1
            assert done.empirical_policy.pause_keys == {"1"}
            assert done.empirical_policy.resuming is False


class TestManualRetry:
    async def test_failed_run_set_to_awaiting_retry_is_run_again_by_the_worker(self, pool):
        """§3.5 manual retry (the UI's Retry button): SCHEDULED `AwaitingRetry` on a FAILED deployment run."""
        dep_name = f"once-{pool.uid}"
        await pool.deploy("worker_flows.py:fails_once", dep_name)
        async with get_client() as client:
            run = await run_deployment(f"worker-once-{pool.uid}/{dep_name}", timeout=0)
            failed = await wait_for_final(client, run.id, RUN_TIMEOUT, [pool.worker])
            assert failed.state_type.value == "FAILED"
            assert failed.state.message == "Flow run encountered an exception. ValueError: fails on its first run"

            result = await client.set_flow_run_state(run.id, AwaitingRetry(message="Retry from the UI"))
            assert result.status.value == "ACCEPT"
            rescheduled = await client.read_flow_run(run.id)
            assert (rescheduled.state_type.value, rescheduled.state_name) == ("SCHEDULED", "AwaitingRetry")
            assert rescheduled.empirical_policy.retry_type == "reschedule"
            assert rescheduled.run_count == 1

            done = await wait_for_final(client, run.id, RUN_TIMEOUT, [pool.worker])
            assert done.state_type.value == "COMPLETED"
            assert done.run_count == 2
            assert state_history(run.id) == [
                ("SCHEDULED", "Scheduled"), ("PENDING", "Pending"), ("RUNNING", "Running"), ("FAILED", "Failed"),
                ("SCHEDULED", "AwaitingRetry"), ("PENDING", "Pending"), ("RUNNING", "Running"),
                ("COMPLETED", "Completed"),
            ]
            await wait_for_logs(client, run.id, ["succeeded on run 2"], runtimes=[pool.worker])


class TestPoolConcurrencyLimit:
    async def test_pool_with_concurrency_limit_1_runs_one_run_at_a_time(self, pool):
        dep_name = f"limit-{pool.uid}"
        dep_id = await pool.deploy("worker_flows.py:sleep_flow", dep_name, parameters={"seconds": 2})
        async with get_client() as client:
            await client.update_work_pool(pool.name, WorkPoolUpdate(concurrency_limit=1))
            try:
                assert (await client.read_work_pool(pool.name)).concurrency_limit == 1
                first = await client.create_flow_run_from_deployment(dep_id)
                second = await client.create_flow_run_from_deployment(dep_id)
                done = [await wait_for_final(client, r.id, 2 * RUN_TIMEOUT - 10, [pool.worker])
                        for r in (first, second)]
            finally:
                await client.update_work_pool(pool.name, WorkPoolUpdate(concurrency_limit=None))
            assert [d.state_type.value for d in done] == ["COMPLETED", "COMPLETED"]
            a, b = sorted(done, key=lambda d: d.start_time)
            assert a.end_time <= b.start_time, (
                f"RUNNING intervals overlap: {a.start_time}..{a.end_time} and {b.start_time}..{b.end_time}")


# --- the legacy agent -------------------------------------------------------------------------------

AGENT_DEPLOY_FILE = '''
import sys

from prefect import flow, get_run_logger
from prefect.deployments import Deployment

UID = "@UID@"


@flow(name=f"agent-flow-{UID}")
def agent_flow(n: int = 1):
    get_run_logger().info("agent flow got %s", n)
    return n * 2


if __name__ == "__main__":
    deployment = Deployment.build_from_flow(agent_flow, name=f"agent-{UID}", work_queue_name=f"aq-{UID}",
                                            parameters={"n": 21})
    print("deployment-id", deployment.apply())
'''


class TestLegacyAgent:
    async def test_agent_runs_a_build_from_flow_deployment_to_completion(self, tmp_path):
        uid = new_uid()
        script = write(tmp_path, "agent_flows.py", AGENT_DEPLOY_FILE.replace("@UID@", uid))
        deploy = python_script("build-from-flow", script, tmp_path)
        assert await deploy.wait_async(60) == 0, deploy.describe()
        dep_id = UUID_RE.search(deploy.output().split("deployment-id", 1)[1]).group(0)

        agent = prefect_process("prefect-agent", tmp_path, tmp_path, "agent", "start", "-q", f"aq-{uid}")
        try:
            async with get_client() as client:
                dep = await client.read_deployment(dep_id)
                assert dep.work_queue_name == f"aq-{uid}"
                assert dep.work_pool_name == "default-agent-pool"
                assert dep.infrastructure_document_id is not None  # a Process block

                run = await client.create_flow_run_from_deployment(dep_id)
                done = await wait_for_final(client, run.id, RUN_TIMEOUT, [agent])
                assert done.state_type.value == "COMPLETED"
                assert done.parameters == {"n": 21}
                assert done.infrastructure_pid is not None
                assert state_history(run.id) == [
                    ("SCHEDULED", "Scheduled"), ("PENDING", "Pending"), ("RUNNING", "Running"),
                    ("COMPLETED", "Completed"),
                ]
                await wait_for_logs(client, run.id, ["agent flow got 21"], runtimes=[agent])
        finally:
            agent.stop()
