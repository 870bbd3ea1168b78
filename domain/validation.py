"""Parameter-schema and job-variable validation (spec §7.2–§7.4, §3.1 step 1, §3.2 step 4).

Four entry points, each reproducing one reference code path (they genuinely differ):

* :func:`validate_parameters` — PATCH / create_flow_run enforcement (§7.2): pre-processed schema,
  Draft 2020-12, best-match error.
* :func:`validate_create_time` — ``enforce_parameter_schema`` at POST /deployments/ (§7.3): Draft-4
  meta-schema check, ``required`` removed, no pre-processing.
* :func:`validate_job_variables` — job variables against a work pool's base job template (§7.4).
* :func:`legacy_job_variables_error` — the PATCH /deployments/{id} checker (§3.2 step 4): first
  error in iteration order, reported as a ``repr``.

Reference details reproduced on purpose (verified against prefect 2.20.26 + jsonschema 4.26):

* The raising paths (:func:`validate_parameters`, :func:`validate_create_time`, the final step of
  :func:`validate_job_variables`) go through ``jsonschema.validate``, which does **not** check
  ``format`` on instances; only the non-raising paths (job-variable defaults, the legacy PATCH
  checker) do. Schemas themselves are always checked with format checking (e.g. ``pattern``
  must be a valid regex).
* "Remove ``required``" only descends through dicts, not lists: a ``required`` inside an
  ``anyOf``/``allOf``/``prefixItems`` list survives.
* Null pre-processing: while walking a ``properties`` mapping, a property that has nested
  ``properties`` replaces the ``required`` list used for its *later siblings* (a reference bug);
  nested levels never get "defaults accept null".

jsonschema is imported lazily: handlers that never validate do not pay for it at cold start.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, Literal

from domain.errors import NotFound

__all__ = [
    "BlockNotFound",
    "CIRCULAR_SCHEMA_DETAIL",
    "CircularSchemaError",
    "InvalidSchemaError",
    "ParameterValidationError",
    "format_validation_error",
    "legacy_job_variables_error",
    "preprocess_schema",
    "validate_create_time",
    "validate_job_variables",
    "validate_parameters",
]

CIRCULAR_SCHEMA_DETAIL = "Invalid schema: Unable to validate schema with circular references."
BLOCK_NOT_FOUND_DETAIL = "Block not found."
_INVALID_JSON_SCHEMA = "The provided schema is not a valid json schema. Schema error: "


class ParameterValidationError(Exception):
    """Values do not conform to a schema; ``str(e)`` (== ``e.message``) is the full reference text."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class CircularSchemaError(Exception):
    """``$ref`` recursion never terminates (HTTP 422 ``CIRCULAR_SCHEMA_DETAIL``)."""

    def __init__(self, message: str = "Unable to validate schema with circular references."):
        super().__init__(message)
        self.message = message


class InvalidSchemaError(Exception):
    """The schema document itself is invalid; ``str(e)`` is jsonschema's message.

    The caller reports HTTP 422 ``"Invalid schema: <str(e)>"``.
    """

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class BlockNotFound(NotFound):
    """A template default references a block document that does not exist (HTTP 404)."""

    def __init__(self, detail: str = BLOCK_NOT_FOUND_DETAIL):
        super().__init__(detail)


# --------------------------------------------------------------------------------------------
# Schema pre-processing (§7.2)


def preprocess_schema(
    schema: dict, *, ignore_required: bool, defaults_accept_null: bool = False
) -> dict:
    """Return a pre-processed deep copy of ``schema`` (the input is never mutated).

    * optional properties (not in the parent's ``required``) with a non-``"null"`` ``type`` and
      no ``default`` (or any default when ``defaults_accept_null``) get
      ``anyOf: [{"type": <type>}, {"type": "null"}]`` instead of ``type``; applied to top-level
      ``properties``, nested ``properties`` and ``definitions/*/properties``;
    * a list-valued ``items`` of such a property becomes ``prefixItems``;
    * with ``ignore_required`` every dict key named ``required`` is removed.
    """
    schema = copy.deepcopy(schema)
    if isinstance(schema, dict):
        if "properties" in schema:
            _process_properties(schema["properties"], schema.get("required", []), defaults_accept_null)
        definitions = schema.get("definitions")
        if isinstance(definitions, dict):
            for definition in definitions.values():
                if isinstance(definition, dict) and "properties" in definition:
                    _process_properties(
                        definition["properties"], definition.get("required", []), defaults_accept_null
                    )
    if ignore_required:
        schema = _remove_required(schema)
    return schema


def _process_properties(properties: Any, required: Any, defaults_accept_null: bool) -> None:
    if not isinstance(properties, dict):
        return
    for key, prop in properties.items():
        if not isinstance(prop, dict):
            continue
        _fix_null_typing(key, prop, required, defaults_accept_null)
        _fix_tuple_items(prop)
        if "properties" in prop:
            # Reference quirk: the nested ``required`` also applies to later siblings.
            required = prop.get("required", [])
            _process_properties(prop["properties"], required, False)


def _fix_null_typing(key: str, prop: dict, required: Any, defaults_accept_null: bool) -> None:
    if (
        not _contains(required, key)
        and "type" in prop
        and prop.get("type") != "null"
        and ("default" not in prop or defaults_accept_null)
    ):
        prop["anyOf"] = [{"type": prop["type"]}, {"type": "null"}]
        del prop["type"]


def _fix_tuple_items(prop: dict) -> None:
    items = prop.get("items")
    if items and isinstance(items, list) and not prop.get("prefixItems"):
        prop["prefixItems"] = copy.deepcopy(items)
        del prop["items"]


def _contains(container: Any, key: Any) -> bool:
    try:
        return key in container
    except TypeError:
        return False


def _remove_required(obj: Any) -> Any:
    """Copy of ``obj`` without ``required`` keys; recurses through dicts only (as the reference)."""
    if not isinstance(obj, dict):
        return obj
    return {key: _remove_required(value) for key, value in obj.items() if key != "required"}


# --------------------------------------------------------------------------------------------
# Error text


def format_validation_error(error: Any) -> str:
    """``Validation failed[ for field '<path>']. Failure reason: <message>`` (§7.2)."""
    path = error.json_path
    if path == "$":
        text = "Validation failed."
    else:
        text = f"Validation failed for field {path.replace('$.', '')!r}."
    return f"{text} Failure reason: {error.message}"


# --------------------------------------------------------------------------------------------
# jsonschema plumbing (lazy imports)


def _draft2020() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator


def _check_schema(cls: Any, schema: Any) -> None:
    """Meta-schema check; raises :class:`InvalidSchemaError` with jsonschema's message."""
    from jsonschema.exceptions import SchemaError

    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        raise InvalidSchemaError(exc.message) from None


def _best_error(cls: Any, schema: Any, instance: Any) -> Any:
    """``jsonschema.validate`` semantics after the schema check: best match, no format checks."""
    from jsonschema.exceptions import best_match

    try:
        return best_match(cls(schema).iter_errors(instance))
    except RecursionError:
        raise CircularSchemaError() from None
    except Exception as exc:  # unresolvable $ref, unknown type, ...: a broken schema
        raise InvalidSchemaError(str(exc)) from None


def _all_errors(schema: Any, instance: Any) -> list[Any]:
    """Non-raising reference path: Draft 2020-12 *with* format checking, iteration order.

    All errors are collected (as the reference does), so a schema that breaks jsonschema part
    way through is reported as invalid whatever the order of the errors before it.
    """
    cls = _draft2020()
    try:
        return list(cls(schema, format_checker=cls.FORMAT_CHECKER).iter_errors(instance))
    except RecursionError:
        raise CircularSchemaError() from None
    except Exception as exc:  # unresolvable $ref, unknown type, ...: a broken schema
        raise InvalidSchemaError(str(exc)) from None


# --------------------------------------------------------------------------------------------
# §7.2 — PATCH / create_flow_run parameter enforcement


def validate_parameters(parameters: dict, schema: dict, *, ignore_required: bool) -> None:
    """Raise :class:`ParameterValidationError` if ``parameters`` violate ``schema`` (§7.2).

    ``ignore_required`` is True for PATCH, False for create_flow_run. Raises
    :class:`CircularSchemaError` for endless ``$ref`` recursion and :class:`InvalidSchemaError`
    when the (pre-processed) schema is not a valid Draft 2020-12 schema.
    """
    prepared = preprocess_schema(schema, ignore_required=ignore_required)
    _raise_best_error(parameters, prepared)


def _raise_best_error(instance: Any, prepared_schema: Any) -> None:
    cls = _draft2020()
    _check_schema(cls, prepared_schema)
    error = _best_error(cls, prepared_schema, instance)
    if error is not None:
        raise ParameterValidationError(format_validation_error(error))


# --------------------------------------------------------------------------------------------
# §7.3 — DeploymentCreate-time check


def validate_create_time(parameters: dict, schema: Any) -> None:
    """``enforce_parameter_schema`` check at POST /deployments/ (§7.3, §3.1 step 1).

    Skipped when ``schema`` is None. The schema must pass the Draft-4 meta-schema, then
    ``parameters`` are validated with plain jsonschema (dialect from ``$schema``, default
    2020-12) against the schema with every ``required`` removed; no null/tuple pre-processing.
    All failures raise :class:`ParameterValidationError` (the caller reports a 422 envelope).
    """
    from jsonschema import Draft4Validator
    from jsonschema.exceptions import SchemaError
    from jsonschema.validators import validator_for

    if schema is None:
        return
    try:
        Draft4Validator.check_schema(schema)
    except SchemaError as exc:
        raise ParameterValidationError(_INVALID_JSON_SCHEMA + exc.message) from None
    if parameters is None:
        return

    stripped = _remove_required(schema)
    cls = validator_for(stripped)
    try:
        cls.check_schema(stripped)
    except SchemaError as exc:
        raise ParameterValidationError(_INVALID_JSON_SCHEMA + exc.message) from None
    error = _best_error(cls, stripped, parameters)
    if error is not None:
        raise ParameterValidationError(format_validation_error(error))


# --------------------------------------------------------------------------------------------
# §7.4 — job variables vs. the work pool's base job template


def validate_job_variables(
    *,
    template: dict | None,
    deployment_vars: dict | None,
    run_vars: dict | None,
    mode: Literal["deployment", "flow_run"],
    load_block_data: Callable[[str], dict | None],
) -> None:
    """Validate job variables against ``template["variables"]`` (§7.4 steps 1–5).

    ``mode="deployment"``: only ``deployment_vars`` count, validation is skipped when they are
    empty, ``required`` is ignored. ``mode="flow_run"``: defaults, then ``deployment_vars``, then
    ``run_vars`` are merged (shallow) and ``required`` is enforced unless some template default
    was invalid.

    Raises :class:`ParameterValidationError` (caller prefixes ``Error creating deployment: `` /
    ``Error creating flow run: ``), :class:`BlockNotFound`, :class:`InvalidSchemaError`,
    :class:`CircularSchemaError`.
    """
    if mode == "deployment" and not deployment_vars:
        return
    if not template or not isinstance(template, dict):
        return
    variables = template.get("variables")
    if not variables:
        return

    cls = _draft2020()
    _check_schema(cls, variables)

    defaults, some_invalid = _template_defaults(variables, load_block_data)

    merged = dict(defaults)
    layers = [deployment_vars] if mode == "deployment" else [deployment_vars, run_vars]
    for layer in layers:
        if isinstance(layer, dict):
            merged.update(layer)

    ignore_required = mode == "deployment" or some_invalid
    prepared = preprocess_schema(variables, ignore_required=ignore_required, defaults_accept_null=True)
    _raise_best_error(merged, prepared)


def _template_defaults(
    variables: Any, load_block_data: Callable[[str], dict | None]
) -> tuple[dict, bool]:
    """Per-property defaults (block references resolved); invalid ones dropped and flagged."""
    properties = variables.get("properties") if isinstance(variables, dict) else None
    if not properties or not isinstance(properties, dict):
        return {}, False

    stripped = _remove_required(variables)
    defaults: dict = {}
    some_invalid = False
    for name, attrs in properties.items():
        if not isinstance(attrs, dict) or "default" not in attrs:
            continue
        default = attrs["default"]
        if isinstance(default, dict) and "$ref" in default:
            reference = default["$ref"]
            block_id = reference.get("block_document_id") if isinstance(reference, dict) else None
            if block_id is None:
                continue
            data = load_block_data(block_id) if isinstance(block_id, str) else None
            if data is None:
                raise BlockNotFound()
            value = data
        else:
            value = default
        if _all_errors(stripped, {name: value}):
            some_invalid = True
        else:
            defaults[name] = value
    return defaults, some_invalid


# --------------------------------------------------------------------------------------------
# §3.2 step 4 — the legacy PATCH checker


def legacy_job_variables_error(job_variables: dict | None, template: dict | None) -> str | None:
    """First error of ``job_variables`` against ``template["variables"]``, as a repr, or None.

    The schema is pre-processed with ``required`` removed and checked with format checking;
    the first error in iteration order (not the best match) is returned as
    ``<ValidationError: "<message>">`` (Python ``repr`` quoting). No ``variables`` key -> None.
    """
    variables = template.get("variables") if isinstance(template, dict) else None
    if variables is None:
        return None
    prepared = preprocess_schema(variables, ignore_required=True)
    errors = _all_errors(prepared, job_variables)
    if not errors:
        return None
    return f"<ValidationError: {errors[0].message!r}>"
