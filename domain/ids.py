"""Deterministic ids for name-unique objects (DESIGN.md "Data in DynamoDB").

A create is then one conditional write (``attribute_not_exists(id)``), race-free, and a read by
name is one GetItem — no index, no guard item.
"""

from __future__ import annotations

import uuid

NAMESPACE = uuid.UUID("6f1c5a7e-2d0b-4e55-9a6e-5b0f1f3c9d21")


def _id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "\x1f".join(parts)))


def flow_id(name: str) -> str:
    return _id("flow", name)


def deployment_id(flow_id: str, name: str) -> str:
    return _id("deployment", flow_id, name)


def work_pool_id(name: str) -> str:
    return _id("work_pool", name)


def work_queue_id(work_pool_id: str, name: str) -> str:
    return _id("work_queue", work_pool_id, name)


def variable_id(name: str) -> str:
    return _id("variable", name)


def block_type_id(slug: str) -> str:
    return _id("block_type", slug)


def block_schema_id(checksum: str, version: str | None) -> str:
    return _id("block_schema", checksum, version or "")


def block_document_id(block_type_id: str, name: str) -> str:
    return _id("block_document", block_type_id, name)


def flow_run_id(flow_id: str, idempotency_key: str) -> str:
    return _id("flow_run", flow_id, idempotency_key)


def new_id() -> str:
    return str(uuid.uuid4())


def canonical(value: str) -> str | None:
    """The lowercase hyphenated form of a UUID string, or None if it is not one."""
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, AttributeError, TypeError):
        return None


def task_run_id(flow_run_id: str | None, task_key: str, dynamic_key: str) -> str:
    return _id("task_run", flow_run_id or "", task_key, dynamic_key)
