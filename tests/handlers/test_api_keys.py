"""API keys (domain/services/api_keys.py) and the HTTP API authorizer that checks them."""

from __future__ import annotations

import json

import pytest

from domain.errors import NotFound
from domain.services import api_keys
from handlers import _deps, authorizer
from infra.local import events as event_files


class TestCreateApiKey:
    def test_returns_the_plaintext_key_once_and_stores_only_a_salted_hash(self, memory_ctx):
        key, record = api_keys.create(memory_ctx, "ci")

        assert key.startswith("fpk_")
        key_id, secret = api_keys.parse(key)
        assert record == {"id": key_id, "name": "ci", "created": record["created"], "revoked": None}
        stored = memory_ctx.stores.api_keys.get(key_id)
        assert secret not in json.dumps(stored) and key not in json.dumps(stored)
        assert set(stored) == {"id", "name", "created", "revoked", "salt", "hash"}
        assert len(stored["salt"]) == 32 and len(stored["hash"]) == 64

    def test_two_keys_get_different_ids_salts_and_secrets(self, memory_ctx):
        k1, r1 = api_keys.create(memory_ctx, "a")
        k2, r2 = api_keys.create(memory_ctx, "b")

        s1, s2 = (memory_ctx.stores.api_keys.get(r["id"]) for r in (r1, r2))
        assert k1 != k2 and r1["id"] != r2["id"] and s1["salt"] != s2["salt"]


class TestVerifyApiKey:
    def test_the_created_key_verifies_to_its_record(self, memory_ctx):
        key, record = api_keys.create(memory_ctx, "ci")

        assert api_keys.verify(memory_ctx, key) == record

    @pytest.mark.parametrize("mangle", [
        lambda k: k[:-1] + ("A" if k[-1] != "A" else "B"),   # wrong secret
        lambda k: k.replace("fpk_", "fpx_"),                   # wrong prefix
        lambda k: k[:4] + "ffffffffffff" + k[16:],             # unknown id
        lambda k: "",
        lambda k: "fpk_",
        lambda k: "fpk_nothex123456_secret",
    ])
    def test_anything_but_the_exact_key_is_refused(self, memory_ctx, mangle):
        key, _ = api_keys.create(memory_ctx, "ci")

        assert api_keys.verify(memory_ctx, mangle(key)) is None

    def test_a_malformed_key_costs_no_store_call(self, memory_ctx):
        memory_ctx.stores.api_keys.calls.clear()

        assert api_keys.verify(memory_ctx, "Bearer nonsense") is None
        assert memory_ctx.stores.api_keys.calls == []

    def test_a_revoked_key_no_longer_verifies(self, memory_ctx):
        key, record = api_keys.create(memory_ctx, "ci")

        revoked = api_keys.revoke(memory_ctx, record["id"])

        assert revoked["revoked"] is not None
        assert api_keys.verify(memory_ctx, key) is None


class TestRevokeApiKey:
    def test_revoking_by_the_full_key_works_too_and_is_idempotent(self, memory_ctx, clock):
        key, record = api_keys.create(memory_ctx, "ci")
        clock.freeze()

        first = api_keys.revoke(memory_ctx, key)
        clock.advance(minutes=5)
        second = api_keys.revoke(memory_ctx, record["id"])

        assert first["revoked"] == second["revoked"]

    def test_an_unknown_key_is_not_found(self, memory_ctx):
        with pytest.raises(NotFound):
            api_keys.revoke(memory_ctx, "0123456789ab")


class TestListApiKeys:
    def test_lists_every_key_oldest_first_without_secrets(self, memory_ctx, clock):
        clock.freeze()
        _, a = api_keys.create(memory_ctx, "first")
        clock.advance(seconds=1)
        _, b = api_keys.create(memory_ctx, "second")
        api_keys.revoke(memory_ctx, a["id"])

        listed = api_keys.list_keys(memory_ctx)

        assert [k["id"] for k in listed] == [a["id"], b["id"]]
        assert listed[0]["revoked"] is not None and listed[1]["revoked"] is None
        assert all(set(k) == {"id", "name", "created", "revoked"} for k in listed)


class TestBearerToken:
    @pytest.mark.parametrize("header,token", [
        ("Bearer abc", "abc"), ("bearer abc", "abc"), ("BEARER  abc ", "abc"),
        ("Basic abc", None), ("Bearer", None), ("Bearer ", None), ("", None), (None, None), ("abc", None),
    ])
    def test_extracts_the_token_of_a_bearer_header(self, header, token):
        assert api_keys.bearer_token(header) == token


@pytest.fixture
def authorizer_ctx(dynamo_ctx):
    _deps.use_context(dynamo_ctx)
    yield dynamo_ctx
    _deps.use_context(None)


def _auth_event(authorization: str | None) -> dict:
    event = json.loads((event_files.EVENTS / "AuthorizerFunction.json").read_text())
    event["headers"].pop("authorization", None)
    event.pop("identitySource", None)
    if authorization is not None:
        event["headers"]["authorization"] = authorization
        event["identitySource"] = [authorization]
    return event


class TestAuthorizer:
    def test_a_stored_key_is_authorized_with_its_id_in_the_context(self, authorizer_ctx):
        key, record = api_keys.create(authorizer_ctx, "ci")

        answer = authorizer.handler(_auth_event(f"Bearer {key}"), None)

        assert answer == {"isAuthorized": True, "context": {"keyId": record["id"], "keyName": "ci"}}

    def test_a_wrong_secret_is_refused(self, authorizer_ctx):
        key, _ = api_keys.create(authorizer_ctx, "ci")

        assert authorizer.handler(_auth_event(f"Bearer {key[:-2]}xx"), None) == {"isAuthorized": False}

    def test_a_revoked_key_is_refused(self, authorizer_ctx):
        key, record = api_keys.create(authorizer_ctx, "ci")
        api_keys.revoke(authorizer_ctx, record["id"])

        assert authorizer.handler(_auth_event(f"Bearer {key}"), None) == {"isAuthorized": False}

    @pytest.mark.parametrize("authorization", [None, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer not-a-key"])
    def test_a_missing_or_malformed_header_is_refused_without_reading_the_store(
            self, authorizer_ctx, dynamo_calls, authorization):
        dynamo_calls.clear()

        assert authorizer.handler(_auth_event(authorization), None) == {"isAuthorized": False}
        assert dynamo_calls.count() == 0

    def test_a_well_formed_key_costs_exactly_one_get_item(self, authorizer_ctx, dynamo_calls):
        key, _ = api_keys.create(authorizer_ctx, "ci")
        dynamo_calls.clear()

        authorizer.handler(_auth_event(f"Bearer {key}"), None)

        assert list(dynamo_calls) == ["GetItem"]

    def test_the_identity_source_is_used_when_headers_are_absent(self, authorizer_ctx):
        key, _ = api_keys.create(authorizer_ctx, "ci")
        event = _auth_event(f"Bearer {key}")
        del event["headers"]

        assert authorizer.handler(event, None)["isAuthorized"] is True

    def test_the_authorizer_does_not_import_the_web_stack(self):
        import subprocess
        import sys

        code = ("import sys, handlers.authorizer; "
                "print(sorted(m for m in ('fastapi', 'starlette', 'mangum', 'jsonschema', 'jinja2') if m in sys.modules))")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

        assert out.stdout.strip() == "[]"
