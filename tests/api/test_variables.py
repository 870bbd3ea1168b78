"""/variables routes (texts verified against the 2.20 reference server)."""

import concurrent.futures
import uuid

import pytest

VARIABLE_KEYS = ["id", "created", "updated", "name", "value", "tags"]
NOT_FOUND = {"detail": "Variable not found."}
NAME_RULE = "Variable name must only contain lowercase letters, numbers, and underscores."


def make_var(client, name="v", value="x", **kw):
    r = client.post("variables/", json={"name": name, "value": value, **kw})
    assert r.status_code == 201, r.text
    return r.json()


class TestCreateVariable:
    def test_new_variable_is_201_with_exact_keys(self, client):
        r = client.post("variables/", json={"name": "my_var", "value": "x", "tags": ["a"]})
        assert r.status_code == 201
        body = r.json()
        assert list(body) == VARIABLE_KEYS
        assert (body["name"], body["value"], body["tags"]) == ("my_var", "x", ["a"])

    def test_tags_default_to_empty(self, client):
        assert make_var(client)["tags"] == []

    @pytest.mark.parametrize(("value", "stored"), [(5, "5"), (1.5, "1.5"), (True, "True")])
    def test_scalar_values_are_stored_as_strings(self, client, value, stored):
        assert make_var(client, value=value)["value"] == stored

    def test_object_value_is_422(self, client):
        r = client.post("variables/", json={"name": "v", "value": {"a": 1}})
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["msg"] == "str type expected"

    def test_duplicate_name_is_409(self, client):
        make_var(client)
        r = client.post("variables/", json={"name": "v", "value": "y"})
        assert r.status_code == 409
        assert r.json()["detail"].startswith("Data integrity conflict.")

    def test_twenty_parallel_creates_yield_one_variable(self, client):
        def create(_):
            return client.post("variables/", json={"name": "race", "value": "x"})

        with concurrent.futures.ThreadPoolExecutor(max_workers=20) as ex:
            results = list(ex.map(create, range(20)))
        assert sorted(r.status_code for r in results) == [201] + [409] * 19
        assert client.post("variables/count").json() == 1

    @pytest.mark.parametrize("name", ["V1", "my-var", "a b", ""])
    def test_name_outside_the_rule_is_422(self, client, name):
        r = client.post("variables/", json={"name": name, "value": "x"})
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["msg"] == NAME_RULE

    def test_too_long_value_and_name_are_422(self, client):
        r = client.post("variables/", json={"name": "v", "value": "y" * 5001})
        assert (r.status_code, r.json()["exception_detail"][0]["loc"]) == (422, ["body", "value"])
        r = client.post("variables/", json={"name": "v" * 256, "value": "y"})
        assert (r.status_code, r.json()["exception_detail"][0]["loc"]) == (422, ["body", "name"])

    def test_value_of_exactly_5000_is_fine(self, client):
        assert make_var(client, value="y" * 5000)["value"] == "y" * 5000

    def test_missing_value_and_null_tags_are_422(self, client):
        r = client.post("variables/", json={"name": "v"})
        assert r.json()["exception_detail"][0] == {
            "loc": ["body", "value"], "msg": "field required", "type": "value_error.missing"}
        r = client.post("variables/", json={"name": "v", "value": "x", "tags": None})
        assert r.json()["exception_detail"][0]["msg"] == "none is not an allowed value"

    def test_unknown_key_is_422(self, client):
        r = client.post("variables/", json={"name": "v", "value": "x", "bogus": 1})
        assert r.json()["exception_detail"][0]["msg"] == "extra fields not permitted"


class TestReadVariable:
    def test_read_by_id(self, client):
        var = make_var(client)
        r = client.get(f"variables/{var['id']}")
        assert (r.status_code, r.json()) == (200, var)

    def test_unknown_id_is_404(self, client):
        r = client.get(f"variables/{uuid.uuid4()}")
        assert (r.status_code, r.json()) == (404, NOT_FOUND)

    def test_malformed_id_is_404_not_found(self, client):
        # the reference route is /variables/{id:uuid}: a non-UUID path matches nothing
        r = client.get("variables/not-a-uuid")
        assert (r.status_code, r.json()) == (404, {"detail": "Not Found"})


class TestReadVariableByName:
    def test_read_by_name_is_two_get_items_guard_then_variable(self, client, dynamo_calls):
        var = make_var(client)
        dynamo_calls.clear()
        assert client.get("variables/name/v").json() == var
        assert list(dynamo_calls) == ["GetItem", "GetItem"]

    def test_unknown_name_is_404(self, client):
        r = client.get("variables/name/nope")
        assert (r.status_code, r.json()) == (404, NOT_FOUND)


class TestUpdateVariable:
    def test_patch_is_204_and_persists(self, client):
        var = make_var(client)
        r = client.patch(f"variables/{var['id']}", json={"value": "new", "tags": ["t"]})
        assert r.status_code == 204
        body = client.get(f"variables/{var['id']}").json()
        assert (body["value"], body["tags"], body["name"]) == ("new", ["t"], "v")
        assert body["updated"] > body["created"]

    def test_rename_keeps_the_id_and_frees_the_old_name(self, client):
        var = make_var(client, "old")
        assert client.patch(f"variables/{var['id']}", json={"name": "new"}).status_code == 204
        assert client.get("variables/name/new").json()["id"] == var["id"]
        assert client.get("variables/name/old").status_code == 404
        again = make_var(client, "old")
        assert again["id"] != var["id"]
        assert client.post("variables/", json={"name": "new", "value": "x"}).status_code == 409

    def test_rename_to_a_taken_name_is_409(self, client):
        var = make_var(client, "a")
        make_var(client, "b")
        r = client.patch(f"variables/{var['id']}", json={"name": "b"})
        assert r.status_code == 409

    def test_twenty_parallel_renames_to_one_name_one_wins_the_others_409(self, client):
        variables = [make_var(client, f"v{i}") for i in range(20)]

        def rename(var):
            return client.patch(f"variables/{var['id']}", json={"name": "target"})

        with concurrent.futures.ThreadPoolExecutor(max_workers=20) as ex:
            results = list(ex.map(rename, variables))
        assert sorted(r.status_code for r in results) == [204] + [409] * 19
        listed = client.post("variables/filter", json={}).json()
        assert sorted(v["name"] for v in listed).count("target") == 1
        assert len(listed) == 20
        winner = variables[[r.status_code for r in results].index(204)]
        assert client.get("variables/name/target").json()["id"] == winner["id"]
        assert client.get(f"variables/name/{winner['name']}").status_code == 404

    def test_bad_new_name_is_422(self, client):
        var = make_var(client)
        r = client.patch(f"variables/{var['id']}", json={"name": "Bad Name"})
        assert r.json()["exception_detail"][0]["msg"] == NAME_RULE

    def test_null_value_is_409_null_name_is_422(self, client):
        var = make_var(client)
        assert client.patch(f"variables/{var['id']}", json={"value": None}).status_code == 409
        assert client.patch(f"variables/{var['id']}", json={"name": None}).status_code == 422

    def test_unknown_and_malformed_ids(self, client):
        assert client.patch(f"variables/{uuid.uuid4()}", json={"value": "z"}).json() == NOT_FOUND
        assert client.patch("variables/nope", json={"value": "z"}).json() == {"detail": "Not Found"}


class TestUpdateVariableByName:
    def test_patch_by_name(self, client):
        make_var(client)
        assert client.patch("variables/name/v", json={"value": "z"}).status_code == 204
        assert client.get("variables/name/v").json()["value"] == "z"

    def test_patch_a_renamed_variable_by_its_new_name(self, client):
        var = make_var(client, "old")
        client.patch(f"variables/{var['id']}", json={"name": "new"})
        assert client.patch("variables/name/new", json={"tags": ["x"]}).status_code == 204
        assert client.get(f"variables/{var['id']}").json()["tags"] == ["x"]

    def test_unknown_name_is_404(self, client):
        r = client.patch("variables/name/nope", json={"value": "z"})
        assert (r.status_code, r.json()) == (404, NOT_FOUND)


class TestDeleteVariable:
    def test_delete_is_204_then_404(self, client):
        var = make_var(client)
        assert client.delete(f"variables/{var['id']}").status_code == 204
        assert client.delete(f"variables/{var['id']}").json() == NOT_FOUND

    def test_recreate_after_delete_is_201_with_a_new_id(self, client):
        var = make_var(client)
        client.delete(f"variables/{var['id']}")
        again = make_var(client)
        assert again["id"] != var["id"]
        assert client.get("variables/name/v").json()["id"] == again["id"]

    def test_malformed_id_is_404_not_found(self, client):
        assert client.delete("variables/nope").json() == {"detail": "Not Found"}


class TestDeleteVariableByName:
    def test_delete_by_name_is_204_then_404(self, client):
        make_var(client)
        assert client.delete("variables/name/v").status_code == 204
        r = client.delete("variables/name/v")
        assert (r.status_code, r.json()) == (404, NOT_FOUND)


class TestFilterVariables:
    def test_sorted_by_name_by_default_with_paging(self, client):
        for name in ("c", "a", "b"):
            make_var(client, name)
        assert [v["name"] for v in client.post("variables/filter", json={}).json()] == ["a", "b", "c"]
        r = client.post("variables/filter", json={"sort": "NAME_DESC", "limit": 2})
        assert [v["name"] for v in r.json()] == ["c", "b"]
        r = client.post("variables/filter", json={"offset": 2})
        assert [v["name"] for v in r.json()] == ["c"]

    def test_created_desc(self, client, clock):
        clock.freeze()
        for name in ("b", "a", "c"):
            clock.advance(seconds=1)
            make_var(client, name)
        r = client.post("variables/filter", json={"sort": "CREATED_DESC"})
        assert [v["name"] for v in r.json()] == ["c", "a", "b"]

    def test_filters(self, client):
        make_var(client, "alpha", "one", tags=["x"])
        make_var(client, "beta", "two")
        def names(body):
            return [v["name"] for v in client.post("variables/filter", json={"variables": body}).json()]
        assert names({"name": {"like_": "LP"}}) == ["alpha"]
        assert names({"value": {"any_": ["two"]}}) == ["beta"]
        assert names({"tags": {"all_": ["x"]}}) == ["alpha"]
        assert names({"name": {"any_": ["beta", "nope"]}}) == ["beta"]

    def test_bad_sort_is_422_enum(self, client):
        r = client.post("variables/filter", json={"sort": "BAD"})
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["type"] == "type_error.enum"

    def test_limit_rules(self, client):
        assert client.post("variables/filter", json={"limit": 201}).json() == {
            "detail": "Invalid limit: must be less than or equal to 200."}
        assert client.post("variables/filter", json={"limit": 0}).json() == []


class TestCountVariables:
    def test_counts_with_and_without_filter(self, client):
        make_var(client, "a")
        make_var(client, "b")
        assert client.post("variables/count").json() == 2
        assert client.post("variables/count", json={"variables": {"name": {"any_": ["a"]}}}).json() == 1
