"""Legacy /work_queues routes the 2.20 client and agents use (texts verified against the 2.20
reference server)."""

import concurrent.futures
import uuid

QUEUE_KEYS = [
    "id", "created", "updated", "name", "description", "is_paused", "concurrency_limit", "priority",
    "work_pool_id", "filter", "last_polled", "work_pool_name", "status",
]
STATUS_KEYS = ["healthy", "late_runs_count", "last_polled", "health_check_policy"]


def make_queue(client, name="q", **kw):
    r = client.post("work_queues/", json={"name": name, **kw})
    assert r.status_code == 201, r.text
    return r.json()


class TestCreateWorkQueue:
    def test_creates_in_default_agent_pool_which_is_auto_created(self, client):
        r = client.post("work_queues/", json={"name": "q"})
        assert r.status_code == 201
        body = r.json()
        assert list(body) == QUEUE_KEYS
        assert body["work_pool_name"] == "default-agent-pool"
        assert body["priority"] == 2  # the pool's default queue holds 1
        pool = client.get("work_pools/default-agent-pool").json()
        assert (pool["type"], pool["status"], pool["id"]) == ("prefect-agent", None, body["work_pool_id"])

    def test_default_when_the_pool_is_new_is_the_pools_default_queue(self, client):
        r = client.post("work_queues/", json={"name": "default"})
        assert r.status_code == 201
        pool = client.get("work_pools/default-agent-pool").json()
        assert r.json()["id"] == pool["default_queue_id"]
        assert r.json()["description"] == "The work pool's default queue."

    def test_default_when_the_pool_exists_is_409(self, client):
        make_queue(client)
        r = client.post("work_queues/", json={"name": "default"})
        assert (r.status_code, r.json()) == (409, {"detail": "A work queue with this name already exists."})

    def test_duplicate_name_is_409(self, client):
        make_queue(client)
        r = client.post("work_queues/", json={"name": "q"})
        assert (r.status_code, r.json()) == (409, {"detail": "A work queue with this name already exists."})

    def test_work_pool_name_is_not_a_field(self, client):
        r = client.post("work_queues/", json={"name": "q", "work_pool_name": "x"})
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [
            {"loc": ["body", "work_pool_name"], "msg": "extra fields not permitted", "type": "value_error.extra"}]

    def test_parallel_creates_yield_one_pool_and_one_queue(self, client):
        def create(_):
            return client.post("work_queues/", json={"name": "race"})

        with concurrent.futures.ThreadPoolExecutor(max_workers=10) as ex:
            results = list(ex.map(create, range(10)))
        assert sorted(r.status_code for r in results) == [201] + [409] * 9
        names = [q["name"] for q in client.post("work_queues/filter", json={}).json()]
        assert names == ["default", "race"]


class TestReadWorkQueue:
    def test_read_by_id(self, client):
        queue = make_queue(client)
        r = client.get(f"work_queues/{queue['id']}")
        assert (r.status_code, r.json()) == (200, queue)

    def test_unknown_id_is_404(self, client):
        r = client.get(f"work_queues/{uuid.uuid4()}")
        assert (r.status_code, r.json()) == (404, {"detail": "work queue not found"})

    def test_malformed_id_is_422_path_envelope(self, client):
        r = client.get("work_queues/not-a-uuid")
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["loc"] == ["path", "id"]


class TestReadWorkQueueByName:
    def test_reads_from_default_agent_pool(self, client):
        queue = make_queue(client)
        client.post("work_pools/", json={"name": "other"})
        client.post("work_pools/other/queues", json={"name": "q"})
        assert client.get("work_queues/name/q").json()["id"] == queue["id"]

    def test_unknown_name_is_404(self, client):
        make_queue(client)
        r = client.get("work_queues/name/nope")
        assert (r.status_code, r.json()) == (404, {"detail": "work queue not found"})

    def test_without_default_agent_pool_any_pool_matches(self, client):
        client.post("work_pools/", json={"name": "other"})
        queue = client.post("work_pools/other/queues", json={"name": "q"}).json()
        assert client.get("work_queues/name/q").json()["id"] == queue["id"]


class TestUpdateWorkQueue:
    def test_patch_is_204_and_persists(self, client):
        queue = make_queue(client)
        r = client.patch(f"work_queues/{queue['id']}", json={"is_paused": True, "concurrency_limit": 5,
                                                               "description": "d"})
        assert r.status_code == 204
        body = client.get(f"work_queues/{queue['id']}").json()
        assert (body["is_paused"], body["concurrency_limit"], body["description"], body["status"]) == (
            True, 5, "d", "PAUSED")

    def test_priority_change_does_not_rerank_others(self, client):
        queue = make_queue(client)
        client.patch(f"work_queues/{queue['id']}", json={"priority": 1})
        pairs = [(q["name"], q["priority"]) for q in client.post("work_queues/filter", json={}).json()]
        assert pairs == [("default", 1), ("q", 1)]

    def test_unknown_id_is_404_with_the_reference_text(self, client):
        r = client.patch(f"work_queues/{uuid.uuid4()}", json={"is_paused": True})
        assert r.status_code == 404
        assert r.json() == {"detail": "Work Queue <built-in function id> not found"}

    def test_filter_can_be_set_and_cleared(self, client):
        queue = make_queue(client)
        dep_id = str(uuid.uuid4())
        client.patch(f"work_queues/{queue['id']}", json={"filter": {"tags": ["t"], "deployment_ids": [dep_id]}})
        assert client.get(f"work_queues/{queue['id']}").json()["filter"] == {"tags": ["t"], "deployment_ids": [dep_id]}
        client.patch(f"work_queues/{queue['id']}", json={"filter": None})
        assert client.get(f"work_queues/{queue['id']}").json()["filter"] is None

    def test_unknown_key_is_422(self, client):
        queue = make_queue(client)
        assert client.patch(f"work_queues/{queue['id']}", json={"bogus": 1}).status_code == 422


class TestDeleteWorkQueue:
    def test_delete_is_204_then_404(self, client):
        queue = make_queue(client)
        assert client.delete(f"work_queues/{queue['id']}").status_code == 204
        r = client.delete(f"work_queues/{queue['id']}")
        assert (r.status_code, r.json()) == (404, {"detail": "work queue not found"})

    def test_a_pools_default_queue_is_an_integrity_conflict(self, client):
        make_queue(client)
        pool = client.get("work_pools/default-agent-pool").json()
        r = client.delete(f"work_queues/{pool['default_queue_id']}")
        assert r.status_code == 409
        assert r.json()["detail"].startswith("Data integrity conflict.")


class TestFilterWorkQueues:
    def test_every_pool_ordered_by_name(self, client):
        make_queue(client, "b")
        client.post("work_pools/", json={"name": "p2"})
        client.post("work_pools/p2/queues", json={"name": "a"})
        r = client.post("work_queues/filter", json={})
        assert [(q["name"], q["work_pool_name"]) for q in r.json()] == [
            ("a", "p2"), ("b", "default-agent-pool"), ("default", "default-agent-pool"), ("default", "p2")]

    def test_name_and_id_filters(self, client):
        b = make_queue(client, "b")
        r = client.post("work_queues/filter", json={"work_queues": {"name": {"any_": ["b"]}}})
        assert [q["id"] for q in r.json()] == [b["id"]]
        r = client.post("work_queues/filter", json={"work_queues": {"id": {"any_": [b["id"]]}}})
        assert [q["id"] for q in r.json()] == [b["id"]]

    def test_offset_limit_and_bad_limit(self, client):
        make_queue(client, "b")
        assert [q["name"] for q in client.post("work_queues/filter", json={"offset": 1}).json()] == ["default"]
        r = client.post("work_queues/filter", json={"limit": 201})
        assert r.json() == {"detail": "Invalid limit: must be less than or equal to 200."}


class TestReadWorkQueueStatus:
    def test_unpolled_queue_is_unhealthy(self, client):
        queue = make_queue(client)
        r = client.get(f"work_queues/{queue['id']}/status")
        assert r.status_code == 200
        assert list(r.json()) == STATUS_KEYS
        assert r.json() == {"healthy": False, "late_runs_count": 0, "last_polled": None,
                            "health_check_policy": {"maximum_late_runs": 0, "maximum_seconds_since_last_polled": 60}}

    def test_recently_polled_queue_is_healthy(self, client, clock):
        now = clock.freeze()
        queue = make_queue(client)
        client.patch(f"work_queues/{queue['id']}", json={"last_polled": now.isoformat()})
        body = client.get(f"work_queues/{queue['id']}/status").json()
        assert body["healthy"] is True
        assert body["last_polled"] == now.isoformat()

    def test_unknown_id_is_404(self, client):
        assert client.get(f"work_queues/{uuid.uuid4()}/status").status_code == 404
