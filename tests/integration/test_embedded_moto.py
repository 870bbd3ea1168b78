"""The embedded moto server of ``flowplane serve --store moto`` enters moto's backend one request at
a time. moto is not thread-safe: its ``TransactWriteItems`` deep-copies every table while another
request thread may be writing one, which answered a 500 ("dictionary changed size during
iteration") and lost the write under the real client's concurrent calls (a CI run of
``make e2e-moto`` failed on it)."""

from __future__ import annotations

import threading
import time
import uuid

import boto3
import pytest
from moto.dynamodb.responses import DynamoHandler

from infra.local.store import EmbeddedMotoServer, ensure_fake_credentials

WRITERS = 6


@pytest.fixture
def endpoint():
    ensure_fake_credentials()
    server = EmbeddedMotoServer().start()
    yield server.endpoint
    server.stop()


def _client(endpoint: str):
    return boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")


def test_concurrent_writes_never_overlap_inside_moto_and_all_land(endpoint, monkeypatch):
    inside, most = 0, 0
    guard = threading.Lock()

    def observed(real):  # around each request's DynamoDB action
        def call(self, *args, **kwargs):
            nonlocal inside, most
            with guard:
                inside += 1
                most = max(most, inside)
            time.sleep(0.02)  # long enough that unserialised requests would overlap
            try:
                return real(self, *args, **kwargs)
            finally:
                with guard:
                    inside -= 1
        return call

    monkeypatch.setattr(DynamoHandler, "call_action", observed(DynamoHandler.call_action))
    # moto's backend is the process's: the table gets a name no other test uses, and is dropped after
    table = f"embedded-moto-{uuid.uuid4().hex[:8]}"
    _client(endpoint).create_table(
        TableName=table, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    errors: list[str] = []

    def write(n: int) -> None:
        client = _client(endpoint)
        for i in range(5):
            try:
                if n % 2:
                    client.transact_write_items(TransactItems=[
                        {"Put": {"TableName": table, "Item": {"id": {"S": f"tx-{n}-{i}-{half}"}}}} for half in "ab"])
                else:
                    client.put_item(TableName=table, Item={"id": {"S": f"put-{n}-{i}"}})
            except Exception as exc:  # noqa: BLE001 — every failure is the finding
                errors.append(repr(exc))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert most == 1
    stored = _client(endpoint).scan(TableName=table, Select="COUNT")["Count"]
    _client(endpoint).delete_table(TableName=table)
    assert stored == (WRITERS // 2) * 5 * 2 + (WRITERS // 2) * 5


def test_a_stopped_server_frees_its_port_for_the_next_one():
    first = EmbeddedMotoServer().start()
    first.stop()
    second = EmbeddedMotoServer(port=first.port).start()
    try:
        assert "TableNames" in _client(second.endpoint).list_tables()
    finally:
        second.stop()
