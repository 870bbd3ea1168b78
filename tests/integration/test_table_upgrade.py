"""Tables made from an older template get the GSIs they lack when a local server (or command) opens
them (``--dynamodb-endpoint``: DynamoDB Local, LocalStack), and the runs stored before are written
into the new indexes — a filter through them finds every run, not only the ones written since."""

from __future__ import annotations

import copy
import dataclasses
import uuid

import boto3

from domain.settings import Settings
from domain.sharded_index import query_all
from infra.dynamo.store import DynamoStore
from infra.local.store import EmbeddedMotoServer, ensure_fake_credentials, open_store
from infra.template import create_tables, load
from tests.previous_layouts import FLOW_RUNS_BEFORE_STATE_TYPE_SHARDS

ADDED = ("by_state_type_sharded", "by_deployment_state")


def _older(template: dict) -> dict:
    """The template without two of FlowRuns' GSIs (and their key attributes), as an older release had it."""
    old = copy.deepcopy(template)
    props = old["Resources"]["FlowRunsTable"]["Properties"]
    gone = {k["AttributeName"] for g in props["GlobalSecondaryIndexes"] if g["IndexName"] in ADDED
            for k in g["KeySchema"]}
    props["GlobalSecondaryIndexes"] = [g for g in props["GlobalSecondaryIndexes"] if g["IndexName"] not in ADDED]
    kept = {k["AttributeName"] for g in props["GlobalSecondaryIndexes"] for k in g["KeySchema"]} | {"id"}
    props["AttributeDefinitions"] = [d for d in props["AttributeDefinitions"]
                                     if d["AttributeName"] not in gone or d["AttributeName"] in kept]
    return old


def _run(i: int) -> dict:
    at = f"2026-03-01T10:{i:02d}:00+00:00"
    return {"id": str(uuid.uuid4()), "flow_id": "f", "deployment_id": "dep", "state_type": "RUNNING",
            "state_name": "Running", "created": at, "expected_start_time": at, "_rev": 1}


def test_an_older_tables_missing_indexes_are_created_and_filled_when_opened():
    ensure_fake_credentials()
    server = EmbeddedMotoServer().start()
    try:
        settings = Settings(table_prefix=f"upgrade-{uuid.uuid4().hex[:6]}-", dynamodb_endpoint=server.endpoint)
        client = boto3.client("dynamodb", endpoint_url=server.endpoint, region_name=settings.region)
        create_tables(client, settings, _older(load()))
        spec = FLOW_RUNS_BEFORE_STATE_TYPE_SHARDS
        older_spec = dataclasses.replace(spec, indexes=tuple(ix for ix in spec.indexes if ix.name not in ADDED))
        runs = [_run(i) for i in range(12)]
        DynamoStore(older_spec, settings).put_many(runs)  # stored without the new indexes' key attributes

        opened = open_store(settings, dynamodb_endpoint=server.endpoint)
        try:
            table = client.describe_table(TableName=settings.table("FlowRuns"))["Table"]
            names = {g["IndexName"] for g in table["GlobalSecondaryIndexes"]}
            assert set(ADDED) <= names
            store = opened.stores.flow_runs
            want = sorted(r["id"] for r in runs)
            assert sorted(d["id"] for d in query_all(store, "by_state_type_sharded", "RUNNING")) == want
            assert sorted(d["id"] for d in store.query("by_deployment_state", "dep#RUNNING")) == want
            assert [store.get(r["id"]) for r in runs] == runs  # written again unchanged
        finally:
            opened.close()

        assert create_tables(client, settings) == []  # nothing left to add
    finally:
        server.stop()


def test_a_table_that_has_every_index_is_not_touched():
    ensure_fake_credentials()
    server = EmbeddedMotoServer().start()
    try:
        settings = Settings(table_prefix=f"same-{uuid.uuid4().hex[:6]}-")
        client = boto3.client("dynamodb", endpoint_url=server.endpoint, region_name=settings.region)
        first = create_tables(client, settings)
        assert len(first) == len([k for k in load()["Resources"] if k.endswith("Table")
                                  and load()["Resources"][k]["Type"] == "AWS::DynamoDB::Table"])
        assert create_tables(client, settings) == []
    finally:
        server.stop()


