"""Foundation (issue 2): what the real Prefect 2.20 client calls first, against a live server.

Every test names its objects with a unique suffix; the server is shared by the whole session.
"""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import VariableCreate, WorkPoolCreate
from prefect.client.schemas.filters import FlowFilter, FlowFilterName, WorkPoolFilter, WorkPoolFilterName
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.filesystems import LocalFileSystem

pytestmark = pytest.mark.e2e


class TestHealth:
    async def test_api_healthcheck_reports_healthy(self):
        async with get_client() as client:
            assert await client.api_healthcheck() is None  # returns the exception when unhealthy

    def test_health_route_answers_true(self, server):
        resp = httpx.get(f"{server}/health")
        assert resp.status_code == 200
        assert resp.json() is True


class TestFlowRunsStartEmpty:
    async def test_read_flow_runs_on_a_fresh_server_is_an_empty_list(self):
        async with get_client() as client:
            assert await client.read_flow_runs() == []


class TestFlows:
    async def test_create_flow_from_name_then_read_flow_by_id_and_by_name(self, uid):
        name = f"e2e-flow-{uid}"
        async with get_client() as client:
            flow_id = await client.create_flow_from_name(name)
            assert isinstance(flow_id, uuid.UUID)

            flow = await client.read_flow(flow_id)
            assert flow.id == flow_id
            assert flow.name == name
            assert flow.tags == []

            by_name = await client.read_flow_by_name(name)
            assert by_name.id == flow_id
            assert by_name.name == name

    async def test_create_flow_from_name_twice_returns_the_same_flow(self, uid):
        name = f"e2e-flow-{uid}"
        async with get_client() as client:
            first = await client.create_flow_from_name(name)
            second = await client.create_flow_from_name(name)
            assert second == first

    async def test_reading_an_unknown_flow_is_a_404_flow_not_found(self, uid):
        async with get_client() as client:  # the 2.20 client does not map these 404s to ObjectNotFound
            with pytest.raises(httpx.HTTPStatusError) as exc:
                await client.read_flow(uuid.uuid4())
            assert (exc.value.response.status_code, exc.value.response.json()) == (404, {"detail": "Flow not found"})
            with pytest.raises(httpx.HTTPStatusError) as exc:
                await client.read_flow_by_name(f"e2e-missing-{uid}")
            assert (exc.value.response.status_code, exc.value.response.json()) == (404, {"detail": "Flow not found"})

    async def test_twenty_parallel_creates_of_one_name_yield_exactly_one_flow(self, uid):
        name = f"e2e-race-{uid}"
        async with get_client() as client:
            ids = await asyncio.gather(*(client.create_flow_from_name(name) for _ in range(20)))
            assert len(set(ids)) == 1
            flows = await client.read_flows(flow_filter=FlowFilter(name=FlowFilterName(any_=[name])))
            assert [f.id for f in flows] == [ids[0]]


class TestWorkPoolsAndQueues:
    async def test_create_work_pool_then_read_it_with_its_default_queue(self, uid):
        name = f"e2e-pool-{uid}"
        async with get_client() as client:
            pool = await client.create_work_pool(WorkPoolCreate(name=name, type="process", description="e2e"))
            assert pool.name == name
            assert pool.type == "process"
            assert pool.description == "e2e"
            assert pool.is_paused is False
            assert pool.default_queue_id is not None

            read = await client.read_work_pool(name)
            assert read.id == pool.id
            assert read.name == name
            assert read.default_queue_id == pool.default_queue_id

            default = await client.read_work_queue_by_name("default", work_pool_name=name)
            assert default.id == pool.default_queue_id
            assert default.work_pool_id == pool.id

    async def test_create_work_pool_with_a_taken_name_raises_object_already_exists(self, uid):
        name = f"e2e-pool-{uid}"
        async with get_client() as client:
            await client.create_work_pool(WorkPoolCreate(name=name, type="process"))
            with pytest.raises(ObjectAlreadyExists):
                await client.create_work_pool(WorkPoolCreate(name=name, type="process"))

    async def test_reading_an_unknown_work_pool_raises_object_not_found(self, uid):
        async with get_client() as client:
            with pytest.raises(ObjectNotFound):
                await client.read_work_pool(f"e2e-missing-{uid}")

    async def test_create_work_queue_in_a_pool_then_read_it_by_name(self, uid):
        pool_name, queue_name = f"e2e-pool-{uid}", f"e2e-queue-{uid}"
        async with get_client() as client:
            pool = await client.create_work_pool(WorkPoolCreate(name=pool_name, type="process"))
            queue = await client.create_work_queue(
                name=queue_name, work_pool_name=pool_name, description="e2e queue", concurrency_limit=3
            )
            assert queue.name == queue_name
            assert queue.work_pool_id == pool.id
            assert queue.description == "e2e queue"
            assert queue.concurrency_limit == 3
            assert queue.id != pool.default_queue_id

            read = await client.read_work_queue_by_name(queue_name, work_pool_name=pool_name)
            assert read.id == queue.id
            assert read.name == queue_name
            assert read.work_pool_id == pool.id
            assert read.concurrency_limit == 3

            with pytest.raises(ObjectNotFound):
                await client.read_work_queue_by_name(f"e2e-missing-{uid}", work_pool_name=pool_name)

    async def test_create_work_queue_with_a_taken_name_raises_object_already_exists(self, uid):
        pool_name, queue_name = f"e2e-pool-{uid}", f"e2e-queue-{uid}"
        async with get_client() as client:
            await client.create_work_pool(WorkPoolCreate(name=pool_name, type="process"))
            await client.create_work_queue(name=queue_name, work_pool_name=pool_name)
            with pytest.raises(ObjectAlreadyExists):
                await client.create_work_queue(name=queue_name, work_pool_name=pool_name)

    async def test_twenty_parallel_creates_of_one_pool_name_yield_exactly_one_pool(self, uid):
        name = f"e2e-race-pool-{uid}"
        async with get_client() as client:
            results = await asyncio.gather(
                *(client.create_work_pool(WorkPoolCreate(name=name, type="process")) for _ in range(20)),
                return_exceptions=True,
            )
            created = [r for r in results if not isinstance(r, BaseException)]
            refused = [r for r in results if isinstance(r, BaseException)]
            assert len(created) == 1, results
            assert all(isinstance(r, ObjectAlreadyExists) for r in refused), refused
            pools = await client.read_work_pools(
                work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(any_=[name]))
            )
            assert [p.id for p in pools] == [created[0].id]

    def test_cli_work_pool_ls_lists_the_pools(self, uid, cli):
        name = f"e2e-cli-pool-{uid}"

        async def create():
            async with get_client() as client:
                return await client.create_work_pool(WorkPoolCreate(name=name, type="process"))

        pool = asyncio.run(create())
        result = cli("work-pool", "ls")
        assert result.returncode == 0, result.stdout + result.stderr
        assert name in result.stdout
        assert str(pool.id) in result.stdout


class TestVariables:
    async def test_create_variable_then_read_it_by_name(self, uid):
        name = f"e2e_var_{uid}"
        async with get_client() as client:
            created = await client.create_variable(VariableCreate(name=name, value="hello", tags=["e2e"]))
            assert created.name == name
            assert created.value == "hello"
            assert created.tags == ["e2e"]

            read = await client.read_variable_by_name(name)
            assert read is not None
            assert read.id == created.id
            assert read.value == "hello"
            assert read.tags == ["e2e"]

    async def test_read_variable_by_unknown_name_is_none(self, uid):
        async with get_client() as client:
            assert await client.read_variable_by_name(f"e2e_missing_{uid}") is None

    async def test_twenty_parallel_creates_of_one_variable_name_yield_exactly_one(self, uid):
        name = f"e2e_race_{uid}"
        async with get_client() as client:
            results = await asyncio.gather(
                *(client.create_variable(VariableCreate(name=name, value=str(i))) for i in range(20)),
                return_exceptions=True,
            )
            created = [r for r in results if not isinstance(r, BaseException)]
            refused = [r for r in results if isinstance(r, BaseException)]
            assert len(created) == 1, results
            assert all(isinstance(r, httpx.HTTPStatusError) and r.response.status_code == 409 for r in refused), [
                repr(r) for r in refused
            ]
            read = await client.read_variable_by_name(name)
            assert read.id == created[0].id
            assert read.value == created[0].value


class TestBlocks:
    async def test_local_file_system_save_then_load(self, uid, tmp_path):
        name = f"e2e-lfs-{uid}"
        block = LocalFileSystem(basepath=str(tmp_path))
        doc_id = await block.save(name)
        assert isinstance(doc_id, uuid.UUID)

        loaded = await LocalFileSystem.load(name)
        assert isinstance(loaded, LocalFileSystem)
        assert loaded.basepath == str(tmp_path)
        assert loaded._block_document_id == doc_id
        assert loaded._block_document_name == name

    async def test_local_file_system_loaded_block_reads_and_writes_files(self, uid, tmp_path):
        name = f"e2e-lfs-io-{uid}"
        await LocalFileSystem(basepath=str(tmp_path)).save(name)
        loaded = await LocalFileSystem.load(name)
        await loaded.write_path("hello.txt", b"hi from e2e")
        assert (tmp_path / "hello.txt").read_bytes() == b"hi from e2e"
        assert await loaded.read_path("hello.txt") == b"hi from e2e"

    async def test_saving_a_taken_block_name_needs_overwrite(self, uid, tmp_path):
        name = f"e2e-lfs-ow-{uid}"
        first = tmp_path / "first"
        second = tmp_path / "second"
        doc_id = await LocalFileSystem(basepath=str(first)).save(name)
        with pytest.raises(ValueError, match="already in use"):
            await LocalFileSystem(basepath=str(second)).save(name)
        assert (await LocalFileSystem.load(name)).basepath == str(first)

        same_id = await LocalFileSystem(basepath=str(second)).save(name, overwrite=True)
        assert same_id == doc_id
        assert (await LocalFileSystem.load(name)).basepath == str(second)

    async def test_process_block_save_then_load(self, uid, tmp_path):
        from prefect.infrastructure import Process

        name = f"e2e-process-{uid}"
        block = Process(env={"E2E": "1"}, working_dir=str(tmp_path), stream_output=False, labels={"k": "v"})
        doc_id = await block.save(name)
        assert isinstance(doc_id, uuid.UUID)

        loaded = await Process.load(name)
        assert isinstance(loaded, Process)
        assert loaded.env == {"E2E": "1"}
        assert str(loaded.working_dir) == str(tmp_path)
        assert loaded.stream_output is False
        assert loaded.labels == {"k": "v"}
        assert loaded._block_document_id == doc_id

    async def test_loading_an_unknown_block_raises_value_error(self, uid):
        with pytest.raises(ValueError, match="Unable to find block document"):
            await LocalFileSystem.load(f"e2e-missing-{uid}")
