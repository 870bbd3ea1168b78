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
    "FlowRunStates": "FLOW_RUN_STATES_TABLE",
    "TaskRunStates": "TASK_RUN_STATES_TABLE",
    "Logs": "LOGS_TABLE",
    "Workers": "WORKERS_TABLE",
    "ConcurrencyLimits": "CONCURRENCY_LIMITS_TABLE",
    "Artifacts": "ARTIFACTS_TABLE",
    "ArtifactCollections": "ARTIFACT_COLLECTIONS_TABLE",
    "FlowRunInputs": "FLOW_RUN_INPUTS_TABLE",
    "Guards": "GUARDS_TABLE",
    "SavedSearches": "SAVED_SEARCHES_TABLE",
    "FlowRunNotificationPolicies": "FLOW_RUN_NOTIFICATION_POLICIES_TABLE",
    "GlobalConcurrencyLimits": "GLOBAL_CONCURRENCY_LIMITS_TABLE",
    "Counters": "COUNTERS_TABLE",
    "TagIndex": "TAG_INDEX_TABLE",
    "PollRecords": "POLL_RECORDS_TABLE",
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
    cors_allowed_origins: str = "*"  # comma-separated, as the reference's settings
    cors_allowed_methods: str = "*"
    cors_allowed_headers: str = "*"
    ui_api_url: str = "/api"  # what ui-settings tells the UI (the reference's default: relative)
    late_runs_after: dt.timedelta = dt.timedelta(seconds=15)
    late_runs_enabled: bool = True
    pause_expirations_enabled: bool = True
    task_run_tag_concurrency_slot_wait_seconds: int = 30
    task_cache_key_max_length: int = 2000
    foreman_inactivity_heartbeat_multiple: int = 3
    foreman_fallback_heartbeat_interval_seconds: int = 30
    foreman_deployment_last_polled_timeout_seconds: int = 60
    foreman_work_queue_last_polled_timeout_seconds: int = 60
    # flowplane's own
    history_retention: dt.timedelta = dt.timedelta(days=30)  # logs and state history (DynamoDB TTL)
    table_names: Mapping[str, str] = field(default_factory=dict)
    table_prefix: str = "flowplane-"
    dynamodb_endpoint: str | None = None
    region: str = "us-east-1"
    due_shards: int = 1
    # run counters (domain/run_counters.py): items per dimension value, so no one counter item takes
    # every run's writes; changing these needs `flowplane counters rebuild`
    run_counter_shards_all: int = 8
    run_counter_shards: int = 2
    api_key: str | None = None  # local server: a single accepted bearer key
    data_dir: str | None = None  # local server: the SQLite data directory (default ~/.flowplane)

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
            "cors_allowed_origins": ("PREFECT_SERVER_CORS_ALLOWED_ORIGINS", str),
            "cors_allowed_methods": ("PREFECT_SERVER_CORS_ALLOWED_METHODS", str),
            "cors_allowed_headers": ("PREFECT_SERVER_CORS_ALLOWED_HEADERS", str),
            "ui_api_url": ("PREFECT_UI_API_URL", str),
            "late_runs_after": ("PREFECT_API_SERVICES_LATE_RUNS_AFTER_SECONDS", _seconds),
            "late_runs_enabled": ("PREFECT_API_SERVICES_LATE_RUNS_ENABLED", _bool),
            "pause_expirations_enabled": ("PREFECT_API_SERVICES_PAUSE_EXPIRATIONS_ENABLED", _bool),
            "task_run_tag_concurrency_slot_wait_seconds": (
                "PREFECT_TASK_RUN_TAG_CONCURRENCY_SLOT_WAIT_SECONDS", int),
            "task_cache_key_max_length": ("PREFECT_API_TASK_CACHE_KEY_MAX_LENGTH", int),
            "foreman_inactivity_heartbeat_multiple": (
                "PREFECT_API_SERVICES_FOREMAN_INACTIVITY_HEARTBEAT_MULTIPLE", int),
            "foreman_fallback_heartbeat_interval_seconds": (
                "PREFECT_API_SERVICES_FOREMAN_FALLBACK_HEARTBEAT_INTERVAL_SECONDS", int),
            "foreman_deployment_last_polled_timeout_seconds": (
                "PREFECT_API_SERVICES_FOREMAN_DEPLOYMENT_LAST_POLLED_TIMEOUT_SECONDS", int),
            "foreman_work_queue_last_polled_timeout_seconds": (
                "PREFECT_API_SERVICES_FOREMAN_WORK_QUEUE_LAST_POLLED_TIMEOUT_SECONDS", int),
            "history_retention": ("FLOWPLANE_HISTORY_RETENTION_SECONDS", _seconds),
            "table_prefix": ("FLOWPLANE_TABLE_PREFIX", str),
            "dynamodb_endpoint": ("FLOWPLANE_DYNAMODB_ENDPOINT", str),
            "region": ("AWS_REGION", str),
            "due_shards": ("FLOWPLANE_DUE_SHARDS", int),
            "api_key": ("FLOWPLANE_API_KEY", str),
            "data_dir": ("FLOWPLANE_DATA_DIR", str),
        }
        kwargs: dict = {}
        for name, (var, parse) in conv.items():
            raw = env.get(var)
            if raw not in (None, ""):
                kwargs[name] = parse(raw)
        kwargs["table_names"] = {k: env[v] for k, v in TABLE_ENV.items() if env.get(v)}
        return cls(**kwargs)
