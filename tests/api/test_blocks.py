"""/block_types, /block_schemas and /block_documents routes — what the 2.20 client's
``Block.save()`` / ``Block.load()`` need (texts and checksums verified against the 2.20 reference
server and client)."""

import concurrent.futures
import uuid

import pytest

from domain.services import blocks

TYPE_KEYS = ["id", "created", "updated", "name", "slug", "logo_url", "documentation_url", "description",
             "code_example", "is_protected"]
SCHEMA_KEYS = ["id", "created", "updated", "checksum", "fields", "block_type_id", "block_type", "capabilities",
               "version"]
DOCUMENT_KEYS = ["id", "created", "updated", "name", "data", "block_schema_id", "block_schema", "block_type_id",
                 "block_type_name", "block_type", "block_document_references", "is_anonymous"]
# fields as the 2.20 client sends them, and the checksum the reference computed for them
FIELDS = {
    "title": "MyThing", "type": "object",
    "properties": {"x": {"title": "X", "type": "string"},
                   "pw": {"title": "Pw", "type": "string", "format": "password", "writeOnly": True}},
    "secret_fields": ["pw"], "block_type_slug": "my-thing", "block_schema_references": {},
}
CHECKSUM = "sha256:f90dd275ba61d76bdda023970c3d54cb2dbacb43e6bd656c0936a20440a7e9df"


@pytest.fixture
def btype(client):
    r = client.post("block_types/", json={"name": "My Thing", "slug": "my-thing", "logo_url": "https://x.io/a.png"})
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def schema(client, btype):
    r = client.post("block_schemas/", json={"block_type_id": btype["id"], "fields": FIELDS,
                                            "capabilities": ["read-path"]})
    assert r.status_code == 201, r.text
    return r.json()


def make_doc(client, btype, schema, name="doc", data=None, **kw):
    r = client.post("block_documents/", json={"name": name, "data": data or {"x": "hello", "pw": "secretvalue123"},
                                              "block_schema_id": schema["id"], "block_type_id": btype["id"], **kw})
    assert r.status_code == 201, r.text
    return r.json()


class TestCreateBlockType:
    def test_new_type_is_201_with_exact_keys(self, client, btype):
        assert list(btype) == TYPE_KEYS
        assert (btype["slug"], btype["logo_url"], btype["is_protected"]) == ("my-thing", "https://x.io/a.png", False)

    def test_taken_slug_is_409(self, client, btype):
        r = client.post("block_types/", json={"name": "Other", "slug": "my-thing"})
        assert (r.status_code, r.json()) == (409, {"detail": 'Block type with name "Other" already exists'})

    def test_parallel_creates_yield_one_type(self, client):
        def create(_):
            return client.post("block_types/", json={"name": "T", "slug": "t"})

        with concurrent.futures.ThreadPoolExecutor(max_workers=10) as ex:
            results = list(ex.map(create, range(10)))
        assert sorted(r.status_code for r in results) == [201] + [409] * 9

    def test_bad_slug_and_url_are_422(self, client):
        r = client.post("block_types/", json={"name": "B", "slug": "Bad_Slug"})
        assert r.json()["exception_detail"][0]["msg"] == (
            "Block type slug must only contain lowercase letters, numbers, and dashes.")
        r = client.post("block_types/", json={"name": "B", "slug": "b", "logo_url": "notaurl"})
        assert (r.status_code, r.json()["exception_detail"][0]["loc"]) == (422, ["body", "logo_url"])

    def test_description_and_code_example_are_html_escaped(self, client):
        body = client.post("block_types/", json={"name": "B", "slug": "b", "description": "a < b & c",
                                                 "code_example": "x > 1"}).json()
        assert (body["description"], body["code_example"]) == ("a &lt; b &amp; c", "x &gt; 1")

    def test_prefect_prefixed_name_is_403(self, client):
        r = client.post("block_types/", json={"name": "Prefect Thing", "slug": "pt"})
        assert (r.status_code, r.json()) == (403, {"detail": "Block type names beginning with 'Prefect' are reserved."})


class TestReadBlockType:
    def test_by_id_and_by_slug(self, client, btype):
        assert client.get(f"block_types/{btype['id']}").json() == btype
        assert client.get("block_types/slug/my-thing").json() == btype

    def test_unknown_is_404(self, client):
        assert client.get("block_types/slug/nope").json() == {"detail": "Block type not found"}
        r = client.get(f"block_types/{uuid.uuid4()}")
        assert (r.status_code, r.json()) == (404, {"detail": "Block type not found"})

    def test_malformed_id_is_422(self, client):
        assert client.get("block_types/bad").json()["exception_detail"][0]["loc"] == ["path", "id"]


class TestUpdateBlockType:
    def test_patch_is_204_and_persists(self, client, btype):
        assert client.patch(f"block_types/{btype['id']}", json={"description": "new", "code_example": "x"}).status_code == 204
        body = client.get(f"block_types/{btype['id']}").json()
        assert (body["description"], body["code_example"]) == ("new", "x")

    def test_unchanged_values_are_not_written(self, client, btype, dynamo_calls):
        dynamo_calls.clear()
        assert client.patch(f"block_types/{btype['id']}", json={"logo_url": "https://x.io/a.png"}).status_code == 204
        assert "PutItem" not in dynamo_calls

    def test_name_is_not_updatable_and_unknown_is_404(self, client, btype):
        assert client.patch(f"block_types/{btype['id']}", json={"name": "zz"}).status_code == 422
        r = client.patch(f"block_types/{uuid.uuid4()}", json={"description": "x"})
        assert (r.status_code, r.json()) == (404, {"detail": "Block type not found"})


class TestDeleteBlockType:
    def test_delete_cascades_to_schemas_and_documents(self, client, btype, schema):
        doc = make_doc(client, btype, schema)
        assert client.delete(f"block_types/{btype['id']}").status_code == 204
        assert client.get(f"block_schemas/{schema['id']}").status_code == 404
        assert client.get(f"block_documents/{doc['id']}").status_code == 404
        assert client.delete(f"block_types/{btype['id']}").json() == {"detail": "Block type not found"}


class TestFilterBlockTypes:
    def test_by_name_with_filters(self, client, btype, schema):
        client.post("block_types/", json={"name": "Another", "slug": "another"})
        assert [t["slug"] for t in client.post("block_types/filter", json={}).json()] == ["another", "my-thing"]
        r = client.post("block_types/filter", json={"block_types": {"slug": {"any_": ["my-thing"]}}})
        assert [t["slug"] for t in r.json()] == ["my-thing"]
        r = client.post("block_types/filter", json={"block_schemas": {"block_capabilities": {"all_": ["read-path"]}}})
        assert [t["slug"] for t in r.json()] == ["my-thing"]
        r = client.post("block_types/filter", json={"block_types": {"name": {"like_": "anoth"}}, "limit": 1})
        assert [t["slug"] for t in r.json()] == ["another"]


class TestCreateBlockSchema:
    def test_new_schema_is_201_with_the_clients_checksum(self, client, btype, schema):
        assert list(schema) == SCHEMA_KEYS
        assert schema["checksum"] == CHECKSUM
        assert schema["fields"] == FIELDS
        assert schema["block_type"] == btype
        assert (schema["capabilities"], schema["version"]) == (["read-path"], "non-versioned")

    def test_same_schema_again_is_200_with_the_same_row(self, client, btype, schema):
        r = client.post("block_schemas/", json={"block_type_id": btype["id"], "fields": FIELDS,
                                                "capabilities": ["read-path"]})
        assert (r.status_code, r.json()) == (200, schema)

    def test_another_version_is_a_new_schema(self, client, btype, schema):
        r = client.post("block_schemas/", json={"block_type_id": btype["id"], "fields": FIELDS, "version": "2"})
        assert r.status_code == 201
        assert r.json()["id"] != schema["id"]

    def test_unknown_block_type_is_404(self, client):
        missing = str(uuid.uuid4())
        r = client.post("block_schemas/", json={"block_type_id": missing, "fields": {}})
        assert (r.status_code, r.json()) == (404, {"detail": f"Block type {missing} not found."})

    def test_checksum_is_not_accepted(self, client, btype):
        r = client.post("block_schemas/", json={"block_type_id": btype["id"], "fields": {}, "checksum": "x"})
        assert r.json()["exception_detail"][0]["msg"] == "extra fields not permitted"


class TestReadBlockSchema:
    def test_by_id_and_by_checksum(self, client, schema):
        assert client.get(f"block_schemas/{schema['id']}").json() == schema
        assert client.get(f"block_schemas/checksum/{CHECKSUM}").json() == schema
        assert client.get(f"block_schemas/checksum/{CHECKSUM}", params={"version": "non-versioned"}).json() == schema

    def test_checksum_without_version_is_the_newest(self, client, btype, schema, clock):
        clock.advance(seconds=5)
        newer = client.post("block_schemas/", json={"block_type_id": btype["id"], "fields": FIELDS,
                                                    "version": "2"}).json()
        assert client.get(f"block_schemas/checksum/{CHECKSUM}").json()["id"] == newer["id"]

    def test_unknown_is_404(self, client, schema):
        not_found = {"detail": "Block schema not found"}
        assert client.get(f"block_schemas/checksum/{CHECKSUM}", params={"version": "nope"}).json() == not_found
        assert client.get("block_schemas/checksum/sha256:nope").json() == not_found
        assert client.get(f"block_schemas/{uuid.uuid4()}").json() == not_found


class TestFilterBlockSchemas:
    def test_newest_first_and_by_type(self, client, btype, schema, clock):
        clock.advance(seconds=5)
        newer = client.post("block_schemas/", json={"block_type_id": btype["id"], "fields": FIELDS,
                                                    "version": "2"}).json()
        ids = [s["id"] for s in client.post("block_schemas/filter", json={}).json()]
        assert ids == [newer["id"], schema["id"]]
        r = client.post("block_schemas/filter", json={"block_schemas": {"block_type_id": {"any_": [btype["id"]]}},
                                                      "limit": 1})
        assert [s["id"] for s in r.json()] == [newer["id"]]
        r = client.post("block_schemas/filter", json={"block_schemas": {"version": {"any_": ["non-versioned"]}}})
        assert [s["id"] for s in r.json()] == [schema["id"]]


class TestDeleteBlockSchema:
    def test_delete_is_204_then_404(self, client, schema):
        assert client.delete(f"block_schemas/{schema['id']}").status_code == 204
        assert client.delete(f"block_schemas/{schema['id']}").json() == {"detail": "Block schema not found"}


class TestCreateBlockDocument:
    def test_new_document_is_201_with_embedded_schema_and_type(self, client, btype, schema):
        doc = make_doc(client, btype, schema)
        assert list(doc) == DOCUMENT_KEYS
        assert doc["data"] == {"x": "hello", "pw": "********"}
        assert doc["block_schema"] == schema | {"block_type": btype}
        assert doc["block_type"] == btype
        assert (doc["block_type_name"], doc["block_document_references"], doc["is_anonymous"]) == (
            "My Thing", {}, False)

    def test_duplicate_name_for_the_type_is_409(self, client, btype, schema):
        make_doc(client, btype, schema)
        r = client.post("block_documents/", json={"name": "doc", "data": {}, "block_schema_id": schema["id"],
                                                  "block_type_id": btype["id"]})
        assert (r.status_code, r.json()) == (409, {"detail": "Block already exists"})

    def test_anonymous_documents_get_generated_names(self, client, btype, schema):
        r = client.post("block_documents/", json={"data": {"x": "a"}, "block_schema_id": schema["id"],
                                                  "block_type_id": btype["id"], "is_anonymous": True})
        assert r.status_code == 201
        name = r.json()["name"]
        assert name.startswith("anonymous-") and uuid.UUID(name[len("anonymous-"):])

    def test_name_required_unless_anonymous(self, client, btype, schema):
        r = client.post("block_documents/", json={"data": {}, "block_schema_id": schema["id"],
                                                  "block_type_id": btype["id"]})
        assert r.status_code == 422
        assert r.json()["exception_detail"][0]["msg"] == "Names must be provided for block documents."

    def test_name_rule_is_422(self, client, btype, schema):
        r = client.post("block_documents/", json={"name": "Doc_Bad", "data": {}, "block_schema_id": schema["id"],
                                                  "block_type_id": btype["id"]})
        assert r.json()["exception_detail"][0]["msg"] == (
            "Block document name must only contain lowercase letters, numbers, and dashes.")

    def test_unknown_schema_is_integrity_409(self, client, btype):
        r = client.post("block_documents/", json={"name": "d", "data": {}, "block_schema_id": str(uuid.uuid4()),
                                                  "block_type_id": btype["id"]})
        assert r.status_code == 409
        assert r.json()["detail"].startswith("Data integrity conflict.")


class TestReadBlockDocument:
    def test_secrets_only_with_include_secrets(self, client, btype, schema):
        doc = make_doc(client, btype, schema)
        assert client.get(f"block_documents/{doc['id']}").json() == doc
        r = client.get(f"block_documents/{doc['id']}", params={"include_secrets": "true"})
        assert r.json()["data"] == {"x": "hello", "pw": "secretvalue123"}

    def test_unknown_and_malformed_ids(self, client):
        assert client.get(f"block_documents/{uuid.uuid4()}").json() == {"detail": "Block document not found"}
        r = client.get("block_documents/bad")
        assert (r.status_code, r.json()) == (404, {"detail": "Not Found"})

    def test_load_by_type_slug_and_name(self, client, btype, schema, dynamo_calls):
        doc = make_doc(client, btype, schema)
        dynamo_calls.clear()
        r = client.get("block_types/slug/my-thing/block_documents/name/doc", params={"include_secrets": True})
        assert r.status_code == 200
        assert set(dynamo_calls) == {"GetItem"}  # document, schema, type: keys only
        assert r.json()["id"] == doc["id"]
        assert r.json()["data"]["pw"] == "secretvalue123"

    def test_load_unknown_is_404(self, client, btype):
        not_found = {"detail": "Block document not found"}
        assert client.get("block_types/slug/my-thing/block_documents/name/nope").json() == not_found
        assert client.get("block_types/slug/nope/block_documents/name/nope").json() == not_found

    def test_documents_of_a_type(self, client, btype, schema):
        make_doc(client, btype, schema, "b")
        make_doc(client, btype, schema, "a")
        client.post("block_documents/", json={"data": {}, "block_schema_id": schema["id"],
                                              "block_type_id": btype["id"], "is_anonymous": True})
        assert [d["name"] for d in client.get("block_types/slug/my-thing/block_documents").json()] == ["a", "b"]
        assert client.get("block_types/slug/nope/block_documents").status_code == 404


class TestUpdateBlockDocument:
    def test_merge_keeps_obfuscated_secrets(self, client, btype, schema):
        doc = make_doc(client, btype, schema)
        r = client.patch(f"block_documents/{doc['id']}", json={"data": {"x": "changed", "pw": "********"}})
        assert r.status_code == 204
        data = client.get(f"block_documents/{doc['id']}", params={"include_secrets": True}).json()["data"]
        assert data == {"x": "changed", "pw": "secretvalue123"}

    def test_replace_without_merge(self, client, btype, schema):
        doc = make_doc(client, btype, schema)
        client.patch(f"block_documents/{doc['id']}", json={"data": {"x": "only"}, "merge_existing_data": False})
        assert client.get(f"block_documents/{doc['id']}", params={"include_secrets": True}).json()["data"] == {
            "x": "only"}

    def test_schema_of_another_type_is_400(self, client, btype, schema):
        doc = make_doc(client, btype, schema)
        other = client.post("block_types/", json={"name": "O", "slug": "o"}).json()
        other_schema = client.post("block_schemas/", json={"block_type_id": other["id"], "fields": {}}).json()
        r = client.patch(f"block_documents/{doc['id']}", json={"block_schema_id": other_schema["id"]})
        assert r.status_code == 400
        assert r.json() == {"detail": "Must migrate block document to a block schema of the same block type."}

    def test_unknown_is_404(self, client):
        r = client.patch(f"block_documents/{uuid.uuid4()}", json={"data": {}})
        assert (r.status_code, r.json()) == (404, {"detail": "Block document not found"})


class TestDeleteBlockDocument:
    def test_delete_is_204_then_404(self, client, btype, schema):
        doc = make_doc(client, btype, schema)
        assert client.delete(f"block_documents/{doc['id']}").status_code == 204
        assert client.delete(f"block_documents/{doc['id']}").json() == {"detail": "Block document not found"}

    def test_saving_the_name_again_gives_a_new_id(self, client, btype, schema):
        doc = make_doc(client, btype, schema)
        client.delete(f"block_documents/{doc['id']}")
        again = make_doc(client, btype, schema)
        assert again["id"] != doc["id"]
        r = client.get(f"block_types/slug/{btype['slug']}/block_documents/name/{doc['name']}")
        assert (r.status_code, r.json()["id"]) == (200, again["id"])

    def test_a_block_type_created_again_after_delete_gets_a_new_id(self, client, btype):
        assert client.delete(f"block_types/{btype['id']}").status_code == 204
        again = client.post("block_types/", json={"name": btype["name"], "slug": btype["slug"]})
        assert again.status_code == 201
        assert again.json()["id"] != btype["id"]
        assert client.get(f"block_types/{btype['id']}").status_code == 404
        assert client.get(f"block_types/slug/{btype['slug']}").json()["id"] == again.json()["id"]

    def test_deleting_the_block_type_frees_its_document_names(self, client, btype, schema):
        make_doc(client, btype, schema)
        assert client.delete(f"block_types/{btype['id']}").status_code == 204
        t2 = client.post("block_types/", json={"name": btype["name"], "slug": btype["slug"]}).json()
        s2 = client.post("block_schemas/", json={"block_type_id": t2["id"], "capabilities": [],
                                                 "fields": {"title": "X", "type": "object", "properties": {}}}).json()
        r = client.post("block_documents/", json={"name": "doc", "data": {}, "block_schema_id": s2["id"],
                                                   "block_type_id": t2["id"]})
        assert r.status_code == 201, r.text


class TestFilterBlockDocuments:
    def test_anonymous_excluded_by_default_sorted_by_name(self, client, btype, schema):
        make_doc(client, btype, schema, "b")
        make_doc(client, btype, schema, "a")
        client.post("block_documents/", json={"data": {}, "block_schema_id": schema["id"],
                                              "block_type_id": btype["id"], "is_anonymous": True})
        assert [d["name"] for d in client.post("block_documents/filter", json={}).json()] == ["a", "b"]
        r = client.post("block_documents/filter", json={"block_documents": {"is_anonymous": None},
                                                        "block_types": {"slug": {"any_": ["my-thing"]}}})
        assert len(r.json()) == 3
        r = client.post("block_documents/filter", json={"sort": "NAME_DESC", "limit": 1, "include_secrets": True})
        assert [(d["name"], d["data"]["pw"]) for d in r.json()] == [("b", "secretvalue123")]

    def test_count(self, client, btype, schema):
        make_doc(client, btype, schema)
        assert client.post("block_documents/count", json={}).json() == 1
        assert client.post("block_documents/count", json={"block_types": {"slug": {"any_": ["nope"]}}}).json() == 0


class TestBlockDocumentReferences:
    def test_references_resolve_into_data_and_references(self, client, btype, schema):
        child = make_doc(client, btype, schema, "child")
        parent = make_doc(client, btype, schema, "parent",
                          data={"x": "p", "inner": {"$ref": {"block_document_id": child["id"]}}})
        assert parent["data"]["inner"] == {"x": "hello", "pw": "********"}
        ref = parent["block_document_references"]["inner"]["block_document"]
        assert (ref["id"], ref["name"], ref["is_anonymous"]) == (child["id"], "child", False)

    def test_reference_to_a_missing_document_is_409(self, client, btype, schema):
        r = client.post("block_documents/", json={"name": "p", "block_schema_id": schema["id"],
                                                  "block_type_id": btype["id"],
                                                  "data": {"inner": {"$ref": {"block_document_id": str(uuid.uuid4())}}}})
        assert r.status_code == 409


class TestDomainHelpers:
    def test_read_document_data_includes_secrets(self, client, btype, schema, dynamo_ctx):
        doc = make_doc(client, btype, schema)
        assert blocks.read_document_data(dynamo_ctx, doc["id"]) == {"x": "hello", "pw": "secretvalue123"}
        assert blocks.read_document_data(dynamo_ctx, str(uuid.uuid4())) is None
        assert blocks.read_document_data(dynamo_ctx, "not-a-uuid") is None
        assert blocks.document_exists(dynamo_ctx, doc["id"]) is True
        assert blocks.document_exists(dynamo_ctx, str(uuid.uuid4())) is False
