"""Ids. Name-unique objects (flows, deployments, pools, queues, variables, block types and documents) get
fresh ``new_id()`` ids, their names held by guard items (``domain.name_guards``), as in the
reference: deleting and re-creating one gives a new id.

Deterministic ``uuid5`` ids remain where identity *is* the natural key and nothing can re-attach
to a re-created object by id: block schemas (checksum, version), runs that
the scheduler inserts idempotently (flow id + idempotency key, the key naming the deployment id),
task runs (flow run, task key, dynamic key).
"""

from __future__ import annotations

import uuid

NAMESPACE = uuid.UUID("6f1c5a7e-2d0b-4e55-9a6e-5b0f1f3c9d21")


def _id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "\x1f".join(parts)))


def block_schema_id(checksum: str, version: str | None) -> str:
    return _id("block_schema", checksum, version or "")


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
