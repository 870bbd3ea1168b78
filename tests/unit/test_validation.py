"""domain.validation — spec §7.2–§7.4, §3.1 step 1, §3.2 steps 4/6, §3.12 steps 3/4 and §8 items
20–27, 77–80, 100, 104–106, 146–149, 158–159, 161–176.

Expected texts were cross-checked against prefect 2.20.26 (``schema_tools.validate``,
``validate_values_conform_to_schema``, ``_validate_work_pool_job_variables``,
``DeploymentUpdate.check_valid_configuration``) with jsonschema 4.26.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest

from domain.errors import NotFound
from domain.validation import (
    BlockNotFound,
    CircularSchemaError,
    InvalidSchemaError,
    ParameterValidationError,
    legacy_job_variables_error,
    preprocess_schema,
    validate_create_time,
    validate_job_variables,
    validate_parameters,
)

# ----------------------------------------------------------------------------------------------
# Schemas

# DPS: {x: string, required}
DPS = {"type": "object", "properties": {"x": {"type": "string"}}, "required": ["x"]}

# the `person` schema, as pydantic v1 generates it for `def f(person: Person)`
PERSON = {
    "title": "Parameters",
    "type": "object",
    "properties": {"person": {"$ref": "#/definitions/Person"}},
    "required": ["person"],
    "definitions": {
        "Person": {
            "title": "Person",
            "type": "object",
            "properties": {
                "name": {"title": "Name", "type": "string"},
                "greeting": {"title": "Greeting", "default": "Hello", "type": "string"},
            },
            "required": ["name"],
        }
    },
}

# {x: string required, n: integer default 1}
XN = {
    "type": "object",
    "properties": {"x": {"type": "string"}, "n": {"type": "integer", "default": 1}},
    "required": ["x"],
}

FOO = {"type": "object", "properties": {"foo": {"type": "string"}}}
BLORK = {"type": "object", "properties": {"foo": {"type": "blork"}}}

SHAPES = {
    "type": "object",
    "properties": {
        "env": {"type": "object", "additionalProperties": {"type": "string"}},
        "items": {"type": "array", "items": {"type": "integer"}},
        "tup": {"type": "array", "items": [{"type": "string"}, {"type": "integer"}]},
        "dt": {"type": "string", "format": "date-time"},
    },
}

CIRCULAR = {
    "type": "object",
    "properties": {"x": {"$ref": "#/definitions/A"}},
    "definitions": {"A": {"$ref": "#/definitions/A"}},
}


def param_error(parameters, schema, *, ignore_required: bool) -> str:
    with pytest.raises(ParameterValidationError) as info:
        validate_parameters(parameters, schema, ignore_required=ignore_required)
    return str(info.value)


def create_error(parameters, schema) -> str:
    with pytest.raises(ParameterValidationError) as info:
        validate_create_time(parameters, schema)
    return str(info.value)


# ----------------------------------------------------------------------------------------------


class TestPreprocessSchema:
    def test_optional_property_without_default_accepts_null(self):
        out = preprocess_schema(FOO, ignore_required=False)
        assert out["properties"]["foo"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}

    def test_required_property_keeps_its_type(self):
        out = preprocess_schema(DPS, ignore_required=False)
        assert out["properties"]["x"] == {"type": "string"}
        assert out["required"] == ["x"]

    def test_property_with_default_keeps_its_type(self):
        out = preprocess_schema(XN, ignore_required=False)
        assert out["properties"]["n"] == {"type": "integer", "default": 1}

    def test_defaults_accept_null_applies_to_properties_with_defaults(self):
        out = preprocess_schema(XN, ignore_required=False, defaults_accept_null=True)
        assert out["properties"]["n"] == {"default": 1, "anyOf": [{"type": "integer"}, {"type": "null"}]}

    def test_null_typed_property_is_left_alone(self):
        schema = {"properties": {"a": {"type": "null"}}}
        assert preprocess_schema(schema, ignore_required=False) == schema

    def test_definitions_properties_are_processed(self):
        out = preprocess_schema(PERSON, ignore_required=False)
        person = out["definitions"]["Person"]["properties"]
        assert person["name"] == {"title": "Name", "type": "string"}
        assert person["greeting"]["type"] == "string"
        assert out["properties"]["person"] == {"$ref": "#/definitions/Person"}

    def test_nested_properties_use_their_own_required(self):
        schema = {
            "properties": {
                "a": {"type": "object", "properties": {"z": {"type": "string"}, "w": {"type": "string"}},
                      "required": ["z"]},
            },
        }
        out = preprocess_schema(schema, ignore_required=False)
        nested = out["properties"]["a"]["properties"]
        assert nested["z"] == {"type": "string"}
        assert nested["w"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}

    def test_nested_required_leaks_to_later_siblings_like_the_reference(self):
        schema = {
            "properties": {
                "a": {"type": "object", "properties": {"z": {"type": "string"}}, "required": ["z"]},
                "b": {"type": "string"},
            },
            "required": ["a", "b"],
        }
        out = preprocess_schema(schema, ignore_required=False)
        assert out["properties"]["b"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}

    def test_tuple_items_become_prefix_items(self):
        out = preprocess_schema(SHAPES, ignore_required=False)
        assert out["properties"]["tup"]["prefixItems"] == [{"type": "string"}, {"type": "integer"}]
        assert "items" not in out["properties"]["tup"]
        assert out["properties"]["items"]["items"] == {"type": "integer"}

    def test_ignore_required_removes_required_keys_in_nested_dicts(self):
        out = preprocess_schema(PERSON, ignore_required=True)
        assert "required" not in out
        assert "required" not in out["definitions"]["Person"]

    def test_ignore_required_does_not_descend_into_lists(self):
        schema = {"properties": {"a": {"anyOf": [{"type": "object", "required": ["q"]}, {"type": "null"}]}}}
        out = preprocess_schema(schema, ignore_required=True)
        assert out["properties"]["a"]["anyOf"][0]["required"] == ["q"]

    def test_input_is_never_mutated(self):
        original = copy.deepcopy(PERSON)
        preprocess_schema(PERSON, ignore_required=True, defaults_accept_null=True)
        preprocess_schema(SHAPES, ignore_required=False)
        assert original == PERSON


class TestValidateParameters:
    def test_wrong_type_reports_field(self):  # §8 77, 146
        assert param_error({"x": 1}, DPS, ignore_required=True) == (
            "Validation failed for field 'x'. Failure reason: 1 is not of type 'string'"
        )
        assert param_error({"x": 1}, DPS, ignore_required=False) == (
            "Validation failed for field 'x'. Failure reason: 1 is not of type 'string'"
        )

    def test_valid_parameters_pass(self):  # §8 79, 146
        validate_parameters({"x": "y"}, DPS, ignore_required=True)
        validate_parameters({"x": "y"}, DPS, ignore_required=False)

    def test_required_ignored_on_update(self):  # §8 80
        validate_parameters({"person": {"greeting": "*head nod*"}}, PERSON, ignore_required=True)
        validate_parameters({}, DPS, ignore_required=True)

    def test_nested_required_enforced_for_flow_runs(self):  # §8 149
        assert param_error({"person": {"greeting": "*half hearted wave*"}}, PERSON, ignore_required=False) == (
            "Validation failed for field 'person'. Failure reason: 'name' is a required property"
        )

    def test_missing_required_at_root(self):  # §8 159
        assert param_error({}, XN, ignore_required=False) == (
            "Validation failed. Failure reason: 'x' is a required property"
        )

    def test_null_rejected_for_parameter_with_default(self):  # §8 159
        assert param_error({"x": "a", "n": None}, XN, ignore_required=False) == (
            "Validation failed for field 'n'. Failure reason: None is not of type 'integer'"
        )

    def test_null_rejected_for_required_parameter(self):
        assert param_error({"x": None}, DPS, ignore_required=True) == (
            "Validation failed for field 'x'. Failure reason: None is not of type 'string'"
        )

    def test_extra_parameters_allowed(self):  # §8 159
        validate_parameters({"x": "a", "extra": 5}, XN, ignore_required=False)

    def test_optional_without_default_accepts_null(self):
        validate_parameters({"foo": None}, FOO, ignore_required=False)

    def test_optional_wrong_type_reports_any_of(self):
        assert param_error({"foo": 1}, FOO, ignore_required=True) == (
            "Validation failed for field 'foo'. Failure reason: 1 is not valid under any of the given schemas"
        )

    def test_nested_field_path(self):
        assert param_error({"person": {"name": 1}}, PERSON, ignore_required=True) == (
            "Validation failed for field 'person.name'. Failure reason: 1 is not of type 'string'"
        )

    def test_object_null_for_ref_property(self):
        assert param_error({"person": None}, PERSON, ignore_required=True) == (
            "Validation failed for field 'person'. Failure reason: None is not of type 'object'"
        )

    def test_additional_properties_path_with_dot(self):
        assert param_error({"env": {"FOO": 1}}, SHAPES, ignore_required=True) == (
            "Validation failed for field 'env.FOO'. Failure reason: 1 is not of type 'string'"
        )

    def test_array_index_path(self):
        assert param_error({"items": ["a"]}, SHAPES, ignore_required=True) == (
            "Validation failed for field 'items[0]'. Failure reason: 'a' is not of type 'integer'"
        )
        assert param_error({"items": [1, "a"]}, SHAPES, ignore_required=True) == (
            "Validation failed for field 'items[1]'. Failure reason: 'a' is not of type 'integer'"
        )

    def test_tuple_items_validated_positionally(self):
        assert param_error({"tup": ["a", "b"]}, SHAPES, ignore_required=True) == (
            "Validation failed for field 'tup[1]'. Failure reason: 'b' is not of type 'integer'"
        )

    def test_formats_are_not_checked(self):
        validate_parameters({"dt": "not a date"}, SHAPES, ignore_required=False)

    def test_non_object_parameters_fail_at_root(self):
        assert param_error(5, DPS, ignore_required=True) == (
            "Validation failed. Failure reason: 5 is not of type 'object'"
        )

    def test_field_name_with_quote_uses_python_repr(self):
        schema = {"type": "object", "properties": {"it's": {"type": "string", "default": "x"}}}
        assert param_error({"it's": 1}, schema, ignore_required=True) == (
            "Validation failed for field \"$['it\\\\'s']\". Failure reason: 1 is not of type 'string'"
        )

    def test_circular_reference(self):  # §8 158
        with pytest.raises(CircularSchemaError):
            validate_parameters({"x": 1}, CIRCULAR, ignore_required=False)
        with pytest.raises(CircularSchemaError):
            validate_parameters({"x": 1}, {"$ref": "#"}, ignore_required=True)

    def test_circular_reference_not_reached_is_fine(self):
        validate_parameters({}, CIRCULAR, ignore_required=False)

    def test_invalid_schema_document(self):
        with pytest.raises(InvalidSchemaError) as info:
            validate_parameters({"foo": 1}, BLORK, ignore_required=True)
        assert str(info.value) == "'blork' is not valid under any of the given schemas"

    def test_invalid_regex_in_schema(self):
        schema = {"type": "object", "properties": {"a": {"type": "string", "pattern": "["}}}
        with pytest.raises(InvalidSchemaError) as info:
            validate_parameters({"a": "x"}, schema, ignore_required=True)
        assert str(info.value) == "'[' is not a 'regex'"

    def test_unresolvable_ref_is_an_invalid_schema(self):
        schema = {"type": "object", "properties": {"a": {"$ref": "#/definitions/Nope"}}}
        with pytest.raises(InvalidSchemaError):
            validate_parameters({"a": 1}, schema, ignore_required=True)

    def test_schema_is_not_mutated(self):
        original = copy.deepcopy(PERSON)
        validate_parameters({"person": {"name": "n"}}, PERSON, ignore_required=True)
        assert original == PERSON


class TestValidateCreateTime:
    def test_invalid_schema_type(self):  # §8 23
        assert create_error({"foo": 1}, BLORK) == (
            "The provided schema is not a valid json schema. "
            "Schema error: 'blork' is not valid under any of the given schemas"
        )

    def test_invalid_schema_reported_even_without_parameters(self):
        assert create_error({}, {"type": "object", "properties": {"a": {"type": "string", "pattern": "["}}}) == (
            "The provided schema is not a valid json schema. Schema error: '[' is not a 'regex'"
        )

    def test_tuple_items_are_invalid_under_draft_2020_12(self):
        assert create_error({}, SHAPES) == (
            "The provided schema is not a valid json schema. Schema error: "
            "[{'type': 'string'}, {'type': 'integer'}] is not of type 'object', 'boolean'"
        )

    def test_wrong_type(self):  # §8 25
        assert create_error({"foo": 1}, FOO) == (
            "Validation failed for field 'foo'. Failure reason: 1 is not of type 'string'"
        )

    def test_no_null_preprocessing(self):
        assert create_error({"foo": None}, FOO) == (
            "Validation failed for field 'foo'. Failure reason: None is not of type 'string'"
        )

    def test_partial_parameters_allowed(self):  # §8 27
        validate_create_time({"person": {"greeting": "sup"}}, PERSON)
        validate_create_time({}, DPS)

    def test_nested_type_error(self):
        assert create_error({"person": {"name": 1}}, PERSON) == (
            "Validation failed for field 'person.name'. Failure reason: 1 is not of type 'string'"
        )

    def test_root_failure(self):
        assert create_error(5, DPS) == "Validation failed. Failure reason: 5 is not of type 'object'"

    def test_required_removed_only_through_dicts(self):
        schema = {"type": "object", "properties": {"a": {"anyOf": [{"type": "object", "required": ["q"]}]}}}
        assert create_error({"a": {}}, schema) == (
            "Validation failed for field 'a'. Failure reason: 'q' is a required property"
        )

    def test_dialect_follows_dollar_schema(self):
        schema = {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "properties": {"a": {"type": "string"}},
        }
        assert create_error({"a": 1}, schema) == (
            "Validation failed for field 'a'. Failure reason: 1 is not of type 'string'"
        )

    def test_none_schema_is_skipped(self):
        validate_create_time({"x": 1}, None)

    def test_none_parameters_only_check_the_schema(self):
        validate_create_time(None, DPS)

    def test_circular_reference(self):
        with pytest.raises(CircularSchemaError):
            validate_create_time({"x": 1}, CIRCULAR)


# ----------------------------------------------------------------------------------------------
# Job variables

BLOCKS = {"block-1": {"foo": "bar"}, "block-empty": {}}


def template(properties: dict, required: list[str] | None = None, **extra) -> dict:
    """A base job template; key order (properties, required, extras) as in the reference tests."""
    variables: dict = {"type": "object", "properties": properties}
    if required is not None:
        variables["required"] = required
    variables.update(extra)
    return {"job_configuration": {"command": "{{ command }}"}, "variables": variables}


def run_jobvars(tmpl, *, deployment_vars=None, run_vars=None, mode="flow_run", blocks=BLOCKS) -> None:
    validate_job_variables(template=tmpl, deployment_vars=deployment_vars, run_vars=run_vars, mode=mode,
                           load_block_data=blocks.get)


def jobvars_error(tmpl, **kw) -> str:
    with pytest.raises(ParameterValidationError) as info:
        run_jobvars(tmpl, **kw)
    return str(info.value)


EXPECTED_REQUIRED = template(
    {"expected_variable_1": {"type": "integer"}, "expected_variable_2": {"type": "string"}},
    ["expected_variable_1", "expected_variable_2"],
    additionalProperties=False,
)
TYPED_WITH_DEFAULTS = template(
    {"expected_variable_1": {"type": "integer", "default": 0},
     "expected_variable_2": {"type": "string", "default": "x"}},
    ["expected_variable_1", "expected_variable_2"],
)
AGE = template({"age": {"type": "integer"}})


def block_default(block_id: str, type_: str = "string") -> dict:
    return {"type": type_, "default": {"$ref": {"block_document_id": block_id}}}


class TestJobVariables:
    # --- flow-run mode -------------------------------------------------------------------------

    def test_missing_required_variable_at_root(self):  # §8 161
        assert jobvars_error(EXPECTED_REQUIRED, run_vars={"x": 1}) == (
            "Validation failed. Failure reason: 'expected_variable_1' is a required property"
        )

    def test_best_match_between_equal_errors_follows_schema_key_order(self):
        # Both errors sit at the root with equal relevance: the keyword iterated first wins, so
        # templates must be stored with their key order intact.
        reordered = {"variables": {"type": "object", "properties": {}, "additionalProperties": False,
                                   "required": ["expected_variable_1"]}}
        assert jobvars_error(reordered, run_vars={"x": 1}) == (
            "Validation failed. Failure reason: Additional properties are not allowed ('x' was unexpected)"
        )

    def test_missing_required_variable_without_overrides(self):  # §8 166
        assert jobvars_error(EXPECTED_REQUIRED) == (
            "Validation failed. Failure reason: 'expected_variable_1' is a required property"
        )

    def test_wrong_types_report_best_match(self):  # §8 162
        assert jobvars_error(TYPED_WITH_DEFAULTS,
                             run_vars={"expected_variable_1": 1, "expected_variable_2": 2}) == (
            "Validation failed for field 'expected_variable_2'. Failure reason: 2 is not of type 'string'"
        )

    @pytest.mark.parametrize("tmpl", [{}, None, {"variables": {}}, {"job_configuration": {}},
                                      template({"x": {}}), {"variables": {"properties": {"x": {}}}}])
    def test_empty_or_untyped_templates_accept_anything(self, tmpl):  # §8 163
        run_jobvars(tmpl, run_vars={"x": 1})

    def test_run_and_deployment_variables_merge(self):  # §8 164, 165
        run_jobvars(TYPED_WITH_DEFAULTS, deployment_vars={"expected_variable_1": 1, "expected_variable_2": "2"},
                    run_vars={"expected_variable_1": -1, "expected_variable_2": "-2"})
        assert jobvars_error(TYPED_WITH_DEFAULTS, deployment_vars={"expected_variable_2": 2},
                             run_vars={"expected_variable_1": -1}) == (
            "Validation failed for field 'expected_variable_2'. Failure reason: 2 is not of type 'string'"
        )

    def test_run_variables_override_deployment_variables(self):
        run_jobvars(AGE, deployment_vars={"age": "bad"}, run_vars={"age": 3})

    def test_required_variable_with_default_is_satisfied(self):  # §8 167
        run_jobvars(template({"var1": {"type": "integer", "default": 0}}, ["var1"]))

    def test_block_reference_default_is_loaded(self):  # §8 169
        run_jobvars(template({"v": block_default("block-1", "object")}, ["v"]))

    def test_missing_block_reference(self):  # §8 173, 176
        with pytest.raises(BlockNotFound) as info:
            run_jobvars(template({"v": block_default("nope")}))
        assert isinstance(info.value, NotFound)
        assert info.value.detail == "Block not found."

    def test_non_string_block_id_is_not_found(self):
        with pytest.raises(BlockNotFound):
            run_jobvars(template({"v": block_default(5)}))

    def test_block_reference_without_id_is_skipped(self):
        tmpl = template({"v": {"type": "string", "default": {"$ref": {}}}}, ["v"])
        assert jobvars_error(tmpl) == "Validation failed. Failure reason: 'v' is a required property"

    def test_wrong_type_block_default_is_ignored(self):  # §8 176
        run_jobvars(template({"v": block_default("block-1")}))
        run_jobvars(template({"v": block_default("block-empty")}))

    def test_invalid_default_relaxes_required(self):
        tmpl = template({"v": block_default("block-1"), "w": {"type": "string"}}, ["w"])
        run_jobvars(tmpl)

    def test_invalid_format_default_is_dropped_and_relaxes_required(self):
        tmpl = template({"d": {"type": "string", "format": "date-time", "default": "nope"}}, ["d"])
        run_jobvars(tmpl)

    def test_optional_variables_with_defaults_accept_null(self):  # §8 176
        tmpl = template({"v": {"type": "string", "default": "a"}, "n": {"type": "integer"}})
        run_jobvars(tmpl)
        run_jobvars(tmpl, deployment_vars={"v": None}, run_vars={"n": None})

    def test_optional_variable_wrong_type(self):
        tmpl = template({"v": {"type": "string", "default": "a"}})
        assert jobvars_error(tmpl, run_vars={"v": 1}) == (
            "Validation failed for field 'v'. Failure reason: 1 is not valid under any of the given schemas"
        )

    def test_nested_path(self):
        tmpl = template({"env": {"type": "object", "additionalProperties": {"type": "string"}}})
        assert jobvars_error(tmpl, run_vars={"env": {"FOO": 1}}) == (
            "Validation failed for field 'env.FOO'. Failure reason: 1 is not of type 'string'"
        )

    def test_non_dict_layers_are_ignored(self):
        run_jobvars(AGE, deployment_vars=None, run_vars=None)

    # --- deployment mode -----------------------------------------------------------------------

    def test_required_ignored_for_deployments(self):  # §8 20
        run_jobvars(template({"var1": {"type": "string"}}, ["var1"]), deployment_vars={"x": 1}, mode="deployment")
        run_jobvars(template({"var1": {"type": "string"}, "var2": {"type": "string"}}, ["var1", "var2"]),
                    deployment_vars={"var2": "hello"}, mode="deployment")

    def test_deployment_defaults_and_overrides_pass(self):  # §8 21
        run_jobvars(template({"var1": {"type": "string", "default": "hello"}}),
                    deployment_vars={"var1": "hello"}, mode="deployment")
        run_jobvars(template({"var1": {"type": "string"}}, ["var1"]),
                    deployment_vars={"var1": "hello"}, mode="deployment")
        run_jobvars(template({"var1": {"type": "string"}, "var2": {"type": "string", "default": "d"}}, ["var1"]),
                    deployment_vars={"var1": "hello"}, mode="deployment")

    def test_deployment_optional_integer(self):  # §8 175
        assert jobvars_error(AGE, deployment_vars={"age": "hi"}, mode="deployment") == (
            "Validation failed for field 'age'. Failure reason: 'hi' is not valid under any of the given schemas"
        )
        run_jobvars(AGE, deployment_vars={"age": 41}, mode="deployment")
        run_jobvars(AGE, deployment_vars={"favorite_type_of_bike": "touring"}, mode="deployment")

    def test_deployment_mode_ignores_run_variables(self):
        run_jobvars(AGE, deployment_vars={"age": 1}, run_vars={"age": "bad"}, mode="deployment")

    def test_deployment_mode_skipped_without_job_variables(self):  # §8 174
        run_jobvars(template({"v": block_default("nope")}, ["v"]), deployment_vars={}, mode="deployment")
        run_jobvars(template({"v": block_default("nope")}), deployment_vars=None, mode="deployment")

    def test_deployment_mode_wrong_type_block_default_passes(self):  # §8 174
        run_jobvars(template({"v": block_default("block-1")}), deployment_vars={"a": 1}, mode="deployment")

    def test_deployment_mode_missing_block_is_not_found(self):
        with pytest.raises(BlockNotFound):
            run_jobvars(template({"v": block_default("nope")}), deployment_vars={"a": 1}, mode="deployment")

    def test_additional_properties_false_enforced(self):
        assert jobvars_error(EXPECTED_REQUIRED, deployment_vars={"x": 1}, mode="deployment") == (
            "Validation failed. Failure reason: Additional properties are not allowed ('x' was unexpected)"
        )

    # --- schema problems -----------------------------------------------------------------------

    def test_invalid_variables_schema(self):
        with pytest.raises(InvalidSchemaError) as info:
            run_jobvars(template({"v": {"type": "blork"}}), deployment_vars={"a": 1}, mode="deployment")
        assert str(info.value) == "'blork' is not valid under any of the given schemas"

    def test_circular_variables_schema(self):
        tmpl = {"variables": CIRCULAR}
        with pytest.raises(CircularSchemaError):
            run_jobvars(tmpl, run_vars={"x": 1})
        run_jobvars(tmpl, run_vars={"y": 1})

    def test_template_is_not_mutated(self):
        original = copy.deepcopy(TYPED_WITH_DEFAULTS)
        with pytest.raises(ParameterValidationError):
            run_jobvars(TYPED_WITH_DEFAULTS, run_vars={"expected_variable_1": "a"})
        assert original == TYPED_WITH_DEFAULTS


class TestLegacyJobVariablesError:
    def test_optional_integer_given_string(self):  # §8 100
        assert legacy_job_variables_error({"age": "hi"}, AGE) == (
            "<ValidationError: \"'hi' is not valid under any of the given schemas\">"
        )

    def test_valid_variables(self):
        assert legacy_job_variables_error({"age": 7}, AGE) is None
        assert legacy_job_variables_error({"age": None}, AGE) is None
        assert legacy_job_variables_error({}, AGE) is None

    def test_none_against_object_schema(self):  # §8 106
        assert legacy_job_variables_error(None, {"variables": {"type": "object"}}) == (
            "<ValidationError: \"None is not of type 'object'\">"
        )
        assert legacy_job_variables_error({}, {"variables": {"type": "object"}}) is None

    def test_required_ignored(self):
        assert legacy_job_variables_error({}, template({"var1": {"type": "string"}}, ["var1"])) is None

    def test_no_variables_means_no_check(self):
        assert legacy_job_variables_error(None, {}) is None
        assert legacy_job_variables_error({"x": 1}, {"variables": None}) is None
        assert legacy_job_variables_error({"x": 1}, None) is None

    def test_empty_variables_schema_accepts_anything(self):
        assert legacy_job_variables_error({"x": 1}, {"variables": {}}) is None

    def test_first_error_in_iteration_order(self):
        assert legacy_job_variables_error(
            {"expected_variable_1": "a", "expected_variable_2": 1}, EXPECTED_REQUIRED
        ) == "<ValidationError: \"'a' is not of type 'integer'\">"

    def test_formats_are_checked(self):
        tmpl = template({"d": {"type": "string", "format": "date-time"}})
        assert legacy_job_variables_error({"d": "x"}, tmpl) == "<ValidationError: \"'x' is not a 'date-time'\">"

    def test_repr_quoting_follows_python(self):
        tmpl = {"variables": {"properties": {"x": {"type": "integer"}}}}
        assert legacy_job_variables_error({"x": 'it"s'}, tmpl) == (
            "<ValidationError: '\\'it\"s\\' is not valid under any of the given schemas'>"
        )

    def test_circular_schema(self):
        with pytest.raises(CircularSchemaError):
            legacy_job_variables_error({"x": 1}, {"variables": CIRCULAR})


class TestLazyImports:
    def test_importing_validation_does_not_import_jsonschema(self):
        code = (
            "import sys; import domain.validation; "
            "assert 'jsonschema' not in sys.modules; "
            "domain.validation.preprocess_schema({'properties': {'a': {'type': 'string'}}}, ignore_required=True); "
            "assert 'jsonschema' not in sys.modules; print('ok')"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             cwd=Path(__file__).resolve().parents[2])
        assert out.stdout.strip() == "ok"
