"""Request models of the deployments routes (spec §4.3–§4.5, §4.7, §3.5–§3.9)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    field_validator,
    model_validator,
)

from domain.names import check_name
from domain.parsing import Embedded, WireDateTime
from domain.schedules import Schedule
from domain.services.flow_runs import FlowRunPolicy
from domain.states import StateCreate
from domain.timeutil import ensure_aware

LEGACY_KEYS = ("worker_pool_queue_id", "worker_pool_name", "worker_pool_queue_name", "work_pool_queue_name")
RENAMED = (
    "The `infra_overrides` field has been renamed to `job_variables`.Use one of these fields, but not both."
)


def _drop_legacy(data: Any) -> Any:
    if isinstance(data, dict) and any(k in data for k in LEGACY_KEYS):
        data = {k: v for k, v in data.items() if k not in LEGACY_KEYS}
    return data


def _job_variables(data: Any) -> Any:
    if not isinstance(data, dict):
        return data
    job_variables, infra_overrides = data.get("job_variables"), data.get("infra_overrides")
    if job_variables is not None and infra_overrides is not None:
        if job_variables != infra_overrides:
            raise ValueError(RENAMED)
    elif job_variables is not None or infra_overrides is not None:
        # the reference keeps the two in sync before validating, so a bad value is reported at
        # both (``infra_overrides`` first: it comes from a mixin)
        value = job_variables if job_variables is not None else infra_overrides
        data = {**data, "job_variables": value, "infra_overrides": value}
    return data


class DeploymentScheduleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schedule: Schedule
    active: bool = True
    max_active_runs: PositiveInt | None = None
    max_scheduled_runs: PositiveInt | None = None
    catchup: bool = False


class DeploymentScheduleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    active: bool | None = None
    schedule: Schedule | None = None
    max_active_runs: PositiveInt | None = None
    max_scheduled_runs: PositiveInt | None = None
    catchup: bool | None = None


class DeploymentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    infra_overrides: dict[str, Any] = Field(default=None)  # reference: null -> 409 integrity; 422 is safer
    # an empty name cannot be an index key in DynamoDB: 422 (the reference creates it; no client sends one)
    name: Annotated[str, Field(min_length=1), AfterValidator(check_name)]
    flow_id: UUID
    # ``Field(default=None)`` on a non-optional type: absent is fine, an explicit null is a 422
    # ("none is not an allowed value"), as in the reference.
    is_schedule_active: bool = Field(default=None)
    paused: bool = Field(default=None)
    schedules: list[DeploymentScheduleCreate] = Field(default=None)
    enforce_parameter_schema: bool = Field(default=None)
    parameter_openapi_schema: dict[str, Any] | None = None
    parameters: dict[str, Any] = Field(default=None)
    tags: list[str] = Field(default=None)
    pull_steps: list[dict[str, Any]] | None = None
    manifest_path: str | None = None
    work_queue_name: str | None = None
    work_pool_name: str | None = None
    storage_document_id: UUID | None = None
    infrastructure_document_id: UUID | None = None
    schedule: Schedule | None = None
    description: str | None = None
    path: str | None = None
    version: str | None = None
    entrypoint: str | None = None
    job_variables: dict[str, Any] = Field(default=None)

    @model_validator(mode="before")
    @classmethod
    def _before(cls, data: Any) -> Any:
        return _job_variables(_drop_legacy(data))

    def effective_job_variables(self) -> dict[str, Any]:
        if self.job_variables is not None:
            return self.job_variables
        return self.infra_overrides or {}


class DeploymentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    infra_overrides: dict[str, Any] | None = None
    version: str | None = None
    schedule: Schedule | None = None
    description: str | None = None
    is_schedule_active: bool = Field(default=None)  # explicit null is a 422, absent is fine
    paused: bool = Field(default=None)
    schedules: list[DeploymentScheduleCreate] = Field(default=None)
    parameters: dict[str, Any] = Field(default=None)
    tags: list[str] = Field(default=None)
    work_queue_name: str | None = None
    work_pool_name: str | None = None
    path: str | None = None
    job_variables: dict[str, Any] | None = None
    entrypoint: str | None = None
    manifest_path: str | None = None
    storage_document_id: UUID | None = None
    infrastructure_document_id: UUID | None = None
    enforce_parameter_schema: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _before(cls, data: Any) -> Any:
        return _job_variables(_drop_legacy(data))

    def supplied_job_variables(self) -> dict[str, Any] | None:
        if self.job_variables is not None:
            return self.job_variables
        return self.infra_overrides


class DeploymentFlowRunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    state: StateCreate | None = None
    name: str | None = None
    # explicit nulls for parameters/context/tags/empirical_policy are 422s, as in the reference
    parameters: dict[str, Any] = Field(default_factory=dict)
    enforce_parameter_schema: bool | None = None
    context: dict[str, Any] = Field(default_factory=dict)
    infrastructure_document_id: UUID | None = None
    empirical_policy: FlowRunPolicy = Field(default=None)  # validated with the body: a bad pause key is a 422
    tags: list[str] = Field(default_factory=list)
    idempotency_key: str | None = None
    parent_task_run_id: UUID | None = None
    work_queue_name: str | None = None
    job_variables: dict[str, Any] | None = None



def _aware(v: dt.datetime | None) -> dt.datetime | None:
    return ensure_aware(v) if v is not None else None


class GetScheduledFlowRuns(Embedded):
    deployment_ids: list[UUID]
    scheduled_before: WireDateTime | None = None
    limit: int | None = None

    _a = field_validator("scheduled_before")(lambda cls, v: _aware(v))


class ScheduleRunsBody(Embedded):
    start_time: WireDateTime | None = None
    end_time: WireDateTime | None = None
    min_time: Any = None
    min_runs: int | None = None
    max_runs: int | None = None

    _a = field_validator("start_time", "end_time")(lambda cls, v: _aware(v))

    @field_validator("min_time")
    @classmethod
    def _duration(cls, v):
        if v is None:
            return None
        from domain.schedules import parse_duration

        return parse_duration(v)
