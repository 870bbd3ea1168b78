"""Flows: upsert by name, read, update tags, filter/count, delete with cascade (spec §4.11)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from domain import ids
from domain.context import Ctx
from domain.errors import ConditionFailed, NotFound
from domain.names import check_name
from domain.timeutil import iso_utc

FLOW_NOT_FOUND = "Flow not found"


class FlowCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, AfterValidator(check_name)]
    tags: list[str] = Field(default_factory=list)


class FlowUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tags: list[str] | None = None


def to_wire(doc: dict) -> dict:
    return {k: doc[k] for k in ("id", "created", "updated", "name", "tags")}


def create(ctx: Ctx, body: FlowCreate) -> tuple[dict, bool]:
    """Returns (flow, created). Concurrent creates of one name race on one conditional put."""
    now = iso_utc(ctx.now())
    doc = {"id": ids.flow_id(body.name), "created": now, "updated": now, "name": body.name, "tags": body.tags}
    try:
        ctx.stores.flows.put(doc, cond=_absent())
        return to_wire(doc), True
    except ConditionFailed:
        existing = ctx.stores.flows.get(doc["id"])
        if existing is None:  # deleted in between: try once more
            ctx.stores.flows.put(doc, cond=_absent())
            return to_wire(doc), True
        return to_wire(existing), False


def _absent():
    from domain.ports import Cond

    return Cond.absent()


def read(ctx: Ctx, flow_id: str) -> dict:
    doc = ctx.stores.flows.get(flow_id)
    if doc is None:
        raise NotFound(FLOW_NOT_FOUND)
    return to_wire(doc)


def read_by_name(ctx: Ctx, name: str) -> dict:
    return read(ctx, ids.flow_id(name))


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
    """Delete the flow, its deployments (schedules are embedded in them) and its runs."""
    if ctx.stores.flows.get(flow_id) is None:
        raise NotFound(FLOW_NOT_FOUND)
    dep_ids = [d["id"] for d in ctx.stores.deployments.query("by_flow", flow_id)]
    ctx.stores.deployments.delete_many(dep_ids)
    run_ids = [r["id"] for r in ctx.stores.flow_runs.query("by_flow", flow_id)]
    ctx.stores.flow_runs.delete_many(run_ids)
    ctx.stores.flows.delete(flow_id)
