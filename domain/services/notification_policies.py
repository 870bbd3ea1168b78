"""Flow-run notification policies (``/flow_run_notification_policies``): the UI's Notifications page.

As the 2.20 reference: create is 201 with ``message_template`` null unless given (a template may
only use the documented variables: 422 ``Invalid template variable provided: '<name>'``); an unknown
``block_document_id`` is the fixed 409 integrity text; the filter is ordered by id with
``is_active.eq_``; PATCH is 204 and its 404 text is the reference's literal
``Flow run notification policy <built-in function id> not found`` (quirk kept: the UI shows only
the status); GET and DELETE say ``flow run notification policy not found``.

Stored and served only: sending the notifications (the reference's notification service) is not
part of flowplane yet.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domain.context import Ctx
from domain.errors import ConditionFailed, IntegrityConflict, NotFound
from domain.parsing import Embedded, path_uuid
from domain.ports import Cond
from domain.services.queries import check_limit
from domain.sharded_index import query_all
from domain.timeutil import iso_utc

TEMPLATE_KWARGS = (
    "flow_run_notification_policy_id", "flow_id", "flow_name", "flow_run_url", "flow_run_id", "flow_run_name",
    "flow_run_parameters", "flow_run_state_type", "flow_run_state_name", "flow_run_state_timestamp",
    "flow_run_state_message",
)
WIRE_KEYS = ("id", "created", "updated", "is_active", "state_names", "tags", "block_document_id", "message_template")
NOT_FOUND = "flow run notification policy not found"
UPDATE_NOT_FOUND = "Flow run notification policy <built-in function id> not found"


def _check_template(v: str | None) -> str | None:
    if v is not None:
        try:
            v.format(**dict.fromkeys(TEMPLATE_KWARGS, "test"))
        except KeyError as exc:
            raise ValueError(f"Invalid template variable provided: '{exc.args[0]}'") from None
        except IndexError as exc:
            raise ValueError(str(exc)) from None
    return v


class PolicyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    is_active: bool = True
    state_names: list[str]
    tags: list[str]
    block_document_id: uuid.UUID
    message_template: str | None = None

    @field_validator("message_template")
    @classmethod
    def _template(cls, v: str | None) -> str | None:
        return _check_template(v)


class PolicyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    is_active: bool | None = None
    state_names: list[str] | None = None
    tags: list[str] | None = None
    block_document_id: uuid.UUID | None = None
    message_template: str | None = None

    @field_validator("message_template")
    @classmethod
    def _template(cls, v: str | None) -> str | None:
        return _check_template(v)


class _IsActive(BaseModel):
    model_config = ConfigDict(extra="forbid")
    eq_: bool | None = None


class PolicyFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    is_active: _IsActive | None = Field(default_factory=lambda: _IsActive(eq_=False))


class PolicyQuery(Embedded):
    offset: int = Field(default=0, ge=0)
    limit: int | None = None
    flow_run_notification_policy_filter: PolicyFilter | None = None


def _wire(doc: dict) -> dict[str, Any]:
    return {k: doc.get(k) for k in WIRE_KEYS}


def _check_block(ctx: Ctx, block_document_id: uuid.UUID) -> None:
    if ctx.stores.block_documents.get(str(block_document_id)) is None:
        raise IntegrityConflict()


def create(ctx: Ctx, body: PolicyCreate) -> dict[str, Any]:
    _check_block(ctx, body.block_document_id)
    now = iso_utc(ctx.now())
    doc = {"id": str(uuid.uuid4()), "created": now, "updated": now, "is_active": body.is_active,
           "state_names": body.state_names, "tags": body.tags, "block_document_id": str(body.block_document_id),
           "message_template": body.message_template}
    ctx.stores.flow_run_notification_policies.put(doc, cond=Cond.absent())
    return _wire(doc)


def read(ctx: Ctx, raw_id: str) -> dict[str, Any]:
    doc = ctx.stores.flow_run_notification_policies.get(path_uuid(raw_id))
    if doc is None:
        raise NotFound(NOT_FOUND)
    return _wire(doc)


def update(ctx: Ctx, raw_id: str, body: PolicyUpdate) -> None:
    store = ctx.stores.flow_run_notification_policies
    pid = path_uuid(raw_id)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("block_document_id") is not None:
        _check_block(ctx, body.block_document_id)
        changes["block_document_id"] = str(body.block_document_id)
    current = store.get(pid)
    if current is None:
        raise NotFound(UPDATE_NOT_FOUND)
    try:
        store.put({**current, **changes, "updated": iso_utc(ctx.now())}, cond=Cond.exists())
    except ConditionFailed:
        raise NotFound(UPDATE_NOT_FOUND) from None


def delete(ctx: Ctx, raw_id: str) -> None:
    if not ctx.stores.flow_run_notification_policies.delete(path_uuid(raw_id)):
        raise NotFound(NOT_FOUND)


def filter_policies(ctx: Ctx, q: PolicyQuery) -> list[dict[str, Any]]:
    limit = check_limit(ctx, q.limit)
    f = q.flow_run_notification_policy_filter
    want = f.is_active.eq_ if f is not None and f.is_active is not None else None
    out: list[dict[str, Any]] = []
    seen = 0
    for doc in query_all(ctx.stores.flow_run_notification_policies, "by_id"):
        if want is not None and doc.get("is_active") != want:
            continue
        if seen >= q.offset:
            out.append(_wire(doc))
            if len(out) >= limit:
                break
        seen += 1
    return out
