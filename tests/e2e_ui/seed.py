"""Seed a server with what a Prefect user has after a first afternoon, through the real 2.20 client:
a flow run with task runs (one feeding another), a subflow and logs; a work pool with a queue; a
deployment of that flow on the pool; a variable; a block. Prints the ids the pages need as JSON.

Run with the e2e venv's python and PREFECT_API_URL set: ``python tests/e2e_ui/seed.py``.
"""

from __future__ import annotations

import asyncio
import json
import sys

from prefect import flow, get_run_logger, task
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.variables import Variable


@task
def extract(n: int) -> list[int]:
    get_run_logger().info("extracting %s rows", n)
    return list(range(n))


@task
def load(rows: list[int]) -> int:
    get_run_logger().info("loaded %s rows", len(rows))
    return len(rows)


@flow(name="ui-child")
def child(x: int) -> int:
    get_run_logger().info("child got %s", x)
    return x * 2


@flow(name="ui-etl", log_prints=True)
def etl(n: int = 3) -> int:
    rows = extract(n)
    total = load(rows)
    print(f"etl done: {total}")
    return child(total)


async def _objects() -> dict:
    async with get_client() as client:
        pool_name = "ui-pool"
        try:
            pool = await client.read_work_pool(pool_name)
        except Exception:  # noqa: BLE001 - first run
            pool = await client.create_work_pool(WorkPoolCreate(name=pool_name, type="process"))
        await client.send_worker_heartbeat(pool_name, "ui-worker", heartbeat_interval_seconds=30)
        flow_id = await client.create_flow_from_name("ui-etl")
        deployment_id = await client.create_deployment(
            flow_id=flow_id, name="nightly", work_pool_name=pool_name, parameters={"n": 5},
            entrypoint="seed.py:etl", path=".", tags=["ui"],
        )
        runs = await client.read_flow_runs()
        return {"pool": pool.name, "flow_id": str(flow_id), "deployment_id": str(deployment_id),
                "flow_run_id": next(str(r.id) for r in runs if r.parent_task_run_id is None
                                    and r.flow_id == flow_id and r.deployment_id is None)}


def main() -> int:
    etl(3)
    try:
        Variable.set("ui_var", "hello", overwrite=True)
    except TypeError:
        Variable.set("ui_var", "hello")
    from prefect.blocks.system import Secret

    Secret(value="s3cr3t").save("ui-secret", overwrite=True)
    print(json.dumps(asyncio.run(_objects())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
