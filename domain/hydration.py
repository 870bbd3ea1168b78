"""Parameter hydration: resolving ``__prefect_kind`` objects (spec §7.1).

Applied to PATCH ``parameters`` and to the merged parameters of ``create_flow_run``. The walk is
"raise on first error" with workspace variables and jinja rendering switched on, which is the
only mode the API uses.

jinja2 is imported lazily (only when a ``jinja`` object is met) so handlers that never render a
template do not pay for it at cold start.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["HydrationError", "hydrate", "needs_variables"]

KIND_KEY = "__prefect_kind"

MAX_TEMPLATE_RANGE = 100
MAX_LOOP_COUNT = 10
MAX_NESTED_LOOP_DEPTH = 2

LookupVariable = Callable[[str], "str | None"]


class HydrationError(Exception):
    """A hydration failure; ``message`` (== ``str(e)``) is the reference text."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class RemoveValue:
    """Marker for an entry that is dropped from its parent dict/list.

    The class name is part of one reference error text: a ``json`` object whose ``value`` is itself
    a removed entry fails with ``Invalid JSON: the JSON object must be str, bytes or bytearray,
    not RemoveValue``.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "RemoveValue()"


_REMOVE = RemoveValue()


def hydrate(value: Any, lookup_variable: LookupVariable) -> Any:
    """Hydrate ``value``; raises :class:`HydrationError` on the first error.

    ``lookup_variable(name)`` returns the workspace variable's string value, or ``None`` when no
    such variable exists. A top-level value that is itself removed hydrates to ``{}``.
    """
    result = _hydrate(value, lookup_variable)
    if result is _REMOVE:
        return {}
    return result


def needs_variables(value: Any) -> bool:
    """True if any ``workspace_variable`` object appears anywhere in ``value`` (cheap walk)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get(KIND_KEY) == "workspace_variable":
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


# --------------------------------------------------------------------------------------------
# The walk


def _hydrate(value: Any, lookup: LookupVariable) -> Any:
    if isinstance(value, dict):
        if KIND_KEY in value:
            return _prefect_object(value, lookup)
        out = {}
        for key, item in value.items():
            hydrated = _hydrate(item, lookup)
            if hydrated is not _REMOVE:
                out[key] = hydrated
        return out
    if isinstance(value, list):
        out_list = []
        for item in value:
            hydrated = _hydrate(item, lookup)
            if hydrated is not _REMOVE:
                out_list.append(hydrated)
        return out_list
    return value


def _prefect_object(obj: dict, lookup: LookupVariable) -> Any:
    kind = obj[KIND_KEY]
    if kind == "none":
        if "value" not in obj:
            raise HydrationError("Missing 'value' key in __prefect object")
        return _hydrate(obj["value"], lookup)
    if kind == "json":
        return _json_object(obj, lookup)
    if kind == "jinja":
        return _jinja_object(obj, lookup)
    if kind == "workspace_variable":
        return _workspace_variable_object(obj, lookup)
    # Unknown kinds (and null): the raw, un-hydrated ``value``.
    return obj.get("value")


def _json_object(obj: dict, lookup: LookupVariable) -> Any:
    if "value" not in obj:
        return _REMOVE
    text = obj["value"]
    if isinstance(text, dict):
        text = _hydrate(text, lookup)
    try:
        return json.loads(text)
    except (json.JSONDecodeError, TypeError) as exc:
        raise HydrationError(f"Invalid JSON: {exc}") from None


def _workspace_variable_object(obj: dict, lookup: LookupVariable) -> Any:
    if "variable_name" not in obj:
        return _REMOVE
    name = obj["variable_name"]
    if isinstance(name, dict):
        name = _hydrate(name, lookup)
    found = lookup(name) if isinstance(name, str) else None
    if found is None:
        raise HydrationError(f"Variable '{name}' not found in workspace.")
    return found


# --------------------------------------------------------------------------------------------
# jinja


def _jinja_object(obj: dict, lookup: LookupVariable) -> Any:
    if "template" not in obj:
        raise HydrationError("Missing 'template' key in __prefect object")
    template = obj["template"]
    if isinstance(template, dict):
        template = _hydrate(template, lookup)

    # jinja parses ``str(source)``, so non-string templates are checked in their str() form.
    _check_template(template if isinstance(template, str) else str(template))

    if not isinstance(template, str):
        # The reference either returns such a value unchanged (dicts/lists without "{{"/"{%"
        # members) or crashes (500); returning it unchanged is the sane superset.
        return template
    return render_template(template)


def _check_template(source: str) -> None:
    """Syntax + loop-budget check; raises ``HydrationError("Invalid jinja: ...")``."""
    from jinja2 import TemplateSyntaxError, nodes

    env = _environment()
    try:
        root = env.parse(source)
    except TemplateSyntaxError as exc:
        raise HydrationError(f"Invalid jinja: {exc}") from None

    loops = sum(1 for _ in root.find_all(nodes.For))
    if not loops:
        return
    if loops > MAX_LOOP_COUNT:
        raise HydrationError(
            f"Invalid jinja: Contains {loops} for loops. Templates can contain no "
            f"more than {MAX_LOOP_COUNT} for loops."
        )
    depth = _max_loop_depth(root, nodes.For)
    if depth > MAX_NESTED_LOOP_DEPTH:
        raise HydrationError(
            f"Invalid jinja: Contains nested for loops at a depth of {depth}. "
            f"Templates can nest for loops no more than {MAX_NESTED_LOOP_DEPTH} loops deep."
        )


def _max_loop_depth(root: Any, for_type: type) -> int:
    """Largest number of ``For`` nodes on any root-to-leaf path."""
    best = 0
    stack = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, for_type):
            depth += 1
        best = max(best, depth)
        stack.extend((child, depth) for child in node.iter_child_nodes())
    return best


def render_template(template: str) -> str:
    """Render with an empty context; runtime failures become the reference's failure text."""
    if "{{" not in template and "{%" not in template:
        return template
    try:
        return _environment().from_string(template).render({})
    except Exception as exc:  # the reference turns every render failure into text
        return (
            f"Failed to render template due to the following error: {exc!r}\n"
            "Template source:\n"
        ) + template


def _check_template_range(*args: int) -> range:
    rng = range(*args)
    if len(rng) > MAX_TEMPLATE_RANGE:
        raise OverflowError(
            "Range too big. The sandbox blocks ranges larger than"
            f" {MAX_TEMPLATE_RANGE=}."
        )
    return rng


_ENV: Any = None


def _environment() -> Any:
    """The immutable sandbox (ChainableUndefined, size-limited ``range``), built once."""
    global _ENV
    if _ENV is None:
        from jinja2 import ChainableUndefined
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        env = ImmutableSandboxedEnvironment(undefined=ChainableUndefined)
        env.globals["range"] = _check_template_range
        _ENV = env
    return _ENV
