"""domain.hydration — spec §7.1 and §8 items 81–83, 151–155, 157.

Expected values were cross-checked against prefect 2.20.26's ``schema_tools.hydrate`` (raise on
error, jinja + workspace variables on).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from domain.hydration import HydrationError, hydrate, needs_variables

VARIABLES = {"my_variable": "my_value", "other": "other_value"}


def lookup(name: str) -> str | None:
    return VARIABLES.get(name)


def hydrate_ok(value):
    return hydrate(value, lookup)


def hydration_error(value) -> str:
    with pytest.raises(HydrationError) as info:
        hydrate(value, lookup)
    assert info.value.message == str(info.value)
    return str(info.value)


def jinja(template):
    return {"x": {"__prefect_kind": "jinja", "template": template}}


class TestHydrate:
    # --- spec examples -------------------------------------------------------------------------

    def test_json_kind_parses_string_value(self):
        assert hydrate_ok({"x": {"__prefect_kind": "json", "value": '"str_of_json"'}}) == {"x": "str_of_json"}

    def test_none_kind_passes_value_through(self):
        assert hydrate_ok({"param": {"__prefect_kind": "none", "value": 5}}) == {"param": 5}

    def test_spec_removal_and_other_kind_example(self):
        value = {
            "p": {"__prefect_kind": "json"},
            "q": [{"__prefect_kind": "workspace_variable"}],
            "r": {"__prefect_kind": "mystery", "value": 42},
            "s": {"__prefect_kind": "json", "value": {"__prefect_kind": "none", "value": "[1,2]"}},
        }
        assert hydrate_ok(value) == {"q": [], "r": 42, "s": [1, 2]}

    def test_jinja_kind_renders_with_empty_context(self):
        assert hydrate_ok(jinja("{{ 1 + 2 }}")) == {"x": "3"}

    def test_workspace_variable_kind_resolves_value(self):
        value = {"x": {"__prefect_kind": "workspace_variable", "variable_name": "my_variable"}}
        assert hydrate_ok(value) == {"x": "my_value"}

    # --- error messages --------------------------------------------------------------------------

    def test_invalid_json_reports_python_json_error(self):
        value = {"x": {"__prefect_kind": "json", "value": '{"invalid": json}'}}
        assert hydration_error(value) == "Invalid JSON: Expecting value: line 1 column 13 (char 12)"

    def test_empty_json_text_is_invalid(self):
        value = {"x": {"__prefect_kind": "json", "value": ""}}
        assert hydration_error(value) == "Invalid JSON: Expecting value: line 1 column 1 (char 0)"

    @pytest.mark.parametrize(
        ("raw", "type_name"), [(5, "int"), (None, "NoneType"), ([1], "list"), ({"a": "b"}, "dict")]
    )
    def test_non_string_json_value_is_invalid(self, raw, type_name):
        value = {"x": {"__prefect_kind": "json", "value": raw}}
        assert hydration_error(value) == (
            f"Invalid JSON: the JSON object must be str, bytes or bytearray, not {type_name}"
        )

    def test_json_value_that_is_a_removed_entry_is_invalid(self):
        value = {"x": {"__prefect_kind": "json", "value": {"__prefect_kind": "json"}}}
        assert hydration_error(value) == (
            "Invalid JSON: the JSON object must be str, bytes or bytearray, not RemoveValue"
        )

    def test_missing_workspace_variable(self):
        value = {"x": {"__prefect_kind": "workspace_variable", "variable_name": "nope"}}
        assert hydration_error(value) == "Variable 'nope' not found in workspace."

    def test_non_string_variable_name_is_not_found(self):
        value = {"x": {"__prefect_kind": "workspace_variable", "variable_name": 5}}
        assert hydration_error(value) == "Variable '5' not found in workspace."

    def test_jinja_without_template(self):
        assert hydration_error({"x": {"__prefect_kind": "jinja"}}) == "Missing 'template' key in __prefect object"

    def test_none_without_value(self):
        assert hydration_error({"x": {"__prefect_kind": "none"}}) == "Missing 'value' key in __prefect object"

    @pytest.mark.parametrize(
        ("template", "message"),
        [
            ("{{ }}", "Invalid jinja: Expected an expression, got 'end of print statement'"),
            ("{{ 1 + ", "Invalid jinja: unexpected 'end of template'"),
            ("{% if %}", "Invalid jinja: Expected an expression, got 'end of statement block'"),
        ],
    )
    def test_jinja_syntax_error(self, template, message):
        assert hydration_error(jinja(template)) == message

    def test_jinja_more_than_ten_for_loops_rejected(self):
        template = "{% for a in [1] %}{% endfor %}" * 11
        assert hydration_error(jinja(template)) == (
            "Invalid jinja: Contains 11 for loops. Templates can contain no more than 10 for loops."
        )

    def test_jinja_ten_for_loops_allowed(self):
        assert hydrate_ok(jinja("{% for a in [1] %}{% endfor %}" * 10)) == {"x": ""}

    def test_jinja_loops_nested_three_deep_rejected(self):
        template = "{% for a in [1] %}{% for b in [1] %}{% for c in [1] %}{% endfor %}{% endfor %}{% endfor %}"
        assert hydration_error(jinja(template)) == (
            "Invalid jinja: Contains nested for loops at a depth of 3. "
            "Templates can nest for loops no more than 2 loops deep."
        )

    def test_jinja_loop_nesting_counts_else_branches(self):
        template = (
            "{% for a in [1] %}{% else %}{% for b in [] %}{% for c in [] %}{% endfor %}{% endfor %}{% endfor %}"
        )
        assert "depth of 3" in hydration_error(jinja(template))

    def test_jinja_loops_nested_two_deep_allowed(self):
        template = "{% for a in [1] %}{% for b in [1, 2] %}{{ a }}{{ b }}{% endfor %}{% endfor %}"
        assert hydrate_ok(jinja(template)) == {"x": "1112"}

    def test_first_error_wins(self):
        value = {
            "a": {"__prefect_kind": "workspace_variable", "variable_name": "first"},
            "b": {"__prefect_kind": "none"},
        }
        assert hydration_error(value) == "Variable 'first' not found in workspace."

    def test_nested_error_is_raised(self):
        value = {"x": {"__prefect_kind": "none", "value": {"__prefect_kind": "none", "value": {
            "__prefect_kind": "workspace_variable", "variable_name": "nope2"}}}}
        assert hydration_error(value) == "Variable 'nope2' not found in workspace."

    # --- jinja rendering -------------------------------------------------------------------------

    def test_string_without_template_markers_is_returned_unchanged(self):
        assert hydrate_ok(jinja("plain text")) == {"x": "plain text"}

    def test_undefined_names_render_empty(self):
        assert hydrate_ok(jinja("{{ a.b.c }}|{{ now }}")) == {"x": "|"}

    def test_filters_and_set_work(self):
        assert hydrate_ok(jinja("{{ 'x' | upper }}{{ 3 | string }}")) == {"x": "X3"}
        assert hydrate_ok(jinja("{% set a = 1 %}{{ a }}")) == {"x": "1"}

    def test_raw_block_renders_literally(self):
        assert hydrate_ok(jinja("{% raw %}{{x}}{% endraw %}")) == {"x": "{{x}}"}

    def test_runtime_error_becomes_failure_text(self):
        assert hydrate_ok(jinja("{{ 1/0 }}")) == {"x": (
            "Failed to render template due to the following error: ZeroDivisionError('division by zero')\n"
            "Template source:\n{{ 1/0 }}"
        )}

    def test_undefined_arithmetic_becomes_failure_text(self):
        assert hydrate_ok(jinja("{{ a + 1 }}|")) == {"x": (
            "Failed to render template due to the following error: UndefinedError(\"'a' is undefined\")\n"
            "Template source:\n{{ a + 1 }}|"
        )}

    def test_unknown_filter_becomes_failure_text(self):
        assert hydrate_ok(jinja("{{ x | nosuchfilter }}")) == {"x": (
            "Failed to render template due to the following error: "
            "TemplateAssertionError(\"No filter named 'nosuchfilter'.\")\n"
            "Template source:\n{{ x | nosuchfilter }}"
        )}

    def test_sandbox_is_immutable(self):
        assert hydrate_ok(jinja("{{ [].append(1) }}")) == {"x": (
            "Failed to render template due to the following error: "
            "SecurityError(\"access to attribute 'append' of 'list' object is unsafe.\")\n"
            "Template source:\n{{ [].append(1) }}"
        )}

    def test_sandbox_hides_dunder_attributes(self):
        assert hydrate_ok(jinja("{{ ''.__class__.__mro__ }}")) == {"x": ""}

    def test_range_is_limited_to_one_hundred(self):
        assert hydrate_ok(jinja("{{ range(5) | list }}")) == {"x": "[0, 1, 2, 3, 4]"}
        assert hydrate_ok(jinja("{{ range(1000) | list }}")) == {"x": (
            "Failed to render template due to the following error: OverflowError('Range too big. "
            "The sandbox blocks ranges larger than MAX_TEMPLATE_RANGE=100.')\n"
            "Template source:\n{{ range(1000) | list }}"
        )}

    def test_includes_have_no_loader(self):
        assert hydrate_ok(jinja("{% include 'foo' %}")) == {"x": (
            "Failed to render template due to the following error: "
            "TypeError('no loader for this environment specified')\nTemplate source:\n{% include 'foo' %}"
        )}

    def test_dict_template_is_hydrated_first(self):
        value = jinja({"__prefect_kind": "workspace_variable", "variable_name": "my_variable"})
        assert hydrate_ok(value) == {"x": "my_value"}

    def test_non_string_template_without_markers_is_returned_unchanged(self):
        assert hydrate_ok(jinja({"a": 1})) == {"x": {"a": 1}}

    def test_non_string_template_is_checked_in_its_str_form(self):
        assert hydration_error(jinja({"a": "{{"})) == "Invalid jinja: unexpected char \"'\" at 9"

    # --- removal semantics, recursion, other kinds -----------------------------------------------

    def test_top_level_removed_entry_hydrates_to_empty_dict(self):
        assert hydrate_ok({"__prefect_kind": "workspace_variable"}) == {}
        assert hydrate_ok({"__prefect_kind": "json"}) == {}

    def test_removed_entries_drop_from_lists(self):
        assert hydrate_ok([{"__prefect_kind": "json"}, 1]) == [1]
        assert hydrate_ok([[{"__prefect_kind": "workspace_variable"}]]) == [[]]

    def test_none_kind_propagates_removal_to_parent(self):
        assert hydrate_ok({"x": {"__prefect_kind": "none", "value": {"__prefect_kind": "json"}}}) == {}

    def test_top_level_prefect_object(self):
        assert hydrate_ok({"__prefect_kind": "none", "value": 7}) == 7

    def test_other_kind_returns_value_without_hydrating_it(self):
        value = {"x": {"__prefect_kind": "mystery", "value": {"__prefect_kind": "none", "value": 1}}}
        assert hydrate_ok(value) == {"x": {"__prefect_kind": "none", "value": 1}}

    def test_other_kind_without_value_is_null(self):
        assert hydrate_ok({"x": {"__prefect_kind": "mystery"}}) == {"x": None}

    def test_null_kind_returns_value(self):
        assert hydrate_ok({"x": {"__prefect_kind": None, "value": 3}}) == {"x": 3}

    def test_variable_name_object_is_hydrated_first(self):
        value = {"x": {"__prefect_kind": "workspace_variable",
                       "variable_name": {"__prefect_kind": "jinja", "template": "my_{{ 'variable' }}"}}}
        assert hydrate_ok(value) == {"x": "my_value"}

    def test_deeply_nested_objects_hydrate(self):
        value = {"a": {"b": [{"__prefect_kind": "none",
                              "value": {"c": {"__prefect_kind": "json", "value": '{"d": 1}'}}}]}}
        assert hydrate_ok(value) == {"a": {"b": [{"c": {"d": 1}}]}}

    def test_json_kind_follows_python_json_rules(self):
        result = hydrate_ok({"x": {"__prefect_kind": "json", "value": "NaN"}})
        assert math.isnan(result["x"])

    @pytest.mark.parametrize("value", ["str", 5, None, 1.5, True, {"a": [1, {"b": None}]}])
    def test_plain_values_are_unchanged(self, value):
        assert hydrate_ok(value) == value

    def test_input_is_not_mutated(self):
        value = {"p": {"__prefect_kind": "json"}, "q": [{"__prefect_kind": "none", "value": 1}]}
        before = json.dumps(value)
        hydrate_ok(value)
        assert json.dumps(value) == before

    def test_variables_are_looked_up_only_when_needed(self):
        calls = []

        def spy(name):
            calls.append(name)
            return VARIABLES.get(name)

        hydrate({"a": 1, "b": {"__prefect_kind": "workspace_variable", "variable_name": "other"}}, spy)
        assert calls == ["other"]


class TestNeedsVariables:
    def test_true_for_workspace_variable_anywhere(self):
        assert needs_variables({"a": [{"b": {"__prefect_kind": "workspace_variable", "variable_name": "x"}}]})
        assert needs_variables({"__prefect_kind": "workspace_variable"})

    def test_true_inside_other_prefect_objects(self):
        assert needs_variables(jinja({"__prefect_kind": "workspace_variable", "variable_name": "x"}))

    def test_false_without_workspace_variables(self):
        assert not needs_variables({"a": [1, {"__prefect_kind": "json", "value": "1"}], "b": "workspace_variable"})
        assert not needs_variables({})
        assert not needs_variables(None)


class TestLazyImports:
    def test_importing_hydration_does_not_import_jinja2(self):
        code = (
            "import sys; import domain.hydration as h; "
            "assert 'jinja2' not in sys.modules; "
            "h.hydrate({'a': {'__prefect_kind': 'none', 'value': 1}}, lambda n: None); "
            "assert 'jinja2' not in sys.modules; print('ok')"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             cwd=Path(__file__).resolve().parents[2])
        assert out.stdout.strip() == "ok"
