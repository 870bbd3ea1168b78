"""/concurrency_limits routes, v1 tag limits (orchestration spec §1.11, behaviours 100 and 108,
quirk Q4; statuses and texts compared with the 2.20 reference server)."""

import concurrent.futures
import datetime as dt
import uuid

import pytest

LIMIT_KEYS = ["id", "created", "updated", "tag", "concurrency_limit", "active_slots"]
NOT_FOUND = {"detail": "Concurrency limit not found"}
MISSING = "11111111-1111-4111-8111-111111111111"


def upsert(client, tag="db", limit=1):
    r = client.post("concurrency_limits/", json={"tag": tag, "concurrency_limit": limit})
    assert r.status_code == 200, r.text
    return r.json()


class TestCreateConcurrencyLimit:
    def test_new_limit_is_200_not_201_quirk_q4(self, client, clock):
        now = clock.freeze(dt.datetime(2026, 2, 1, tzinfo=dt.timezone.utc))
        r = client.post("concurrency_limits/", json={"tag": "db", "concurrency_limit": 1})
        assert r.status_code == 200
        body = r.json()
        assert list(body) == LIMIT_KEYS
        assert uuid.UUID(body["id"]).version == 4
        assert body | {"id": None} == {"id": None, "created": now.isoformat(), "updated": now.isoformat(),
                                       "tag": "db", "concurrency_limit": 1, "active_slots": []}

    def test_same_tag_again_updates_the_limit_keeping_id_created_and_slots(self, client, clock):
        clock.freeze()
        first = upsert(client, limit=1)
        client.post("concurrency_limits/tag/db/reset", json={"slot_override": [MISSING]})
        later = clock.advance(seconds=5)
        second = upsert(client, limit=2)
        assert second == {**first, "updated": later.isoformat(), "concurrency_limit": 2, "active_slots": [MISSING]}

    def test_missing_concurrency_limit_is_422(self, client):
        r = client.post("concurrency_limits/", json={"tag": "db"})
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [
            {"loc": ["body", "concurrency_limit"], "msg": "field required", "type": "value_error.missing"}]

    def test_unknown_key_is_422(self, client):
        r = client.post("concurrency_limits/", json={"tag": "db", "concurrency_limit": 1, "x": 1})
        assert r.json()["exception_detail"][0]["msg"] == "extra fields not permitted"

    def test_values_are_coerced_as_pydantic_v1_did(self, client):
        body = upsert(client, tag=5, limit=3.7)
        assert (body["tag"], body["concurrency_limit"]) == ("5", 3)

    def test_empty_tag_and_negative_limit_are_accepted_as_in_the_reference(self, client):
        body = upsert(client, tag="", limit=-1)
        assert (body["tag"], body["concurrency_limit"]) == ("", -1)
        assert [r["tag"] for r in client.post("concurrency_limits/filter", json={}).json()] == [""]

    def test_parallel_creates_of_one_tag_make_one_limit(self, client):
        def create(i):
            return client.post("concurrency_limits/", json={"tag": "race", "concurrency_limit": i})

        with concurrent.futures.ThreadPoolExecutor(max_workers=10) as ex:
            results = list(ex.map(create, range(1, 11)))
        assert [r.status_code for r in results] == [200] * 10
        assert len({r.json()["id"] for r in results}) == 1
        (row,) = client.post("concurrency_limits/filter", json={}).json()
        assert row["concurrency_limit"] in range(1, 11)

    def test_guard_item_is_written_with_the_limit(self, client, dynamo_ctx):
        from domain.services.concurrency_limits import guard_id

        body = upsert(client, tag="db")
        assert dynamo_ctx.stores.guards.get(guard_id("db")) == {"id": "concurrency_limit:db", "owner_id": body["id"]}


class TestReadConcurrencyLimit:
    def test_by_id_and_by_tag(self, client):
        created = upsert(client)
        assert client.get(f"concurrency_limits/{created['id']}").json() == created
        assert client.get("concurrency_limits/tag/db").json() == created

    def test_missing_tag_and_id_are_404(self, client):
        for path in ("concurrency_limits/tag/missing", f"concurrency_limits/{MISSING}"):
            r = client.get(path)
            assert (r.status_code, r.json()) == (404, NOT_FOUND)

    def test_malformed_id_is_422(self, client):
        r = client.get("concurrency_limits/nope")
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [
            {"loc": ["path", "id"], "msg": "value is not a valid uuid", "type": "type_error.uuid"}]


class TestFilterConcurrencyLimits:
    def test_sorted_by_tag_with_limit_and_offset(self, client):
        for tag in ("db", "5", "a b"):
            upsert(client, tag=tag)
        tags = [r["tag"] for r in client.post("concurrency_limits/filter", json={}).json()]
        assert tags == ["5", "a b", "db"]
        rows = client.post("concurrency_limits/filter", json={"limit": 1, "offset": 1}).json()
        assert [r["tag"] for r in rows] == ["a b"]

    def test_no_body_and_unknown_keys_are_fine(self, client):
        upsert(client)
        assert len(client.post("concurrency_limits/filter").json()) == 1
        assert len(client.post("concurrency_limits/filter", json={"bogus": 1}).json()) == 1

    def test_limit_over_the_default_is_422(self, client):
        r = client.post("concurrency_limits/filter", json={"limit": 201})
        assert (r.status_code, r.json()) == (422, {"detail": "Invalid limit: must be less than or equal to 200."})


class TestResetConcurrencyLimit:
    def test_slot_override_replaces_the_slots_and_answers_200_null(self, client, clock):
        clock.freeze()
        upsert(client)
        later = clock.advance(seconds=2)
        slot = str(uuid.uuid4())
        r = client.post("concurrency_limits/tag/db/reset", json={"slot_override": [slot.upper()]})
        assert (r.status_code, r.json()) == (200, None)
        body = client.get("concurrency_limits/tag/db").json()
        assert (body["active_slots"], body["updated"]) == ([slot], later.isoformat())

    @pytest.mark.parametrize("body", [None, {}, {"slot_override": None, "other": 1}])
    def test_without_override_slots_become_empty(self, client, body):
        upsert(client)
        client.post("concurrency_limits/tag/db/reset", json={"slot_override": [MISSING]})
        r = client.post("concurrency_limits/tag/db/reset", json=body)
        assert (r.status_code, r.json()) == (200, None)
        assert client.get("concurrency_limits/tag/db").json()["active_slots"] == []

    def test_non_uuid_slot_is_422(self, client):
        upsert(client)
        r = client.post("concurrency_limits/tag/db/reset", json={"slot_override": ["x"]})
        assert r.json()["exception_detail"] == [
            {"loc": ["body", "slot_override", 0], "msg": "value is not a valid uuid", "type": "type_error.uuid"}]

    def test_missing_tag_is_404(self, client):
        r = client.post("concurrency_limits/tag/missing/reset", json={})
        assert (r.status_code, r.json()) == (404, NOT_FOUND)

    def test_reset_keeps_a_concurrent_slot_writers_revision_rule(self, client, dynamo_ctx):
        """Every write bumps ``_rev``, so orchestration's conditional slot writes see the reset."""
        created = upsert(client)
        before = dynamo_ctx.stores.concurrency_limits.get(created["id"])["_rev"]
        client.post("concurrency_limits/tag/db/reset", json={})
        assert dynamo_ctx.stores.concurrency_limits.get(created["id"])["_rev"] == before + 1


class TestDeleteConcurrencyLimit:
    def test_by_tag_is_200_null_then_404(self, client, dynamo_ctx):
        from domain.services.concurrency_limits import guard_id

        upsert(client)
        r = client.delete("concurrency_limits/tag/db")
        assert (r.status_code, r.json()) == (200, None)
        r = client.delete("concurrency_limits/tag/db")
        assert (r.status_code, r.json()) == (404, NOT_FOUND)
        assert dynamo_ctx.stores.guards.get(guard_id("db")) is None

    def test_by_id_is_200_null_and_the_tag_can_be_created_again(self, client):
        created = upsert(client)
        r = client.delete(f"concurrency_limits/{created['id']}")
        assert (r.status_code, r.json()) == (200, None)
        assert client.get("concurrency_limits/tag/db").status_code == 404
        assert upsert(client)["id"] != created["id"]

    def test_missing_id_is_404_and_malformed_422(self, client):
        r = client.delete(f"concurrency_limits/{MISSING}")
        assert (r.status_code, r.json()) == (404, NOT_FOUND)
        assert client.delete("concurrency_limits/nope").status_code == 422
