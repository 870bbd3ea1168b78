"""Workspace variables: create, read/update/delete by id or by name, filter, count.

Identity. A variable gets a fresh id; its name is held by a name guard (``domain.name_guards``)
written in the same transaction, so of concurrent creates of one name one gets 201 and the others
the reference's integrity 409. A rename (PATCH ``name``) keeps the id and moves the guard in one
transaction with the variable (conditioned on the name it had), so two concurrent renames to one
name cannot both succeed; every other write is conditioned on the name read, too.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from domain import ids, name_guards
from domain.contention import attempts
from domain.context import Ctx
from domain.errors import ConditionFailed, IntegrityConflict, NotFound, ServiceUnavailable
from domain.filters import VariableFilter, VariableSort, sort_documents
from domain.parsing import Embedded, invalid
from domain.ports import Doc
from domain.services.queries import Page, check_limit
from domain.sharded_index import query_all
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
    """The stored variable named ``name``: its name guard, then the variable (two GetItems)."""
    return name_guards.lookup(ctx, ctx.stores.variables, name_guards.variable(name))


def value_of(ctx: Ctx, name: str) -> str | None:
    """A variable's value by name (hydration's ``workspace_variable``), or None."""
    doc = read_by_name(ctx, name)
    return None if doc is None else doc["value"]


def all_values(ctx: Ctx) -> dict[str, str]:
    """Every variable as ``name -> value`` (hydration context)."""
    return {d["name"]: d["value"] for d in query_all(ctx.stores.variables, "by_name")}


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
    key = name_guards.variable(body.name)
    for _ in attempts(8):
        if name_guards.owner(ctx, key) is not None:
            raise IntegrityConflict()
        now = iso_utc(ctx.now())
        doc = {"id": ids.new_id(), "created": now, "updated": now, "name": body.name,
               "value": body.value, "tags": body.tags}
        try:
            name_guards.insert(ctx, ctx.stores.variables, doc, key)
        except ConditionFailed:
            continue  # lost a create race (409 next), or a transaction conflicted
        return to_wire(doc)
    raise ServiceUnavailable("Service Unavailable")


def _update(ctx: Ctx, doc: Doc, body: VariableUpdate) -> None:
    fields = body.model_dump(include=body.model_fields_set)
    if "name" in fields and fields["name"] is None:
        raise invalid(["body", "name"], "none is not an allowed value", "type_error.none.not_allowed")
    if ("value" in fields and fields["value"] is None) or ("tags" in fields and fields["tags"] is None):
        raise IntegrityConflict()
    old_name = doc["name"]
    renamed = "name" in fields and fields["name"] != old_name
    if renamed and name_guards.owner(ctx, name_guards.variable(fields["name"])) is not None:
        raise IntegrityConflict()
    doc.update(fields)
    doc["updated"] = iso_utc(ctx.now())
    outcome = name_guards.save(ctx, ctx.stores.variables, doc, old_name, name_guards.variable)
    if outcome == "taken":
        raise IntegrityConflict()  # a concurrent create or rename took the name
    if outcome == "gone":
        raise NotFound(NOT_FOUND)


def read(ctx: Ctx, raw_id: str) -> dict[str, Any]:
    return to_wire(_get(ctx, raw_id))


def read_name(ctx: Ctx, name: str) -> dict[str, Any]:
    return to_wire(_get_by_name(ctx, name))


def update(ctx: Ctx, raw_id: str, body: VariableUpdate) -> None:
    _update(ctx, _get(ctx, raw_id), body)


def update_by_name(ctx: Ctx, name: str, body: VariableUpdate) -> None:
    _update(ctx, _get_by_name(ctx, name), body)


def _delete(ctx: Ctx, doc: Doc) -> None:
    """The variable and its name guard, in one transaction on the name read (re-read if renamed)."""
    for _ in attempts(8):
        try:
            name_guards.remove(ctx, ctx.stores.variables, doc["id"], name_guards.variable(doc["name"]),
                               name_guards.same_name(doc))
            return
        except ConditionFailed:
            doc = ctx.stores.variables.get(doc["id"])
            if doc is None:
                raise NotFound(NOT_FOUND) from None
    raise ServiceUnavailable("Service Unavailable")


def delete(ctx: Ctx, raw_id: str) -> None:
    _delete(ctx, _get(ctx, raw_id))


def delete_by_name(ctx: Ctx, name: str) -> None:
    _delete(ctx, _get_by_name(ctx, name))


# ---------------------------------------------------------------------------- filter / count


def _matching(ctx: Ctx, f: VariableFilter | None, *, descending: bool = False) -> tuple[Iterator[Doc], bool]:
    """(matching variables, already in name order). Ids -> BatchGetItem; names -> their guards and
    the variables (two BatchGetItems); otherwise the name index, in order."""
    docs: Iterable[Doc]
    ordered = False
    if f is not None and (wanted := f.exact_ids()) is not None:
        docs = ctx.stores.variables.get_many(sorted(wanted))
    elif f is not None and (names := f.exact_names()) is not None:
        docs = ctx.stores.variables.get_many(sorted(name_guards.owners(ctx, map(name_guards.variable, names))))
    else:
        docs = query_all(ctx.stores.variables, "by_name", descending=descending)
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
