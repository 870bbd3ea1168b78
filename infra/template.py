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
    """Create every table of the template that does not exist yet; returns the created names."""
    template = template or load()
    existing = set(client.list_tables().get("TableNames", []))
    created = []
    for logical, props in tables(template).items():
        name = settings.table(logical)
        if name in existing:
            continue
        client.create_table(**create_table_request(props, name))
        created.append(name)
    return created
