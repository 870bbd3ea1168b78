"""Flows: upsert by name, read, update tags, filter/count, delete with cascade (spec §4.11)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from domain import ids, name_guards
from domain.contention import attempts
from domain.context import Ctx
from domain.errors import ConditionFailed, NotFound, ServiceUnavailable
from domain.names import check_name
from domain.timeutil import iso_utc

FLOW_NOT_FOUND = "Flow not found"


class FlowCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # DynamoDB refuses an empty string as an index key (the name GSI): an empty name is a 422
    # here, as for queues and variables (the reference creates it; no client sends one)
    name: Annotated[str, Field(min_length=1), AfterValidator(check_name)]
    tags: list[str] = Field(default_factory=list)


class FlowUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tags: list[str] | None = None


def to_wire(doc: dict) -> dict:
    return {k: doc[k] for k in ("id", "created", "updated", "name", "tags")}


def create(ctx: Ctx, body: FlowCreate) -> tuple[dict, bool]:
    """Returns (flow, created). A new flow gets a fresh id; its name guard (written in the same
    transaction) makes concurrent creates of one name give one flow."""
    key = name_guards.flow(body.name)
    for _ in attempts():
        existing = name_guards.lookup(ctx, ctx.stores.flows, key)
        if existing is not None:
            return to_wire(existing), False
        now = iso_utc(ctx.now())
        doc = {"id": ids.new_id(), "created": now, "updated": now, "name": body.name, "tags": body.tags}
        try:
            name_guards.insert(ctx, ctx.stores.flows, doc, key)
        except ConditionFailed:
            continue  # a concurrent create won (read it), or a transaction conflicted
        return to_wire(doc), True
    raise ServiceUnavailable("Service Unavailable")


def read(ctx: Ctx, flow_id: str) -> dict:
    doc = ctx.stores.flows.get(flow_id)
    if doc is None:
        raise NotFound(FLOW_NOT_FOUND)
    return to_wire(doc)


def read_by_name(ctx: Ctx, name: str) -> dict:
    doc = name_guards.lookup(ctx, ctx.stores.flows, name_guards.flow(name))
    if doc is None:
        raise NotFound(FLOW_NOT_FOUND)
    return to_wire(doc)


def update(ctx: Ctx, flow_id: str, body: FlowUpdate) -> None:
    from domain.ports import Cond

    doc = ctx.stores.flows.get(flow_id)
    if doc is None:
        raise NotFound(FLOW_NOT_FOUND)
    if "tags" in body.model_fields_set and body.tags is not None:
        doc["tags"] = body.tags
    doc["updated"] = iso_utc(ctx.now())
    try:
        ctx.stores.flows.put(doc, cond=Cond.exists())
    except ConditionFailed:
        raise NotFound(FLOW_NOT_FOUND) from None


def delete(ctx: Ctx, flow_id: str) -> None:
    """Delete the flow, its deployments (schedules are embedded in them) and its runs; each
    object goes with its name guard."""
    flow = ctx.stores.flows.get(flow_id)
    if flow is None:
        raise NotFound(FLOW_NOT_FOUND)
    deployments = list(ctx.stores.deployments.query("by_flow", flow_id))
    name_guards.remove_many(ctx, ctx.stores.deployments,
                            [(d["id"], name_guards.deployment(flow_id, d["name"])) for d in deployments])
    from domain import tag_index  # their tag items after them (one left behind costs a read, never an answer)

    ctx.stores.tag_index.delete_many([k for d in deployments for k in tag_index.items("deployment", d)])
    from domain.services import flow_runs

    flow_runs.delete_runs(ctx, ctx.stores.flow_runs.query("by_flow", flow_id))
    try:
        name_guards.remove(ctx, ctx.stores.flows, flow_id, name_guards.flow(flow["name"]))
    except ConditionFailed:
        raise NotFound(FLOW_NOT_FOUND) from None
