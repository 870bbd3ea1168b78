"""Flow-run inputs (orchestration spec §1.5): the key/value texts ``pause_flow_run(wait_for_input=…)``
and ``suspend_flow_run`` exchange through the server (the RunInput schema before pausing, the
resumer's answer after).

An input's id is ``uuid5(flow run id, key)``: a create is one conditional write (a duplicate key
is a 409), reading or deleting one by key is one GetItem/DeleteItem; the prefix filter is one
Query of ``by_flow_run`` (key-sorted, ``begins_with``).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, field_validator

from domain import ids
from domain.context import Ctx
from domain.errors import ConditionFailed, Conflict, NotFound
from domain.parsing import Embedded
from domain.ports import Cond, TxPut
from domain.timeutil import iso_utc, parse, sort_key

INPUT_NOT_FOUND = "Flow run input not found"
WIRE_KEYS = ("id", "created", "updated", "flow_run_id", "key", "value", "sender")
_KEY_RE = re.compile(r"^[a-z0-9-]*$")


def input_id(flow_run_id: str, key: str) -> str:
    return ids._id("flow_run_input", flow_run_id, key)


class FlowRunInputCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    key: str
    value: str
    sender: str | None = None

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        # an empty key cannot be an index key in DynamoDB (``by_flow_run``): refused with the same
        # text (the reference stores it; no client sends one)
        if not v or not _KEY_RE.match(v):
            raise ValueError("value must only contain lowercase letters, numbers, and dashes.")
        return v


class FlowRunInputFilter(Embedded):
    BODY_ORDER: ClassVar[tuple[str, ...]] = (# the reference's parameter order
        "prefix", "limit", "exclude_keys")
    prefix: str
    limit: int = 1
    exclude_keys: list[str] = []


def input_doc(ctx: Ctx, flow_run_id: str, key: str, value: str, sender: str | None = None) -> dict[str, Any]:
    stamp = iso_utc(ctx.now())
    return {"id": input_id(flow_run_id, key), "created": stamp, "updated": stamp, "flow_run_id": flow_run_id,
            "key": key, "value": value, "sender": sender}


def put_op(ctx: Ctx, flow_run_id: str, key: str, value: str) -> TxPut:
    """The write of an input inside another transaction (resume stores its answer this way)."""
    return TxPut(ctx.stores.flow_run_inputs, input_doc(ctx, flow_run_id, key, value))


def create(ctx: Ctx, flow_run_id: str, body: FlowRunInputCreate) -> None:
    if ctx.stores.flow_runs.get(flow_run_id) is None:
        raise NotFound("Flow run not found")
    try:
        ctx.stores.flow_run_inputs.put(input_doc(ctx, flow_run_id, body.key, body.value, body.sender),
                                       cond=Cond.absent())
    except ConditionFailed:
        raise Conflict("A flow run input with this key already exists.") from None


def value_of(ctx: Ctx, flow_run_id: str, key: str) -> str | None:
    doc = ctx.stores.flow_run_inputs.get(input_id(flow_run_id, key))
    return doc["value"] if doc is not None else None


def read(ctx: Ctx, flow_run_id: str, key: str) -> str:
    value = value_of(ctx, flow_run_id, key)
    if value is None:
        raise NotFound(INPUT_NOT_FOUND)
    return value


def delete(ctx: Ctx, flow_run_id: str, key: str) -> None:
    if not ctx.stores.flow_run_inputs.delete(input_id(flow_run_id, key)):
        raise NotFound(INPUT_NOT_FOUND)


def filter_inputs(ctx: Ctx, flow_run_id: str, body: FlowRunInputFilter) -> list[dict[str, Any]]:
    """Inputs whose key starts with ``prefix``, not excluded, oldest first, at most ``limit``."""
    excluded = set(body.exclude_keys)
    # an empty prefix is every key (DynamoDB refuses an empty ``begins_with`` operand)
    found = [d for d in ctx.stores.flow_run_inputs.query("by_flow_run", flow_run_id, sk_begins=body.prefix or None)
             if d["key"] not in excluded]
    found.sort(key=lambda d: (sort_key(parse(d["created"])), d["id"]))
    limit = max(0, body.limit)
    return [{k: d.get(k) for k in WIRE_KEYS} for d in found[:limit]]
