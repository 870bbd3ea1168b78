"""/v2/concurrency_limits routes (global limits used by ``prefect.concurrency``; statuses, texts
and Retry-After values compared with the 2.20 reference server)."""

import concurrent.futures
import uuid

import pytest

FULL_KEYS = ["id", "created", "updated", "active", "name", "limit", "active_slots", "denied_slots",
             "slot_decay_per_second", "avg_slot_occupancy_seconds"]
WIRE_KEYS = ["id", "created", "updated", "active", "name", "limit", "active_slots", "slot_decay_per_second"]
NOT_FOUND = {"detail": "Concurrency Limit not found"}
INTEGRITY = ("Data integrity conflict. This usually means a unique or foreign key constraint was violated. "
             "See server logs for details.")


def create(client, name="gl", limit=2, **kw):
    r = client.post("v2/concurrency_limits/", json={"name": name, "limit": limit, **kw})
    assert r.status_code == 201, r.text
    return r.json()


def increment(client, names, slots=1, **kw):
    return client.post("v2/concurrency_limits/increment", json={"names": names, "slots": slots, **kw})


def slots(client, name):
    return client.get(f"v2/concurrency_limits/{name}").json()["active_slots"]


class TestCreateGlobalLimit:
    def test_new_limit_is_201_with_the_full_shape(self, client, clock):
        now = clock.freeze()
        body = create(client)
        assert list(body) == FULL_KEYS
        assert body | {"id": None} == {
            "id": None, "created": now.isoformat(), "updated": now.isoformat(), "active": True, "name": "gl",
            "limit": 2, "active_slots": 0, "denied_slots": 0, "slot_decay_per_second": 0.0,
            "avg_slot_occupancy_seconds": 2.0}

    def test_taken_name_is_409(self, client):
        create(client)
        r = client.post("v2/concurrency_limits/", json={"name": "gl", "limit": 1})
        assert (r.status_code, r.json()) == (409, {"detail": INTEGRITY})

    def test_parallel_creates_of_one_name_make_one_limit(self, client):
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as ex:
            results = list(ex.map(lambda _: client.post("v2/concurrency_limits/", json={"name": "r", "limit": 1}),
                                  range(8)))
        assert sorted(r.status_code for r in results) == [201] + [409] * 7

    def test_banned_character_in_name_is_422(self, client):
        r = client.post("v2/concurrency_limits/", json={"name": "a/b", "limit": 2})
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["msg"] == (
            "Name 'a/b' contains an invalid character. Must not contain any of: ['/', '%', '&', '>', '<'].")

    @pytest.mark.parametrize("body", [{"name": "n", "limit": -1}, {"name": "n"}, {"name": "n", "limit": 1, "x": 1}])
    def test_negative_or_missing_limit_and_unknown_keys_are_422(self, client, body):
        assert client.post("v2/concurrency_limits/", json=body).status_code == 422


class TestReadGlobalLimit:
    def test_by_name_and_by_id_in_the_response_shape(self, client):
        created = create(client)
        by_name = client.get("v2/concurrency_limits/gl").json()
        assert list(by_name) == WIRE_KEYS
        assert by_name == {k: created[k] for k in WIRE_KEYS}
        assert client.get(f"v2/concurrency_limits/{created['id']}").json() == by_name

    def test_unknown_name_and_id_are_404(self, client):
        for key in ("nope", str(uuid.uuid4())):
            r = client.get(f"v2/concurrency_limits/{key}")
            assert (r.status_code, r.json()) == (404, NOT_FOUND)

    def test_filter_is_sorted_by_name_with_offset_and_limit(self, client):
        for name in ("b", "c", "a"):
            create(client, name=name)
        assert [r["name"] for r in client.post("v2/concurrency_limits/filter", json={}).json()] == ["a", "b", "c"]
        rows = client.post("v2/concurrency_limits/filter", json={"offset": 1, "limit": 1}).json()
        assert [r["name"] for r in rows] == ["b"]


class TestUpdateAndDeleteGlobalLimit:
    def test_patch_renames_and_changes_the_limit(self, client):
        created = create(client)
        r = client.patch("v2/concurrency_limits/gl", json={"limit": 5, "name": "gl2"})
        assert r.status_code == 204
        body = client.get("v2/concurrency_limits/gl2").json()
        assert (body["id"], body["limit"]) == (created["id"], 5)
        assert client.get("v2/concurrency_limits/gl").status_code == 404
        create(client, name="gl")  # the old name is free again

    def test_rename_onto_a_taken_name_is_409_and_unknown_is_404(self, client):
        create(client, name="a")
        create(client, name="b")
        r = client.patch("v2/concurrency_limits/a", json={"name": "b"})
        assert (r.status_code, r.json()) == (409, {"detail": INTEGRITY})
        r = client.patch("v2/concurrency_limits/nope", json={"limit": 1})
        assert (r.status_code, r.json()) == (404, NOT_FOUND)

    def test_delete_is_204_then_404(self, client):
        created = create(client)
        assert client.delete("v2/concurrency_limits/gl").status_code == 204
        r = client.delete(f"v2/concurrency_limits/{created['id']}")
        assert (r.status_code, r.json()) == (404, NOT_FOUND)
        create(client)  # name free again


class TestIncrementDecrement:
    def test_increment_takes_slots_and_answers_the_minimal_shape(self, client):
        created = create(client)
        r = increment(client, ["gl"], mode="concurrency")
        assert (r.status_code, r.json()) == (200, [{"id": created["id"], "name": "gl", "limit": 2}])
        assert slots(client, "gl") == 1

    def test_full_limit_is_423_with_retry_after_and_counts_a_denial(self, client, dynamo_ctx):
        create(client)
        increment(client, ["gl"], slots=2)
        r = increment(client, ["gl"])
        assert (r.status_code, r.json(), r.headers["retry-after"]) == (423, {"detail": "Locked"}, "1.0")
        (doc,) = dynamo_ctx.stores.global_concurrency_limits.query("by_name", "all")
        assert (doc["active_slots"], doc["denied_slots"]) == (2, 1)

    def test_more_slots_than_the_limit_is_422(self, client):
        create(client)
        r = increment(client, ["gl"], slots=3)
        assert (r.status_code, r.json()) == (422, {"detail": "Slots requested is greater than the limit"})

    def test_rate_limit_mode_needs_slot_decay_and_creates_nothing_when_refused(self, client):
        create(client)
        r = increment(client, ["gl", "new"], mode="rate_limit")
        assert r.json() == {"detail": "Only concurrency limits with slot decay can be used for rate limiting. "
                                      "The following limits do not have a decay configured: 'gl'"}
        assert client.get("v2/concurrency_limits/new").status_code == 404

    def test_unknown_names_are_created_inactive_and_never_block(self, client):
        r = increment(client, ["auto"], slots=5)
        assert r.status_code == 200
        body = client.get("v2/concurrency_limits/auto").json()
        assert (body["active"], body["limit"], body["active_slots"]) == (False, 1, 0)

    def test_all_or_nothing_across_limits(self, client):
        create(client, name="a", limit=2)
        create(client, name="b", limit=1)
        increment(client, ["b"])
        assert increment(client, ["a", "b"]).status_code == 423
        assert slots(client, "a") == 0

    def test_slots_decay_with_time(self, client, clock):
        clock.freeze()
        create(client, name="rl", limit=2, slot_decay_per_second=1.0)
        assert increment(client, ["rl"], slots=2, mode="rate_limit").status_code == 200
        assert increment(client, ["rl"], mode="rate_limit").headers["retry-after"] == "1.0"
        clock.advance(seconds=1.5)
        assert increment(client, ["rl"], mode="rate_limit").status_code == 200

    def test_decrement_releases_never_below_zero_and_averages_occupancy(self, client, dynamo_ctx):
        create(client)
        increment(client, ["gl"])
        r = client.post("v2/concurrency_limits/decrement", json={"names": ["gl"], "slots": 1, "occupancy_seconds": 4.0})
        assert r.status_code == 200
        client.post("v2/concurrency_limits/decrement", json={"names": ["gl"], "slots": 5})
        (doc,) = dynamo_ctx.stores.global_concurrency_limits.query("by_name", "all")
        assert doc["active_slots"] == 0
        assert doc["avg_slot_occupancy_seconds"] == pytest.approx(2.0 + 4.0 / 4 - 2.0 / 4)

    def test_parallel_increments_never_exceed_the_limit(self, client):
        create(client, limit=3)
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as ex:
            results = list(ex.map(lambda _: increment(client, ["gl"]), range(8)))
        assert sorted(r.status_code for r in results) == [200] * 3 + [423] * 5
        assert slots(client, "gl") == 3

    @pytest.mark.parametrize("body", [{"names": [], "slots": 1}, {"names": ["gl"], "slots": 0}, {"names": ["gl"]}])
    def test_bad_bodies_are_422(self, client, body):
        assert client.post("v2/concurrency_limits/increment", json=body).status_code == 422
