"""Read ``template.yaml`` (with CloudFormation's short-form tags) and create its tables.

Local and test tables are created from the template, so the schema the code runs against is the
schema that gets deployed.
"""

from __future__ import annotations

import functools
import pathlib
from typing import Any

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    pass


def _tag(loader: yaml.Loader, suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


def load(path: pathlib.Path | str = TEMPLATE) -> dict:
    """The parsed template (cached per path and modification time: parsing costs ~0.5 s).

    Callers must treat the result as read-only.
    """
    path = pathlib.Path(path)
    return _load(str(path.resolve()), path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int) -> dict:
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


def tables(template: dict) -> dict[str, dict]:
    """Logical table name (``Flows``) -> the table resource's Properties."""
    out = {}
    for rid, res in template.get("Resources", {}).items():
        if res.get("Type") == "AWS::DynamoDB::Table" and rid.endswith("Table"):
            out[rid[: -len("Table")]] = res["Properties"]
    return out


def create_table_request(props: dict, table_name: str) -> dict:
    req: dict[str, Any] = {
        "TableName": table_name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if props.get("GlobalSecondaryIndexes"):
        req["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    if props.get("StreamSpecification"):
        req["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    return req


def create_tables(client, settings, template: dict | None = None) -> list[str]:
    """Create every table of the template that does not exist yet, and the GSIs that tables made
    from an older template lack; returns what was created (table names, ``<table>.<index>``)."""
    template = template or load()
    existing = set(_table_names(client))
    created = []
    for logical, props in tables(template).items():
        name = settings.table(logical)
        if name in existing:
            created += [f"{name}.{ix}" for ix in add_missing_indexes(client, name, props)]
            continue
        client.create_table(**create_table_request(props, name))
        created.append(name)
    return created


def _table_names(client) -> list[str]:
    """Every table name (ListTables answers at most 100 a page)."""
    return [n for page in client.get_paginator("list_tables").paginate() for n in page.get("TableNames", [])]


def add_missing_indexes(client, name: str, props: dict, *, wait_seconds: float = 600.0) -> list[str]:
    """Create the template's GSIs that table ``name`` lacks, one ``UpdateTable`` each (DynamoDB takes
    one GSI creation per update), waiting for each to be ACTIVE; returns their names. Items stored
    before an index existed are in it only if they carry its key attributes: ``flowplane reshard``
    writes those that do not. Indexes the template no longer has are left alone."""
    import time

    have = {g["IndexName"] for g in client.describe_table(TableName=name)["Table"].get("GlobalSecondaryIndexes", [])}
    added = []
    for gsi in props.get("GlobalSecondaryIndexes") or []:
        if gsi["IndexName"] in have:
            continue
        keys = {k["AttributeName"] for k in gsi["KeySchema"]}
        client.update_table(
            TableName=name,
            AttributeDefinitions=[d for d in props["AttributeDefinitions"] if d["AttributeName"] in keys],
            GlobalSecondaryIndexUpdates=[{"Create": {k: gsi[k] for k in ("IndexName", "KeySchema", "Projection")}}])
        deadline = time.monotonic() + wait_seconds
        while True:
            table = client.describe_table(TableName=name)["Table"]
            status = {g["IndexName"]: g.get("IndexStatus") for g in table.get("GlobalSecondaryIndexes", [])}
            if status.get(gsi["IndexName"]) == "ACTIVE":
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name}.{gsi['IndexName']} is not ACTIVE after {wait_seconds:.0f} s")
            time.sleep(1)
        added.append(gsi["IndexName"])
    return added
