"""Deployments (issue 3): every deployment operation of the real Prefect 2.20 client and CLI.

Expected values follow spec/prefect-2.20-deployments.md (what `prefect server start` does). Every
test names its flows and deployments with a unique suffix; the server is shared by the session.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib.util
import re
import sys
import textwrap
import uuid
from datetime import timedelta

import httpx
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import DeploymentScheduleCreate, WorkPoolCreate
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterId,
    DeploymentFilterName,
    DeploymentFilterTags,
    FlowFilter,
    FlowFilterName,
)
from prefect.client.schemas.objects import StateType
from prefect.client.schemas.schedules import CronSchedule, IntervalSchedule, RRuleSchedule
from prefect.client.schemas.sorting import DeploymentSort
from prefect.exceptions import ObjectNotFound
from prefect.states import Running, Scheduled

pytestmark = pytest.mark.e2e

UTC = dt.timezone.utc
ANCHOR = dt.datetime(2024, 1, 1, tzinfo=UTC)

# spec §4.2 / client-endpoints.md: the 2.20 DeploymentResponse, in order
DEPLOYMENT_KEYS = [
    "id", "created", "updated", "infra_overrides", "name", "version", "description", "flow_id",
    "schedule", "is_schedule_active", "paused", "schedules", "parameters", "tags", "work_queue_name",
    "last_polled", "parameter_openapi_schema", "path", "pull_steps", "entrypoint", "manifest_path",
    "storage_document_id", "infrastructure_document_id", "created_by", "updated_by", "work_pool_name",
    "status", "enforce_parameter_schema",
]
SCHEDULE_KEYS = ["id", "created", "updated", "deployment_id", "schedule", "active", "max_active_runs",
                 "max_scheduled_runs", "catchup"]
# spec §4.9
FLOW_RUN_KEYS = [
    "id", "created", "updated", "name", "flow_id", "state_id", "deployment_id", "deployment_version",
    "work_queue_id", "work_queue_name", "flow_version", "parameters", "idempotency_key", "context",
    "empirical_policy", "tags", "parent_task_run_id", "state_type", "state_name", "run_count",
    "expected_start_time", "next_scheduled_start_time", "start_time", "end_time", "total_run_time",
    "estimated_run_time", "estimated_start_time_delta", "auto_scheduled", "infrastructure_document_id",
    "infrastructure_pid", "created_by", "work_pool_id", "work_pool_name", "state", "job_variables",
]


# --- helpers ----------------------------------------------------------------------------------------


def hourly(anchor: dt.datetime = ANCHOR, seconds: int = 3600, tz: str = "UTC") -> IntervalSchedule:
    return IntervalSchedule(interval=timedelta(seconds=seconds), anchor_date=anchor, timezone=tz)


def by_id(dep_id) -> DeploymentFilter:
    return DeploymentFilter(id=DeploymentFilterId(any_=[dep_id]))


async def make_flow(client, uid: str, prefix: str = "e2e-dflow") -> tuple[uuid.UUID, str]:
    name = f"{prefix}-{uid}"
    return await client.create_flow_from_name(name), name


async def runs_of(client, dep_id):
    return await client.read_flow_runs(deployment_filter=by_id(dep_id))


async def wait_until(probe, timeout: float = 10.0, every: float = 0.25):
    """Call ``probe()`` until it returns a truthy value or ``timeout`` seconds pass; return the last value."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await probe()
        if value or asyncio.get_running_loop().time() >= deadline:
            return value
        await asyncio.sleep(every)


def status_of(exc_info) -> int:
    return exc_info.value.response.status_code


def body_of(exc_info):
    return exc_info.value.response.json()


# --- create -----------------------------------------------------------------------------------------


class TestCreateDeployment:
    async def test_without_schedules_echoes_every_field(self, uid):
        async with get_client() as client:
            flow_id, _ = await make_flow(client, uid)
            dep_id = await client.create_deployment(
                flow_id=flow_id, name=f"plain-{uid}", version="v1", description="an e2e deployment",
                parameters={"a": 1, "nested": {"b": [1, 2]}}, tags=["e2e", "plain"], path="/opt/flows",
                entrypoint="flows.py:main", job_variables={"env": {"K": "V"}},
                parameter_openapi_schema={"type": "object", "properties": {"a": {"type": "integer"}}},
            )
            assert isinstance(dep_id, uuid.UUID)

            d = await client.read_deployment(dep_id)
            assert d.id == dep_id
            assert d.name == f"plain-{uid}"
            assert d.flow_id == flow_id
            assert d.version == "v1"
            assert d.description == "an e2e deployment"
            assert d.parameters == {"a": 1, "nested": {"b": [1, 2]}}
            assert d.tags == ["e2e", "plain"]
            assert d.path == "/opt/flows"
            assert d.entrypoint == "flows.py:main"
            assert d.job_variables == {"env": {"K": "V"}}
            assert d.parameter_openapi_schema == {"type": "object", "properties": {"a": {"type": "integer"}}}
            assert d.schedules == []
            assert d.schedule is None
            assert d.paused is False
            assert d.is_schedule_active is True
            assert d.enforce_parameter_schema is False
            assert d.work_queue_name is None
            assert d.work_pool_name is None
            assert d.last_polled is None
            assert d.status.value == "NOT_READY"
            assert d.created is not None and d.updated is not None

    async def test_with_a_cron_schedule(self, uid):
        cron = CronSchedule(cron="0 9 * * 1-5", timezone="America/New_York")
        async with get_client() as client:
            flow_id, _ = await make_flow(client, uid)
            dep_id = await client.create_deployment(
                flow_id=flow_id, name=f"cron-{uid}", schedules=[DeploymentScheduleCreate(schedule=cron)]
            )
            d = await client.read_deployment(dep_id)
            assert len(d.schedules) == 1
            row = d.schedules[0]
            assert row.deployment_id == dep_id
            assert row.active is True
            assert isinstance(row.schedule, CronSchedule)
            assert row.schedule.cron == "0 9 * * 1-5"
            assert row.schedule.timezone == "America/New_York"
            assert row.schedule.day_or is True
            assert row.max_active_runs is None and row.max_scheduled_runs is None and row.catchup is False
            # legacy mirror of the single schedule
            assert isinstance(d.schedule, CronSchedule) and d.schedule.cron == "0 9 * * 1-5"
            assert d.is_schedule_active is True
            assert d.paused is False

    async def test_with_an_interval_schedule(self, uid):
        async with get_client() as client:
            flow_id, _ = await make_flow(client, uid)
            dep_id = await client.create_deployment(
                flow_id=flow_id, name=f"interval-{uid}",
                schedules=[DeploymentScheduleCreate(schedule=hourly(seconds=1800, tz="America/Chicago"))],
            )
            d = await client.read_deployment(dep_id)
            assert len(d.schedules) == 1
            s = d.schedules[0].schedule
            assert isinstance(s, IntervalSchedule)
            assert s.interval == timedelta(minutes=30)
            assert s.anchor_date == ANCHOR
            assert s.timezone == "America/Chicago"
            assert d.schedules[0].active is True
            assert isinstance(d.schedule, IntervalSchedule) and d.schedule.interval == timedelta(minutes=30)

    async def test_with_an_rrule_schedule(self, uid):
        rrule = "FREQ=WEEKLY;BYDAY=MO,WE,FR;BYHOUR=9;BYMINUTE=30"
        async with get_client() as client:
            flow_id, _ = await make_flow(client, uid)
            dep_id = await client.create_deployment(
                flow_id=flow_id, name=f"rrule-{uid}",
                schedules=[DeploymentScheduleCreate(schedule=RRuleSchedule(rrule=rrule, timezone="Europe/Berlin"))],
            )
            d = await client.read_deployment(dep_id)
            assert len(d.schedules) == 1
            s = d.schedules[0].schedule
            assert isinstance(s, RRuleSchedule)
            assert s.rrule == rrule
            assert s.timezone == "Europe/Berlin"
            assert isinstance(d.schedule, RRuleSchedule) and d.schedule.rrule == rrule

    async def test_legacy_schedule_becomes_one_active_schedule_row(self, uid):
        async with get_client() as client:
            flow_id, _ = await make_flow(client, uid)
            dep_id = await client.create_deployment(flow_id=flow_id, name=f"legacy-{uid}", schedule=hourly())
            d = await client.read_deployment(dep_id)
            assert len(d.schedules) == 1
            assert d.schedules[0].active is True
            assert d.schedules[0].schedule.interval == timedelta(hours=1)
            assert d.schedules[0].schedule.anchor_date == ANCHOR
            assert isinstance(d.schedule, IntervalSchedule) and d.schedule.interval == timedelta(hours=1)
            assert d.is_schedule_active is True
            assert d.paused is False

    async def test_legacy_schedule_with_is_schedule_active_false_is_paused_with_an_inactive_row(self, uid):
        async with get_client() as client:
            flow_id, _ = await make_flow(client, uid)
            dep_id = await client.create_deployment(
                flow_id=flow_id, name=f"legacy-off-{uid}", schedule=hourly(), is_schedule_active=False
            )
            d = await client.read_deployment(dep_id)
            assert d.paused is True
            assert d.is_schedule_active is False
            assert len(d.schedules) == 1
            assert d.schedules[0].active is False
            assert d.schedules[0].schedule.interval == timedelta(hours=1)

    async def test_with_two_schedules_lists_them_most_recent_first(self, uid):
        cron = CronSchedule(cron="15 3 * * *", timezone="UTC")
        interval = hourly(seconds=7200)
        async with get_client() as client:
            flow_id, _ = await make_flow(client, uid)
            dep_id = await client.create_deployment(
                flow_id=flow_id, name=f"two-{uid}",
                schedules=[DeploymentScheduleCreate(schedule=cron, active=True),
                           DeploymentScheduleCreate(schedule=interval, active=False)],
            )
            d = await client.read_deployment(dep_id)
            assert len(d.schedules) == 2
            assert len({s.id for s in d.schedules}) == 2
            assert all(s.deployment_id == dep_id for s in d.schedules)
            # ordered by `updated` desc: a fresh list comes back in reverse input order
            first, second = d.schedules
            assert isinstance(first.schedule, IntervalSchedule)
            assert first.schedule.interval == timedelta(hours=2)
            assert first.active is False
            assert isinstance(second.schedule, CronSchedule)
            assert second.schedule.cron == "15 3 * * *"
            assert second.active is True
            # the legacy `schedule` mirrors schedules[0]
            assert isinstance(d.schedule, IntervalSchedule) and d.schedule.interval == timedelta(hours=2)
            assert d.paused is False

    async def test_paused_true_is_reflected_in_is_schedule_active(self, uid):
        async with get_client() as client:
            flow_id, _ = await make_flow(client, uid)
            dep_id = await client.create_deployment(
                flow_id=flow_id, name=f"paused-{uid}", paused=True,
                schedules=[DeploymentScheduleCreate(schedule=hourly())],
            )
            d = await client.read_deployment(dep_id)
            assert d.paused is True
            assert d.is_schedule_active is False
            assert d.schedules[0].active is True

    async def test_upsert_on_the_same_name_keeps_id_and_created_and_overwrites_fields(self, uid):
        async with get_client() as client:
            flow_id, _ = await make_flow(client, uid)
            first_id = await client.create_deployment(
                flow_id=flow_id, name=f"upsert-{uid}", description="first", parameters={"v": 1}, tags=["one"],
                version="1", schedules=[DeploymentScheduleCreate(schedule=hourly())],
            )
            first = await client.read_deployment(first_id)
            second_id = await client.create_deployment(
                flow_id=flow_id, name=f"upsert-{uid}", parameters={"v": 2}, tags=["two"],
                schedules=[DeploymentScheduleCreate(schedule=CronSchedule(cron="0 0 * * *"))],
            )
            assert second_id == first_id
            second = await client.read_deployment(first_id)
            assert second.created == first.created
            assert second.updated >= first.updated
            assert second.parameters == {"v": 2}
            assert second.tags == ["two"]
            assert second.description is None  # omitted fields are overwritten with defaults
            assert second.version is None
            assert len(second.schedules) == 1
            assert isinstance(second.schedules[0].schedule, CronSchedule)
            assert second.schedules[0].id != first.schedules[0].id

            same_flow = await client.read_deployments(flow_filter=FlowFilter(id={"any_": [flow_id]}))
            assert [d.id for d in same_flow] == [first_id]

    async def test_same_deployment_name_under_two_flows_gives_two_deployments(self, uid):
        async with get_client() as client:
            flow_a, _ = await make_flow(client, uid, "e2e-dflow-a")
            flow_b, _ = await make_flow(client, uid, "e2e-dflow-b")
            a = await client.create_deployment(flow_id=flow_a, name=f"shared-{uid}")
            b = await client.create_deployment(flow_id=flow_b, name=f"shared-{uid}")
            assert a != b
            assert (await client.read_deployment(a)).flow_id == flow_a
            assert (await client.read_deployment(b)).flow_id == flow_b

    async def test_with_a_work_pool_and_a_new_queue_name_creates_the_queue_in_that_pool(self, uid):
        pool_name = f"e2e-dpool-{uid}"
        async with get_client() as client:
            pool = await client.create_work_pool(WorkPoolCreate(name=pool_name, type="process"))
            flow_id, _ = await make_flow(client, uid)
            dep_id = await client.create_deployment(
                flow_id=flow_id, name=f"pooled-{uid}", work_pool_name=pool_name, work_queue_name=f"q-{uid}"
            )
            d = await client.read_deployment(dep_id)
            assert d.work_pool_name == pool_name
            assert d.work_queue_name == f"q-{uid}"
            queue = await client.read_work_queue_by_name(f"q-{uid}", work_pool_name=pool_name)
            assert queue.work_pool_id == pool.id

    async def test_with_a_work_pool_only_uses_the_pools_default_queue(self, uid):
        pool_name = f"e2e-dpool-{uid}"
        async with get_client() as client:
            await client.create_work_pool(WorkPoolCreate(name=pool_name, type="process"))
            flow_id, _ = await make_flow(client, uid)
            dep_id = await client.create_deployment(flow_id=flow_id, name=f"pool-only-{uid}",
                                                    work_pool_name=pool_name)
            d = await client.read_deployment(dep_id)
            assert d.work_pool_name == pool_name
            assert d.work_queue_name == "default"

    async def test_with_a_queue_name_only_lands_in_default_agent_pool(self, uid):
        async with get_client() as client:
            flow_id, _ = await make_flow(client, uid)
            dep_id = await client.create_deployment(flow_id=flow_id, name=f"queue-only-{uid}",
                                                    work_queue_name=f"agentq-{uid}")
            d = await client.read_deployment(dep_id)
            assert d.work_queue_name == f"agentq-{uid}"
            assert d.work_pool_name == "default-agent-pool"
            pool = await client.read_work_pool("default-agent-pool")
            assert pool.type == "prefect-agent"

    async def test_with_an_unknown_work_pool_is_a_404(self, uid):
        async with get_client() as client:
            flow_id, _ = await make_flow(client, uid)
            with pytest.raises(httpx.HTTPStatusError) as exc:
                await client.create_deployment(flow_id=flow_id, name=f"nopool-{uid}",
                                               work_pool_name=f"e2e-missing-{uid}")
            assert status_of(exc) == 404
            assert body_of(exc) == {"detail": f'Work pool "e2e-missing-{uid}" not found.'}

    async def test_for_an_unknown_flow_is_a_409(self, uid):
        async with get_client() as client:
            with pytest.raises(httpx.HTTPStatusError) as exc:
                await client.create_deployment(flow_id=uuid.uuid4(), name=f"orphan-{uid}")
            assert status_of(exc) == 409


class TestDeploymentWire:
    """Raw HTTP through the client's own transport: statuses and exact response keys."""

    async def test_create_is_201_then_200_on_upsert_with_the_exact_2_20_keys(self, uid):
        async with get_client() as client:
            flow_id, _ = await make_flow(client, uid)
            body = {"name": f"wire-{uid}", "flow_id": str(flow_id),
                    "schedules": [{"schedule": {"interval": 3600, "anchor_date": "2024-01-01T00:00:00+00:00",
                                                "timezone": "UTC"}, "active": True}]}
            created = await client._client.post("/deployments/", json=body)
            assert created.status_code == 201
            doc = created.json()
            assert list(doc) == DEPLOYMENT_KEYS
            assert list(doc["schedules"][0]) == SCHEDULE_KEYS
            assert doc["infra_overrides"] == {}
            assert doc["schedule"] == {"interval": 3600.0, "anchor_date": "2024-01-01T00:00:00+00:00",
                                       "timezone": "UTC"}
            assert doc["status"] == "NOT_READY"
            assert doc["created_by"] is None and doc["updated_by"] is None

            again = await client._client.post("/deployments/", json=body)
            assert again.status_code == 200
            assert again.json()["id"] == doc["id"]

            read = await client._client.get(f"/deployments/{doc['id']}")
            assert read.status_code == 200
            assert list(read.json()) == DEPLOYMENT_KEYS

    async def test_not_found_texts(self, uid):
        missing = uuid.uuid4()
        async with get_client() as client:
            with pytest.raises(httpx.HTTPStatusError) as exc:
                await client._client.get(f"/deployments/{missing}")
            assert (status_of(exc), body_of(exc)) == (404, {"detail": "Deployment not found"})

            with pytest.raises(httpx.HTTPStatusError) as exc:
                await client._client.get(f"/deployments/name/e2e-missing-{uid}/nope")
            assert (status_of(exc), body_of(exc)) == (404, {"detail": "Deployment not found"})

            with pytest.raises(httpx.HTTPStatusError) as exc:
                await client._client.patch(f"/deployments/{missing}", json={"paused": True})
            assert (status_of(exc), body_of(exc)) == (404, {"detail": "Deployment not found."})

            with pytest.raises(httpx.HTTPStatusError) as exc:
                await client._client.get(f"/deployments/{missing}/schedules")
            assert (status_of(exc), body_of(exc)) == (404, {"detail": "Deployment not found."})

    async def test_malformed_id_is_a_422(self):
        async with get_client() as client:
            with pytest.raises(httpx.HTTPStatusError) as exc:
                await client._client.get("/deployments/not-a-uuid")
            assert status_of(exc) == 422
            assert body_of(exc)["exception_message"] == "Invalid request received."

    async def test_create_flow_run_is_201_then_200_for_the_same_idempotency_key(self, uid):
        async with get_client() as client:
            flow_id, _ = await make_flow(client, uid)
            dep_id = await client.create_deployment(flow_id=flow_id, name=f"wire-run-{uid}")
            body = {"idempotency_key": f"key-{uid}", "parameters": {"p": 1}}
            first = await client._client.post(f"/deployments/{dep_id}/create_flow_run", json=body)
            assert first.status_code == 201
            assert list(first.json()) == FLOW_RUN_KEYS
            second = await client._client.post(f"/deployments/{dep_id}/create_flow_run", json=body)
            assert second.status_code == 200
            assert second.json()["id"] == first.json()["id"]


# --- read -------------------------------------------------------------------------------------------


class TestReadDeployment:
    async def test_unknown_id_raises_object_not_found(self):
        async with get_client() as client:
            with pytest.raises(ObjectNotFound):
                await client.read_deployment(uuid.uuid4())


class TestReadDeploymentByName:
    async def test_flow_slash_deployment_name_returns_the_deployment(self, uid):
        async with get_client() as client:
            flow_id, flow_name = await make_flow(client, uid)
            dep_id = await client.create_deployment(flow_id=flow_id, name=f"byname-{uid}", tags=["n"])
            d = await client.read_deployment_by_name(f"{flow_name}/byname-{uid}")
            assert d.id == dep_id
            assert d.name == f"byname-{uid}"
            assert d.flow_id == flow_id
            assert d.tags == ["n"]

    async def test_names_with_spaces_and_punctuation_are_found(self, uid):
        async with get_client() as client:
            flow_id, flow_name = await make_flow(client, uid, "e2e flow: with spaces")
            dep_id = await client.create_deployment(flow_id=flow_id, name=f"my dep: {uid} (v2)")
            d = await client.read_deployment_by_name(f"{flow_name}/my dep: {uid} (v2)")
            assert d.id == dep_id

    async def test_unknown_names_raise_object_not_found(self, uid):
        async with get_client() as client:
            flow_id, flow_name = await make_flow(client, uid)
            await client.create_deployment(flow_id=flow_id, name=f"known-{uid}")
            with pytest.raises(ObjectNotFound):
                await client.read_deployment_by_name(f"{flow_name}/unknown-{uid}")
            with pytest.raises(ObjectNotFound):
                await client.read_deployment_by_name(f"e2e-missing-{uid}/known-{uid}")


class TestReadDeployments:
    @staticmethod
    async def _three(client, uid):
        flow_id, flow_name = await make_flow(client, uid, "e2e-filter")
        ids = {}
        for name, tags in (("b", ["x", "shared"]), ("c", ["y"]), ("a", ["x", "shared", "z"])):
            ids[name] = await client.create_deployment(flow_id=flow_id, name=f"{name}-{uid}", tags=tags)
        return flow_id, flow_name, ids

    async def test_deployment_name_filter_any(self, uid):
        async with get_client() as client:
            _, _, ids = await self._three(client, uid)
            found = await client.read_deployments(
                deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[f"c-{uid}"]))
            )
            assert [d.id for d in found] == [ids["c"]]

    async def test_deployment_name_filter_like_is_a_case_insensitive_substring(self, uid):
        async with get_client() as client:
            _, _, ids = await self._three(client, uid)
            found = await client.read_deployments(
                deployment_filter=DeploymentFilter(name=DeploymentFilterName(like_=f"B-{uid.upper()}"))
            )
            assert [d.id for d in found] == [ids["b"]]

    async def test_flow_name_filter_returns_that_flows_deployments_by_name(self, uid):
        async with get_client() as client:
            _, flow_name, ids = await self._three(client, uid)
            found = await client.read_deployments(flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])))
            assert [d.name for d in found] == [f"a-{uid}", f"b-{uid}", f"c-{uid}"]
            assert [d.id for d in found] == [ids["a"], ids["b"], ids["c"]]

    async def test_tags_all_filter(self, uid):
        async with get_client() as client:
            _, flow_name, ids = await self._three(client, uid)
            found = await client.read_deployments(
                flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])),
                deployment_filter=DeploymentFilter(tags=DeploymentFilterTags(all_=["x", "shared"])),
            )
            assert [d.id for d in found] == [ids["a"], ids["b"]]

    async def test_sorts(self, uid):
        async with get_client() as client:
            _, flow_name, ids = await self._three(client, uid)
            flows = FlowFilter(name=FlowFilterName(any_=[flow_name]))

            async def names(sort):
                return [d.name.split("-")[0] for d in await client.read_deployments(flow_filter=flows, sort=sort)]

            assert await names(None) == ["a", "b", "c"]
            assert await names(DeploymentSort.NAME_ASC) == ["a", "b", "c"]
            assert await names(DeploymentSort.NAME_DESC) == ["c", "b", "a"]
            assert await names(DeploymentSort.CREATED_DESC) == ["a", "c", "b"]  # created b, c, a
            await client.set_deployment_paused_state(ids["b"], True)  # bumps b's `updated`
            assert (await names(DeploymentSort.UPDATED_DESC))[0] == "b"

    async def test_limit_and_offset(self, uid):
        async with get_client() as client:
            _, flow_name, ids = await self._three(client, uid)
            flows = FlowFilter(name=FlowFilterName(any_=[flow_name]))
            page = await client.read_deployments(flow_filter=flows, limit=2, offset=0)
            assert [d.id for d in page] == [ids["a"], ids["b"]]
            page = await client.read_deployments(flow_filter=flows, limit=2, offset=1)
            assert [d.id for d in page] == [ids["b"], ids["c"]]
            page = await client.read_deployments(flow_filter=flows, limit=2, offset=2)
            assert [d.id for d in page] == [ids["c"]]
            page = await client.read_deployments(flow_filter=flows, offset=3)
            assert page == []

    async def test_no_match_is_an_empty_list(self, uid):
        async with get_client() as client:
            found = await client.read_deployments(
                deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[f"e2e-missing-{uid}"]))
            )
            assert found == []


# --- update -----------------------------------------------------------------------------------------


class TestUpdateDeployment:
    async def test_update_deployment_writes_fields_and_the_legacy_schedule(self, uid):
        async with get_client() as client:
            flow_id, _ = await make_flow(client, uid)
            dep_id = await client.create_deployment(
                flow_id=flow_id, name=f"upd-{uid}", description="before", tags=["before"],
                parameters={"a": 1}, schedule=hourly(),
            )
            before = await client.read_deployment(dep_id)
            changed = before.copy(update={"description": "after", "tags": ["after", "more"],
                                          "parameters": {"a": 2, "b": "x"}, "version": "2"})
            await client.update_deployment(changed, schedule=hourly(seconds=7200))

            after = await client.read_deployment(dep_id)
            assert after.id == dep_id
            assert after.description == "after"
            assert after.tags == ["after", "more"]
            assert after.parameters == {"a": 2, "b": "x"}
            assert after.version == "2"
            assert len(after.schedules) == 1
            assert after.schedules[0].schedule.interval == timedelta(hours=2)
            assert after.schedules[0].active is True
            assert after.schedule.interval == timedelta(hours=2)
            assert after.paused is False
            assert after.created == before.created
            assert after.updated > before.updated

    async def test_update_deployment_with_is_schedule_active_false_pauses(self, uid):
        async with get_client() as client:
            flow_id, _ = await make_flow(client, uid)
            dep_id = await client.create_deployment(flow_id=flow_id, name=f"upd-off-{uid}", schedule=hourly())
            d = await client.read_deployment(dep_id)
            await client.update_deployment(d, is_schedule_active=False)
            after = await client.read_deployment(dep_id)
            assert after.paused is True
            assert after.is_schedule_active is False
            assert len(after.schedules) == 1
            assert after.schedules[0].active is False

    async def test_update_deployment_of_a_multi_schedule_deployment_is_the_reference_422(self, uid):
        async with get_client() as client:
            flow_id, _ = await make_flow(client, uid)
            dep_id = await client.create_deployment(
                flow_id=flow_id, name=f"upd-multi-{uid}",
                schedules=[DeploymentScheduleCreate(schedule=hourly()),
                           DeploymentScheduleCreate(schedule=CronSchedule(cron="0 0 * * *"))],
            )
            d = await client.read_deployment(dep_id)
            with pytest.raises(httpx.HTTPStatusError) as exc:
                await client.update_deployment(d.copy(update={"description": "nope"}))
            assert status_of(exc) == 422
            assert body_of(exc) == {"detail": [
                f"Error updating deployment: Deployment UUID('{dep_id}') has multiple schedules. Please use "
                "the UI or update your client to adjust this deployment's schedules."
            ]}
            after = await client.read_deployment(dep_id)
            assert after.description is None
            assert len(after.schedules) == 2


class TestSetDeploymentPausedState:
    async def test_pause_and_resume(self, uid):
        async with get_client() as client:
            flow_id, _ = await make_flow(client, uid)
            dep_id = await client.create_deployment(
                flow_id=flow_id, name=f"pause-{uid}", schedules=[DeploymentScheduleCreate(schedule=hourly())]
            )
            await client.set_deployment_paused_state(dep_id, True)
            d = await client.read_deployment(dep_id)
            assert d.paused is True
            assert d.is_schedule_active is False
            assert d.schedules[0].active is True  # PATCH {"paused"} leaves schedule rows alone

            await client.set_deployment_paused_state(dep_id, False)
            d = await client.read_deployment(dep_id)
            assert d.paused is False
            assert d.is_schedule_active is True

    async def test_unknown_deployment_is_a_404(self):
        async with get_client() as client:
            with pytest.raises(httpx.HTTPStatusError) as exc:
                await client.set_deployment_paused_state(uuid.uuid4(), True)
            assert status_of(exc) == 404


class TestUpdateSchedule:
    async def test_set_schedule_inactive_then_active(self, uid):
        async with get_client() as client:
            flow_id, _ = await make_flow(client, uid)
            dep_id = await client.create_deployment(
                flow_id=flow_id, name=f"legacy-toggle-{uid}",
                schedules=[DeploymentScheduleCreate(schedule=hourly())],
            )
            await client.update_schedule(dep_id, active=False)
            d = await client.read_deployment(dep_id)
            assert d.paused is True
            assert d.is_schedule_active is False
            assert d.schedules[0].active is False

            await client.update_schedule(dep_id, active=True)
            d = await client.read_deployment(dep_id)
            assert d.paused is False
            assert d.is_schedule_active is True
            assert d.schedules[0].active is True

    async def test_unknown_deployment_is_a_404(self):
        async with get_client() as client:
            with pytest.raises(httpx.HTTPStatusError) as exc:
                await client.update_schedule(uuid.uuid4(), active=False)
            assert status_of(exc) == 404


# --- flow runs --------------------------------------------------------------------------------------


class TestCreateFlowRunFromDeployment:
    async def test_parameters_overlay_shallowly_and_tags_union(self, uid):
        async with get_client() as client:
            flow_id, _ = await make_flow(client, uid)
            dep_id = await client.create_deployment(
                flow_id=flow_id, name=f"run-{uid}", version="7", parameters={"a": 1, "nested": {"x": 1, "y": 2}},
                tags=["dep-tag", "both"],
            )
            run = await client.create_flow_run_from_deployment(
                dep_id, parameters={"nested": {"z": 3}, "b": "new"}, tags=["run-tag", "both"]
            )
            assert run.deployment_id == dep_id
            assert run.flow_id == flow_id
            assert run.deployment_version == "7"
            assert run.parameters == {"a": 1, "nested": {"z": 3}, "b": "new"}
            assert sorted(run.tags) == ["both", "dep-tag", "run-tag"]
            assert run.state is not None
            assert run.state.type == StateType.SCHEDULED
            assert run.state.name == "Scheduled"
            assert run.state_type == StateType.SCHEDULED
            assert run.auto_scheduled is False
            assert run.name  # a generated slug
            assert run.idempotency_key is None

            read = await client.read_flow_run(run.id)
            assert read.id == run.id
            assert read.parameters == run.parameters
            assert read.deployment_id == dep_id

    async def test_same_idempotency_key_returns_the_same_run(self, uid):
        async with get_client() as client:
            flow_id, _ = await make_flow(client, uid)
            dep_id = await client.create_deployment(flow_id=flow_id, name=f"idem-{uid}")
            first = await client.create_flow_run_from_deployment(dep_id, idempotency_key=f"k-{uid}",
                                                                 parameters={"n": 1})
            again = await client.create_flow_run_from_deployment(dep_id, idempotency_key=f"k-{uid}",
                                                                 parameters={"n": 2})
            other = await client.create_flow_run_from_deployment(dep_id, idempotency_key=f"other-{uid}")
            assert again.id == first.id
            assert again.parameters == {"n": 1}
            assert first.idempotency_key == f"k-{uid}"
            assert other.id != first.id
            assert {r.id for r in await runs_of(client, dep_id)} == {first.id, other.id}

    async def test_name_and_future_scheduled_state(self, uid):
        when = (dt.datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
        async with get_client() as client:
            flow_id, _ = await make_flow(client, uid)
            dep_id = await client.create_deployment(flow_id=flow_id, name=f"named-{uid}")
            run = await client.create_flow_run_from_deployment(dep_id, name=f"my-run-{uid}",
                                                               state=Scheduled(scheduled_time=when))
            assert run.name == f"my-run-{uid}"
            assert run.state.type == StateType.SCHEDULED
            assert run.state.state_details.scheduled_time == when
            assert run.next_scheduled_start_time == when
            assert run.expected_start_time == when

    async def test_unknown_deployment_is_a_404(self):
        async with get_client() as client:
            with pytest.raises(httpx.HTTPStatusError) as exc:
                await client.create_flow_run_from_deployment(uuid.uuid4())
            assert (status_of(exc), body_of(exc)) == (404, {"detail": "Deployment not found"})


class TestRunDeployment:
    async def test_run_deployment_by_name_with_timeout_0_returns_the_scheduled_run(self, uid):
        from prefect.deployments import run_deployment

        async with get_client() as client:
            flow_id, flow_name = await make_flow(client, uid)
            dep_id = await client.create_deployment(flow_id=flow_id, name=f"rd-{uid}", parameters={"a": 1})
            run = await run_deployment(name=f"{flow_name}/rd-{uid}", timeout=0, parameters={"b": 2},
                                       tags=["rd"], client=client)
            assert run.deployment_id == dep_id
            assert run.flow_id == flow_id
            assert run.parameters == {"a": 1, "b": 2}
            assert "rd" in run.tags
            assert run.state.type == StateType.SCHEDULED
            read = await client.read_flow_run(run.id)
            assert read.deployment_id == dep_id

    async def test_run_deployment_by_id(self, uid):
        from prefect.deployments import run_deployment

        async with get_client() as client:
            flow_id, _ = await make_flow(client, uid)
            dep_id = await client.create_deployment(flow_id=flow_id, name=f"rd-id-{uid}")
            run = await run_deployment(name=dep_id, timeout=0, client=client)
            assert run.deployment_id == dep_id
            assert run.state.type == StateType.SCHEDULED

    async def test_run_deployment_of_an_unknown_name_raises_object_not_found(self, uid):
        from prefect.deployments import run_deployment

        async with get_client() as client:
            with pytest.raises(ObjectNotFound):
                await run_deployment(name=f"e2e-missing-{uid}/nope", timeout=0, client=client)


class TestGetScheduledFlowRunsForDeployments:
    async def test_returns_due_scheduled_runs_in_start_order_and_marks_the_deployment_ready(self, uid):
        now = dt.datetime.now(UTC)
        async with get_client() as client:
            flow_id, _ = await make_flow(client, uid)
            dep_id = await client.create_deployment(flow_id=flow_id, name=f"poll-{uid}")
            other_id = await client.create_deployment(flow_id=flow_id, name=f"poll-other-{uid}")
            late = await client.create_flow_run_from_deployment(
                dep_id, state=Scheduled(scheduled_time=now - timedelta(minutes=10)))
            due = await client.create_flow_run_from_deployment(
                dep_id, state=Scheduled(scheduled_time=now - timedelta(minutes=1)))
            future = await client.create_flow_run_from_deployment(
                dep_id, state=Scheduled(scheduled_time=now + timedelta(days=1)))
            running = await client.create_flow_run_from_deployment(dep_id, state=Running())
            elsewhere = await client.create_flow_run_from_deployment(
                other_id, state=Scheduled(scheduled_time=now - timedelta(minutes=5)))
            assert running.state.type == StateType.RUNNING

            got = await client.get_scheduled_flow_runs_for_deployments([dep_id], scheduled_before=now)
            assert [r.id for r in got] == [late.id, due.id]
            assert all(r.deployment_id == dep_id and r.state.type == StateType.SCHEDULED for r in got)

            got = await client.get_scheduled_flow_runs_for_deployments([dep_id])
            assert [r.id for r in got] == [late.id, due.id, future.id]

            got = await client.get_scheduled_flow_runs_for_deployments([dep_id], scheduled_before=now, limit=1)
            assert [r.id for r in got] == [late.id]

            got = await client.get_scheduled_flow_runs_for_deployments([dep_id, other_id], scheduled_before=now)
            assert [r.id for r in got] == [late.id, elsewhere.id, due.id]

            assert await client.get_scheduled_flow_runs_for_deployments([uuid.uuid4()]) == []

            async def polled():
                d = await client.read_deployment(dep_id)
                return d if d.status.value == "READY" else None

            d = await wait_until(polled, timeout=5)
            assert d is not None, "polling did not mark the deployment READY"
            assert d.last_polled is not None
            assert abs((d.last_polled - dt.datetime.now(UTC)).total_seconds()) < 60


# --- schedule sub-routes ----------------------------------------------------------------------------


class TestDeploymentSchedules:
    async def test_create_read_update_delete(self, uid):
        async with get_client() as client:
            flow_id, _ = await make_flow(client, uid)
            dep_id = await client.create_deployment(flow_id=flow_id, name=f"subs-{uid}")
            assert await client.read_deployment_schedules(dep_id) == []

            created = await client.create_deployment_schedules(
                dep_id, [(hourly(), True), (CronSchedule(cron="0 0 * * *", timezone="UTC"), False)]
            )
            assert len(created) == 2
            interval_row, cron_row = created  # input order
            assert interval_row.deployment_id == dep_id and cron_row.deployment_id == dep_id
            assert isinstance(interval_row.schedule, IntervalSchedule)
            assert interval_row.schedule.interval == timedelta(hours=1)
            assert interval_row.active is True
            assert isinstance(cron_row.schedule, CronSchedule) and cron_row.schedule.cron == "0 0 * * *"
            assert cron_row.active is False

            rows = await client.read_deployment_schedules(dep_id)
            assert {r.id for r in rows} == {interval_row.id, cron_row.id}

            await client.update_deployment_schedule(dep_id, interval_row.id, active=False)
            rows = await client.read_deployment_schedules(dep_id)
            assert rows[0].id == interval_row.id  # most recently updated first
            assert rows[0].active is False
            assert rows[0].schedule.interval == timedelta(hours=1)

            await client.update_deployment_schedule(dep_id, cron_row.id, schedule=hourly(seconds=1800))
            rows = {r.id: r for r in await client.read_deployment_schedules(dep_id)}
            assert isinstance(rows[cron_row.id].schedule, IntervalSchedule)
            assert rows[cron_row.id].schedule.interval == timedelta(minutes=30)
            assert rows[cron_row.id].active is False  # not in the PATCH, so unchanged
            d = await client.read_deployment(dep_id)
            assert d.schedule.interval == timedelta(minutes=30)  # legacy mirror = most recently updated

            await client.delete_deployment_schedule(dep_id, cron_row.id)
            rows = await client.read_deployment_schedules(dep_id)
            assert [r.id for r in rows] == [interval_row.id]
            with pytest.raises(ObjectNotFound):
                await client.delete_deployment_schedule(dep_id, cron_row.id)

    async def test_schedules_append_to_existing_ones(self, uid):
        async with get_client() as client:
            flow_id, _ = await make_flow(client, uid)
            dep_id = await client.create_deployment(
                flow_id=flow_id, name=f"append-{uid}", schedules=[DeploymentScheduleCreate(schedule=hourly())]
            )
            added = await client.create_deployment_schedules(dep_id, [(CronSchedule(cron="0 12 * * *"), True)])
            d = await client.read_deployment(dep_id)
            assert len(d.schedules) == 2
            assert added[0].id in {s.id for s in d.schedules}

    async def test_unknown_deployment_or_schedule_raise_object_not_found(self, uid):
        async with get_client() as client:
            flow_id, _ = await make_flow(client, uid)
            dep_id = await client.create_deployment(flow_id=flow_id, name=f"subs404-{uid}")
            with pytest.raises(ObjectNotFound):
                await client.read_deployment_schedules(uuid.uuid4())
            with pytest.raises(ObjectNotFound):
                await client.update_deployment_schedule(dep_id, uuid.uuid4(), active=True)
            with pytest.raises(ObjectNotFound):
                await client.delete_deployment_schedule(dep_id, uuid.uuid4())


# --- delete -----------------------------------------------------------------------------------------


class TestDeleteDeployment:
    async def test_delete_removes_it_and_its_scheduled_runs_but_not_other_runs(self, uid):
        async with get_client() as client:
            flow_id, flow_name = await make_flow(client, uid)
            dep_id = await client.create_deployment(flow_id=flow_id, name=f"del-{uid}",
                                                    schedules=[DeploymentScheduleCreate(schedule=hourly())])
            scheduled = await client.create_flow_run_from_deployment(dep_id)
            running = await client.create_flow_run_from_deployment(dep_id, state=Running())

            await client.delete_deployment(dep_id)

            with pytest.raises(ObjectNotFound):
                await client.read_deployment(dep_id)
            with pytest.raises(ObjectNotFound):
                await client.read_deployment_by_name(f"{flow_name}/del-{uid}")
            with pytest.raises(ObjectNotFound):
                await client.read_flow_run(scheduled.id)
            survivor = await client.read_flow_run(running.id)
            assert survivor.state.type == StateType.RUNNING
            with pytest.raises(ObjectNotFound):
                await client.delete_deployment(dep_id)
            # the flow itself stays
            assert (await client.read_flow(flow_id)).name == flow_name


# --- flow.to_deployment().apply() -------------------------------------------------------------------


FLOW_MODULE = '''
from prefect import flow


@flow(name="e2e-served-{uid}")
def e2e_flow(x: int = 1, name: str = "a"):
    return x
'''


class TestFlowToDeploymentApply:
    async def test_apply_creates_the_deployment_the_runner_would_serve(self, uid, tmp_path, monkeypatch):
        module_name = f"e2e_flows_{uid}"
        path = tmp_path / f"{module_name}.py"
        path.write_text(textwrap.dedent(FLOW_MODULE.format(uid=uid)))
        monkeypatch.chdir(tmp_path)
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, module_name, module)
        spec.loader.exec_module(module)
        flow = module.e2e_flow

        deployment = await flow.to_deployment(name=f"served-{uid}", interval=3600, parameters={"x": 2},
                                              tags=["s"], description="served by e2e")
        dep_id = await deployment.apply()

        async with get_client() as client:
            d = await client.read_deployment(dep_id)
            assert d.name == f"served-{uid}"
            assert (await client.read_flow(d.flow_id)).name == f"e2e-served-{uid}"
            assert d.entrypoint == f"{module_name}.py:e2e_flow"
            assert d.path == "."
            assert d.parameters == {"x": 2}
            assert d.tags == ["s"]
            assert d.description == "served by e2e"
            assert d.version == flow.version
            assert d.paused is False
            assert d.enforce_parameter_schema is False
            props = d.parameter_openapi_schema["properties"]
            assert set(props) == {"x", "name"}
            assert props["x"]["default"] == 1 and props["x"]["type"] == "integer"
            assert len(d.schedules) == 1
            assert isinstance(d.schedules[0].schedule, IntervalSchedule)
            assert d.schedules[0].schedule.interval == timedelta(hours=1)
            assert d.schedules[0].active is True
            assert (await client.read_deployment_by_name(f"e2e-served-{uid}/served-{uid}")).id == dep_id

        again = await (await flow.to_deployment(name=f"served-{uid}", interval=3600)).apply()
        assert again == dep_id


# --- the scheduler ----------------------------------------------------------------------------------


class TestScheduledRuns:
    async def test_an_interval_deployment_gets_its_scheduled_runs_within_10_seconds(self, uid):
        # anchored 30 min ahead (whole seconds): the next three runs are anchor + 0h, 1h, 2h
        anchor = (dt.datetime.now(UTC) + timedelta(minutes=30)).replace(microsecond=0)
        async with get_client() as client:
            flow_id, _ = await make_flow(client, uid)
            dep_id = await client.create_deployment(
                flow_id=flow_id, name=f"sched-{uid}", parameters={"p": 1}, tags=["sched", "e2e"],
                schedules=[DeploymentScheduleCreate(schedule=hourly(anchor=anchor))],
            )

            async def three_runs():
                runs = await runs_of(client, dep_id)
                return runs if len(runs) >= 3 else None

            runs = await wait_until(three_runs, timeout=10)
            assert runs, "no scheduled runs within 10 s of creating an interval deployment"
            runs = sorted(runs, key=lambda r: r.expected_start_time)
            expected = [anchor + timedelta(hours=k) for k in range(3)]
            assert [r.expected_start_time for r in runs] == expected
            for run, when in zip(runs, expected, strict=True):
                assert run.deployment_id == dep_id
                assert run.flow_id == flow_id
                assert run.state_type == StateType.SCHEDULED
                assert run.state.name == "Scheduled"
                assert run.next_scheduled_start_time == when
                assert run.auto_scheduled is True
                assert run.idempotency_key == f"scheduled {dep_id} {when.isoformat()}"
                assert run.tags == ["auto-scheduled", "sched", "e2e"]
                assert run.parameters == {"p": 1}

            await asyncio.sleep(5)  # more scheduler ticks must not add duplicates
            assert sorted(r.id for r in await runs_of(client, dep_id)) == sorted(r.id for r in runs)

    async def test_pausing_deletes_auto_scheduled_runs_and_resuming_brings_them_back(self, uid):
        anchor = (dt.datetime.now(UTC) + timedelta(minutes=30)).replace(microsecond=0)
        async with get_client() as client:
            flow_id, _ = await make_flow(client, uid)
            dep_id = await client.create_deployment(
                flow_id=flow_id, name=f"sched-pause-{uid}",
                schedules=[DeploymentScheduleCreate(schedule=hourly(anchor=anchor))],
            )

            async def auto_runs():
                return [r for r in await runs_of(client, dep_id) if r.auto_scheduled]

            assert len(await wait_until(auto_runs, timeout=10)) == 3
            manual = await client.create_flow_run_from_deployment(dep_id)

            await client.set_deployment_paused_state(dep_id, True)
            assert await auto_runs() == []
            await asyncio.sleep(5)  # a paused deployment gets no runs from the scheduler
            assert await auto_runs() == []
            assert [r.id for r in await runs_of(client, dep_id)] == [manual.id]

            await client.set_deployment_paused_state(dep_id, False)
            back = await wait_until(auto_runs, timeout=10)
            assert sorted(r.expected_start_time for r in back) == [anchor + timedelta(hours=k) for k in range(3)]


# --- the CLI ----------------------------------------------------------------------------------------


class TestCli:
    @staticmethod
    async def _deployment(uid):
        async with get_client() as client:
            flow_id, flow_name = await make_flow(client, uid, "e2e-cli")
            dep_id = await client.create_deployment(
                flow_id=flow_id, name=f"cli-{uid}", parameters={"a": 1}, tags=["cli"],
                parameter_openapi_schema={"type": "object", "properties": {"a": {"type": "integer"}}},
            )
            return dep_id, f"{flow_name}/cli-{uid}"

    def test_deployment_ls_lists_flow_slash_name_and_id(self, uid, cli):
        dep_id, full_name = asyncio.run(self._deployment(uid))
        result = cli("deployment", "ls")
        assert result.returncode == 0, result.stdout + result.stderr
        line = next((ln for ln in result.stdout.splitlines() if full_name in ln), None)
        assert line is not None, result.stdout
        assert str(dep_id) in line

    def test_deployment_inspect_prints_the_deployment(self, uid, cli):
        dep_id, full_name = asyncio.run(self._deployment(uid))
        result = cli("deployment", "inspect", full_name)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"'id': '{dep_id}'" in result.stdout
        assert f"'name': 'cli-{uid}'" in result.stdout
        assert "'parameters': {'a': 1}" in result.stdout

    def test_deployment_inspect_of_an_unknown_name_fails(self, uid, cli):
        result = cli("deployment", "inspect", f"e2e-missing-{uid}/nope")
        assert result.returncode == 1
        assert f"Deployment 'e2e-missing-{uid}/nope' not found!" in result.stdout + result.stderr

    def test_deployment_run_creates_a_flow_run(self, uid, cli):
        dep_id, full_name = asyncio.run(self._deployment(uid))
        result = cli("deployment", "run", full_name, "--param", "a=5")
        out = result.stdout + result.stderr
        assert result.returncode == 0, out
        assert f"Creating flow run for deployment '{full_name}'..." in out
        assert "Created flow run '" in out
        match = re.search(r"UUID: ([0-9a-f-]{36})", out)
        assert match, out

        async def read():
            async with get_client() as client:
                return await client.read_flow_run(uuid.UUID(match.group(1)))

        run = asyncio.run(read())
        assert run.deployment_id == dep_id
        assert run.parameters == {"a": 5}
        assert run.state.type == StateType.SCHEDULED
        assert "cli" in run.tags
