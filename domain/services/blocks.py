"""Blocks: block types, block schemas and block documents — what ``Block.save()`` /
``Block.load()`` of the 2.20 client need, plus filters.

Identity: block types and block documents get fresh ids (as in the reference); a type's slug and
a document's (block type, name) are held by name guards (``domain.name_guards``) written and
deleted in one transaction with them, so one deleted and created again gets a new id. A block
schema's id derives from (checksum, version): its create is one conditional put.
``GET /block_types/slug/{slug}/block_documents/name/{name}`` (what ``Block.load`` calls) is the
slug's guard, the document's guard and the document.

Documents embed their ``block_schema`` (with its ``block_type``) and ``block_type`` in responses,
read live. Secret fields (``block_schema.fields.secret_fields``, dotted paths with ``*``
wildcards) are obfuscated as ``********`` unless ``include_secrets``. A document's data may
reference other documents (``{"$ref": {"block_document_id": …}}`` at the top level); references
are kept apart (``_refs``) and resolved on read into ``data`` and ``block_document_references``.

Nested *schemas* are stored as sent (the reference splits them into a references table and
rebuilds the same ``fields`` on read).
"""

from __future__ import annotations

import hashlib
import html
import itertools
import json
import re
import uuid
from collections.abc import Iterable, Iterator
from typing import Annotated, Any, ClassVar
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from domain import errors, ids, name_guards
from domain.contention import attempts
from domain.context import Ctx
from domain.errors import BadRequest, ConditionFailed, Conflict, IntegrityConflict, NotFound
from domain.filters import (
    BlockDocumentFilter,
    BlockDocumentSort,
    BlockSchemaFilter,
    BlockTypeFilter,
    sort_documents,
)
from domain.names import check_name
from domain.parsing import Embedded
from domain.ports import Cond, Doc
from domain.services.queries import Page, check_limit
from domain.sharded_index import query_all
from domain.timeutil import iso_utc

DEFAULT_SCHEMA_VERSION = "non-versioned"
OBFUSCATED = "********"

TYPE_KEYS = ("id", "created", "updated", "name", "slug", "logo_url", "documentation_url", "description",
             "code_example", "is_protected")
SCHEMA_KEYS = ("id", "created", "updated", "checksum", "fields", "block_type_id", "block_type", "capabilities",
               "version")
DOCUMENT_KEYS = ("id", "created", "updated", "name", "data", "block_schema_id", "block_schema", "block_type_id",
                 "block_type_name", "block_type", "block_document_references", "is_anonymous")

TYPE_NOT_FOUND = "Block type not found"
SCHEMA_NOT_FOUND = "Block schema not found"
DOCUMENT_NOT_FOUND = "Block document not found"
DOCUMENT_EXISTS = "Block already exists"

# HTTP 403 (see work_pools.Forbidden): 400 until domain.errors has a Forbidden type.
Forbidden: type[errors.DomainError] = getattr(errors, "Forbidden", None) or BadRequest

_SLUG_RE = re.compile(r"[a-z0-9-]*")


# ------------------------------------------------------------------------------ request models


def _slug(value: str) -> str:
    if value and not _SLUG_RE.fullmatch(value):
        raise ValueError("Block type slug must only contain lowercase letters, numbers, and dashes.")
    return value


def _document_name(value: str | None) -> str | None:
    if value and not _SLUG_RE.fullmatch(value):
        raise ValueError("Block document name must only contain lowercase letters, numbers, and dashes.")
    return value


def _url(value: str | None) -> str | None:
    if value is None:
        return value
    if not re.match(r"^https?://[^\s/]", value):
        raise ValueError("invalid or missing URL scheme")
    return value


Url = Annotated[str, Field(min_length=1, max_length=2083), AfterValidator(_url)]


class BlockTypeCreate(BaseModel):
    """``name`` is an index key (DynamoDB keys cannot be empty): an empty name is a 422."""

    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=1), AfterValidator(check_name)]
    slug: Annotated[str, AfterValidator(_slug)]
    logo_url: Url | None = None
    documentation_url: Url | None = None
    description: str | None = None
    code_example: str | None = None


class BlockTypeUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    logo_url: Url | None = None
    documentation_url: Url | None = None
    description: str | None = None
    code_example: str | None = None


class BlockSchemaCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fields: dict[str, Any] = Field(default_factory=dict)
    block_type_id: UUID | None
    capabilities: list[str] = Field(default_factory=list)
    version: str = Field(default=DEFAULT_SCHEMA_VERSION, min_length=1)  # an index key: never empty


class BlockDocumentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str | None, AfterValidator(_document_name)] = None
    data: dict[str, Any] = Field(default_factory=dict)
    block_schema_id: UUID
    block_type_id: UUID
    is_anonymous: bool = False

    @model_validator(mode="wrap")
    @classmethod
    def _named_unless_anonymous(cls, data: Any, handler: Any) -> BlockDocumentCreate:
        """The reference's root validator ran even when fields failed, on the fields that passed, so
        its "Names must be provided" came last in the same 422 as the field errors."""
        try:
            doc = handler(data)
        except ValidationError as exc:
            if not isinstance(data, dict):
                raise  # "not a valid dict" alone: v1 ran no root validator on a body that is no object
            failed = {e["loc"][0] for e in exc.errors() if e.get("loc")}
            name = None if "name" in failed else data.get("name")
            anonymous = False if "is_anonymous" in failed else _BOOL.validate_python(data.get("is_anonymous", False))
            if anonymous or name:
                raise
            raise ValidationError.from_exception_data(exc.title, [
                *exc.errors(),
                {"type": "value_error", "loc": (), "input": data, "ctx": {"error": ValueError(_NAMELESS)}},
            ]) from None
        if not doc.is_anonymous and not doc.name:
            raise ValueError(_NAMELESS)
        return doc


_NAMELESS = "Names must be provided for block documents."
_BOOL = TypeAdapter(bool)


class BlockDocumentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    block_schema_id: UUID | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    merge_existing_data: bool = True


class BlockTypeQuery(Page):
    BODY_ORDER: ClassVar[tuple[str, ...]] = (  # the reference's parameter order
        "limit", "block_types", "block_schemas", "offset")
    block_types: BlockTypeFilter | None = None
    block_schemas: BlockSchemaFilter | None = None


class BlockSchemaQuery(Page):
    BODY_ORDER: ClassVar[tuple[str, ...]] = ("limit", "block_schemas", "offset")  # the reference's
    block_schemas: BlockSchemaFilter | None = None


class BlockDocumentCount(Embedded):
    block_documents: BlockDocumentFilter | None = None
    block_types: BlockTypeFilter | None = None
    block_schemas: BlockSchemaFilter | None = None


class BlockDocumentQuery(Page):
    BODY_ORDER: ClassVar[tuple[str, ...]] = (  # the reference's parameter order
        "limit", "block_documents", "block_types", "block_schemas", "include_secrets", "sort", "offset")
    block_documents: BlockDocumentFilter | None = None
    block_types: BlockTypeFilter | None = None
    block_schemas: BlockSchemaFilter | None = None
    include_secrets: bool = False
    sort: BlockDocumentSort = BlockDocumentSort.NAME_ASC


# ------------------------------------------------------------------------------- checksums


def _collect_refs(obj: Any) -> list[str]:
    found: list[str] = []
    if isinstance(obj, dict):
        if obj.get("$ref"):
            found.append(obj["$ref"])
        for value in obj.values():
            found.extend(_collect_refs(value))
    if isinstance(obj, list):
        for item in obj:
            found.extend(_collect_refs(item))
    return found


def _non_block_definitions(obj: dict, definitions: dict) -> dict:
    out: dict = {}
    for ref in _collect_refs(obj):
        key = ref.replace("#/definitions/", "") if isinstance(ref, str) else ref
        definition = definitions.get(key) if isinstance(key, str) else None
        if definition and definition.get("block_type_slug") is None:
            out = {**out, key: definition, **_non_block_definitions(definition, definitions)}
    return out


def _without(keys: set[str], obj: Any) -> Any:
    if not isinstance(obj, dict):
        return obj
    return {k: _without(keys, v) for k, v in obj.items() if k not in keys}


def schema_checksum(fields: dict[str, Any]) -> str:
    """The client's ``Block._calculate_schema_checksum``: sha256 of the sorted-key JSON of
    ``((fields without secret_fields and block-only definitions,), {})``."""
    for_checksum = _without({"secret_fields"}, fields)
    if for_checksum.get("definitions"):
        kept = _non_block_definitions(for_checksum, for_checksum["definitions"])
        if kept:
            for_checksum["definitions"] = kept
        else:
            for_checksum.pop("definitions")
    text = json.dumps(((for_checksum,), {}), sort_keys=True)
    return f"sha256:{hashlib.sha256(text.encode()).hexdigest()}"


# ---------------------------------------------------------------------------------- secrets


def _flatten(d: dict, parent: tuple = ()) -> dict[tuple, Any]:
    out: dict[tuple, Any] = {}
    for k, v in d.items():
        key = parent + (k,)
        if isinstance(v, dict) and v:
            out.update(_flatten(v, key))
        else:
            out[key] = v
    return out


def _unflatten(flat: dict[tuple, Any]) -> dict:
    out: dict = {}
    for key, value in flat.items():
        node = out
        for part in key[:-1]:
            node = node.setdefault(part, {})
        node[key[-1]] = value
    return out


def obfuscate_secrets(data: dict, secret_fields: Iterable[str]) -> dict:
    """Replace secret values (dotted paths, ``*`` wildcards) by ``********``."""
    flat = _flatten(data)
    for field in secret_fields or ():
        key = tuple(field.split("."))
        if flat.get(key) is not None:
            flat[key] = OBFUSCATED
        elif "*" in key:
            i = key.index("*")
            for data_key in flat:
                if key[:i] == data_key[:i]:
                    flat[data_key] = OBFUSCATED
    return _unflatten(flat)


def _keep_current_secrets(update: dict, current: dict, secret_fields: Iterable[str]) -> dict:
    """A secret sent back as ``********`` means "unchanged" (a client re-posting what it read)."""
    flat_update, flat_current = _flatten(update), _flatten(current)
    for field in secret_fields or ():
        key = tuple(field.split("."))
        if flat_current.get(key) is not None:
            if flat_update.get(key) == OBFUSCATED:
                flat_update[key] = flat_current[key]
        elif "*" in key:
            i = key.index("*")
            for data_key in list(flat_update):
                if key[:i] == data_key[:i] and flat_update[data_key] == OBFUSCATED and data_key in flat_current:
                    flat_update[data_key] = flat_current[data_key]
    return _unflatten(flat_update)


def _split_refs(data: dict) -> tuple[dict, dict[str, str]]:
    """Top-level ``{"$ref": {"block_document_id": …}}`` values become references."""
    plain: dict = {}
    refs: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, dict) and "$ref" in value:
            ref = value["$ref"]
            target = ref.get("block_document_id") if isinstance(ref, dict) else None
            if target is None:
                raise BadRequest(f"Received block reference without a block_document_id in key {key}")
            refs[key] = str(target)
        else:
            plain[key] = value
    return plain, refs


# ------------------------------------------------------------------------------- block types


def type_wire(doc: Doc) -> dict[str, Any]:
    return {k: doc.get(k) for k in TYPE_KEYS}


def _type_or_404(ctx: Ctx, type_id: str) -> Doc:
    doc = ctx.stores.block_types.get(type_id)
    if doc is None:
        raise NotFound(TYPE_NOT_FOUND)
    return doc


def create_block_type(ctx: Ctx, body: BlockTypeCreate) -> dict[str, Any]:
    """POST /block_types/ -> 201; a taken slug is a 409."""
    if body.name.lower().startswith("prefect"):
        raise Forbidden("Block type names beginning with 'Prefect' are reserved.")
    key = name_guards.block_type(body.slug)
    for _ in attempts(8):
        if name_guards.owner(ctx, key) is not None:
            raise Conflict(f'Block type with name "{body.name}" already exists')
        now = iso_utc(ctx.now())
        doc = {
            "id": ids.new_id(), "created": now, "updated": now, "name": body.name, "slug": body.slug,
            "logo_url": body.logo_url, "documentation_url": body.documentation_url,
            "description": html.escape(body.description, quote=False) if body.description is not None else None,
            "code_example": html.escape(body.code_example, quote=False) if body.code_example is not None else None,
            "is_protected": False,
        }
        try:
            name_guards.insert(ctx, ctx.stores.block_types, doc, key)
        except ConditionFailed:
            continue  # lost a create race (409 next), or a transaction conflicted
        return type_wire(doc)
    raise errors.ServiceUnavailable("Service Unavailable")


def _type_id_by_slug(ctx: Ctx, slug: str) -> str:
    type_id = name_guards.owner(ctx, name_guards.block_type(slug))
    if type_id is None:
        raise NotFound(TYPE_NOT_FOUND)
    return type_id


def read_block_type(ctx: Ctx, type_id: str) -> dict[str, Any]:
    return type_wire(_type_or_404(ctx, type_id))


def read_block_type_by_slug(ctx: Ctx, slug: str) -> dict[str, Any]:
    return type_wire(_type_or_404(ctx, _type_id_by_slug(ctx, slug)))


def update_block_type(ctx: Ctx, type_id: str, body: BlockTypeUpdate) -> None:
    """PATCH /block_types/{id}: written only when a sent field differs (as the reference)."""
    doc = _type_or_404(ctx, type_id)
    fields = body.model_dump(include=body.model_fields_set)

    def norm(key: str, value: Any) -> Any:
        return html.unescape(value) if key in ("description", "code_example") and value is not None else value

    if all(norm(k, v) == norm(k, doc.get(k)) for k, v in fields.items()):
        return
    doc.update(fields)
    doc["updated"] = iso_utc(ctx.now())
    try:
        ctx.stores.block_types.put(doc, cond=Cond.exists())
    except ConditionFailed:
        raise NotFound(TYPE_NOT_FOUND) from None


def delete_block_type(ctx: Ctx, type_id: str) -> None:
    """DELETE /block_types/{id}: its schemas and documents go with it."""
    doc = _type_or_404(ctx, type_id)
    if doc.get("is_protected"):
        raise Forbidden("protected block types cannot be deleted.")
    _remove_documents(ctx, ctx.stores.block_documents.query("by_block_type", type_id))
    ctx.stores.block_schemas.delete_many([s["id"] for s in ctx.stores.block_schemas.query("by_block_type", type_id)])
    try:
        name_guards.remove(ctx, ctx.stores.block_types, type_id, name_guards.block_type(doc["slug"]))
    except ConditionFailed:
        raise NotFound(TYPE_NOT_FOUND) from None


def _type_has_schema(ctx: Ctx, type_id: str, f: BlockSchemaFilter) -> bool:
    return any(f.matches(s) for s in ctx.stores.block_schemas.query("by_block_type", type_id))


def filter_block_types(ctx: Ctx, q: BlockTypeQuery) -> list[dict[str, Any]]:
    """POST /block_types/filter: by name, offset/limit; ``block_schemas`` keeps types having a
    matching schema."""
    limit = check_limit(ctx, q.limit)
    rows = (
        d for d in query_all(ctx.stores.block_types, "by_name")
        if (q.block_types is None or q.block_types.matches(d))
        and (q.block_schemas is None or _type_has_schema(ctx, d["id"], q.block_schemas))
    )
    return [type_wire(d) for d in itertools.islice(rows, q.offset, q.offset + limit)]


# ----------------------------------------------------------------------------- block schemas


def _schema_wire(doc: Doc, type_doc: Doc | None) -> dict[str, Any]:
    fields = dict(doc.get("fields") or {})
    fields.setdefault("block_schema_references", {})
    return {
        "id": doc["id"], "created": doc["created"], "updated": doc["updated"], "checksum": doc["checksum"],
        "fields": fields, "block_type_id": doc["block_type_id"],
        "block_type": type_wire(type_doc) if type_doc is not None else None,
        "capabilities": doc.get("capabilities") or [], "version": doc["version"],
    }


def schema_wire(ctx: Ctx, doc: Doc, types: dict[str, Doc | None] | None = None) -> dict[str, Any]:
    types = {} if types is None else types
    type_id = doc["block_type_id"]
    if type_id not in types:
        types[type_id] = ctx.stores.block_types.get(type_id)
    return _schema_wire(doc, types[type_id])


def _schema_by_checksum(ctx: Ctx, checksum: str, version: str | None) -> Doc | None:
    if version is not None:
        return ctx.stores.block_schemas.get(ids.block_schema_id(checksum, version))
    newest = None
    for doc in ctx.stores.block_schemas.query("by_checksum", checksum):
        if newest is None or (doc["created"], doc["id"]) > (newest["created"], newest["id"]):
            newest = doc
    return newest


def create_block_schema(ctx: Ctx, body: BlockSchemaCreate) -> tuple[dict[str, Any], bool]:
    """POST /block_schemas/ -> (schema, created): 201 new, 200 when (checksum, version) exists."""
    type_id = str(body.block_type_id) if body.block_type_id is not None else None
    type_doc = ctx.stores.block_types.get(type_id) if type_id else None
    if type_doc is None:
        raise NotFound(f"Block type {type_id} not found.")
    checksum = schema_checksum(body.fields)
    schema_id = ids.block_schema_id(checksum, body.version)
    existing = ctx.stores.block_schemas.get(schema_id)
    if existing is not None:
        return _schema_wire(existing, ctx.stores.block_types.get(existing["block_type_id"])), False
    now = iso_utc(ctx.now())
    doc = {"id": schema_id, "created": now, "updated": now, "checksum": checksum, "fields": body.fields,
           "block_type_id": type_id, "capabilities": body.capabilities, "version": body.version}
    try:
        ctx.stores.block_schemas.put(doc, cond=Cond.absent())
    except ConditionFailed:  # a concurrent create of the same schema won
        existing = ctx.stores.block_schemas.get(schema_id) or doc
        return _schema_wire(existing, ctx.stores.block_types.get(existing["block_type_id"])), False
    return _schema_wire(doc, type_doc), True


def read_block_schema(ctx: Ctx, schema_id: str) -> dict[str, Any]:
    doc = ctx.stores.block_schemas.get(schema_id)
    if doc is None:
        raise NotFound(SCHEMA_NOT_FOUND)
    return schema_wire(ctx, doc)


def read_block_schema_by_checksum(ctx: Ctx, checksum: str, version: str | None = None) -> dict[str, Any]:
    """GET /block_schemas/checksum/{checksum}[?version=]: without a version, the newest."""
    doc = _schema_by_checksum(ctx, checksum, version)
    if doc is None:
        raise NotFound(SCHEMA_NOT_FOUND)
    return schema_wire(ctx, doc)


def delete_block_schema(ctx: Ctx, schema_id: str) -> None:
    """DELETE /block_schemas/{id}: documents using the schema go with it."""
    doc = ctx.stores.block_schemas.get(schema_id)
    if doc is None:
        raise NotFound(SCHEMA_NOT_FOUND)
    type_doc = ctx.stores.block_types.get(doc["block_type_id"])
    if type_doc is not None and type_doc.get("is_protected"):
        raise Forbidden("Block schemas for protected block types cannot be deleted.")
    _remove_documents(ctx, (d for d in ctx.stores.block_documents.query("by_block_type", doc["block_type_id"])
                            if d.get("block_schema_id") == schema_id))
    ctx.stores.block_schemas.delete(schema_id)


def _all_schemas(ctx: Ctx, f: BlockSchemaFilter | None) -> Iterator[Doc]:
    """Schemas of the filtered block types (``block_type_id.any_``), else of every type."""
    type_ids: Iterable[str] | None = None
    if f is not None and f.block_type_id is not None and f.block_type_id.any_ is not None \
            and (f.operator.value == "and_" or sum(1 for n in type(f).model_fields if n != "operator"
                                                  and getattr(f, n) is not None) == 1):
        type_ids = sorted({str(t).lower() for t in f.block_type_id.any_})
    if type_ids is None:
        type_ids = [t["id"] for t in query_all(ctx.stores.block_types, "by_name")]
    for type_id in type_ids:
        yield from ctx.stores.block_schemas.query("by_block_type", type_id)


def filter_block_schemas(ctx: Ctx, q: BlockSchemaQuery) -> list[dict[str, Any]]:
    """POST /block_schemas/filter: newest first, offset/limit."""
    limit = check_limit(ctx, q.limit)
    f = q.block_schemas
    rows = [d for d in _all_schemas(ctx, f) if f is None or f.matches(d)]
    rows.sort(key=lambda d: (d["created"], d["id"]), reverse=True)
    types: dict[str, Doc | None] = {}
    return [schema_wire(ctx, d, types) for d in rows[q.offset:q.offset + limit]]


# --------------------------------------------------------------------------- block documents


class _Cache:
    """Per-call memo of block types and schemas (documents of one type share them)."""

    def __init__(self, ctx: Ctx):
        self.ctx = ctx
        self.types: dict[str, Doc | None] = {}
        self.schemas: dict[str, Doc | None] = {}

    def type(self, type_id: str) -> Doc | None:
        if type_id not in self.types:
            self.types[type_id] = self.ctx.stores.block_types.get(type_id)
        return self.types[type_id]

    def schema(self, schema_id: str) -> Doc | None:
        if schema_id not in self.schemas:
            self.schemas[schema_id] = self.ctx.stores.block_schemas.get(schema_id)
        return self.schemas[schema_id]


def _resolved(ctx: Ctx, doc: Doc, include_secrets: bool, cache: _Cache, depth: int = 0) -> tuple[dict, dict]:
    """(data, block_document_references) with references resolved and secrets obfuscated."""
    data = dict(doc.get("data") or {})
    schema = cache.schema(doc["block_schema_id"])
    if not include_secrets and schema is not None:
        data = obfuscate_secrets(data, (schema.get("fields") or {}).get("secret_fields") or [])
    references: dict[str, Any] = {}
    for key, child_id in (doc.get("_refs") or {}).items():
        child = ctx.stores.block_documents.get(child_id) if depth < 10 else None
        if child is None:
            continue
        child_data, child_refs = _resolved(ctx, child, include_secrets, cache, depth + 1)
        data[key] = child_data
        child_type = cache.type(child["block_type_id"])
        references[key] = {"block_document": {
            "id": child["id"], "name": child["name"],
            "block_type": type_wire(child_type) if child_type is not None else None,
            "is_anonymous": child["is_anonymous"], "block_document_references": child_refs,
        }}
    return data, references


def document_wire(ctx: Ctx, doc: Doc, include_secrets: bool = False, cache: _Cache | None = None) -> dict[str, Any]:
    cache = cache or _Cache(ctx)
    data, references = _resolved(ctx, doc, include_secrets, cache)
    schema = cache.schema(doc["block_schema_id"])
    type_doc = cache.type(doc["block_type_id"])
    return {
        "id": doc["id"], "created": doc["created"], "updated": doc["updated"], "name": doc["name"], "data": data,
        "block_schema_id": doc["block_schema_id"],
        "block_schema": _schema_wire(schema, cache.type(schema["block_type_id"])) if schema is not None else None,
        "block_type_id": doc["block_type_id"], "block_type_name": doc.get("block_type_name"),
        "block_type": type_wire(type_doc) if type_doc is not None else None,
        "block_document_references": references, "is_anonymous": doc["is_anonymous"],
    }


def _canonical_or_404(raw_id: str) -> str:
    """``/block_documents/{id:uuid}``: a path that is not a UUID matches no route."""
    canonical = ids.canonical(raw_id)
    if canonical is None:
        raise NotFound("Not Found")
    return canonical


def _document_or_404(ctx: Ctx, raw_id: str) -> Doc:
    doc = ctx.stores.block_documents.get(_canonical_or_404(raw_id))
    if doc is None:
        raise NotFound(DOCUMENT_NOT_FOUND)
    return doc


def _check_refs(ctx: Ctx, refs: dict[str, str]) -> None:
    if not refs:
        return
    wanted = {ids.canonical(r) for r in refs.values()}
    if None in wanted or len(ctx.stores.block_documents.get_many(sorted(wanted))) != len(wanted):  # type: ignore[arg-type]
        raise IntegrityConflict()


def create_block_document(ctx: Ctx, body: BlockDocumentCreate) -> dict[str, Any]:
    """POST /block_documents/ -> 201; a taken (type, name) is a 409. Anonymous documents without
    a name are called ``anonymous-<uuid4>``."""
    type_id, schema_id = str(body.block_type_id), str(body.block_schema_id)
    cache = _Cache(ctx)
    type_doc = cache.type(type_id)
    if type_doc is None or cache.schema(schema_id) is None:
        raise IntegrityConflict()
    name = body.name if not (body.is_anonymous and not body.name) else f"anonymous-{uuid.uuid4()}"
    plain, refs = _split_refs(body.data)
    _check_refs(ctx, refs)
    key = name_guards.block_document(type_id, name)
    for _ in attempts(8):
        if name_guards.owner(ctx, key) is not None:
            raise Conflict(DOCUMENT_EXISTS)
        now = iso_utc(ctx.now())
        doc = {"id": ids.new_id(), "created": now, "updated": now, "name": name,
               "data": plain, "block_schema_id": schema_id, "block_type_id": type_id,
               "block_type_name": type_doc["name"], "is_anonymous": body.is_anonymous, "_refs": refs}
        try:
            name_guards.insert(ctx, ctx.stores.block_documents, doc, key)
        except ConditionFailed:
            continue  # lost a create race (409 next), or a transaction conflicted
        return document_wire(ctx, doc, include_secrets=False, cache=cache)
    raise errors.ServiceUnavailable("Service Unavailable")


def read_block_document(ctx: Ctx, raw_id: str, include_secrets: bool = False) -> dict[str, Any]:
    return document_wire(ctx, _document_or_404(ctx, raw_id), include_secrets)


def read_block_document_by_name(ctx: Ctx, slug: str, name: str, include_secrets: bool = False) -> dict[str, Any]:
    """GET /block_types/slug/{slug}/block_documents/name/{name} (``Block.load``): guard + document."""
    type_id = name_guards.owner(ctx, name_guards.block_type(slug))
    doc = name_guards.lookup(ctx, ctx.stores.block_documents, name_guards.block_document(type_id, name)) \
        if type_id else None
    if doc is None:
        raise NotFound(DOCUMENT_NOT_FOUND)
    return document_wire(ctx, doc, include_secrets)


def read_documents_for_type(ctx: Ctx, slug: str, include_secrets: bool = False) -> list[dict[str, Any]]:
    """GET /block_types/slug/{slug}/block_documents: the type's non-anonymous documents by name."""
    type_id = _type_id_by_slug(ctx, slug)
    _type_or_404(ctx, type_id)
    cache = _Cache(ctx)
    return [document_wire(ctx, d, include_secrets, cache)
            for d in ctx.stores.block_documents.query("by_block_type", type_id) if not d.get("is_anonymous")]


def update_block_document(ctx: Ctx, raw_id: str, body: BlockDocumentUpdate) -> None:
    """PATCH /block_documents/{id}: merge (default) or replace ``data``; obfuscated secrets sent
    back keep their stored value; a new schema must belong to the same block type."""
    doc = _document_or_404(ctx, raw_id)
    fields = body.model_fields_set
    merge = body.merge_existing_data
    cache = _Cache(ctx)
    if "data" in fields or not merge:
        schema = cache.schema(doc["block_schema_id"])
        secret_fields = ((schema or {}).get("fields") or {}).get("secret_fields") or []
        current = dict(doc.get("data") or {})
        update = _keep_current_secrets(body.data, current, secret_fields)
        plain, refs = _split_refs(update)
        _check_refs(ctx, refs)
        if merge:
            merged_refs = {k: v for k, v in (doc.get("_refs") or {}).items() if k not in plain}
            merged_refs.update(refs)
            current = {k: v for k, v in current.items() if k not in refs}
            current.update(plain)
            doc["data"], doc["_refs"] = current, merged_refs
        else:
            doc["data"], doc["_refs"] = plain, refs
    if body.block_schema_id is not None and str(body.block_schema_id) != doc["block_schema_id"]:
        proposed = cache.schema(str(body.block_schema_id))
        if proposed is None or proposed["block_type_id"] != doc["block_type_id"]:
            raise BadRequest("Must migrate block document to a block schema of the same block type.")
        doc["block_schema_id"] = proposed["id"]
    doc["updated"] = iso_utc(ctx.now())
    try:
        ctx.stores.block_documents.put(doc, cond=Cond.exists())
    except ConditionFailed:
        raise NotFound(DOCUMENT_NOT_FOUND) from None


def delete_block_document(ctx: Ctx, raw_id: str) -> None:
    """The document and its name guard, in one transaction."""
    doc = _document_or_404(ctx, raw_id)
    try:
        name_guards.remove(ctx, ctx.stores.block_documents, doc["id"],
                           name_guards.block_document(doc["block_type_id"], doc["name"]))
    except ConditionFailed:
        raise NotFound(DOCUMENT_NOT_FOUND) from None


def _remove_documents(ctx: Ctx, docs: Iterable[Doc]) -> None:
    """Cascade: each document with its name guard."""
    name_guards.remove_many(ctx, ctx.stores.block_documents,
                            [(d["id"], name_guards.block_document(d["block_type_id"], d["name"])) for d in docs])


def _documents_matching(ctx: Ctx, dq: BlockDocumentFilter | None, tq: BlockTypeFilter | None,
                        sq: BlockSchemaFilter | None, cache: _Cache) -> Iterator[Doc]:
    f = dq if dq is not None else BlockDocumentFilter()
    docs: Iterable[Doc]
    type_ids = None
    if f.block_type_id is not None and f.block_type_id.any_ is not None and f.operator.value == "and_":
        type_ids = {str(t).lower() for t in f.block_type_id.any_}
    elif tq is not None and tq.slug is not None and tq.slug.any_ is not None:
        type_ids = name_guards.owners(ctx, map(name_guards.block_type, tq.slug.any_))
    if type_ids is not None:
        docs = itertools.chain.from_iterable(
            ctx.stores.block_documents.query("by_block_type", t) for t in sorted(type_ids))
    else:
        docs = query_all(ctx.stores.block_documents, "by_name")
    for d in docs:
        if not f.matches(d):
            continue
        if tq is not None:
            t = cache.type(d["block_type_id"])
            if t is None or not tq.matches(t):
                continue
        if sq is not None:
            s = cache.schema(d["block_schema_id"])
            if s is None or not sq.matches(s):
                continue
        yield d


def filter_block_documents(ctx: Ctx, q: BlockDocumentQuery) -> list[dict[str, Any]]:
    """POST /block_documents/filter: anonymous documents excluded unless the filter says
    otherwise; sorted (default NAME_ASC), offset/limit."""
    limit = check_limit(ctx, q.limit)
    cache = _Cache(ctx)
    rows = sort_documents(_documents_matching(ctx, q.block_documents, q.block_types, q.block_schemas, cache), q.sort)
    return [document_wire(ctx, d, q.include_secrets, cache) for d in rows[q.offset:q.offset + limit]]


def count_block_documents(ctx: Ctx, q: BlockDocumentCount) -> int:
    return sum(1 for _ in _documents_matching(ctx, q.block_documents, q.block_types, q.block_schemas, _Cache(ctx)))


# ------------------------------------------------------------------- domain API for others


def read_document_data(ctx: Ctx, block_document_id: str) -> dict | None:
    """A document's full data (secrets included, references resolved), or None if there is no
    such document (or the id is not a UUID). Used by job-variable validation."""
    canonical = ids.canonical(block_document_id)
    doc = ctx.stores.block_documents.get(canonical) if canonical else None
    if doc is None:
        return None
    return _resolved(ctx, doc, True, _Cache(ctx))[0]


def document_exists(ctx: Ctx, block_document_id: str) -> bool:
    canonical = ids.canonical(block_document_id)
    return canonical is not None and ctx.stores.block_documents.get(canonical) is not None
