"""`flowplane serve --api-key K`: the local app refuses requests without `Authorization: Bearer K`
before any route runs (nothing read or written), and `flowplane api-key` manages deployed keys."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from domain import name_guards
from infra.local import cli
from infra.local.auth import bearer_key_middleware
from infra.local.server import build_local_app

KEY = "local-secret-key"


@pytest.fixture
def guarded(dynamo_ctx):
    from handlers import _deps

    app = build_local_app(dynamo_ctx, api_key=KEY)
    with TestClient(app, base_url="http://testserver/api/", raise_server_exceptions=False) as c:
        c.headers["X-PREFECT-API-VERSION"] = "0.8.4"
        yield c
    _deps.use_context(None)


class TestBearerKeyMiddleware:
    def test_the_right_key_reaches_the_route(self, guarded):
        r = guarded.get("health", headers={"Authorization": f"Bearer {KEY}"})

        assert r.status_code == 200 and r.json() is True

    @pytest.mark.parametrize("headers", [
        {}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}, {"Authorization": f"Basic {KEY}"},
        {"Authorization": f"Bearer {KEY}x"}, {"Authorization": "Bearer "},
    ])
    def test_a_missing_or_wrong_key_is_401_unauthorized(self, guarded, headers):
        r = guarded.get("health", headers=headers)

        assert r.status_code == 401
        assert r.json() == {"detail": "Unauthorized"}
        assert r.headers["www-authenticate"] == "Bearer"

    def test_a_refused_write_reads_and_writes_nothing(self, guarded, dynamo_ctx, dynamo_calls):
        dynamo_calls.clear()

        r = guarded.post("flows/", json={"name": "intruder"}, headers={"Authorization": "Bearer wrong"})

        assert r.status_code == 401
        assert dynamo_calls.count() == 0
        assert name_guards.lookup(dynamo_ctx, dynamo_ctx.stores.flows, name_guards.flow("intruder")) is None

    def test_a_refused_read_of_an_unknown_route_is_401_not_404(self, guarded):
        assert guarded.get("no/such/route").status_code == 401

    def test_the_scheme_is_case_insensitive(self, guarded):
        assert guarded.get("health", headers={"Authorization": f"bearer {KEY}"}).status_code == 200

    def test_without_an_api_key_the_local_app_is_open(self, dynamo_ctx):
        from handlers import _deps

        app = build_local_app(dynamo_ctx, api_key=None)
        with TestClient(app, base_url="http://testserver/api/") as c:
            assert c.get("health").status_code == 200
        _deps.use_context(None)

    def test_an_empty_key_is_refused_at_startup(self):
        with pytest.raises(ValueError):
            bearer_key_middleware("")


@pytest.fixture
def dynamodb_endpoint():
    from infra.local.store import EmbeddedMotoServer

    server = EmbeddedMotoServer().start()
    yield server.endpoint
    server.stop()


class TestApiKeyCommand:
    def test_create_prints_the_key_once_then_list_and_revoke_manage_it(self, dynamodb_endpoint, capsys):
        assert cli.main(["api-key", "create", "--name", "ci", "--dynamodb-endpoint", dynamodb_endpoint]) == 0
        key = capsys.readouterr().out.strip()
        assert key.startswith("fpk_")
        key_id = key[4:16]

        assert cli.main(["api-key", "list", "--json", "--dynamodb-endpoint", dynamodb_endpoint]) == 0
        listed = json.loads(capsys.readouterr().out)
        assert [(k["id"], k["name"], k["revoked"]) for k in listed] == [(key_id, "ci", None)]
        assert key not in json.dumps(listed)

        assert cli.main(["api-key", "revoke", key_id, "--dynamodb-endpoint", dynamodb_endpoint]) == 0
        assert f"revoked {key_id}" in capsys.readouterr().out

        cli.main(["api-key", "list", "--json", "--dynamodb-endpoint", dynamodb_endpoint])
        assert json.loads(capsys.readouterr().out)[0]["revoked"] is not None

    def test_the_created_key_verifies_against_the_same_table(self, dynamodb_endpoint, capsys):
        from domain.context import Ctx
        from domain.services import api_keys
        from infra.dynamo.store import dynamo_stores
        from infra.local.invoke import local_settings

        cli.main(["api-key", "create", "--dynamodb-endpoint", dynamodb_endpoint])
        key = capsys.readouterr().out.strip()
        settings = local_settings(dynamodb_endpoint)

        assert api_keys.verify(Ctx(stores=dynamo_stores(settings), settings=settings), key) is not None

    def test_revoking_an_unknown_key_exits_1(self, dynamodb_endpoint, capsys):
        assert cli.main(["api-key", "revoke", "0123456789ab", "--dynamodb-endpoint", dynamodb_endpoint]) == 1
        assert "not found" in capsys.readouterr().err

    def test_without_a_target_it_explains_where_keys_live_and_exits_2(self, capsys):
        assert cli.main(["api-key", "list"]) == 2
        assert "--stack" in capsys.readouterr().err


class TestStackTarget:
    def test_the_stack_output_names_the_api_keys_table(self):
        import boto3
        from moto import mock_aws

        from infra.local.commands import stack_table

        template = {"Resources": {"ApiKeysTable": {"Type": "AWS::DynamoDB::Table", "Properties": {
                        "BillingMode": "PAY_PER_REQUEST", "TableName": "stack-ApiKeys",
                        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}}},
                    "Outputs": {"ApiKeysTableName": {"Value": {"Ref": "ApiKeysTable"}}}}
        with mock_aws():
            boto3.client("cloudformation", region_name="us-east-1").create_stack(
                StackName="fp", TemplateBody=json.dumps(template))

            assert stack_table("fp", "us-east-1") == "stack-ApiKeys"

    def test_a_stack_without_the_output_is_refused(self):
        import boto3
        from moto import mock_aws

        from infra.local.commands import TargetError, stack_table

        template = {"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}
        with mock_aws():
            boto3.client("cloudformation", region_name="us-east-1").create_stack(
                StackName="other", TemplateBody=json.dumps(template))

            with pytest.raises(TargetError, match="ApiKeysTableName"):
                stack_table("other", "us-east-1")
