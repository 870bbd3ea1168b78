"""Tag concurrency limits, global concurrency limits, the collections view and artifacts, driven by
the real Prefect 2.20 client and CLI (orchestration spec §1.11-1.13, behaviours 100, 108, 111, 138-139).

Every test names its objects with a unique suffix; the server is shared by the whole session.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from prefect import flow, task
from prefect.artifacts import Artifact, create_markdown_artifact
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.sync import concurrency

pytestmark = pytest.mark.e2e


class TestTagConcurrencyLimitCli:
    def test_create_ls_inspect_reset_delete(self, cli, uid):
        tag = f"e2e-db-{uid}"
        created = cli("concurrency-limit", "create", tag, "2")
        assert created.returncode == 0, created.stdout + created.stderr
        listed = cli("concurrency-limit", "ls")
        assert listed.returncode == 0 and tag[:2] in listed.stdout
        inspected = cli("concurrency-limit", "inspect", tag)
        assert inspected.returncode == 0, inspected.stdout + inspected.stderr
        reset = cli("concurrency-limit", "reset", tag)
        assert f"Reset concurrency limit set on the tag: {tag}" in reset.stdout
        deleted = cli("concurrency-limit", "delete", tag)
        assert f"Deleted concurrency limit set on the tag: {tag}" in deleted.stdout
        missing = cli("concurrency-limit", "inspect", tag)
        assert f"No concurrency limit found for the tag: {tag}" in missing.stdout

    async def test_tagged_tasks_run_under_a_limit_of_one_and_release_their_slots(self, uid):
        tag = f"e2e-tag-{uid}"

        @task(tags=[tag])
        def step(i):
            return i

        @flow(name=f"e2e-tagged-{uid}")
        def tagged():
            return [step.submit(i).result() for i in range(3)]

        async with get_client() as client:
            first = await client.create_concurrency_limit(tag=tag, concurrency_limit=1)
            assert await client.create_concurrency_limit(tag=tag, concurrency_limit=1) == first
            assert await asyncio.to_thread(tagged) == [0, 1, 2]
            limit = await client.read_concurrency_limit_by_tag(tag)
            assert (limit.concurrency_limit, limit.active_slots) == (1, [])
            await client.delete_concurrency_limit_by_tag(tag)


class TestGlobalConcurrencyLimits:
    async def test_concurrency_context_manager_never_lets_two_holders_in(self, uid):
        name = f"e2e-gcl-{uid}"
        async with get_client() as client:
            await client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))
        events: list[tuple[str, float]] = []

        def work():
            with concurrency(name, occupy=1):
                events.append(("in", time.monotonic()))
                time.sleep(0.3)
                events.append(("out", time.monotonic()))

        threads = [threading.Thread(target=work) for _ in range(3)]
        await asyncio.to_thread(lambda: ([t.start() for t in threads], [t.join() for t in threads]))
        depth = peak = 0
        for kind, _ in sorted(events, key=lambda e: e[1]):
            depth += 1 if kind == "in" else -1
            peak = max(peak, depth)
        assert (len(events), peak) == (6, 1)
        async with get_client() as client:
            assert (await client.read_global_concurrency_limit_by_name(name)).active_slots == 0


class TestWorkPoolTypesFromTheCollectionsView:
    @pytest.mark.parametrize("pool_type", ["docker", "prefect-agent"])
    def test_work_pool_create_knows_types_not_installed_locally(self, cli, uid, pool_type):
        name = f"e2e-{pool_type}-{uid}"
        created = cli("work-pool", "create", name, "--type", pool_type)
        assert created.returncode == 0, created.stdout + created.stderr
        inspected = cli("work-pool", "inspect", name)
        assert f"type='{pool_type}'" in inspected.stdout


class TestArtifactsThroughTheClient:
    async def test_keyed_markdown_artifacts_latest_is_the_newest(self, uid):
        key = f"e2e-art-{uid}"

        @flow(name=f"e2e-artifacts-{uid}")
        def report():
            create_markdown_artifact("# one", key=key)
            create_markdown_artifact("# two", key=key)

        await asyncio.to_thread(report)
        latest = await Artifact.get(key)
        assert (latest.key, latest.data) == (key, "# two")
