"""/flows routes (spec §4.11)."""

import concurrent.futures
import uuid

FLOW_KEYS = ["id", "created", "updated", "name", "tags"]


class TestCreateFlow:
    def test_new_flow_is_201_with_exact_keys(self, client):
        r = client.post("flows/", json={"name": "my-flow", "tags": ["a"]})
        assert r.status_code == 201
        body = r.json()
        assert list(body) == FLOW_KEYS
        assert body["name"] == "my-flow"
        assert body["tags"] == ["a"]
        assert body["created"].endswith("+00:00")

    def test_existing_name_is_200_with_the_same_flow(self, client):
        first = client.post("flows/", json={"name": "my-flow"}).json()
        r = client.post("flows/", json={"name": "my-flow", "tags": ["ignored"]})
        assert r.status_code == 200
        assert r.json() == first

    def test_unknown_key_is_422_extra_fields(self, client):
        r = client.post("flows/", json={"name": "x", "bogus": 1})
        assert r.status_code == 422
        detail = r.json()["exception_detail"]
        assert detail == [{"loc": ["body", "bogus"], "msg": "extra fields not permitted", "type": "value_error.extra"}]
        assert r.json()["request_body"] == {"name": "x", "bogus": 1}

    def test_missing_name_is_422_field_required(self, client):
        r = client.post("flows/", json={})
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["loc"] == ["body", "name"]
        assert r.json()["exception_detail"][0]["msg"] == "field required"

    def test_bad_json_is_422_not_500(self, client):
        r = client.post("flows/", content=b"{not json", headers={"content-type": "application/json"})
        assert r.status_code == 422
        assert r.json()["exception_message"] == "Invalid request received."
        assert r.json()["request_body"] == "{not json"

    def test_empty_name_is_422_not_500(self, client):
        # the reference creates a flow named ""; DynamoDB cannot index an empty name
        r = client.post("flows/", json={"name": ""})
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["loc"] == ["body", "name"]
        assert client.post("flows/count").json() == 0

    def test_banned_character_is_422(self, client):
        r = client.post("flows/", json={"name": "bad/name"})
        assert r.status_code == 422
        assert "contains an invalid character" in r.json()["exception_detail"][0]["msg"]

    def test_twenty_parallel_creates_of_one_name_yield_one_flow(self, client):
        def create(_):
            return client.post("flows/", json={"name": "race"})

        with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
            results = list(pool.map(create, range(20)))
        statuses = sorted(r.status_code for r in results)
        assert statuses == [200] * 19 + [201]
        assert len({r.json()["id"] for r in results}) == 1


class TestReadFlow:
    def test_read_by_id(self, client):
        flow = client.post("flows/", json={"name": "f"}).json()
        r = client.get(f"flows/{flow['id']}")
        assert r.status_code == 200
        assert r.json() == flow

    def test_unknown_id_is_404(self, client):
        r = client.get(f"flows/{uuid.uuid4()}")
        assert r.status_code == 404
        assert r.json() == {"detail": "Flow not found"}

    def test_malformed_id_is_422_path_envelope(self, client):
        r = client.get("flows/not-a-uuid")
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["loc"] == ["path", "id"]

    def test_read_by_name_is_two_get_items_guard_then_flow(self, client, dynamo_calls):
        flow = client.post("flows/", json={"name": "named flow"}).json()
        dynamo_calls.clear()
        r = client.get("flows/name/named flow")
        assert r.status_code == 200
        assert r.json()["id"] == flow["id"]
        assert list(dynamo_calls) == ["GetItem", "GetItem"]

    def test_read_by_unknown_name_is_404(self, client):
        assert client.get("flows/name/nothing").json() == {"detail": "Flow not found"}


class TestUpdateFlow:
    def test_patch_tags_is_204_and_persists(self, client):
        flow = client.post("flows/", json={"name": "f"}).json()
        r = client.patch(f"flows/{flow['id']}", json={"tags": ["x", "y"]})
        assert r.status_code == 204
        assert r.content == b""
        assert client.get(f"flows/{flow['id']}").json()["tags"] == ["x", "y"]

    def test_patch_unknown_is_404(self, client):
        r = client.patch(f"flows/{uuid.uuid4()}", json={"tags": []})
        assert r.status_code == 404


class TestDeleteFlow:
    def test_delete_is_204_then_404(self, client):
        flow = client.post("flows/", json={"name": "f"}).json()
        assert client.delete(f"flows/{flow['id']}").status_code == 204
        assert client.get(f"flows/{flow['id']}").status_code == 404

    def test_delete_unknown_is_404(self, client):
        assert client.delete(f"flows/{uuid.uuid4()}").status_code == 404

    def test_recreate_after_delete_is_201_with_a_new_id(self, client):
        old = client.post("flows/", json={"name": "f"}).json()
        assert client.delete(f"flows/{old['id']}").status_code == 204
        r = client.post("flows/", json={"name": "f"})
        assert r.status_code == 201
        assert r.json()["id"] != old["id"]
        assert client.get("flows/name/f").json()["id"] == r.json()["id"]
        assert client.get(f"flows/{old['id']}").status_code == 404

    def test_delete_frees_the_names_of_its_deployments(self, client):
        flow = client.post("flows/", json={"name": "f"}).json()
        dep = client.post("deployments/", json={"name": "d", "flow_id": flow["id"]}).json()
        assert client.delete(f"flows/{flow['id']}").status_code == 204
        assert client.get("deployments/name/f/d").status_code == 404
        flow2 = client.post("flows/", json={"name": "f"}).json()
        r = client.post("deployments/", json={"name": "d", "flow_id": flow2["id"]})
        assert r.status_code == 201
        assert r.json()["id"] != dep["id"]
        assert client.get("deployments/name/f/d").json()["id"] == r.json()["id"]
