"""Workers of a work pool: heartbeat, filter, delete, and the pool status that follows from them
(orchestration spec §1.9, §4.4; behaviours 123, 124, 134; checked against the 2.20 reference)."""

import pytest

from tests.api.polling_support import NOW, WORKER_KEYS, at, make_pool


@pytest.fixture(autouse=True)
def frozen(clock):
    clock.freeze(NOW)


def beat(client, name="w1", pool="P", **body):
    r = client.post(f"work_pools/{pool}/workers/heartbeat", json={"name": name, **body})
    assert (r.status_code, r.content) == (204, b""), r.text
    return r


def workers(client, pool="P", **body):
    r = client.post(f"work_pools/{pool}/workers/filter", json=body)
    assert r.status_code == 200, r.text
    return r.json()


class TestWorkerHeartbeat:
    def test_heartbeat_is_204_and_readies_a_not_ready_pool(self, client):  # 123
        make_pool(client)
        assert client.get("work_pools/P").json()["status"] == "NOT_READY"
        r = client.post("work_pools/P/workers/heartbeat", json={"name": "w1", "heartbeat_interval_seconds": 30})
        assert (r.status_code, r.content) == (204, b"")
        assert client.get("work_pools/P").json()["status"] == "READY"
        [listed] = client.post("work_pools/filter", json={}).json()
        assert listed["status"] == "READY"

    def test_paused_and_agent_pools_keep_their_status(self, client):
        make_pool(client, "paused", is_paused=True)
        client.post("work_pools/", json={"name": "agent"})
        for name in ("paused", "agent"):
            beat(client, pool=name)
        assert client.get("work_pools/paused").json()["status"] == "PAUSED"
        assert client.get("work_pools/agent").json()["status"] is None

    def test_missing_name_is_422_and_unknown_pool_404(self, client):
        r = client.post("work_pools/nope/workers/heartbeat", json={"name": "w"})
        assert (r.status_code, r.json()) == (404, {"detail": 'Work pool "nope" not found.'})
        make_pool(client)
        r = client.post("work_pools/P/workers/heartbeat", json={})
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["loc"] == ["body", "name"]

    def test_fractional_interval_is_truncated_and_null_keeps_the_last(self, client):
        make_pool(client)
        beat(client, heartbeat_interval_seconds=30.5)
        assert workers(client)[0]["heartbeat_interval_seconds"] == 30
        beat(client, heartbeat_interval_seconds=None, extra_key="ignored")
        assert workers(client)[0]["heartbeat_interval_seconds"] == 30

    def test_upsert_keeps_id_and_created_and_moves_last_heartbeat(self, client, clock):
        make_pool(client)
        beat(client)
        first = workers(client)[0]
        clock.advance(seconds=10)
        beat(client)
        [second] = workers(client)
        assert (second["id"], second["created"]) == (first["id"], first["created"])
        assert (second["last_heartbeat_time"], second["updated"]) == (at(10), at(10))

    def test_steady_state_heartbeat_reads_and_writes_only_the_worker(self, client, dynamo_calls):
        make_pool(client)
        beat(client)
        dynamo_calls.clear()
        beat(client)
        assert dynamo_calls.count("PutItem") == 1
        assert "Query" not in dynamo_calls and "TransactWriteItems" not in dynamo_calls


class TestReadWorkers:
    def test_newest_heartbeat_first_with_exact_keys_and_online_status(self, client, clock):  # 124
        pool = make_pool(client)
        beat(client, "old", heartbeat_interval_seconds=30)
        clock.advance(seconds=5)
        beat(client, "new")
        body = workers(client)
        assert [w["name"] for w in body] == ["new", "old"]
        assert list(body[0]) == WORKER_KEYS
        assert body[0]["work_pool_id"] == pool["id"]
        assert (body[0]["status"], body[0]["heartbeat_interval_seconds"]) == ("ONLINE", None)
        assert (body[1]["last_heartbeat_time"], body[1]["heartbeat_interval_seconds"]) == (NOW.isoformat(), 30)

    def test_client_worker_filter_key_is_ignored_quirk_q8(self, client):
        make_pool(client)
        beat(client)
        body = workers(client, worker_filter={"status": {"any_": ["OFFLINE"]}})
        assert [w["name"] for w in body] == ["w1"]

    def test_status_filter(self, client, clock):
        make_pool(client)
        beat(client, "gone", heartbeat_interval_seconds=1)
        clock.advance(seconds=10)
        beat(client, "here")
        assert [w["name"] for w in workers(client, workers={"status": {"any_": ["ONLINE"]}})] == ["here"]
        assert [w["name"] for w in workers(client, workers={"status": {"any_": ["OFFLINE"]}})] == ["gone"]
        assert [w["name"] for w in workers(client, workers={"status": {"not_any_": ["ONLINE"]}})] == ["gone"]

    def test_last_heartbeat_time_filter_and_operator(self, client, clock):
        make_pool(client)
        beat(client, "a")
        clock.advance(seconds=10)
        beat(client, "b")
        assert [w["name"] for w in workers(client, workers={"last_heartbeat_time": {"before_": at(5)}})] == ["a"]
        assert [w["name"] for w in workers(client, workers={"last_heartbeat_time": {"after_": at(10)}})] == ["b"]
        either = {"operator": "or_", "last_heartbeat_time": {"after_": at(10)}, "status": {"any_": ["OFFLINE"]}}
        assert [w["name"] for w in workers(client, workers=either)] == ["b"]

    def test_limit_offset_and_bad_filters(self, client, clock):
        make_pool(client)
        for name in ("a", "b", "c"):
            beat(client, name)
            clock.advance(seconds=1)
        assert [w["name"] for w in workers(client, limit=1, offset=1)] == ["b"]
        assert client.post("work_pools/P/workers/filter", json={"limit": 201}).status_code == 422
        r = client.post("work_pools/P/workers/filter", json={"workers": {"status": {"any_": ["BUSY"]}}})
        assert r.status_code == 422
        r = client.post("work_pools/P/workers/filter", json={"workers": {"name": {"any_": ["a"]}}})
        assert r.status_code == 422

    def test_unknown_pool_is_404(self, client):
        r = client.post("work_pools/nope/workers/filter", json={})
        assert (r.status_code, r.json()) == (404, {"detail": 'Work pool "nope" not found.'})


class TestWorkerStatusOverTime:
    def test_a_silent_worker_goes_offline_and_its_pool_not_ready(self, client, clock):  # 134
        make_pool(client)
        beat(client, heartbeat_interval_seconds=1)
        clock.advance(seconds=3, microseconds=-1)  # ONLINE iff last heartbeat > now - 3 x interval
        assert workers(client)[0]["status"] == "ONLINE"
        assert client.get("work_pools/P").json()["status"] == "READY"
        clock.advance(microseconds=1)
        assert workers(client)[0]["status"] == "OFFLINE"
        assert client.get("work_pools/P").json()["status"] == "NOT_READY"

    def test_without_an_interval_the_fallback_is_thirty_seconds(self, client, clock):
        make_pool(client)
        beat(client)
        clock.advance(seconds=89)
        assert client.get("work_pools/P").json()["status"] == "READY"
        clock.advance(seconds=2)
        assert client.get("work_pools/P").json()["status"] == "NOT_READY"
        beat(client)
        assert client.get("work_pools/P").json()["status"] == "READY"

    def test_one_online_worker_is_enough(self, client, clock):
        make_pool(client)
        beat(client, "long", heartbeat_interval_seconds=600)
        beat(client, "short", heartbeat_interval_seconds=1)
        clock.advance(seconds=60)
        assert {w["name"]: w["status"] for w in workers(client)} == {"long": "ONLINE", "short": "OFFLINE"}
        assert client.get("work_pools/P").json()["status"] == "READY"


class TestDeleteWorker:
    def test_delete_is_204_then_404(self, client):
        make_pool(client)
        beat(client)
        r = client.delete("work_pools/P/workers/w1")
        assert (r.status_code, r.content) == (204, b"")
        assert workers(client) == []
        r = client.delete("work_pools/P/workers/w1")
        assert (r.status_code, r.json()) == (404, {"detail": "Worker not found."})

    def test_unknown_pool_is_404(self, client):
        r = client.delete("work_pools/nope/workers/w1")
        assert (r.status_code, r.json()) == (404, {"detail": 'Work pool "nope" not found.'})

    def test_deleting_the_pool_deletes_its_workers(self, client):
        make_pool(client)
        beat(client)
        assert client.delete("work_pools/P").status_code == 204
        make_pool(client)
        assert workers(client) == []
        assert client.get("work_pools/P").json()["status"] == "NOT_READY"
