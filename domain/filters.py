"""Filter request models (spec §4.8) and their in-memory evaluation.

Every filter object of the reference API is a pydantic model here, with the reference's field names
(``any_``, ``like_``, ``operator`` …) and unknown keys forbidden. Stores narrow candidates with an
index (see the ``exact_*`` planning hints) and then call ``matches(doc, ctx)`` on each stored
document (a JSON-ready dict: ids as lowercase strings, datetimes as ISO-8601 strings).

Evaluation mirrors the reference's SQL:

* an object's criteria AND together, or combine with its ``operator`` (``and_``/``or_``) when it has
  one; an object without criteria matches everything (it is the constant TRUE);
* comparisons with a NULL column are false (``NULL IN (...)``, ``NULL <= t``, ``NULL ILIKE ...``),
  except that ``not_any_: []`` is true for every row (``x NOT IN ()``);
* ``any_: []`` matches nothing;
* ``like_`` is ``ILIKE '%value%'`` (``%``/``_`` inside the value are wildcards), ``startswith_`` is
  ``ILIKE 'value%'`` per item, OR'ed; ``startswith_: []`` adds no condition at all (SQLAlchemy drops
  an empty ``or_()``).

Relationship criteria that need other tables (a flow's deployments, a flow run's parent task run, a
task run's subflow) are answered through a :class:`FilterContext` that the caller supplies.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from enum import Enum, StrEnum
from functools import lru_cache
from typing import Annotated, Any, ClassVar, Protocol, runtime_checkable
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
)

from domain import timeutil
from domain.parsing import body_datetime
from domain.states import StateType  # noqa: F401 - re-exported for filter users

Doc = dict[str, Any]
Thunk = Callable[[], "bool | None"]

__all__ = [
    "BlockDocumentFilter", "BlockDocumentFilterBlockTypeId", "BlockDocumentFilterId",
    "BlockDocumentFilterIsAnonymous", "BlockDocumentFilterName", "BlockDocumentSort",
    "BlockSchemaFilter", "BlockSchemaFilterBlockTypeId", "BlockSchemaFilterCapabilities",
    "BlockSchemaFilterId", "BlockSchemaFilterVersion", "BlockTypeFilter", "BlockTypeFilterName",
    "BlockTypeFilterSlug", "DeploymentFilter", "DeploymentFilterId", "DeploymentFilterIsScheduleActive",
    "DeploymentFilterName", "DeploymentFilterPaused", "DeploymentFilterTags", "DeploymentFilterWorkQueueName",
    "DeploymentSort", "FilterContext", "FilterContextRequired", "FlowFilter", "FlowFilterDeployment",
    "FlowFilterId", "FlowFilterName", "FlowFilterTags", "FlowRunFilter", "FlowRunFilterDeploymentId",
    "FlowRunFilterExpectedStartTime", "FlowRunFilterFlowVersion", "FlowRunFilterId",
    "FlowRunFilterIdempotencyKey", "FlowRunFilterName", "FlowRunFilterNextScheduledStartTime",
    "FlowRunFilterParentFlowRunId", "FlowRunFilterParentTaskRunId", "FlowRunFilterStartTime",
    "FlowRunFilterState", "FlowRunFilterStateName", "FlowRunFilterStateType", "FlowRunFilterTags",
    "FlowRunFilterWorkQueueName", "FlowRunSort", "FlowSort", "Operator", "StateType", "TaskRunFilter",
    "TaskRunFilterFlowRunId", "TaskRunFilterId", "TaskRunFilterName", "TaskRunFilterStartTime",
    "TaskRunFilterState", "TaskRunFilterStateName", "TaskRunFilterStateType", "TaskRunFilterSubFlowRuns",
    "TaskRunFilterTags", "TaskRunSort", "VariableFilter", "VariableFilterId", "VariableFilterName",
    "VariableFilterTags", "VariableFilterValue", "VariableSort", "WorkPoolFilter", "WorkPoolFilterId",
    "WorkPoolFilterName", "WorkPoolFilterType", "WorkQueueFilter", "WorkQueueFilterId",
    "WorkQueueFilterName", "like_pattern", "sort_documents", "sort_key_for",
]


# --------------------------------------------------------------------------------------------
# Enums


class Operator(StrEnum):
    """How an object's criteria combine."""

    and_ = "and_"
    or_ = "or_"


class DeploymentSort(StrEnum):
    CREATED_DESC = "CREATED_DESC"
    UPDATED_DESC = "UPDATED_DESC"
    NAME_ASC = "NAME_ASC"
    NAME_DESC = "NAME_DESC"


class FlowSort(StrEnum):
    CREATED_DESC = "CREATED_DESC"
    UPDATED_DESC = "UPDATED_DESC"
    NAME_ASC = "NAME_ASC"
    NAME_DESC = "NAME_DESC"


class FlowRunSort(StrEnum):
    ID_DESC = "ID_DESC"
    START_TIME_ASC = "START_TIME_ASC"
    START_TIME_DESC = "START_TIME_DESC"
    EXPECTED_START_TIME_ASC = "EXPECTED_START_TIME_ASC"
    EXPECTED_START_TIME_DESC = "EXPECTED_START_TIME_DESC"
    NAME_ASC = "NAME_ASC"
    NAME_DESC = "NAME_DESC"
    NEXT_SCHEDULED_START_TIME_ASC = "NEXT_SCHEDULED_START_TIME_ASC"
    END_TIME_DESC = "END_TIME_DESC"


class TaskRunSort(StrEnum):
    ID_DESC = "ID_DESC"
    EXPECTED_START_TIME_ASC = "EXPECTED_START_TIME_ASC"
    EXPECTED_START_TIME_DESC = "EXPECTED_START_TIME_DESC"
    NAME_ASC = "NAME_ASC"
    NAME_DESC = "NAME_DESC"
    NEXT_SCHEDULED_START_TIME_ASC = "NEXT_SCHEDULED_START_TIME_ASC"
    END_TIME_DESC = "END_TIME_DESC"


class VariableSort(StrEnum):
    CREATED_DESC = "CREATED_DESC"
    UPDATED_DESC = "UPDATED_DESC"
    NAME_DESC = "NAME_DESC"
    NAME_ASC = "NAME_ASC"


class BlockDocumentSort(StrEnum):
    NAME_DESC = "NAME_DESC"
    NAME_ASC = "NAME_ASC"
    BLOCK_TYPE_AND_NAME_ASC = "BLOCK_TYPE_AND_NAME_ASC"


# --------------------------------------------------------------------------------------------
# Context for relationship criteria


@runtime_checkable
class FilterContext(Protocol):
    """Answers the relationship questions some criteria ask (implemented over the repositories)."""

    def flow_has_deployments(self, flow_id: str) -> bool:
        """Whether at least one deployment references this flow (FlowFilter.deployment.is_null_)."""
        ...

    def task_run_flow_run_id(self, task_run_id: str) -> str | None:
        """The flow_run_id of this task run, or None if it has none / does not exist
        (FlowRunFilter.parent_flow_run_id)."""
        ...

    def task_run_has_subflow(self, task_run_id: str) -> bool:
        """Whether some flow run has this task run as its parent_task_run_id
        (TaskRunFilter.subflow_runs.exists_)."""
        ...


class FilterContextRequired(RuntimeError):
    """A criterion that needs a FilterContext was evaluated without one (a wiring bug)."""


def _require(ctx: FilterContext | None, what: str) -> FilterContext:
    if ctx is None:
        raise FilterContextRequired(f"{what} needs a FilterContext")
    return ctx


# --------------------------------------------------------------------------------------------
# Scalar helpers


def _parse_datetime_input(value: Any) -> Any:
    """A request body's datetime (``parsing.body_datetime``: a number is refused, never Unix
    time). A time whose UTC instant falls outside years 1–9999 (``0001-01-01T00:00:00+00:01``) is
    unparseable here (the reference answers 500)."""
    parsed = body_datetime(value)
    try:
        parsed.astimezone(timeutil.UTC)
    except OverflowError:
        from pydantic_core import PydanticCustomError

        raise PydanticCustomError("datetime_parsing", "invalid datetime format") from None
    return parsed


def _to_utc(value: dt.datetime) -> dt.datetime:
    return timeutil.ensure_aware(value).astimezone(timeutil.UTC)


DateTimeIn = Annotated[dt.datetime, BeforeValidator(_parse_datetime_input), AfterValidator(_to_utc)]


@lru_cache(maxsize=4096)
def _parse_doc_datetime(value: str) -> dt.datetime:
    return timeutil.parse(value)


def _doc_datetime(value: Any) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return timeutil.ensure_aware(value)
    return _parse_doc_datetime(str(value))


def _norm_id(value: Any) -> str | None:
    if value is None:
        return None
    return str(value).lower()


@lru_cache(maxsize=1024)
def like_pattern(sql_pattern: str) -> re.Pattern[str]:
    """Compile an SQL LIKE pattern (``%`` any run, ``_`` one character) to a case-insensitive regex
    that must match the whole value."""
    parts = []
    for ch in sql_pattern:
        if ch == "%":
            parts.append(".*")
        elif ch == "_":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def _in(value: Any, allowed: frozenset[str]) -> bool:
    """SQL ``value IN (...)``: NULL is never a member."""
    return value is not None and value in allowed


def _ilike(value: Any, sql_pattern: str) -> bool:
    return isinstance(value, str) and like_pattern(sql_pattern).fullmatch(value) is not None


def _tags_of(doc: Doc, key: str) -> list[Any]:
    tags = doc.get(key)
    return list(tags) if tags else []


def _combine(terms: Iterable[Thunk], operator: Operator) -> bool | None:
    """Combine lazily evaluated terms like SQLAlchemy's and_/or_ in a WHERE clause.

    Returns True/False, or None for an "empty clause" (every term was an empty clause), which the
    parent drops and which at the top level means "no condition". No terms at all = TRUE.
    """
    seen = False
    kept = False
    for term in terms:
        seen = True
        result = term()
        if result is None:
            continue
        kept = True
        if operator is Operator.and_ and not result:
            return False
        if operator is Operator.or_ and result:
            return True
    if not seen:
        return True
    if not kept:
        return None
    return operator is Operator.and_


# --------------------------------------------------------------------------------------------
# Base classes


class _FilterModel(BaseModel):
    """Common behaviour: unknown keys are rejected; criteria are evaluated lazily."""

    model_config = ConfigDict(extra="forbid")

    _memo: dict[str, Any] = PrivateAttr(default_factory=dict)

    def __eq__(self, other: object) -> bool:
        # Field values only: the evaluation memo must not make equal filters unequal.
        if not isinstance(other, BaseModel):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # mutable, like any non-frozen pydantic model

    def _set_of(self, name: str, values: list[Any] | None, conv: Callable[[Any], str]) -> frozenset[str]:
        """``values`` as a frozenset, memoised per list object (a model_copy with a new list recomputes)."""
        entry = self._memo.get(name)
        if entry is None or entry[0] is not values:
            entry = self._memo[name] = (values, frozenset(conv(v) for v in values or ()))
        return entry[1]

    def _str_set(self, name: str, values: list[Any] | None) -> frozenset[str]:
        return self._set_of(name, values, str)

    def _uuid_set(self, name: str, values: list[Any] | None) -> frozenset[str]:
        return self._set_of(name, values, lambda v: str(v).lower())

    def _operator(self) -> Operator:
        return Operator.and_

    def _terms(self, doc: Doc, ctx: FilterContext | None) -> Iterator[Thunk]:
        raise NotImplementedError

    def _eval(self, doc: Doc, ctx: FilterContext | None) -> bool | None:
        return _combine(self._terms(doc, ctx), self._operator())

    def _children(self) -> list[_FilterModel]:
        return [v for v in (getattr(self, n) for n in type(self).model_fields) if isinstance(v, _FilterModel)]

    def matches_everything(self) -> bool:
        """Conservative: True only if this object can never exclude a document."""
        children = self._children()
        if children:
            return all(c.matches_everything() for c in children)
        return next(iter(self._terms({}, None)), None) is None


class _OperatorModel(_FilterModel):
    operator: Operator = Operator.and_

    @field_validator("operator", mode="before")
    @classmethod
    def _null_operator_is_default(cls, value: Any) -> Any:
        return Operator.and_ if value is None else value

    def _operator(self) -> Operator:
        return self.operator


class _TopLevelBase(_FilterModel):
    """A top-level filter (e.g. ``deployments``): nested criteria objects combined by the operator."""

    def _terms(self, doc: Doc, ctx: FilterContext | None) -> Iterator[Thunk]:
        for name in type(self).model_fields:
            child = getattr(self, name)
            if isinstance(child, _FilterModel):
                yield (lambda c=child: c._eval(doc, ctx))

    def matches(self, doc: Doc, ctx: FilterContext | None = None) -> bool:
        """Whether the stored document satisfies this filter."""
        return self._eval(doc, ctx) is not False

    def uses_context(self) -> bool:
        """Whether ``matches`` may call the FilterContext."""
        return False

    def _present_criteria(self) -> int:
        return len(self._children())

    def _sole_or_anded(self, name: str) -> _FilterModel | None:
        """The criterion ``name`` if its result is a necessary condition of the whole filter."""
        child = getattr(self, name)
        if child is None:
            return None
        if self._operator() is Operator.or_ and self._present_criteria() > 1:
            return None
        return child


class _TopLevelFilter(_OperatorModel, _TopLevelBase):
    """A top-level filter with an ``operator`` field."""

    def _any_hint(self, name: str, *, uuid: bool) -> set[str] | None:
        child = self._sole_or_anded(name)
        if child is None or getattr(child, "any_", None) is None:
            return None
        if uuid:
            return {str(v).lower() for v in child.any_}
        return {str(v) for v in child.any_}

    def required_tags(self) -> set[str] | None:
        """Tags every matching object must carry (a non-empty ``tags.all_`` that the filter needs),
        else None — what the tag index is read by (domain/tag_index.py)."""
        crit = self._sole_or_anded("tags")
        if crit is None or not getattr(crit, "all_", None):
            return None
        if crit.operator is Operator.or_ and crit.is_null_ is not None:
            return None
        return {str(t) for t in crit.all_}


# --------------------------------------------------------------------------------------------
# Reusable criteria shapes (the concrete, reference-named classes subclass these)


class _UuidAny(_FilterModel):
    """``any_`` over a UUID column."""

    doc_key: ClassVar[str] = "id"
    any_: list[UUID] | None = None

    def _terms(self, doc, ctx):
        if self.any_ is not None:
            allowed = self._uuid_set("any_", self.any_)
            yield lambda: _norm_id(doc.get(self.doc_key)) in allowed


class _StrAny(_FilterModel):
    """``any_`` over a string column."""

    doc_key: ClassVar[str] = "name"
    any_: list[str] | None = None

    def _terms(self, doc, ctx):
        if self.any_ is not None:
            allowed = self._str_set("any_", self.any_)
            yield lambda: _in(doc.get(self.doc_key), allowed)


class _StrAnyLike(_StrAny):
    """``any_`` and ``like_`` (ILIKE '%v%') over a string column."""

    like_: str | None = None

    def _terms(self, doc, ctx):
        yield from super()._terms(doc, ctx)
        if self.like_ is not None:
            pattern = f"%{self.like_}%"
            yield lambda: _ilike(doc.get(self.doc_key), pattern)


class _Tags(_OperatorModel):
    """``all_`` (superset) and ``is_null_`` (empty list) over a JSON list column."""

    doc_key: ClassVar[str] = "tags"
    all_: list[str] | None = None
    is_null_: bool | None = None

    def _terms(self, doc, ctx):
        if self.all_ is not None:
            required = self._str_set("all_", self.all_)
            yield lambda: required.issubset(_tags_of(doc, self.doc_key))
        if self.is_null_ is not None:
            yield lambda: (len(_tags_of(doc, self.doc_key)) == 0) == self.is_null_


class _BoolEq(_FilterModel):
    doc_key: ClassVar[str] = ""
    eq_: bool | None = None

    def _terms(self, doc, ctx):
        if self.eq_ is not None:
            yield lambda: bool(doc.get(self.doc_key)) is self.eq_


class _NullableUuidAny(_OperatorModel):
    """``any_`` and ``is_null_`` over a nullable UUID column."""

    doc_key: ClassVar[str] = ""
    any_: list[UUID] | None = None
    is_null_: bool | None = None

    def _terms(self, doc, ctx):
        if self.any_ is not None:
            allowed = self._uuid_set("any_", self.any_)
            yield lambda: _norm_id(doc.get(self.doc_key)) in allowed
        if self.is_null_ is not None:
            yield lambda: (doc.get(self.doc_key) is None) == self.is_null_


class _NullableStrAny(_OperatorModel):
    doc_key: ClassVar[str] = ""
    any_: list[str] | None = None
    is_null_: bool | None = None

    def _terms(self, doc, ctx):
        if self.any_ is not None:
            allowed = self._str_set("any_", self.any_)
            yield lambda: _in(doc.get(self.doc_key), allowed)
        if self.is_null_ is not None:
            yield lambda: (doc.get(self.doc_key) is None) == self.is_null_


class _TimeRange(_FilterModel):
    """``before_`` (<=) and ``after_`` (>=) over a timestamp column."""

    doc_key: ClassVar[str] = ""
    before_: DateTimeIn | None = None
    after_: DateTimeIn | None = None

    def _terms(self, doc, ctx):
        if self.before_ is not None:
            yield lambda: (v := _doc_datetime(doc.get(self.doc_key))) is not None and v <= self.before_
        if self.after_ is not None:
            yield lambda: (v := _doc_datetime(doc.get(self.doc_key))) is not None and v >= self.after_


class _NullableTimeRange(_TimeRange):
    is_null_: bool | None = None

    def _terms(self, doc, ctx):
        yield from super()._terms(doc, ctx)
        if self.is_null_ is not None:
            yield lambda: (doc.get(self.doc_key) is None) == self.is_null_


class _StateTypeAny(_FilterModel):
    any_: list[StateType] | None = None

    def _terms(self, doc, ctx):
        if self.any_ is not None:
            allowed = self._set_of("any_", self.any_, lambda s: s.value)
            yield lambda: _in(doc.get("state_type"), allowed)


class _StateNameAny(_StrAny):
    doc_key: ClassVar[str] = "state_name"


class _State(_OperatorModel):
    """The nested type/name criteria are flattened into this object's operator (reference quirk)."""

    def _terms(self, doc, ctx):
        for name in ("type", "name"):
            child = getattr(self, name)
            if child is not None:
                yield from child._terms(doc, ctx)


# --------------------------------------------------------------------------------------------
# Deployments


class DeploymentFilterId(_UuidAny):
    """Filter by ``Deployment.id``."""


class DeploymentFilterName(_StrAnyLike):
    """Filter by ``Deployment.name``."""


class DeploymentFilterPaused(_BoolEq):
    """Filter by ``Deployment.paused``."""

    doc_key: ClassVar[str] = "paused"


class DeploymentFilterIsScheduleActive(_FilterModel):
    """Legacy: matches deployments whose ``paused`` differs from ``eq_``."""

    eq_: bool | None = None

    def _terms(self, doc, ctx):
        if self.eq_ is not None:
            yield lambda: bool(doc.get("paused")) is not self.eq_


class DeploymentFilterTags(_Tags):
    """Filter by ``Deployment.tags``."""


class DeploymentFilterWorkQueueName(_StrAny):
    """Filter by the stored ``Deployment.work_queue_name`` column (null for pool-only deployments)."""

    doc_key: ClassVar[str] = "work_queue_name"


class DeploymentFilter(_TopLevelFilter):
    """Filter for deployments (document: DeploymentResponse keys, stored ``work_queue_name``)."""

    id: DeploymentFilterId | None = None
    name: DeploymentFilterName | None = None
    paused: DeploymentFilterPaused | None = None
    is_schedule_active: DeploymentFilterIsScheduleActive | None = None
    tags: DeploymentFilterTags | None = None
    work_queue_name: DeploymentFilterWorkQueueName | None = None

    def exact_ids(self) -> set[str] | None:
        return self._any_hint("id", uuid=True)

    def exact_names(self) -> set[str] | None:
        return self._any_hint("name", uuid=False)


# --------------------------------------------------------------------------------------------
# Flows


class FlowFilterId(_UuidAny):
    """Filter by ``Flow.id``."""


class FlowFilterDeployment(_OperatorModel):
    """``is_null_: true`` = flows without deployments; ``false`` = flows with at least one."""

    is_null_: bool | None = None

    def _terms(self, doc, ctx):
        if self.is_null_ is not None:
            def term() -> bool:
                has = _require(ctx, "FlowFilter.deployment").flow_has_deployments(_norm_id(doc.get("id")))
                return bool(has) is not self.is_null_
            yield term


class FlowFilterName(_StrAnyLike):
    """Filter by ``Flow.name``."""


class FlowFilterTags(_Tags):
    """Filter by ``Flow.tags``."""


class FlowFilter(_TopLevelFilter):
    """Filter for flows (document: ``id, created, updated, name, tags``)."""

    id: FlowFilterId | None = None
    name: FlowFilterName | None = None
    tags: FlowFilterTags | None = None
    # Last: it costs a context lookup, and the other criteria may already have decided.
    deployment: FlowFilterDeployment | None = None

    def uses_context(self) -> bool:
        return self.deployment is not None and self.deployment.is_null_ is not None

    def exact_ids(self) -> set[str] | None:
        return self._any_hint("id", uuid=True)

    def exact_names(self) -> set[str] | None:
        return self._any_hint("name", uuid=False)


# --------------------------------------------------------------------------------------------
# Flow runs


class FlowRunFilterId(_UuidAny):
    """Filter by ``FlowRun.id`` (``any_`` include, ``not_any_`` exclude)."""

    not_any_: list[UUID] | None = None

    def _terms(self, doc, ctx):
        yield from super()._terms(doc, ctx)
        if self.not_any_ is not None:
            excluded = self._uuid_set("not_any_", self.not_any_)
            yield lambda: not excluded or (
                (v := _norm_id(doc.get("id"))) is not None and v not in excluded
            )


class FlowRunFilterName(_StrAnyLike):
    """Filter by ``FlowRun.name``."""


class FlowRunFilterTags(_Tags):
    """Filter by ``FlowRun.tags``."""


class FlowRunFilterDeploymentId(_NullableUuidAny):
    """Filter by ``FlowRun.deployment_id``."""

    doc_key: ClassVar[str] = "deployment_id"


class FlowRunFilterWorkQueueName(_NullableStrAny):
    """Filter by ``FlowRun.work_queue_name``."""

    doc_key: ClassVar[str] = "work_queue_name"


class FlowRunFilterStateType(_StateTypeAny):
    """Filter by ``FlowRun.state_type``."""


class FlowRunFilterStateName(_StateNameAny):
    """Filter by ``FlowRun.state_name``."""


class FlowRunFilterState(_State):
    """Filter by ``FlowRun.state_type`` and ``FlowRun.state_name``."""

    type: FlowRunFilterStateType | None = None
    name: FlowRunFilterStateName | None = None


class FlowRunFilterFlowVersion(_StrAny):
    """Filter by ``FlowRun.flow_version``."""

    doc_key: ClassVar[str] = "flow_version"


class FlowRunFilterStartTime(_NullableTimeRange):
    """Filter by ``FlowRun.start_time``."""

    doc_key: ClassVar[str] = "start_time"


class FlowRunFilterExpectedStartTime(_TimeRange):
    """Filter by ``FlowRun.expected_start_time``."""

    doc_key: ClassVar[str] = "expected_start_time"


class FlowRunFilterNextScheduledStartTime(_TimeRange):
    """Filter by ``FlowRun.next_scheduled_start_time``."""

    doc_key: ClassVar[str] = "next_scheduled_start_time"


class FlowRunFilterParentFlowRunId(_OperatorModel):
    """Subflow runs of the given flow runs: runs whose parent task run belongs to one of them."""

    any_: list[UUID] | None = None

    def _terms(self, doc, ctx):
        if self.any_ is not None:
            allowed = self._uuid_set("any_", self.any_)

            def term() -> bool:
                parent_task_run_id = doc.get("parent_task_run_id")
                if parent_task_run_id is None or not allowed:
                    return False
                owner = _require(ctx, "FlowRunFilter.parent_flow_run_id").task_run_flow_run_id(
                    _norm_id(parent_task_run_id)
                )
                return _norm_id(owner) in allowed

            yield term


class FlowRunFilterParentTaskRunId(_NullableUuidAny):
    """Filter by ``FlowRun.parent_task_run_id``."""

    doc_key: ClassVar[str] = "parent_task_run_id"


class FlowRunFilterIdempotencyKey(_StrAny):
    """Filter by ``FlowRun.idempotency_key`` (``any_`` include, ``not_any_`` exclude)."""

    doc_key: ClassVar[str] = "idempotency_key"
    not_any_: list[str] | None = None

    def _terms(self, doc, ctx):
        yield from super()._terms(doc, ctx)
        if self.not_any_ is not None:
            excluded = self._str_set("not_any_", self.not_any_)
            yield lambda: not excluded or (
                (v := doc.get(self.doc_key)) is not None and v not in excluded
            )


class FlowRunFilter(_TopLevelFilter):
    """Filter flow runs (document: FlowRunResponse keys)."""

    id: FlowRunFilterId | None = None
    name: FlowRunFilterName | None = None
    tags: FlowRunFilterTags | None = None
    deployment_id: FlowRunFilterDeploymentId | None = None
    work_queue_name: FlowRunFilterWorkQueueName | None = None
    state: FlowRunFilterState | None = None
    flow_version: FlowRunFilterFlowVersion | None = None
    start_time: FlowRunFilterStartTime | None = None
    expected_start_time: FlowRunFilterExpectedStartTime | None = None
    next_scheduled_start_time: FlowRunFilterNextScheduledStartTime | None = None
    parent_task_run_id: FlowRunFilterParentTaskRunId | None = None
    idempotency_key: FlowRunFilterIdempotencyKey | None = None
    # Last: it costs a context lookup.
    parent_flow_run_id: FlowRunFilterParentFlowRunId | None = None

    def uses_context(self) -> bool:
        p = self.parent_flow_run_id
        return p is not None and bool(p.any_)

    def exact_ids(self) -> set[str] | None:
        return self._any_hint("id", uuid=True)

    def exact_names(self) -> set[str] | None:
        return self._any_hint("name", uuid=False)

    def exact_deployment_ids(self) -> set[str] | None:
        """Deployment ids every matching run must have (``deployment_id.any_``), else None."""
        crit = self._sole_or_anded("deployment_id")
        if crit is None or crit.any_ is None:
            return None
        if crit.operator is Operator.or_ and crit.is_null_ is not None:
            return None
        return {str(v).lower() for v in crit.any_}

    def exact_state_types(self) -> set[str] | None:
        """State types every matching run must have (``state.type.any_``), else None."""
        crit = self._sole_or_anded("state")
        if crit is None or crit.type is None or crit.type.any_ is None:
            return None
        if crit.operator is Operator.or_ and crit.name is not None and crit.name.any_ is not None:
            return None
        return {s.value for s in crit.type.any_}


# --------------------------------------------------------------------------------------------
# Task runs


class TaskRunFilterId(_UuidAny):
    """Filter by ``TaskRun.id``."""


class TaskRunFilterName(_StrAnyLike):
    """Filter by ``TaskRun.name``."""


class TaskRunFilterTags(_Tags):
    """Filter by ``TaskRun.tags``."""


class TaskRunFilterStateType(_StateTypeAny):
    """Filter by ``TaskRun.state_type``."""


class TaskRunFilterStateName(_StateNameAny):
    """Filter by ``TaskRun.state_name``."""


class TaskRunFilterState(_State):
    """Filter by ``TaskRun.state_type`` and ``TaskRun.state_name``."""

    type: TaskRunFilterStateType | None = None
    name: TaskRunFilterStateName | None = None


class TaskRunFilterStartTime(_NullableTimeRange):
    """Filter by ``TaskRun.start_time``."""

    doc_key: ClassVar[str] = "start_time"


class TaskRunFilterSubFlowRuns(_FilterModel):
    """``exists_: true`` = task runs that are the parent of a subflow run; ``false`` = the others."""

    exists_: bool | None = None

    def _terms(self, doc, ctx):
        if self.exists_ is not None:
            def term() -> bool:
                has = _require(ctx, "TaskRunFilter.subflow_runs").task_run_has_subflow(_norm_id(doc.get("id")))
                return bool(has) is self.exists_
            yield term


class TaskRunFilterFlowRunId(_OperatorModel):
    """``is_null_: true`` = only ``flow_run_id IS NULL`` (``any_`` ignored); otherwise ``any_``."""

    any_: list[UUID] | None = None
    is_null_: bool = False

    @field_validator("is_null_", mode="before")
    @classmethod
    def _null_is_false(cls, value: Any) -> Any:
        return False if value is None else value

    def _terms(self, doc, ctx):
        if self.is_null_:
            yield lambda: doc.get("flow_run_id") is None
        elif self.any_ is not None:
            allowed = self._uuid_set("any_", self.any_)
            yield lambda: _norm_id(doc.get("flow_run_id")) in allowed


class TaskRunFilter(_TopLevelFilter):
    """Filter task runs (document: ``id, name, tags, state_type, state_name, start_time, flow_run_id``)."""

    id: TaskRunFilterId | None = None
    name: TaskRunFilterName | None = None
    tags: TaskRunFilterTags | None = None
    state: TaskRunFilterState | None = None
    start_time: TaskRunFilterStartTime | None = None
    flow_run_id: TaskRunFilterFlowRunId | None = None
    # Last: it costs a context lookup.
    subflow_runs: TaskRunFilterSubFlowRuns | None = None

    def uses_context(self) -> bool:
        return self.subflow_runs is not None and self.subflow_runs.exists_ is not None

    def exact_ids(self) -> set[str] | None:
        return self._any_hint("id", uuid=True)

    def exact_flow_run_ids(self) -> set[str] | None:
        """Flow run ids every matching task run must have (``flow_run_id.any_``), else None."""
        crit = self._sole_or_anded("flow_run_id")
        if crit is None or crit.is_null_ or crit.any_ is None:
            return None
        return {str(v).lower() for v in crit.any_}


# --------------------------------------------------------------------------------------------
# Work pools and queues


class WorkPoolFilterId(_UuidAny):
    """Filter by ``WorkPool.id``."""


class WorkPoolFilterName(_StrAny):
    """Filter by ``WorkPool.name``."""


class WorkPoolFilterType(_StrAny):
    """Filter by ``WorkPool.type``."""

    doc_key: ClassVar[str] = "type"


class WorkPoolFilter(_TopLevelFilter):
    """Filter work pools (document: WorkPool keys)."""

    id: WorkPoolFilterId | None = None
    name: WorkPoolFilterName | None = None
    type: WorkPoolFilterType | None = None

    def exact_ids(self) -> set[str] | None:
        return self._any_hint("id", uuid=True)

    def exact_names(self) -> set[str] | None:
        return self._any_hint("name", uuid=False)


class WorkQueueFilterId(_UuidAny):
    """Filter by ``WorkQueue.id``."""


class WorkQueueFilterName(_StrAny):
    """Filter by ``WorkQueue.name``: ``any_`` exact, ``startswith_`` case-insensitive prefixes OR'ed."""

    startswith_: list[str] | None = None

    def _terms(self, doc, ctx):
        yield from super()._terms(doc, ctx)
        if self.startswith_ is not None:
            patterns = [f"{p}%" for p in self.startswith_]

            def term() -> bool | None:
                if not patterns:
                    return None  # an empty or_() is dropped by SQLAlchemy: no condition
                value = doc.get("name")
                return any(_ilike(value, p) for p in patterns)

            yield term


class WorkQueueFilter(_TopLevelFilter):
    """Filter work queues (document: WorkQueue keys)."""

    id: WorkQueueFilterId | None = None
    name: WorkQueueFilterName | None = None

    def exact_ids(self) -> set[str] | None:
        return self._any_hint("id", uuid=True)

    def exact_names(self) -> set[str] | None:
        return self._any_hint("name", uuid=False)


# --------------------------------------------------------------------------------------------
# Variables


class VariableFilterId(_UuidAny):
    """Filter by ``Variable.id``."""


class VariableFilterName(_StrAnyLike):
    """Filter by ``Variable.name``."""


class VariableFilterValue(_StrAnyLike):
    """Filter by ``Variable.value``."""

    doc_key: ClassVar[str] = "value"


class VariableFilterTags(_Tags):
    """Filter by ``Variable.tags``."""


class VariableFilter(_TopLevelFilter):
    """Filter variables (document: ``id, name, value, tags``)."""

    id: VariableFilterId | None = None
    name: VariableFilterName | None = None
    value: VariableFilterValue | None = None
    tags: VariableFilterTags | None = None

    def exact_ids(self) -> set[str] | None:
        return self._any_hint("id", uuid=True)

    def exact_names(self) -> set[str] | None:
        return self._any_hint("name", uuid=False)


# --------------------------------------------------------------------------------------------
# Blocks


class BlockDocumentFilterId(_UuidAny):
    """Filter by ``BlockDocument.id``."""


class BlockDocumentFilterIsAnonymous(_BoolEq):
    """Filter by ``BlockDocument.is_anonymous``."""

    doc_key: ClassVar[str] = "is_anonymous"


class BlockDocumentFilterBlockTypeId(_UuidAny):
    """Filter by ``BlockDocument.block_type_id``."""

    doc_key: ClassVar[str] = "block_type_id"


class BlockDocumentFilterName(_StrAnyLike):
    """Filter by ``BlockDocument.name``."""


class BlockDocumentFilter(_TopLevelFilter):
    """Filter block documents. ``is_anonymous`` absent = ``{"eq_": false}`` (anonymous excluded);
    an explicit ``null`` removes the condition (as in the reference)."""

    id: BlockDocumentFilterId | None = None
    is_anonymous: BlockDocumentFilterIsAnonymous | None = Field(
        default_factory=lambda: BlockDocumentFilterIsAnonymous(eq_=False)
    )
    block_type_id: BlockDocumentFilterBlockTypeId | None = None
    name: BlockDocumentFilterName | None = None


class BlockTypeFilterName(_FilterModel):
    """Filter by ``BlockType.name`` (``like_`` only)."""

    like_: str | None = None

    def _terms(self, doc, ctx):
        if self.like_ is not None:
            pattern = f"%{self.like_}%"
            yield lambda: _ilike(doc.get("name"), pattern)


class BlockTypeFilterSlug(_StrAny):
    """Filter by ``BlockType.slug``."""

    doc_key: ClassVar[str] = "slug"


class BlockTypeFilter(_TopLevelBase):
    """Filter block types (no ``operator`` in the reference: criteria always AND)."""

    name: BlockTypeFilterName | None = None
    slug: BlockTypeFilterSlug | None = None


class BlockSchemaFilterBlockTypeId(_UuidAny):
    """Filter by ``BlockSchema.block_type_id``."""

    doc_key: ClassVar[str] = "block_type_id"


class BlockSchemaFilterCapabilities(_FilterModel):
    """Filter by ``BlockSchema.capabilities`` (superset of ``all_``)."""

    all_: list[str] | None = None

    def _terms(self, doc, ctx):
        if self.all_ is not None:
            required = self._str_set("all_", self.all_)
            yield lambda: required.issubset(_tags_of(doc, "capabilities"))


class BlockSchemaFilterId(_UuidAny):
    """Filter by ``BlockSchema.id``."""


class BlockSchemaFilterVersion(_StrAny):
    """Filter by ``BlockSchema.version``."""

    doc_key: ClassVar[str] = "version"


class BlockSchemaFilter(_TopLevelFilter):
    """Filter block schemas (document: BlockSchema keys; capabilities under ``capabilities``)."""

    block_type_id: BlockSchemaFilterBlockTypeId | None = None
    block_capabilities: BlockSchemaFilterCapabilities | None = None
    id: BlockSchemaFilterId | None = None
    version: BlockSchemaFilterVersion | None = None


# --------------------------------------------------------------------------------------------
# Sorting

SortKey = Callable[[Doc], Any]

# NULLs sort first ascending and last descending (SQLite: NULL is the smallest value).
_NULL = (0,)


def _str_field(key: str) -> Callable[[Doc], tuple]:
    def get(doc: Doc) -> tuple:
        v = doc.get(key)
        return _NULL if v is None else (1, str(v))

    return get


def _time_field(*keys: str) -> Callable[[Doc], tuple]:
    """The first non-null of ``keys`` (SQL coalesce), as an aware datetime."""

    def get(doc: Doc) -> tuple:
        for key in keys:
            v = _doc_datetime(doc.get(key))
            if v is not None:
                return (1, v)
        return _NULL

    return get


def _with_tiebreak(*parts: Callable[[Doc], tuple]) -> SortKey:
    """Primary key(s) then ``id``, so equal keys still page deterministically."""
    id_key = _str_field("id")
    return lambda doc: tuple(p(doc) for p in parts) + (id_key(doc),)


_SORTS: dict[str, tuple[SortKey, bool]] = {
    "CREATED_DESC": (_with_tiebreak(_time_field("created")), True),
    "UPDATED_DESC": (_with_tiebreak(_time_field("updated")), True),
    "NAME_ASC": (_with_tiebreak(_str_field("name")), False),
    "NAME_DESC": (_with_tiebreak(_str_field("name")), True),
    "ID_DESC": (_str_field("id"), True),
    "START_TIME_ASC": (_with_tiebreak(_time_field("start_time", "expected_start_time")), False),
    "START_TIME_DESC": (_with_tiebreak(_time_field("start_time", "expected_start_time")), True),
    "EXPECTED_START_TIME_ASC": (_with_tiebreak(_time_field("expected_start_time")), False),
    "EXPECTED_START_TIME_DESC": (_with_tiebreak(_time_field("expected_start_time")), True),
    "NEXT_SCHEDULED_START_TIME_ASC": (_with_tiebreak(_time_field("next_scheduled_start_time")), False),
    "END_TIME_DESC": (_with_tiebreak(_time_field("end_time")), True),
    "BLOCK_TYPE_AND_NAME_ASC": (_with_tiebreak(_str_field("block_type_name"), _str_field("name")), False),
}


def sort_key_for(sort: Enum | str) -> tuple[SortKey, bool]:
    """``(key_func, reverse)`` for ``sorted(docs, key=key_func, reverse=reverse)``.

    Accepts any of the sort enums (DeploymentSort, FlowSort, FlowRunSort, TaskRunSort, VariableSort,
    BlockDocumentSort) or their string values; a value means the same thing in every enum that has
    it. Names order by code point; timestamps by parsed instant; ties are broken by ``id``.
    """
    value = sort.value if isinstance(sort, Enum) else str(sort)
    try:
        return _SORTS[value]
    except KeyError:
        raise ValueError(f"unknown sort: {value!r}") from None


def sort_documents(docs: Iterable[Doc], sort: Enum | str) -> list[Doc]:
    """The documents ordered by ``sort`` (see :func:`sort_key_for`)."""
    key, reverse = sort_key_for(sort)
    return sorted(docs, key=key, reverse=reverse)
