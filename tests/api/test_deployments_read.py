"""GET /deployments/{id} and GET /deployments/name/{flow}/{deployment} (spec §3.3, §3.4; §8 items 45–54).

Cost (issue 3 item 7): each read is exactly one DynamoDB GetItem.
"""

import uuid

import pytest

DEPLOYMENT_KEYS = [
    "id", "created", "updated", "infra_overrides", "name", "version", "description", "flow_id", "schedule",
    "is_schedule_active", "paused", "schedules", "parameters", "tags", "work_queue_name", "last_polled",
    "parameter_openapi_schema", "path", "pull_steps", "entrypoint", "manifest_path", "storage_document_id",
    "infrastructure_document_id", "created_by", "updated_by", "work_pool_name", "status",
    "enforce_parameter_schema",
]
DAY = {"interval": 86400, "anchor_date": "2020-01-01T00:00:00+00:00"}


@pytest.fixture
def flow(client):
    return client.post("flows/", json={"name": "my-flow"}).json()


def deploy(client, flow_id, name="my-deployment", **body) -> dict:
    r = client.post("deployments/", json={"name": name, "flow_id": flow_id, **body})
    assert r.status_code == 201, r.text
    return r.json()


def infra_block(client) -> dict:
    bt = client.post("block_types/", json={"name": "Infra", "slug": "infra"})
    assert bt.status_code == 201, bt.text
    bs = client.post("block_schemas/", json={"block_type_id": bt.json()["id"], "capabilities": [],
                                              "fields": {"title": "Infra", "type": "object", "properties": {}}})
    assert bs.status_code == 201, bs.text
    bd = client.post("block_documents/", json={"name": "infra", "data": {}, "block_schema_id": bs.json()["id"],
                                                "block_type_id": bt.json()["id"]})
    assert bd.status_code == 201, bd.text
    return bd.json()


class TestReadDeployment:
    def test_read_by_id_returns_the_created_deployment(self, client, flow):
        dep = deploy(client, flow["id"], schedule=DAY, tags=["test"], path="./subdir", entrypoint="/file.py:flow")
        r = client.get(f"deployments/{dep['id']}")
        assert r.status_code == 200
        body = r.json()
        assert list(body) == DEPLOYMENT_KEYS
        assert (body["id"], body["name"], body["flow_id"]) == (dep["id"], "my-deployment", flow["id"])
        assert body == dep

    def test_unknown_id_is_404_without_period(self, client):
        r = client.get(f"deployments/{uuid.uuid4()}")
        assert r.status_code == 404
        assert r.json() == {"detail": "Deployment not found"}

    def test_malformed_id_is_422_path_envelope(self, client):
        r = client.get("deployments/not-a-uuid")
        assert r.status_code == 422
        assert r.json()["exception_message"] == "Invalid request received."
        assert r.json()["exception_detail"] == [
            {"loc": ["path", "id"], "msg": "value is not a valid uuid", "type": "type_error.uuid"}]

    def test_get_on_filter_path_is_422_not_405(self, client):
        r = client.get("deployments/filter")
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["loc"] == ["path", "id"]

    def test_read_by_id_is_one_get_item(self, client, flow, dynamo_calls):
        dep = deploy(client, flow["id"], work_queue_name="q", schedule=DAY)
        dynamo_calls.clear()
        r = client.get(f"deployments/{dep['id']}")
        assert r.status_code == 200
        assert r.json()["work_queue_name"] == "q"
        assert r.json()["work_pool_name"] == "default-agent-pool"
        assert list(dynamo_calls) == ["GetItem"]

    def test_unknown_id_is_one_get_item(self, client, dynamo_calls):
        dynamo_calls.clear()
        assert client.get(f"deployments/{uuid.uuid4()}").status_code == 404
        assert list(dynamo_calls) == ["GetItem"]


class TestReadDeploymentByName:
    def test_read_by_flow_and_deployment_name(self, client, flow):
        infra = infra_block(client)
        dep = deploy(client, flow["id"], infrastructure_document_id=infra["id"])
        r = client.get("deployments/name/my-flow/my-deployment")
        assert r.status_code == 200
        body = r.json()
        assert (body["id"], body["name"], body["flow_id"]) == (dep["id"], "my-deployment", flow["id"])
        assert body["infrastructure_document_id"] == infra["id"]
        assert list(body) == DEPLOYMENT_KEYS

    def test_unknown_name_is_404_without_period(self, client):
        r = client.get(f"deployments/name/{uuid.uuid4()}/{uuid.uuid4()}")
        assert r.status_code == 404
        assert r.json() == {"detail": "Deployment not found"}

    def test_a_single_segment_is_404_not_found(self, client, flow):
        deploy(client, flow["id"])
        for path in ("deployments/name/my-flow", "deployments/name/my-deployment", f"deployments/name/{uuid.uuid4()}"):
            r = client.get(path)
            assert r.status_code == 404
            assert r.json() == {"detail": "Not Found"}

    @pytest.mark.parametrize("name", ["my deployment", "my:deployment", "my\\deployment", "my👍deployment",
                                      "my|deployment"])
    def test_names_with_special_characters_round_trip(self, client, flow, name):
        dep = deploy(client, flow["id"], name=name)
        r = client.get(f"deployments/name/my-flow/{name}")
        assert r.status_code == 200
        assert r.json()["id"] == dep["id"]

    def test_url_encoded_names_are_decoded(self, client, flow):
        dep = deploy(client, flow["id"], name="my deployment")
        r = client.get("deployments/name/my-flow/my%20deployment")
        assert r.status_code == 200
        assert r.json()["id"] == dep["id"]

    @pytest.mark.parametrize("path", ["my/deployment", "my%deployment"])
    def test_names_with_banned_characters_are_404(self, client, flow, path):
        deploy(client, flow["id"])
        assert client.get(f"deployments/name/my-flow/{path}").status_code == 404

    def test_lookup_is_case_sensitive(self, client, flow):
        deploy(client, flow["id"], name="mv")
        assert client.get("deployments/name/my-flow/mv").status_code == 200
        r = client.get("deployments/name/my-flow/MV")
        assert r.status_code == 404
        assert r.json() == {"detail": "Deployment not found"}
        assert client.get("deployments/name/MY-FLOW/mv").status_code == 404

    def test_same_deployment_name_under_another_flow_is_not_returned(self, client, flow):
        other = client.post("flows/", json={"name": "other-flow"}).json()
        mine = deploy(client, flow["id"], name="shared")
        theirs = deploy(client, other["id"], name="shared")
        assert mine["id"] != theirs["id"]
        assert client.get("deployments/name/my-flow/shared").json()["id"] == mine["id"]
        assert client.get("deployments/name/other-flow/shared").json()["id"] == theirs["id"]
        assert client.get("deployments/name/third-flow/shared").status_code == 404

    def test_read_by_name_is_three_get_items_flow_guard_deployment_guard_deployment(self, client, flow, dynamo_calls):
        deploy(client, flow["id"], name="named deployment", schedule=DAY)
        dynamo_calls.clear()
        r = client.get("deployments/name/my-flow/named deployment")
        assert r.status_code == 200
        assert list(dynamo_calls) == ["GetItem", "GetItem", "GetItem"]

    def test_unknown_name_is_one_get_item(self, client, dynamo_calls):
        dynamo_calls.clear()
        assert client.get("deployments/name/nope/nope").status_code == 404
        assert list(dynamo_calls) == ["GetItem"]
