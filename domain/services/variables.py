"""Workspace variables: create, read/update/delete by id or by name, filter, count.

Identity. A variable's id is ``ids.variable_id(name)`` when it is created, so concurrent creates of
one name race on a single conditional put (one 201, the others 409). A rename (PATCH ``name``)
keeps the id, so reads by name try the deterministic id first (one strongly consistent GetItem)
and fall back to the ``by_name`` index. A rename first checks the new name is free; check and
write are two requests, so two concurrent operations that both *rename to* (or create over a
renamed-away id with) the same name can both succeed, leaving two variables with one name (the
reference has a unique constraint). Renames are rare, human-driven edits; closing the window needs
a guard item per name written in a transaction with the variable.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from domain import ids
from domain.context import Ctx
from domain.errors import ConditionFailed, IntegrityConflict, NotFound
from domain.filters import VariableFilter, VariableSort, sort_documents
from domain.parsing import Embedded, invalid
from domain.ports import ALL, Cond, Doc
from domain.services.queries import Page, check_limit
from domain.timeutil import iso_utc

MAX_NAME_LENGTH = 255
MAX_VALUE_LENGTH = 5000
NOT_FOUND = "Variable not found."
WIRE_KEYS = ("id", "created", "updated", "name", "value", "tags")

_NAME_RE = re.compile(r"[a-z0-9_]+")


def check_variable_name(value: str | None) -> str | None:
    """The 2.20 rule (lowercase letters, digits, underscores). The reference also accepts the
    empty name; DynamoDB index keys cannot be empty strings, so flowplane refuses it."""
    if value is not None and not _NAME_RE.fullmatch(value):
        raise ValueError("Variable name must only contain lowercase letters, numbers, and underscores.")
    return value


def _coerce_scalar(value: Any) -> Any:
    """pydantic v1 ``str`` semantics: numbers and booleans become their ``str()``."""
    if isinstance(value, (bool, int, float)):
        return str(value)
    return value


Name = Annotated[str, Field(max_length=MAX_NAME_LENGTH), AfterValidator(check_variable_name)]
Value = Annotated[str, BeforeValidator(_coerce_scalar), Field(max_length=MAX_VALUE_LENGTH)]


class VariableCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    value: Value
    tags: list[str] = Field(default_factory=list)


class VariableUpdate(BaseModel):
    """Only keys present are written; ``value``/``tags`` null violate NOT NULL columns (409)."""

    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    value: Value | None = None
    tags: list[str] | None = None


class VariableQuery(Page):
    variables: VariableFilter | None = None
    sort: VariableSort = VariableSort.NAME_ASC


class VariableCount(Embedded):
    variables: VariableFilter | None = None


def to_wire(doc: Doc) -> dict[str, Any]:
    return {k: doc.get(k) for k in WIRE_KEYS}


# ---------------------------------------------------------------------------------- lookups


def _canonical_or_404(raw_id: str) -> str:
    """``/variables/{id:uuid}``: a path that is not a UUID matches no route (404 ``Not Found``)."""
    canonical = ids.canonical(raw_id)
    if canonical is None:
        raise NotFound("Not Found")
    return canonical


def read_by_name(ctx: Ctx, name: str) -> Doc | None:
    """The stored variable named ``name`` (GetItem on the deterministic id, else the index)."""
    doc = ctx.stores.variables.get(ids.variable_id(name))
    if doc is not None and doc["name"] == name:
        return doc
    for doc in ctx.stores.variables.query("by_name", ALL, sk_gte=name, sk_lte=name):
        if doc["name"] == name:
            return doc
    return None


def value_of(ctx: Ctx, name: str) -> str | None:
    """A variable's value by name (hydration's ``workspace_variable``), or None."""
    doc = read_by_name(ctx, name)
    return None if doc is None else doc["value"]


def all_values(ctx: Ctx) -> dict[str, str]:
    """Every variable as ``name -> value`` (hydration context)."""
    return {d["name"]: d["value"] for d in ctx.stores.variables.query("by_name", ALL)}


def _get(ctx: Ctx, raw_id: str) -> Doc:
    doc = ctx.stores.variables.get(_canonical_or_404(raw_id))
    if doc is None:
        raise NotFound(NOT_FOUND)
    return doc


def _get_by_name(ctx: Ctx, name: str) -> Doc:
    doc = read_by_name(ctx, name)
    if doc is None:
        raise NotFound(NOT_FOUND)
    return doc


# ---------------------------------------------------------------------------------- writes


def create(ctx: Ctx, body: VariableCreate) -> dict[str, Any]:
    """POST /variables/ -> 201; a taken name is the reference's integrity 409."""
    if read_by_name(ctx, body.name) is not None:
        raise IntegrityConflict()
    now = iso_utc(ctx.now())
    doc = {"id": ids.variable_id(body.name), "created": now, "updated": now, "name": body.name,
           "value": body.value, "tags": body.tags}
    try:
        ctx.stores.variables.put(doc, cond=Cond.absent())
    except ConditionFailed:
        holder = ctx.stores.variables.get(doc["id"])
        if holder is None or holder["name"] == body.name:
            raise IntegrityConflict() from None  # lost a create race (or an instant delete)
        # the deterministic id belongs to a variable since renamed: take a fresh id
        doc["id"] = ids.new_id()
        ctx.stores.variables.put(doc, cond=Cond.absent())
    return to_wire(doc)


def _update(ctx: Ctx, doc: Doc, body: VariableUpdate) -> None:
    fields = body.model_dump(include=body.model_fields_set)
    if "name" in fields and fields["name"] is None:
        raise invalid(["body", "name"], "none is not an allowed value", "type_error.none.not_allowed")
    if ("value" in fields and fields["value"] is None) or ("tags" in fields and fields["tags"] is None):
        raise IntegrityConflict()
    if "name" in fields and fields["name"] != doc["name"]:
        other = read_by_name(ctx, fields["name"])
        if other is not None and other["id"] != doc["id"]:
            raise IntegrityConflict()
    doc.update(fields)
    doc["updated"] = iso_utc(ctx.now())
    try:
        ctx.stores.variables.put(doc, cond=Cond.exists())
    except ConditionFailed:
        raise NotFound(NOT_FOUND) from None


def read(ctx: Ctx, raw_id: str) -> dict[str, Any]:
    return to_wire(_get(ctx, raw_id))


def read_name(ctx: Ctx, name: str) -> dict[str, Any]:
    return to_wire(_get_by_name(ctx, name))


def update(ctx: Ctx, raw_id: str, body: VariableUpdate) -> None:
    _update(ctx, _get(ctx, raw_id), body)


def update_by_name(ctx: Ctx, name: str, body: VariableUpdate) -> None:
    _update(ctx, _get_by_name(ctx, name), body)


def delete(ctx: Ctx, raw_id: str) -> None:
    if not ctx.stores.variables.delete(_canonical_or_404(raw_id)):
        raise NotFound(NOT_FOUND)


def delete_by_name(ctx: Ctx, name: str) -> None:
    doc = _get_by_name(ctx, name)
    if not ctx.stores.variables.delete(doc["id"]):
        raise NotFound(NOT_FOUND)


# ---------------------------------------------------------------------------- filter / count


def _matching(ctx: Ctx, f: VariableFilter | None, *, descending: bool = False) -> tuple[Iterator[Doc], bool]:
    """(matching variables, already in name order). Ids -> BatchGetItem; names -> by-name reads;
    otherwise the name index, in order."""
    docs: Iterable[Doc]
    ordered = False
    if f is not None and (wanted := f.exact_ids()) is not None:
        docs = ctx.stores.variables.get_many(sorted(wanted))
    elif f is not None and (names := f.exact_names()) is not None:
        docs = [d for d in (read_by_name(ctx, n) for n in sorted(names)) if d is not None]
    else:
        docs = ctx.stores.variables.query("by_name", ALL, descending=descending)
        ordered = True
    return (d for d in docs if f is None or f.matches(d)), ordered


def filter_variables(ctx: Ctx, q: VariableQuery) -> list[dict[str, Any]]:
    """POST /variables/filter: sorted (default NAME_ASC), offset/limit. Name sorts read the index
    in order and stop after offset + limit matches."""
    limit = check_limit(ctx, q.limit)
    by_name = q.sort in (VariableSort.NAME_ASC, VariableSort.NAME_DESC)
    rows, ordered = _matching(ctx, q.variables, descending=q.sort is VariableSort.NAME_DESC)
    if by_name and ordered:
        page = list(itertools.islice(rows, q.offset, q.offset + limit))
        # equal names cannot occur (unique), so index order is the sort order
    else:
        page = sort_documents(list(rows), q.sort)[q.offset:q.offset + limit]
    return [to_wire(d) for d in page]


def count_variables(ctx: Ctx, q: VariableCount) -> int:
    rows, _ = _matching(ctx, q.variables)
    return sum(1 for _ in rows)
