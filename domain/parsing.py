"""Parse request data with pydantic and report failures the way the reference (pydantic v1) did.

The reference's 422 envelope lists ``{"loc", "msg", "type"}`` items with pydantic-v1 wording
("field required", "extra fields not permitted", ...). Clients only read the status, but people
read the messages, so the common cases are translated; anything else keeps pydantic's text.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import sys
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from domain import timeutil
from domain.errors import InvalidInput

M = TypeVar("M", bound=BaseModel)

_V1 = {
    "missing": ("field required", "value_error.missing"),
    "extra_forbidden": ("extra fields not permitted", "value_error.extra"),
    "uuid_parsing": ("value is not a valid uuid", "type_error.uuid"),
    "uuid_type": ("value is not a valid uuid", "type_error.uuid"),
    "list_type": ("value is not a valid list", "type_error.list"),
    "dict_type": ("value is not a valid dict", "type_error.dict"),
    "model_type": ("value is not a valid dict", "type_error.dict"),
    "model_attributes_type": ("value is not a valid dict", "type_error.dict"),
    "int_parsing": ("value is not a valid integer", "type_error.integer"),
    "int_type": ("value is not a valid integer", "type_error.integer"),
    "int_from_float": ("value is not a valid integer", "type_error.integer"),
    "float_parsing": ("value is not a valid float", "type_error.float"),
    "float_type": ("value is not a valid float", "type_error.float"),
    "bool_parsing": ("value could not be parsed to a boolean", "type_error.bool"),
    "bool_type": ("value could not be parsed to a boolean", "type_error.bool"),
    "string_type": ("str type expected", "type_error.str"),
    "datetime_parsing": ("invalid datetime format", "value_error.datetime"),
    "datetime_type": ("invalid datetime format", "value_error.datetime"),
    "datetime_from_date_parsing": ("invalid datetime format", "value_error.datetime"),
    "time_delta_parsing": ("invalid duration format", "value_error.duration"),
    "time_delta_type": ("invalid duration format", "value_error.duration"),
    "json_invalid": ("Invalid JSON", "value_error.jsondecode"),
}


_DATETIME_ERRORS = frozenset({"datetime_parsing", "datetime_type", "datetime_from_date_parsing"})

# pydantic v2 puts the tried member's name into the loc of union errors; v1 did not.
_UNION_MEMBER_TAGS = frozenset({"IntervalSchedule", "CronSchedule", "RRuleSchedule"})


# A page offset: any non-negative integer. That far out nothing can be left to show, so it is
# clamped to leave room for offset + limit under ``sys.maxsize`` (``itertools.islice`` refuses
# larger stops; the reference answers 500 for 10**30).
Offset = Annotated[int, Field(ge=0), AfterValidator(lambda v: min(v, sys.maxsize // 2))]


def _v1(err: dict[str, Any], prefix: tuple) -> dict[str, Any]:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    loc = list(prefix) + [p for p in err.get("loc", ()) if p not in _UNION_MEMBER_TAGS]
    if not err.get("loc") and kind in ("value_error", "assertion_error"):
        loc.append("__root__")  # a model-level validator: v1 reported it at ``__root__``
    out: dict[str, Any]
    if kind in _DATETIME_ERRORS and loc[:1] == ["body"]:
        # the reference's body datetimes are pendulum's DateTimeTZ: a string it cannot parse, or
        # anything else that is not a datetime
        given = err.get("input")
        out = ({"msg": f"Unable to parse string [{given}]", "type": "value_error.parser"} if isinstance(given, str)
               else {"msg": "Unrecognized datetime.", "type": "value_error"})
    elif err.get("input", ...) is None and (kind.endswith("_type") or kind in ("model_type", "model_attributes_type")):
        out = {"msg": "none is not an allowed value", "type": "type_error.none.not_allowed"}
    elif kind in _V1:
        msg, typ = _V1[kind]
        out = {"msg": msg, "type": typ}
    elif kind in ("enum", "literal_error"):
        expected = ctx.get("expected", "")
        values = [s.strip().strip("'") for s in expected.replace(" or ", ", ").split(",")] if expected else []
        permitted = ", ".join(f"'{v}'" for v in values)  # v1 joined every value with ", " (v2: "… or 'X'")
        out = {"msg": f"value is not a valid enumeration member; permitted: {permitted}", "type": "type_error.enum"}
        if values:
            out["ctx"] = {"enum_values": values}
    elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        words = {
            "greater_than_equal": ("greater than or equal to", "ge"),
            "greater_than": ("greater than", "gt"),
            "less_than_equal": ("less than or equal to", "le"),
            "less_than": ("less than", "lt"),
        }[kind]
        limit = next(iter(ctx.values()), None)
        out = {"msg": f"ensure this value is {words[0]} {limit}", "type": f"value_error.number.not_{words[1]}",
               "ctx": {"limit_value": limit}}
    elif kind in ("value_error", "assertion_error"):
        msg = err.get("msg", "")
        for p in ("Value error, ", "Assertion failed, "):
            if msg.startswith(p):
                msg = msg[len(p):]
        out = {"msg": msg, "type": "value_error"}
    else:
        out = {"msg": err.get("msg", ""), "type": kind}
    return {"loc": loc, **out}


def translate(exc: ValidationError, prefix: tuple = ("body",)) -> list[dict[str, Any]]:
    return [_v1(e, prefix) for e in exc.errors(include_url=False)]


def parse_model(model: type[M], data: Any, prefix: tuple = ("body",), ignore: tuple[str, ...] = ()) -> M:
    """Validate ``data`` into ``model``; raise ``InvalidInput`` with v1-style errors on failure.

    As pydantic v1 did for a model body, a JSON array is first tried as ``dict(array)``: ``[]`` is
    ``{}`` (the reference answers ``PATCH /deployments/{id}`` with ``[]`` 204) and
    ``[["name", "x"]]`` is ``{"name": "x"}``; an array that is not pairs stays "not a valid dict".
    Any other body that is missing or ``null`` is "field required" at ``["body"]``, as FastAPI
    answered for the reference's required body. An embedded body (``Embedded``: each field was its
    own ``Body(embed=True)`` parameter) that is not an object is "field required" for every field, in
    order, as FastAPI reported it; ``ignore`` names keys the route does not take (a count route's
    paging and sort: the reference never read them)."""
    if issubclass(model, Embedded):
        if data is not None and not isinstance(data, dict):
            names = [f.alias or n for n, f in model.model_fields.items() if n not in ignore]
            names.sort(key=lambda n: n != "limit")  # the reference's limit is a dependency, checked first
            order = getattr(model, "BODY_ORDER", None)  # else its route's parameters, in their order
            if order:
                names = [n for n in order if n not in ignore]
            raise InvalidInput([{"loc": [*prefix, n], "msg": "field required", "type": "value_error.missing"}
                                for n in names])
        if ignore and isinstance(data, dict):
            data = {k: v for k, v in data.items() if k not in ignore}
    elif data is None:
        raise invalid(list(prefix), "field required", "value_error.missing")
    if isinstance(data, list) and not issubclass(model, Embedded):
        try:
            data = dict(data)
        except (TypeError, ValueError):
            pass
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(translate(exc, prefix)) from None


def invalid(loc: list, msg: str, typ: str = "value_error") -> InvalidInput:
    return InvalidInput([{"loc": loc, "msg": msg, "type": typ}])


def parse_list(adapter, data: Any, prefix: tuple = ("body",)):
    """Validate with a pydantic ``TypeAdapter`` (e.g. a bare JSON array body). A missing (or
    ``null``) required body is "field required" at ``["body"]``, as in the reference."""
    if data is None:
        raise invalid(list(prefix), "field required", "value_error.missing")
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        raise InvalidInput(translate(exc, prefix)) from None


class Embedded(BaseModel):
    """An "embedded" request body (spec §2.4): unknown top-level keys are ignored, an explicit
    ``null`` is the same as an absent key, and no body at all is an empty one."""

    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _nulls_are_absent(cls, data: Any) -> Any:
        if data is None:
            return {}
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None}
        return data


# ------------------------------------------------------------------------ incoming JSON checks

_SURROGATE = re.compile("[\ud800-\udfff]")  # in a str, any surrogate left is a lone one
LONE_SURROGATE = "string contains a lone UTF-16 surrogate (e.g. \\ud800), which is not valid Unicode"


def _is_valid_text(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def find_lone_surrogate(value: Any) -> list | None:
    """The location (keys and indexes) of the first string — value or object key — holding a lone
    UTF-16 surrogate (``"\\ud800"`` is valid JSON but not Unicode: it cannot be stored or sent
    back as UTF-8), or None. Iterative, so any depth json.loads accepted is fine."""
    stack: list[tuple[list, Any]] = [([], value)]
    while stack:
        loc, v = stack.pop()
        if isinstance(v, str):
            if not _is_valid_text(v):
                return loc
        elif isinstance(v, dict):
            for k, item in v.items():
                if not _is_valid_text(k):
                    return [*loc, _SURROGATE.sub("\ufffd", k)]
                stack.append(([*loc, k], item))
        elif isinstance(v, list):
            stack.extend(([*loc, i], item) for i, item in enumerate(v))
    return None


def replace_lone_surrogates(value: Any) -> Any:
    """``value`` with every lone surrogate replaced by U+FFFD (to echo a refused body safely)."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {replace_lone_surrogates(k): replace_lone_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [replace_lone_surrogates(v) for v in value]
    return value


MAX_BODY_DEPTH = 256  # nesting levels of arrays/objects; deeper bodies are refused before parsing into models


def deeper_than(value: Any, limit: int = MAX_BODY_DEPTH) -> bool:
    """Whether ``value`` nests arrays/objects more than ``limit`` levels (iteratively). Services
    walk parameters and job variables recursively (hydration, validation, copies): a body the JSON
    parser accepts at ~900 levels would exhaust the interpreter's stack later, mid-request."""
    stack: list[tuple[int, Any]] = [(0, value)]
    while stack:
        depth, v = stack.pop()
        if isinstance(v, (dict, list)):
            if depth >= limit:
                return True
            stack.extend((depth + 1, item) for item in (v.values() if isinstance(v, dict) else v))
    return False


# pydantic v1 scalar semantics (the reference's models): a number where a string is expected becomes
# its str(), a float where an int is expected is truncated. One definition for every body model.


def _v1_str(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def _v1_int(value: Any) -> Any:
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    return value


V1Str = Annotated[str, BeforeValidator(_v1_str)]
V1Int = Annotated[int, BeforeValidator(_v1_int)]


def body_datetime(value: Any, info: ValidationInfo | None = None) -> dt.datetime:
    """The one reading of a request body's datetime (``timeutil.parse_body_datetime``: what the
    reference's ``DateTimeTZ`` accepted; a JSON number is never Unix time), as a pydantic error in
    the reference's wording when refused. A ``now`` in the validation context dates a time of day."""
    if value is None:  # a required one (an optional null never gets here)
        raise PydanticCustomError("type_error.none.not_allowed", "none is not an allowed value")
    now = (info.context or {}).get("now") if info is not None and isinstance(info.context, dict) else None
    try:
        return timeutil.parse_body_datetime(value, now)
    except timeutil.DateTimeInputError as exc:
        raise PydanticCustomError(exc.kind, "{error}", {"error": str(exc)}) from None


# Every request-body datetime field: aware (naive = UTC), offset kept as sent.
WireDateTime = Annotated[dt.datetime, BeforeValidator(body_datetime)]


def query_datetime(raw: str, name: str) -> dt.datetime:
    """A datetime query parameter (``timeutil.parse_query_datetime``: pydantic v1's ``datetime``,
    numbers are Unix time), or the reference's 422 at ``["query", name]``."""
    try:
        return timeutil.parse_query_datetime(raw)
    except timeutil.DateTimeInputError as exc:
        raise invalid(["query", name], str(exc), exc.kind) from None


def path_uuid(raw: str, name: str = "id") -> str:
    """A path parameter that must be a uuid (routes that take it as text), in canonical form; else
    the reference's 422 at ``["path", name]``."""
    import uuid

    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise invalid(["path", name], "value is not a valid uuid", "type_error.uuid") from None
