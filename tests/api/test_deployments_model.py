"""Model-level behaviours observable through the API (spec §5.1, §5.2; §8 items 189–193, 199).

Items 194–198 (schedule_runs) belong to the scheduler suite.
"""

import base64
import datetime as dt
import uuid

import pytest

DAY = {"interval": 86400, "anchor_date": "2020-01-01T00:00:00+00:00"}
HOUR_OUT = {"interval": 3600.0, "anchor_date": "2020-01-01T00:00:00+00:00", "timezone": "UTC"}


@pytest.fixture
def flow(client):
    return client.post("flows/", json={"name": "my-flow"}).json()


def create(client, flow_id, name="D", headers=None, **body):
    return client.post("deployments/", json={"name": name, "flow_id": flow_id, **body}, headers=headers or {})


def queues_of(client, pool_name) -> list[str]:
    r = client.post(f"work_pools/{pool_name}/queues/filter", json={})
    assert r.status_code == 200, r.text
    return sorted(q["name"] for q in r.json())


def infra_block(client, name) -> str:
    bt = client.get("block_types/slug/infra")
    if bt.status_code == 404:
        bt = client.post("block_types/", json={"name": "Infra", "slug": "infra"})
    bs = client.post("block_schemas/", json={"block_type_id": bt.json()["id"], "capabilities": [],
                                              "fields": {"title": "Infra", "type": "object", "properties": {}}})
    bd = client.post("block_documents/", json={"name": name, "data": {}, "block_schema_id": bs.json()["id"],
                                                "block_type_id": bt.json()["id"]})
    assert bd.status_code == 201, bd.text
    return bd.json()["id"]


class TestUpsertModel:
    def test_upsert_overwrites_every_supplied_field_and_bumps_updated(self, client, flow, clock):
        clock.freeze(dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc))
        first = create(client, flow["id"], schedule=DAY, parameters={"a": 1}, tags=["x"],
                       parameter_openapi_schema={"type": "object"}, infrastructure_document_id=infra_block(client, "one"))
        assert first.status_code == 201
        later = clock.advance(hours=1)
        infra = infra_block(client, "two")
        second = create(client, flow["id"], schedule={"interval": 3600, "anchor_date": DAY["anchor_date"]},
                        is_schedule_active=False, parameters={"b": 2}, tags=["y"],
                        parameter_openapi_schema={"type": "object", "properties": {}}, infrastructure_document_id=infra)
        assert second.status_code == 200
        body = second.json()
        assert body["id"] == first.json()["id"]
        assert body["schedule"] == HOUR_OUT
        assert (body["paused"], body["is_schedule_active"]) == (True, False)
        assert [s["active"] for s in body["schedules"]] == [False]
        assert body["parameters"] == {"b": 2}
        assert body["tags"] == ["y"]
        assert body["parameter_openapi_schema"] == {"type": "object", "properties": {}}
        assert body["infrastructure_document_id"] == infra
        assert dt.datetime.fromisoformat(body["updated"]) == later
        assert body["created"] == first.json()["created"]

    def test_upsert_replaces_schedules_with_new_ids(self, client, flow):
        first = create(client, flow["id"], schedule=DAY).json()
        second = create(client, flow["id"], schedule=DAY).json()
        assert [s["schedule"] for s in second["schedules"]] == [s["schedule"] for s in first["schedules"]]
        assert second["schedules"][0]["id"] != first["schedules"][0]["id"]

    def test_omitted_fields_reset_to_defaults(self, client, flow):
        create(client, flow["id"], description="d", version="v", path="/p", entrypoint="e.py:f", manifest_path="m",
               pull_steps=[{"step": {}}], parameter_openapi_schema={"type": "object"}, enforce_parameter_schema=True,
               job_variables={"k": 1}, tags=["t"], parameters={"a": 1}, paused=True, schedule=DAY)
        body = create(client, flow["id"]).json()
        expected = {"description": None, "version": None, "path": None, "entrypoint": None, "manifest_path": None,
                    "pull_steps": None, "parameter_openapi_schema": None, "enforce_parameter_schema": False,
                    "infra_overrides": {}, "tags": [], "parameters": {}, "paused": False, "is_schedule_active": True,
                    "schedules": [], "schedule": None}
        assert {k: body[k] for k in expected} == expected

    def test_created_by_and_updated_by_are_never_persisted(self, client, flow):
        headers = {"Prefect-Automation-Id": str(uuid.uuid4()),
                   "Prefect-Automation-Name": base64.b64encode(b"auto").decode()}
        body = create(client, flow["id"], headers=headers).json()
        assert (body["created_by"], body["updated_by"]) == (None, None)
        body = create(client, flow["id"], headers=headers).json()
        assert (body["created_by"], body["updated_by"]) == (None, None)

    def test_twenty_parallel_upserts_yield_one_deployment(self, client, flow):
        import concurrent.futures

        def upsert(i):
            return create(client, flow["id"], name="race", tags=[str(i)])

        with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
            results = list(pool.map(upsert, range(20)))
        assert sorted(r.status_code for r in results) == [200] * 19 + [201]
        assert len({r.json()["id"] for r in results}) == 1
        assert client.post("deployments/count").json() == 1


class TestReadModel:
    def test_same_name_under_another_flow_is_a_different_deployment(self, client, flow):
        other = client.post("flows/", json={"name": "other"}).json()
        mine = create(client, flow["id"], name="same").json()
        assert client.get("deployments/name/other/same").status_code == 404
        theirs = create(client, other["id"], name="same")
        assert theirs.status_code == 201
        assert theirs.json()["id"] != mine["id"]

    def test_deleting_a_missing_deployment_is_404(self, client):
        assert client.delete(f"deployments/{uuid.uuid4()}").status_code == 404

    def test_deleting_the_flow_deletes_its_deployments(self, client, flow):
        dep = create(client, flow["id"]).json()
        assert client.delete(f"flows/{flow['id']}").status_code == 204
        assert client.get(f"deployments/{dep['id']}").status_code == 404


class TestWorkQueueResolutionModel:
    def test_existing_queue_is_reused_not_duplicated(self, client, flow):
        create(client, flow["id"], name="a", work_queue_name="shared")
        before = queues_of(client, "default-agent-pool")
        body = create(client, flow["id"], name="b", work_queue_name="shared").json()
        assert body["work_queue_name"] == "shared"
        assert queues_of(client, "default-agent-pool") == before == ["default", "shared"]

    def test_update_with_new_queue_name_creates_it_in_default_agent_pool(self, client, flow):
        dep = create(client, flow["id"]).json()
        assert client.patch(f"deployments/{dep['id']}", json={"work_queue_name": "new-work-queue-name"}).status_code == 204
        assert "new-work-queue-name" in queues_of(client, "default-agent-pool")
        got = client.get(f"deployments/{dep['id']}").json()
        assert (got["work_pool_name"], got["work_queue_name"]) == ("default-agent-pool", "new-work-queue-name")

    def test_update_with_pool_and_queue(self, client, flow):
        assert client.post("work_pools/", json={"name": "P", "type": "t"}).status_code == 201
        assert client.post("work_pools/P/queues", json={"name": "q"}).status_code == 201
        dep = create(client, flow["id"]).json()
        assert client.patch(f"deployments/{dep['id']}", json={"work_pool_name": "P", "work_queue_name": "q"}).status_code == 204
        got = client.get(f"deployments/{dep['id']}").json()
        assert (got["work_pool_name"], got["work_queue_name"]) == ("P", "q")
        assert client.patch(f"deployments/{dep['id']}", json={"work_pool_name": "P"}).status_code == 204
        got = client.get(f"deployments/{dep['id']}").json()
        assert (got["work_pool_name"], got["work_queue_name"]) == ("P", "default")

    def test_update_with_pool_and_new_queue_creates_it_in_that_pool_only(self, client, flow):
        assert client.post("work_pools/", json={"name": "P", "type": "t"}).status_code == 201
        dep = create(client, flow["id"], work_queue_name="seed").json()
        r = client.patch(f"deployments/{dep['id']}", json={"work_pool_name": "P", "work_queue_name": "fresh"})
        assert r.status_code == 204
        assert queues_of(client, "P") == ["default", "fresh"]
        assert "fresh" not in queues_of(client, "default-agent-pool")

    def test_new_queue_in_pool_gets_the_first_free_priority(self, client, flow):
        assert client.post("work_pools/", json={"name": "P", "type": "t"}).status_code == 201
        create(client, flow["id"], work_pool_name="P", work_queue_name="second")
        queues = {q["name"]: q for q in client.post("work_pools/P/queues/filter", json={}).json()}
        assert (queues["default"]["priority"], queues["second"]["priority"]) == (1, 2)

    def test_deleting_the_queue_detaches_the_deployment(self, client, flow):
        assert client.post("work_pools/", json={"name": "P", "type": "t"}).status_code == 201
        dep = create(client, flow["id"], work_pool_name="P", work_queue_name="gone").json()
        assert client.delete("work_pools/P/queues/gone").status_code == 204
        got = client.get(f"deployments/{dep['id']}").json()
        assert got["work_pool_name"] is None
        assert got["work_queue_name"] == "gone"  # the stored column survives


class TestDeploymentIdentity:
    """Issue #10 item 1: ids are fresh (uuid4), names unique through a guard item."""

    def test_recreate_after_delete_gets_a_new_id(self, client, flow):
        old = create(client, flow["id"], name="d").json()
        assert client.delete(f"deployments/{old['id']}").status_code == 204
        new = create(client, flow["id"], name="d")
        assert new.status_code == 201
        assert new.json()["id"] != old["id"]
        assert client.get(f"deployments/{old['id']}").status_code == 404
        assert client.get("deployments/name/my-flow/d").json()["id"] == new.json()["id"]
        assert client.post("deployments/count", json={}).json() == 1

    def test_runs_of_a_deleted_deployment_do_not_reattach_to_its_successor(self, client, flow):
        old = create(client, flow["id"], name="d").json()
        run = client.post("flow_runs/", json={"flow_id": flow["id"], "deployment_id": old["id"],
                                              "state": {"type": "COMPLETED"}})
        assert run.status_code == 201, run.text
        assert client.delete(f"deployments/{old['id']}").status_code == 204
        new = create(client, flow["id"], name="d").json()
        r = client.post("flow_runs/filter", json={"deployments": {"id": {"any_": [new["id"]]}}})
        assert (r.status_code, r.json()) == (200, [])
        assert client.get(f"flow_runs/{run.json()['id']}").json()["deployment_id"] == old["id"]

    def test_ids_are_random_not_derived_from_the_name(self, client, flow):
        a = create(client, flow["id"], name="d").json()
        client.delete(f"deployments/{a['id']}")
        b = create(client, flow["id"], name="d").json()
        assert uuid.UUID(a["id"]).version == uuid.UUID(b["id"]).version == 4

    def test_twenty_parallel_upserts_all_succeed_with_one_deployment(self, client, flow):
        import concurrent.futures

        with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
            results = list(pool.map(lambda i: create(client, flow["id"], name="race", tags=[str(i)]), range(20)))
        assert sorted(r.status_code for r in results) == [200] * 19 + [201]
        assert len({r.json()["id"] for r in results}) == 1
        listed = client.post("deployments/filter", json={}).json()
        assert [d["name"] for d in listed] == ["race"]
        assert listed[0]["tags"] in [[str(i)] for i in range(20)]

    def test_delete_frees_the_name_guard(self, client, flow, dynamo_ctx):
        dep = create(client, flow["id"], name="d").json()
        from domain import name_guards

        key = name_guards.deployment(flow["id"], "d")
        assert dynamo_ctx.stores.guards.get(key) == {"id": key, "owner_id": dep["id"]}
        client.delete(f"deployments/{dep['id']}")
        assert dynamo_ctx.stores.guards.get(key) is None
