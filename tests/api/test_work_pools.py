"""/work_pools routes and the work-pool-scoped queue routes (spec §4.11; texts verified against
the 2.20 reference server)."""

import concurrent.futures

import pytest

POOL_KEYS = [
    "id", "created", "updated", "name", "description", "type", "base_job_template", "is_paused",
    "concurrency_limit", "status", "default_queue_id",
]
QUEUE_KEYS = [
    "id", "created", "updated", "name", "description", "is_paused", "concurrency_limit", "priority",
    "work_pool_id", "filter", "last_polled", "work_pool_name", "status",
]
TEMPLATE = {
    "job_configuration": {"command": "{{ command }}"},
    "variables": {"type": "object", "properties": {"command": {"type": "string", "default": "run"}}},
}


def make_pool(client, name="pool", **kw):
    r = client.post("work_pools/", json={"name": name, **kw})
    assert r.status_code == 201, r.text
    return r.json()


def queues_of(client, pool):
    return [(q["name"], q["priority"]) for q in client.post(f"work_pools/{pool}/queues/filter", json={}).json()]


class TestCreateWorkPool:
    def test_new_pool_is_201_with_exact_keys_and_defaults(self, client):
        r = client.post("work_pools/", json={"name": "my-pool"})
        assert r.status_code == 201
        body = r.json()
        assert list(body) == POOL_KEYS
        assert body["type"] == "prefect-agent"
        assert body["status"] is None  # prefect-agent pools have no status
        assert body["base_job_template"] == {}
        assert body["is_paused"] is False
        assert body["description"] is None
        assert body["created"].endswith("+00:00")

    def test_creates_the_default_queue_and_points_at_it(self, client):
        pool = make_pool(client, type="process")
        queue = client.get("work_pools/pool/queues/default").json()
        assert queue["id"] == pool["default_queue_id"]
        assert queue["description"] == "The work pool's default queue."
        assert queue["priority"] == 1
        assert queue["work_pool_name"] == "pool"

    def test_other_types_start_not_ready_or_paused(self, client):
        assert make_pool(client, "a", type="process")["status"] == "NOT_READY"
        assert make_pool(client, "b", type="process", is_paused=True)["status"] == "PAUSED"

    def test_duplicate_name_is_409(self, client):
        make_pool(client, "dup")
        r = client.post("work_pools/", json={"name": "dup", "type": "process"})
        assert r.status_code == 409
        assert r.json() == {"detail": "A work pool with this name already exists."}

    def test_twenty_parallel_creates_of_one_name_yield_one_pool(self, client):
        def create(_):
            return client.post("work_pools/", json={"name": "race", "type": "process"})

        with concurrent.futures.ThreadPoolExecutor(max_workers=20) as ex:
            results = list(ex.map(create, range(20)))
        assert sorted(r.status_code for r in results) == [201] + [409] * 19
        assert client.post("work_pools/count", json={}).json() == 1
        assert queues_of(client, "race") == [("default", 1)]

    @pytest.mark.parametrize("name", ["", "' '", '""'])
    def test_empty_name_is_400(self, client, name):
        r = client.post("work_pools/", json={"name": name})
        assert r.status_code == 400
        assert r.json() == {"detail": "Work pool name cannot be empty."}

    def test_prefect_prefixed_name_is_403(self, client):
        r = client.post("work_pools/", json={"name": "Prefect-managed"})
        assert r.status_code == 403
        assert r.json() == {"detail": "Work pools starting with 'Prefect' are reserved for internal use."}

    def test_banned_character_is_422(self, client):
        r = client.post("work_pools/", json={"name": "a/b"})
        assert r.status_code == 422
        assert "contains an invalid character" in r.json()["exception_detail"][0]["msg"]

    def test_unknown_key_is_422_extra_fields(self, client):
        r = client.post("work_pools/", json={"name": "x", "bogus": 1})
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [
            {"loc": ["body", "bogus"], "msg": "extra fields not permitted", "type": "value_error.extra"}]

    def test_null_type_is_422(self, client):
        r = client.post("work_pools/", json={"name": "x", "type": None})
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["msg"] == "none is not an allowed value"

    def test_negative_concurrency_limit_is_422(self, client):
        r = client.post("work_pools/", json={"name": "x", "concurrency_limit": -1})
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["loc"] == ["body", "concurrency_limit"]

    def test_template_without_both_keys_is_422(self, client):
        r = client.post("work_pools/", json={"name": "x", "base_job_template": {"a": 1}})
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["msg"] == (
            "The `base_job_template` must contain both a `job_configuration` key and a `variables` key.")

    def test_template_with_undeclared_placeholder_is_422(self, client):
        bad = {"job_configuration": {"x": "{{ nope }}"}, "variables": {"properties": {"a": {"type": "string"}}}}
        r = client.post("work_pools/", json={"name": "x", "base_job_template": bad})
        assert r.status_code == 422
        assert "undeclared variable(s): nope." in r.json()["exception_detail"][0]["msg"]

    def test_template_is_stored(self, client):
        assert make_pool(client, base_job_template=TEMPLATE, type="process")["base_job_template"] == TEMPLATE

    def test_template_default_of_the_wrong_type_is_422(self, client):
        bad = {"job_configuration": {"command": "{{ command }}"},
               "variables": {"properties": {"command": {"type": "integer", "default": "x"}}}}
        r = client.post("work_pools/", json={"name": "x", "base_job_template": bad})
        assert r.status_code == 422
        assert r.json()["detail"].startswith("Validation failed for work pool's job variable defaults: ")

    def test_template_default_referencing_a_missing_block_is_404(self, client):
        ref = {"job_configuration": {"c": "{{ c }}"},
               "variables": {"properties": {"c": {"default": {"$ref": {"block_document_id":
                                                                   "00000000-0000-0000-0000-000000000000"}}}}}}
        r = client.post("work_pools/", json={"name": "x", "base_job_template": ref})
        assert r.status_code == 404
        assert r.json() == {"detail": "Block not found."}

    def test_bad_json_is_422_not_500(self, client):
        r = client.post("work_pools/", content=b"{nope", headers={"content-type": "application/json"})
        assert r.status_code == 422
        assert r.json()["request_body"] == "{nope"


class TestReadWorkPool:
    def test_read_by_name_is_two_get_items_guard_then_pool(self, client, dynamo_calls):
        pool = make_pool(client)
        dynamo_calls.clear()
        r = client.get("work_pools/pool")
        assert r.status_code == 200
        assert r.json() == pool
        assert list(dynamo_calls) == ["GetItem", "GetItem"]

    def test_unknown_name_is_404(self, client):
        r = client.get("work_pools/nope")
        assert r.status_code == 404
        assert r.json() == {"detail": 'Work pool "nope" not found.'}


class TestUpdateWorkPool:
    def test_patch_is_204_and_persists(self, client):
        make_pool(client, type="process")
        r = client.patch("work_pools/pool", json={"description": "d", "concurrency_limit": 3,
                                                  "base_job_template": TEMPLATE})
        assert r.status_code == 204
        assert r.content == b""
        body = client.get("work_pools/pool").json()
        assert (body["description"], body["concurrency_limit"], body["base_job_template"]) == ("d", 3, TEMPLATE)
        assert body["updated"] > body["created"]

    def test_pausing_sets_status_and_unpausing_resets_it(self, client):
        make_pool(client, type="process")
        client.patch("work_pools/pool", json={"is_paused": True})
        assert client.get("work_pools/pool").json()["status"] == "PAUSED"
        client.patch("work_pools/pool", json={"is_paused": False})
        assert client.get("work_pools/pool").json()["status"] == "NOT_READY"

    def test_prefect_agent_pool_keeps_null_status_when_paused(self, client):
        make_pool(client)
        client.patch("work_pools/pool", json={"is_paused": True})
        body = client.get("work_pools/pool").json()
        assert (body["is_paused"], body["status"]) == (True, None)

    def test_nulls_clear_nullable_fields(self, client):
        make_pool(client, description="d", concurrency_limit=2)
        assert client.patch("work_pools/pool", json={"description": None, "concurrency_limit": None}).status_code == 204
        body = client.get("work_pools/pool").json()
        assert (body["description"], body["concurrency_limit"]) == (None, None)

    def test_null_template_is_422_not_500(self, client):
        make_pool(client)
        r = client.patch("work_pools/pool", json={"base_job_template": None})
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["loc"] == ["body", "base_job_template"]

    def test_name_is_not_updatable(self, client):
        make_pool(client)
        r = client.patch("work_pools/pool", json={"name": "other"})
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["msg"] == "extra fields not permitted"

    def test_unknown_pool_is_404(self, client):
        r = client.patch("work_pools/nope", json={})
        assert r.status_code == 404
        assert r.json() == {"detail": 'Work pool "nope" not found.'}

    def test_prefect_pools_may_only_change_pause_and_concurrency(self, client):
        r = client.patch("work_pools/prefect-x", json={"description": "x"})
        assert r.status_code == 403
        assert r.json()["detail"].endswith("can only be updated to set concurrency limits or pause.")

    def test_prefect_pools_pause_goes_to_lookup(self, client):
        assert client.patch("work_pools/prefect-x", json={"is_paused": True}).status_code == 404


class TestDeleteWorkPool:
    def test_delete_is_204_then_404_and_queues_are_gone(self, client):
        make_pool(client)
        client.post("work_pools/pool/queues", json={"name": "q"})
        assert client.delete("work_pools/pool").status_code == 204
        assert client.get("work_pools/pool").status_code == 404
        assert client.post("work_queues/filter", json={}).json() == []

    def test_a_pool_too_large_to_store_leaves_nothing_behind(self, client):
        template = {"job_configuration": {"a": "x" * 500_000}, "variables": {"properties": {}}}
        r = client.post("work_pools/", json={"name": "big", "base_job_template": template})
        assert r.status_code == 422
        assert client.get("work_pools/big").status_code == 404
        assert client.post("work_queues/filter", json={}).json() == []
        assert make_pool(client, "big")["name"] == "big"  # the name was never taken

    def test_a_deleted_name_can_be_created_again_with_new_ids(self, client):
        old = make_pool(client)
        client.delete("work_pools/pool")
        new = make_pool(client)
        assert queues_of(client, new["name"]) == [("default", 1)]
        assert new["id"] != old["id"]
        assert new["default_queue_id"] != old["default_queue_id"]
        assert client.get("work_pools/pool/queues/default").json()["id"] == new["default_queue_id"]

    def test_deployments_on_its_queues_lose_their_queue(self, client):
        flow = client.post("flows/", json={"name": "f"}).json()
        make_pool(client, type="process")
        dep = client.post("deployments/", json={"name": "d", "flow_id": flow["id"], "work_pool_name": "pool"})
        assert dep.status_code == 201, dep.text
        assert client.delete("work_pools/pool").status_code == 204
        body = client.get(f"deployments/{dep.json()['id']}").json()
        assert body["work_pool_name"] is None

    def test_unknown_pool_is_404(self, client):
        r = client.delete("work_pools/nope")
        assert r.status_code == 404
        assert r.json() == {"detail": 'Work pool "nope" not found.'}

    def test_prefect_pools_cannot_be_deleted(self, client):
        r = client.delete("work_pools/prefect-x")
        assert r.status_code == 403
        assert r.json()["detail"].endswith("can not be deleted.")


class TestFilterWorkPools:
    def test_ordered_by_name_with_offset_and_limit(self, client):
        for name in ("c", "a", "b"):
            make_pool(client, name)
        names = [p["name"] for p in client.post("work_pools/filter", json={}).json()]
        assert names == ["a", "b", "c"]
        r = client.post("work_pools/filter", json={"offset": 1, "limit": 1})
        assert [p["name"] for p in r.json()] == ["b"]

    def test_no_body_and_nulls_mean_defaults(self, client):
        make_pool(client)
        assert len(client.post("work_pools/filter").json()) == 1
        r = client.post("work_pools/filter", json={"limit": None, "offset": None, "work_pools": None})
        assert r.status_code == 200 and len(r.json()) == 1

    def test_filters_by_type_name_and_id(self, client):
        a = make_pool(client, "a", type="process")
        make_pool(client, "b")
        assert [p["name"] for p in client.post(
            "work_pools/filter", json={"work_pools": {"type": {"any_": ["process"]}}}).json()] == ["a"]
        assert [p["name"] for p in client.post(
            "work_pools/filter", json={"work_pools": {"name": {"any_": ["b", "zz"]}}}).json()] == ["b"]
        assert [p["name"] for p in client.post(
            "work_pools/filter", json={"work_pools": {"id": {"any_": [a["id"]]}}}).json()] == ["a"]

    def test_unknown_top_level_keys_are_ignored_but_nested_ones_are_422(self, client):
        assert client.post("work_pools/filter", json={"bogus": 1}).status_code == 200
        r = client.post("work_pools/filter", json={"work_pools": {"bogus": 1}})
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["loc"] == ["body", "work_pools", "bogus"]

    def test_limit_over_default_is_422(self, client):
        r = client.post("work_pools/filter", json={"limit": 201})
        assert r.status_code == 422
        assert r.json() == {"detail": "Invalid limit: must be less than or equal to 200."}

    def test_negative_limit_is_422(self, client):
        r = client.post("work_pools/filter", json={"limit": -1})
        assert r.json() == {"detail": "Invalid limit: must be greater than or equal to 0."}

    def test_negative_offset_is_422_envelope(self, client):
        r = client.post("work_pools/filter", json={"offset": -1})
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["loc"] == ["body", "offset"]

    def test_numeric_strings_are_coerced(self, client):
        for name in ("a", "b"):
            make_pool(client, name)
        assert [p["name"] for p in client.post("work_pools/filter", json={"limit": "1", "offset": "1"}).json()] == ["b"]

    def test_never_scans(self, client, dynamo_calls):
        make_pool(client)
        client.post("work_pools/filter", json={})
        assert "Scan" not in dynamo_calls


class TestCountWorkPools:
    def test_counts_matching_pools(self, client):
        make_pool(client, "a", type="process")
        make_pool(client, "b")
        assert client.post("work_pools/count").json() == 2
        r = client.post("work_pools/count", json={"work_pools": {"type": {"any_": ["process"]}}, "limit": 1})
        assert (r.status_code, r.json()) == (200, 1)


class TestCreateWorkPoolQueue:
    def test_new_queue_is_201_with_exact_keys(self, client):
        pool = make_pool(client)
        r = client.post("work_pools/pool/queues", json={"name": "q1"})
        assert r.status_code == 201
        body = r.json()
        assert list(body) == QUEUE_KEYS
        assert body["work_pool_id"] == pool["id"]
        assert (body["description"], body["priority"], body["status"], body["filter"]) == ("", 2, "NOT_READY", None)

    def test_default_priority_is_the_first_gap(self, client):
        make_pool(client)
        client.post("work_pools/pool/queues", json={"name": "q5", "priority": 5})
        client.post("work_pools/pool/queues", json={"name": "qa"})
        client.post("work_pools/pool/queues", json={"name": "qb"})
        assert queues_of(client, "pool") == [("default", 1), ("qa", 2), ("qb", 3), ("q5", 5)]

    def test_explicit_priority_shifts_the_others_down(self, client):
        make_pool(client)
        client.post("work_pools/pool/queues", json={"name": "q2"})
        r = client.post("work_pools/pool/queues", json={"name": "top", "priority": 1})
        assert r.json()["priority"] == 1
        assert queues_of(client, "pool") == [("top", 1), ("default", 2), ("q2", 3)]

    def test_paused_queue_starts_not_ready_and_null_description_is_empty(self, client):
        make_pool(client)
        body = client.post("work_pools/pool/queues", json={"name": "p", "is_paused": True, "description": None}).json()
        assert (body["is_paused"], body["status"], body["description"]) == (True, "NOT_READY", "")

    def test_legacy_filter_is_stored(self, client):
        make_pool(client)
        body = client.post("work_pools/pool/queues", json={"name": "f", "filter": {"tags": ["a"]}}).json()
        assert body["filter"] == {"tags": ["a"], "deployment_ids": None}

    def test_duplicate_name_is_409_with_the_reference_text(self, client):
        make_pool(client)
        client.post("work_pools/pool/queues", json={"name": "q"})
        r = client.post("work_pools/pool/queues", json={"name": "q"})
        assert r.status_code == 409
        # the reference's detail is a plain string with an un-interpolated placeholder
        assert r.json() == {"detail": "A work queue with this name already exists in work pool {work_pool_name!r}."}

    def test_twenty_parallel_creates_yield_one_queue(self, client):
        make_pool(client)

        def create(_):
            return client.post("work_pools/pool/queues", json={"name": "race"})

        with concurrent.futures.ThreadPoolExecutor(max_workers=20) as ex:
            results = list(ex.map(create, range(20)))
        assert sorted(r.status_code for r in results) == [201] + [409] * 19
        assert [n for n, _ in queues_of(client, "pool")].count("race") == 1

    def test_unknown_pool_is_404(self, client):
        r = client.post("work_pools/nope/queues", json={"name": "q"})
        assert r.status_code == 404
        assert r.json() == {"detail": 'Work pool "nope" not found.'}

    def test_zero_priority_is_422(self, client):
        make_pool(client)
        r = client.post("work_pools/pool/queues", json={"name": "q", "priority": 0})
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["loc"] == ["body", "priority"]

    def test_banned_character_is_422(self, client):
        make_pool(client)
        assert client.post("work_pools/pool/queues", json={"name": "a/b"}).status_code == 422


class TestReadWorkPoolQueue:
    def test_read_by_pool_and_name(self, client):
        make_pool(client)
        queue = client.post("work_pools/pool/queues", json={"name": "q"}).json()
        r = client.get("work_pools/pool/queues/q")
        assert r.status_code == 200
        assert r.json() == queue

    def test_unknown_queue_or_pool_is_404(self, client):
        make_pool(client)
        assert client.get("work_pools/pool/queues/nope").json() == {"detail": "Work pool queue 'pool/nope' not found."}
        r = client.get("work_pools/nope/queues/q")
        assert (r.status_code, r.json()) == (404, {"detail": "Work pool queue 'nope/q' not found."})


class TestUpdateWorkPoolQueue:
    def test_pause_and_unpause_drive_status(self, client):
        make_pool(client)
        client.post("work_pools/pool/queues", json={"name": "q"})
        assert client.patch("work_pools/pool/queues/q", json={"is_paused": True}).status_code == 204
        assert client.get("work_pools/pool/queues/q").json()["status"] == "PAUSED"
        client.patch("work_pools/pool/queues/q", json={"is_paused": False})
        assert client.get("work_pools/pool/queues/q").json()["status"] == "NOT_READY"

    def test_unpausing_a_recently_polled_queue_makes_it_ready(self, client, clock):
        now = clock.freeze()
        make_pool(client)
        client.post("work_pools/pool/queues", json={"name": "q"})
        client.patch("work_pools/pool/queues/q", json={"is_paused": True})
        r = client.patch("work_pools/pool/queues/q", json={"is_paused": False, "last_polled": now.isoformat()})
        assert r.status_code == 204
        assert client.get("work_pools/pool/queues/q").json()["status"] == "READY"

    def test_rename_keeps_the_id_and_frees_the_old_name(self, client):
        make_pool(client)
        queue = client.post("work_pools/pool/queues", json={"name": "old"}).json()
        assert client.patch("work_pools/pool/queues/old", json={"name": "new"}).status_code == 204
        assert client.get("work_pools/pool/queues/new").json()["id"] == queue["id"]
        assert client.get("work_pools/pool/queues/old").status_code == 404
        again = client.post("work_pools/pool/queues", json={"name": "old"})
        assert again.status_code == 201
        assert again.json()["id"] != queue["id"]
        assert client.post("work_pools/pool/queues", json={"name": "new"}).status_code == 409

    def test_rename_to_a_taken_name_is_409(self, client):
        make_pool(client)
        client.post("work_pools/pool/queues", json={"name": "a"})
        r = client.patch("work_pools/pool/queues/a", json={"name": "default"})
        assert r.status_code == 409
        assert r.json()["detail"].startswith("Data integrity conflict.")

    def test_twenty_parallel_renames_to_one_name_one_wins_the_others_409(self, client):
        make_pool(client)
        names = [f"q{i}" for i in range(20)]
        for name in names:
            assert client.post("work_pools/pool/queues", json={"name": name}).status_code == 201

        def rename(name):
            return client.patch(f"work_pools/pool/queues/{name}", json={"name": "target"})

        with concurrent.futures.ThreadPoolExecutor(max_workers=20) as ex:
            results = list(ex.map(rename, names))
        assert sorted(r.status_code for r in results) == [204] + [409] * 19
        listed = [n for n, _ in queues_of(client, "pool")]
        assert listed.count("target") == 1 and len(listed) == 21
        winner = names[[r.status_code for r in results].index(204)]
        assert client.get(f"work_pools/pool/queues/{winner}").status_code == 404
        assert client.post("work_pools/pool/queues", json={"name": winner}).status_code == 201

    def test_priority_change_reranks(self, client):
        make_pool(client)
        client.post("work_pools/pool/queues", json={"name": "a"})
        client.post("work_pools/pool/queues", json={"name": "b"})
        client.patch("work_pools/pool/queues/b", json={"priority": 1})
        assert queues_of(client, "pool") == [("b", 1), ("default", 2), ("a", 3)]

    def test_null_for_a_not_null_column_is_409(self, client):
        make_pool(client)
        r = client.patch("work_pools/pool/queues/default", json={"priority": None})
        assert r.status_code == 409

    def test_null_is_paused_is_422(self, client):
        make_pool(client)
        r = client.patch("work_pools/pool/queues/default", json={"is_paused": None})
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["msg"] == "none is not an allowed value"

    def test_unknown_queue_is_404(self, client):
        make_pool(client)
        r = client.patch("work_pools/pool/queues/nope", json={})
        assert (r.status_code, r.json()) == (404, {"detail": "Work pool queue 'pool/nope' not found."})


class TestDeleteWorkPoolQueue:
    def test_delete_is_204_then_404(self, client):
        make_pool(client)
        client.post("work_pools/pool/queues", json={"name": "q"})
        assert client.delete("work_pools/pool/queues/q").status_code == 204
        assert client.delete("work_pools/pool/queues/q").json() == {"detail": "Work pool queue 'pool/q' not found."}

    def test_default_queue_cannot_be_deleted(self, client):
        make_pool(client)
        r = client.delete("work_pools/pool/queues/default")
        assert r.status_code == 409
        assert r.json() == {"detail": "Can't delete a pool's default queue."}
        assert client.get("work_pools/pool/queues/default").status_code == 200

    def test_remaining_priorities_are_kept(self, client):
        make_pool(client)
        for name in ("a", "b"):
            client.post("work_pools/pool/queues", json={"name": name})
        client.delete("work_pools/pool/queues/a")
        assert queues_of(client, "pool") == [("default", 1), ("b", 3)]

    def test_deployments_on_the_queue_lose_it(self, client):
        flow = client.post("flows/", json={"name": "f"}).json()
        make_pool(client, type="process")
        dep = client.post("deployments/", json={"name": "d", "flow_id": flow["id"], "work_pool_name": "pool",
                                                "work_queue_name": "q"})
        assert dep.status_code == 201, dep.text
        assert client.delete("work_pools/pool/queues/q").status_code == 204
        assert client.get(f"deployments/{dep.json()['id']}").json()["work_pool_name"] is None


class TestFilterWorkPoolQueues:
    def test_ordered_by_priority_with_filters_and_paging(self, client):
        make_pool(client)
        client.post("work_pools/pool/queues", json={"name": "Qx"})
        client.post("work_pools/pool/queues", json={"name": "top", "priority": 1})
        assert queues_of(client, "pool") == [("top", 1), ("default", 2), ("Qx", 3)]
        r = client.post("work_pools/pool/queues/filter", json={"work_queues": {"name": {"startswith_": ["q"]}}})
        assert [q["name"] for q in r.json()] == ["Qx"]
        r = client.post("work_pools/pool/queues/filter", json={"offset": 1, "limit": 1})
        assert [q["name"] for q in r.json()] == ["default"]

    def test_unknown_pool_is_404(self, client):
        r = client.post("work_pools/nope/queues/filter", json={})
        assert (r.status_code, r.json()) == (404, {"detail": 'Work pool "nope" not found.'})

    def test_limit_over_default_is_422(self, client):
        make_pool(client)
        r = client.post("work_pools/pool/queues/filter", json={"limit": 500})
        assert r.json() == {"detail": "Invalid limit: must be less than or equal to 200."}
