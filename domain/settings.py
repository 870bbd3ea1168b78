"""The one Settings object. Environment variables use the reference's setting names (spec §6.3)
plus flowplane's own (table names, store endpoint). No other module reads ``os.environ``."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

# Logical table name -> environment variable holding the physical DynamoDB table name.
TABLE_ENV = {
    "Flows": "FLOWS_TABLE",
    "Deployments": "DEPLOYMENTS_TABLE",
    "FlowRuns": "FLOW_RUNS_TABLE",
    "TaskRuns": "TASK_RUNS_TABLE",
    "WorkPools": "WORK_POOLS_TABLE",
    "WorkQueues": "WORK_QUEUES_TABLE",
    "Variables": "VARIABLES_TABLE",
    "BlockTypes": "BLOCK_TYPES_TABLE",
    "BlockSchemas": "BLOCK_SCHEMAS_TABLE",
    "BlockDocuments": "BLOCK_DOCUMENTS_TABLE",
    "ApiKeys": "API_KEYS_TABLE",
}

SERVER_API_VERSION = "0.8.4"
PREFECT_VERSION = "2.20.26"


def _seconds(value: str) -> dt.timedelta:
    return dt.timedelta(seconds=float(value))


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    api_default_limit: int = 200
    scheduler_enabled: bool = True
    scheduler_loop_seconds: float = 60.0
    scheduler_deployment_batch_size: int = 100
    scheduler_max_runs: int = 100
    scheduler_min_runs: int = 3
    scheduler_max_scheduled_time: dt.timedelta = dt.timedelta(days=100)
    scheduler_min_scheduled_time: dt.timedelta = dt.timedelta(hours=1)
    scheduler_insert_batch_size: int = 500
    deployment_schedule_max_scheduled_runs: int = 50
    csrf_protection_enabled: bool = False
    # flowplane's own
    table_names: Mapping[str, str] = field(default_factory=dict)
    table_prefix: str = "flowplane-"
    dynamodb_endpoint: str | None = None
    region: str = "us-east-1"
    due_shards: int = 1
    api_key: str | None = None  # local server: a single accepted bearer key

    def table(self, logical: str) -> str:
        return self.table_names.get(logical) or f"{self.table_prefix}{logical}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        conv = {
            "api_default_limit": ("PREFECT_API_DEFAULT_LIMIT", int),
            "scheduler_enabled": ("PREFECT_API_SERVICES_SCHEDULER_ENABLED", _bool),
            "scheduler_loop_seconds": ("PREFECT_API_SERVICES_SCHEDULER_LOOP_SECONDS", float),
            "scheduler_deployment_batch_size": ("PREFECT_API_SERVICES_SCHEDULER_DEPLOYMENT_BATCH_SIZE", int),
            "scheduler_max_runs": ("PREFECT_API_SERVICES_SCHEDULER_MAX_RUNS", int),
            "scheduler_min_runs": ("PREFECT_API_SERVICES_SCHEDULER_MIN_RUNS", int),
            "scheduler_max_scheduled_time": ("PREFECT_API_SERVICES_SCHEDULER_MAX_SCHEDULED_TIME", _seconds),
            "scheduler_min_scheduled_time": ("PREFECT_API_SERVICES_SCHEDULER_MIN_SCHEDULED_TIME", _seconds),
            "scheduler_insert_batch_size": ("PREFECT_API_SERVICES_SCHEDULER_INSERT_BATCH_SIZE", int),
            "deployment_schedule_max_scheduled_runs": ("PREFECT_DEPLOYMENT_SCHEDULE_MAX_SCHEDULED_RUNS", int),
            "csrf_protection_enabled": ("PREFECT_SERVER_CSRF_PROTECTION_ENABLED", _bool),
            "table_prefix": ("FLOWPLANE_TABLE_PREFIX", str),
            "dynamodb_endpoint": ("FLOWPLANE_DYNAMODB_ENDPOINT", str),
            "region": ("AWS_REGION", str),
            "due_shards": ("FLOWPLANE_DUE_SHARDS", int),
            "api_key": ("FLOWPLANE_API_KEY", str),
        }
        kwargs: dict = {}
        for name, (var, parse) in conv.items():
            raw = env.get(var)
            if raw not in (None, ""):
                kwargs[name] = parse(raw)
        kwargs["table_names"] = {k: env[v] for k, v in TABLE_ENV.items() if env.get(v)}
        return cls(**kwargs)
