"""/artifacts routes (orchestration spec §1.12, behaviours 111-113; texts, ids and timestamps
compared with the 2.20 reference server)."""

import concurrent.futures
import datetime as dt
import uuid

import pytest

ARTIFACT_KEYS = ["id", "created", "updated", "key", "type", "description", "data", "metadata_", "flow_run_id",
                 "task_run_id"]
COLLECTION_KEYS = ["id", "created", "updated", "key", "latest_id", "type", "description", "data", "metadata_",
                   "flow_run_id", "task_run_id"]
NOT_FOUND = {"detail": "Artifact not found."}
KEY_RULE = "Artifact key must only contain lowercase letters, numbers, and dashes."
MISSING = "11111111-1111-4111-8111-111111111111"


def make(client, **body):
    r = client.post("artifacts/", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def ids_of(rows):
    return [row["id"] for row in rows]


def flow_run(client, name="f", **kw):
    flow = client.post("flows/", json={"name": name}).json()
    r = client.post("flow_runs/", json={"flow_id": flow["id"], **kw})
    assert r.status_code == 201, r.text
    return r.json()


class TestCreateArtifact:
    def test_markdown_artifact_like_the_client_sends_is_201(self, client, clock):
        now = clock.freeze(dt.datetime(2026, 3, 1, 12, tzinfo=dt.timezone.utc))
        run = str(uuid.uuid4())
        body = make(client, key="my-report", type="markdown", description=None, data="# hi", flow_run_id=run,
                    task_run_id=None)
        assert list(body) == ARTIFACT_KEYS
        assert uuid.UUID(body["id"]).version == 4
        assert body | {"id": None} == {
            "id": None, "created": now.isoformat(), "updated": now.isoformat(), "key": "my-report",
            "type": "markdown", "description": None, "data": "# hi", "metadata_": None, "flow_run_id": run,
            "task_run_id": None}

    def test_no_key_is_201_with_null_key_and_no_collection(self, client):
        assert make(client)["key"] is None
        assert client.post("artifacts/latest/count", json={}).json() == 0

    @pytest.mark.parametrize("key", ["Bad_Key", "a b", "UPPER"])
    def test_key_outside_the_rule_is_422(self, client, key):
        r = client.post("artifacts/", json={"key": key})
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [{"loc": ["body", "key"], "msg": KEY_RULE, "type": "value_error"}]

    def test_empty_key_is_accepted_as_in_the_reference(self, client):
        assert make(client, key="")["key"] == ""
        assert client.post("artifacts/latest/count", json={}).json() == 1

    def test_unknown_key_is_422(self, client):
        r = client.post("artifacts/", json={"bogus": 1})
        assert r.json()["exception_detail"] == [
            {"loc": ["body", "bogus"], "msg": "extra fields not permitted", "type": "value_error.extra"}]

    def test_metadata_values_are_cut_at_500_characters_and_numbers_become_text(self, client):
        body = make(client, metadata_={"long": "x" * 600, "n": 5, "short": "s"})
        assert body["metadata_"] == {"long": "x" * 500 + "...", "n": "5", "short": "s"}

    def test_any_json_data_is_kept(self, client):
        data = {"rows": [[1, 2], [3, None]], "ok": True}
        created = make(client, type="table", data=data)
        assert client.get(f"artifacts/{created['id']}").json()["data"] == data

    def test_data_over_the_item_size_limit_is_422(self, client):
        r = client.post("artifacts/", json={"data": "x" * 450_000})
        assert r.status_code == 422
        assert "400 KB" in r.json()["detail"]


class TestArtifactCollections:
    def test_same_key_twice_makes_the_second_the_latest(self, client, clock):
        first_at = clock.freeze()
        first = make(client, key="my-art", type="markdown", data="# one")
        second_at = clock.advance(seconds=1)
        second = make(client, key="my-art", type="markdown", data="# two", description="d")
        (row,) = client.post("artifacts/latest/filter", json={}).json()
        assert list(row) == COLLECTION_KEYS
        assert row | {"id": None} == {
            "id": None, "created": first_at.isoformat(), "updated": second_at.isoformat(), "key": "my-art",
            "latest_id": second["id"], "type": "markdown", "description": "d", "data": "# two",
            "metadata_": None, "flow_run_id": None, "task_run_id": None}
        assert first["id"] != second["id"]

    def test_read_latest_answers_the_collection_row_in_artifact_shape_as_the_reference_does(self, client, clock):
        clock.freeze()
        make(client, key="my-art", data="# one")
        clock.advance(seconds=1)
        second = make(client, key="my-art", data="# two")
        r = client.get("artifacts/my-art/latest")
        assert r.status_code == 200
        body = r.json()
        (row,) = client.post("artifacts/latest/filter", json={}).json()
        assert list(body) == ARTIFACT_KEYS
        assert body["id"] == row["id"] != second["id"]  # the collection's id (reference behaviour)
        assert body["data"] == "# two"

    def test_read_latest_of_unknown_key_is_404(self, client):
        assert (client.get("artifacts/nope/latest").status_code, client.get("artifacts/nope/latest").json()) == (
            404, NOT_FOUND)

    def test_an_older_artifact_committed_late_does_not_replace_a_newer_latest(self, client, clock, dynamo_ctx):
        from domain.services import artifacts

        clock.freeze()
        newer_at = clock.advance(seconds=5)
        newer = make(client, key="k", data="new")
        clock.freeze(newer_at - dt.timedelta(seconds=5))
        make(client, key="k", data="old")  # created earlier, written later
        assert client.get("artifacts/k/latest").json()["data"] == "new"
        assert dynamo_ctx.stores.artifact_collections.get(artifacts.collection_id("k"))["latest_id"] == newer["id"]

    def test_concurrent_creates_of_one_key_leave_the_newest_as_latest(self, client):
        def create(i):
            return client.post("artifacts/", json={"key": "race", "data": i})

        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as ex:
            results = list(ex.map(create, range(16)))
        assert [r.status_code for r in results] == [201] * 16
        created = {r.json()["id"]: r.json()["created"] for r in results}
        (row,) = client.post("artifacts/latest/filter", json={}).json()
        assert created[row["latest_id"]] == max(created.values())
        assert client.post("artifacts/count", json={}).json() == 16

    def test_latest_filter_sorts_by_key_and_pages(self, client):
        for key in ("b", "c", "a"):
            make(client, key=key)
        rows = client.post("artifacts/latest/filter", json={"sort": "KEY_ASC", "limit": 2, "offset": 1}).json()
        assert [r["key"] for r in rows] == ["b", "c"]
        rows = client.post("artifacts/latest/filter", json={"sort": "KEY_DESC"}).json()
        assert [r["key"] for r in rows] == ["c", "b", "a"]

    def test_latest_filter_by_key(self, client):
        make(client, key="a")
        make(client, key="b")
        rows = client.post("artifacts/latest/filter", json={"artifacts": {"key": {"any_": ["b", "zz"]}}}).json()
        assert [r["key"] for r in rows] == ["b"]
        rows = client.post("artifacts/latest/filter", json={"artifacts": {"key": {"like_": "A"}}}).json()
        assert [r["key"] for r in rows] == ["a"]

    def test_latest_count(self, client):
        make(client, key="a")
        make(client, key="a")
        make(client, key="b")
        make(client)
        assert client.post("artifacts/latest/count", json={}).json() == 2
        assert client.post("artifacts/latest/count", json={"artifacts": {"key": {"any_": ["a"]}}}).json() == 1


class TestReadArtifact:
    def test_read_by_id(self, client):
        created = make(client, key="k", data=1)
        r = client.get(f"artifacts/{created['id']}")
        assert (r.status_code, r.json()) == (200, created)

    def test_unknown_id_is_404(self, client):
        r = client.get(f"artifacts/{MISSING}")
        assert (r.status_code, r.json()) == (404, NOT_FOUND)

    def test_malformed_id_is_422(self, client):
        r = client.get("artifacts/nope")
        assert r.status_code == 422
        assert r.json()["exception_detail"] == [
            {"loc": ["path", "id"], "msg": "value is not a valid uuid", "type": "type_error.uuid"}]


class TestFilterArtifacts:
    @pytest.fixture
    def arts(self, client, clock):
        clock.freeze(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
        run_a, run_b, task = (str(uuid.uuid4()) for _ in range(3))
        out = {}
        for name, body in [("a1", {"key": "a", "type": "markdown", "flow_run_id": run_a}),
                           ("a2", {"key": "a", "type": "table", "flow_run_id": run_a, "task_run_id": task}),
                           ("b1", {"key": "b", "type": "result", "flow_run_id": run_b}),
                           ("n1", {"type": None})]:
            clock.advance(seconds=1)
            out[name] = make(client, **body)
        out["runs"] = (run_a, run_b, task)
        return out

    def filter(self, client, **body):
        r = client.post("artifacts/filter", json=body)
        assert r.status_code == 200, r.text
        return r.json()

    def test_default_sort_is_id_descending(self, client, arts):
        rows = self.filter(client)
        assert ids_of(rows) == sorted(ids_of(rows), reverse=True)
        assert len(rows) == 4 and all(list(r) == ARTIFACT_KEYS for r in rows)

    def test_created_desc_with_limit_and_offset(self, client, arts):
        rows = self.filter(client, sort="CREATED_DESC", limit=2, offset=1)
        assert ids_of(rows) == [arts["b1"]["id"], arts["a2"]["id"]]

    def test_key_asc_puts_null_keys_first(self, client, arts):
        keys = [r["key"] for r in self.filter(client, sort="KEY_ASC")]
        assert keys == [None, "a", "a", "b"]

    def test_by_key(self, client, arts):
        rows = self.filter(client, artifacts={"key": {"any_": ["a"]}}, sort="CREATED_DESC")
        assert ids_of(rows) == [arts["a2"]["id"], arts["a1"]["id"]]

    def test_key_exists(self, client, arts):
        assert ids_of(self.filter(client, artifacts={"key": {"exists_": False}})) == [arts["n1"]["id"]]
        assert len(self.filter(client, artifacts={"key": {"exists_": True}})) == 3

    def test_by_flow_run_and_task_run_id(self, client, arts):
        run_a, run_b, task = arts["runs"]
        assert ids_of(self.filter(client, artifacts={"flow_run_id": {"any_": [run_b]}})) == [arts["b1"]["id"]]
        assert ids_of(self.filter(client, artifacts={"task_run_id": {"any_": [task]}})) == [arts["a2"]["id"]]

    def test_by_id(self, client, arts):
        assert ids_of(self.filter(client, artifacts={"id": {"any_": [arts["a1"]["id"], MISSING]}})) == [
            arts["a1"]["id"]]

    def test_type_any_and_not_any_exclude_null_types(self, client, arts):
        assert ids_of(self.filter(client, artifacts={"type": {"any_": ["result"]}})) == [arts["b1"]["id"]]
        rows = self.filter(client, artifacts={"type": {"not_any_": ["markdown"]}}, sort="CREATED_DESC")
        assert ids_of(rows) == [arts["b1"]["id"], arts["a2"]["id"]]

    def test_or_operator(self, client, arts):
        rows = self.filter(client, artifacts={"operator": "or_", "type": {"any_": ["result"]},
                                              "key": {"exists_": False}}, sort="CREATED_DESC")
        assert ids_of(rows) == [arts["n1"]["id"], arts["b1"]["id"]]

    def test_flow_runs_filter_needs_an_existing_run(self, client, arts):
        run_a, _, _ = arts["runs"]  # no such flow run is stored
        assert self.filter(client, flow_runs={"id": {"any_": [run_a]}}) == []

    def test_flow_runs_and_flows_filters_join_on_the_artifacts_flow_run(self, client):
        run = flow_run(client, name="etl")
        other = flow_run(client, name="other")
        mine = make(client, key="r", flow_run_id=run["id"])
        make(client, key="r", flow_run_id=other["id"])
        r = client.post("artifacts/filter", json={"flow_runs": {"id": {"any_": [run["id"]]}}})
        assert ids_of(r.json()) == [mine["id"]]
        r = client.post("artifacts/filter", json={"flows": {"name": {"any_": ["etl"]}}})
        assert ids_of(r.json()) == [mine["id"]]

    def test_task_runs_filter_joins_on_the_artifacts_task_run(self, client):
        run = flow_run(client)
        r = client.post("task_runs/", json={"flow_run_id": run["id"], "task_key": "t", "dynamic_key": "0"})
        assert r.status_code == 201, r.text
        task = r.json()
        mine = make(client, task_run_id=task["id"])
        make(client, task_run_id=str(uuid.uuid4()))
        r = client.post("artifacts/filter", json={"task_runs": {"id": {"any_": [task["id"]]}}})
        assert ids_of(r.json()) == [mine["id"]]
        r = client.post("artifacts/filter", json={"task_runs": {"name": {"any_": [task["name"]]}}})
        assert ids_of(r.json()) == [mine["id"]]

    def test_count(self, client, arts):
        assert client.post("artifacts/count", json={}).json() == 4
        assert client.post("artifacts/count", json={"artifacts": {"key": {"any_": ["a"]}}}).json() == 2

    def test_unknown_sort_and_filter_keys_are_422(self, client):
        assert client.post("artifacts/filter", json={"sort": "NAME_ASC"}).status_code == 422
        r = client.post("artifacts/filter", json={"artifacts": {"name": {}}})
        assert r.json()["exception_detail"][0]["loc"] == ["body", "artifacts", "name"]


class TestUpdateArtifact:
    def test_latest_artifact_update_is_204_and_reaches_the_collection(self, client, clock):
        clock.freeze()
        created = make(client, key="k", data=1)
        later = clock.advance(seconds=3)
        r = client.patch(f"artifacts/{created['id']}", json={"description": "d", "data": 2})
        assert r.status_code == 204
        body = client.get(f"artifacts/{created['id']}").json()
        assert (body["description"], body["data"], body["updated"]) == ("d", 2, later.isoformat())
        assert client.get("artifacts/k/latest").json()["description"] == "d"

    def test_update_of_an_artifact_that_is_not_the_latest_is_applied_but_answers_404_as_in_the_reference(
            self, client, clock):
        clock.freeze()
        first = make(client, key="k")
        clock.advance(seconds=1)
        make(client, key="k")
        r = client.patch(f"artifacts/{first['id']}", json={"description": "d1"})
        assert (r.status_code, r.json()) == (404, NOT_FOUND)
        assert client.get(f"artifacts/{first['id']}").json()["description"] == "d1"
        assert client.get("artifacts/k/latest").json()["description"] is None

    def test_unknown_artifact_is_404_and_extra_keys_422(self, client):
        assert client.patch(f"artifacts/{MISSING}", json={"description": "d"}).status_code == 404
        assert client.patch(f"artifacts/{MISSING}", json={"key": "x"}).status_code == 422


class TestDeleteArtifact:
    def test_deleting_the_latest_moves_the_collection_to_the_next_newest(self, client, clock):
        clock.freeze()
        first = make(client, key="k", data="one")
        clock.advance(seconds=1)
        second = make(client, key="k", data="two")
        r = client.delete(f"artifacts/{second['id']}")
        assert r.status_code == 204
        (row,) = client.post("artifacts/latest/filter", json={}).json()
        assert (row["latest_id"], row["data"], row["created"]) == (first["id"], "one", first["created"])
        r = client.delete(f"artifacts/{second['id']}")
        assert (r.status_code, r.json()) == (404, NOT_FOUND)

    def test_deleting_the_only_artifact_of_a_key_removes_the_collection(self, client):
        only = make(client, key="k")
        assert client.delete(f"artifacts/{only['id']}").status_code == 204
        assert client.get("artifacts/k/latest").status_code == 404
        assert client.post("artifacts/latest/count", json={}).json() == 0

    def test_deleting_an_older_artifact_keeps_the_latest(self, client, clock):
        clock.freeze()
        first = make(client, key="k")
        clock.advance(seconds=1)
        second = make(client, key="k")
        assert client.delete(f"artifacts/{first['id']}").status_code == 204
        assert client.post("artifacts/latest/filter", json={}).json()[0]["latest_id"] == second["id"]

    def test_unknown_artifact_is_404(self, client):
        r = client.delete(f"artifacts/{MISSING}")
        assert (r.status_code, r.json()) == (404, NOT_FOUND)


class TestResultArtifactCollections:
    def test_a_keyed_artifact_written_by_another_transaction_moves_the_collection_with_collection_ops(
            self, client, dynamo_ctx, clock):
        """What task-run orchestration does for a keyed result artifact: its own artifact put plus
        ``collection_ops`` in one transaction."""
        from domain.ports import Cond, TxPut
        from domain.services import artifacts

        clock.freeze()
        make(client, key="res", data="old")
        stamp = clock.advance(seconds=1).isoformat()
        doc = {"id": str(uuid.uuid4()), "created": stamp, "updated": stamp, "key": "res", "type": "result",
               "description": None, "data": {"storage_key": "x"}, "metadata_": None, "flow_run_id": None,
               "task_run_id": None}
        dynamo_ctx.stores.transact([TxPut(dynamo_ctx.stores.artifacts, doc, Cond.absent()),
                                    *artifacts.collection_ops(dynamo_ctx, doc)])
        body = client.get("artifacts/res/latest").json()
        assert (body["type"], body["data"]) == ("result", {"storage_key": "x"})
        assert client.post("artifacts/latest/filter", json={}).json()[0]["latest_id"] == doc["id"]

    def test_collection_ops_of_an_unkeyed_artifact_are_empty(self, dynamo_ctx):
        from domain.services import artifacts

        assert artifacts.collection_ops(dynamo_ctx, {"id": "x", "created": "2026-01-01T00:00:00+00:00",
                                                     "key": None}) == []

