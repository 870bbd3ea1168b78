"""Generate ``events/``: one real-shaped event per function of ``template.yaml``.

``python -m infra.local.events`` writes ``events/<FunctionId>.json`` (plus variants named
``<FunctionId>.<variant>.json``); ``--check`` fails when a committed file differs. Output is
deterministic (fixed times and ids), so regenerating changes nothing unless routes or samples did.

* HTTP functions: API Gateway HTTP API payload format 2.0 exactly as the ``$default`` stage
  delivers it — ``routeKey`` is the *route* (``POST /api/flows``: API Gateway routes carry no
  trailing slash) while ``rawPath`` is what the Prefect client sent (``/api/flows/``), headers are
  lower-cased and carry what the 2.20 client sends (``x-prefect-api-version``, ``user-agent``,
  ``authorization: Bearer …``), ``requestContext.authorizer.lambda`` holds the authorizer's context.
* ``AuthorizerFunction``: the REQUEST authorizer event (payload 2.0, ``identitySource``).
* ``SchedulerFunction``: the EventBridge scheduled event (with ``version``) and, as
  ``SchedulerFunction.stream.json``, a DynamoDB stream batch from the Deployments table (KEYS_ONLY).

``SAMPLES`` gives a route its path parameters, query and body, and the status it answers on an
*empty* store (what ``tests/handlers`` asserts for every function). A route missing from SAMPLES
gets sample parameters, ``{}`` as body for writes, and is only required not to fail (no 5xx) —
add it to SAMPLES with its expected status.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pathlib
import re
import sys
from typing import Any
from urllib.parse import quote, urlencode

from domain.settings import PREFECT_VERSION, SERVER_API_VERSION
from infra.template import ROOT

EVENTS = ROOT / "events"
ACCOUNT = "123456789012"
REGION = "us-east-1"
API_ID = "a1b2c3d4e5"
DOMAIN = f"{API_ID}.execute-api.{REGION}.amazonaws.com"
SOURCE_IP = "203.0.113.10"
USER_AGENT = f"prefect/{PREFECT_VERSION} (API {SERVER_API_VERSION})"
TIME_EPOCH_MS = 1735732800000  # 2025-01-01T12:00:00Z
TIME_CLF = "01/Jan/2025:12:00:00 +0000"
TIME_ISO = "2025-01-01T12:00:00Z"
# Shaped like a real key (fpk_<12 hex>_<secret>) but stored nowhere: the authorizer says no to it.
SAMPLE_API_KEY = "fpk_0123456789ab_c2FtcGxlLWtleS1ub3Qtc3RvcmVkLWFueXdoZXJlLTAwMDA"
SAMPLE_KEY_ID = "0123456789ab"

SAMPLE_ID = "5f0c3a9e-7d1b-4c2a-9e4f-1a2b3c4d5e6f"
PARAM_SAMPLES = {
    "id": SAMPLE_ID,
    "schedule_id": "0b6f7a0e-3c55-4c8d-8d5e-9a1f2e3d4c5b",
    "name": "my-flow",
    "flow_name": "my-flow",
    "deployment_name": "my-deployment",
    "work_pool_name": "my-pool",
    "slug": "local-file-system",
    "checksum": "sha256:0f6e6d1c9f1b3b8f5a0d3e2c1b0a9f8e7d6c5b4a392817161514131211100f0e",
}

# function id -> what its event carries and the status it answers on an empty store.
_FLOW_ID = "f56a3f22-07a6-58ac-82e9-ab86a40e5f63"  # any flow id: on an empty store the answer is the same
_INTERVAL = {"schedule": {"interval": 3600.0, "anchor_date": "2025-01-01T00:00:00+00:00", "timezone": "UTC"},
             "active": True}
_PAGE = {"offset": 0, "limit": 10}

SAMPLES: dict[str, dict[str, Any]] = {
    # root
    "RootHealthFunction": {"status": 200},
    "RootVersionFunction": {"status": 200},
    "RootHelloFunction": {"status": 200},
    "RootAdminVersionFunction": {"status": 200},
    "RootReadyFunction": {"status": 200},
    "RootCsrfTokenFunction": {"query": {"client": "8b6f0e52-1f2d-4f55-9a55-0c2b4f7e9d10"}, "status": 422},
    # UI (issue 11)
    "FlowRunsHistoryFunction": {"body": {"history_start": "2025-01-01T00:00:00+00:00",
                                         "history_end": "2025-01-02T00:00:00+00:00",
                                         "history_interval_seconds": 3600}, "status": 200},
    "TaskRunsHistoryFunction": {"body": {"history_start": "2025-01-01T00:00:00+00:00",
                                         "history_end": "2025-01-02T00:00:00+00:00",
                                         "history_interval_seconds": 3600}, "status": 200},
    "FlowRunsLatenessFunction": {"body": {"flow_runs": {"expected_start_time": {
        "after_": "2025-01-01T00:00:00+00:00", "before_": "2025-01-02T00:00:00+00:00"}}}, "status": 200},
    "FlowRunsGraphV2Function": {"status": 404},
    "UiFlowRunsHistoryFunction": {"body": {"sort": "START_TIME_DESC", "flow_runs": {"expected_start_time": {
        "after_": "2025-01-01T00:00:00+00:00", "before_": "2025-01-02T00:00:00+00:00"}}}, "status": 200},
    "UiTaskRunsCountFunction": {"body": {}, "status": 200},
    "UiTaskRunsDashboardCountsFunction": {"body": {"task_runs": {"start_time": {
        "after_": "2025-01-01T00:00:00+00:00", "before_": "2025-01-02T00:00:00+00:00"}}}, "status": 200},
    "SavedSearchesUpsertFunction": {"body": {"name": "late runs", "filters": [
        {"object": "flow_run", "property": "state", "type": "state", "operation": "or", "value": ["Late"]}]},
        "status": 201},
    "SavedSearchesReadFunction": {"status": 404},
    "SavedSearchesFilterFunction": {"body": _PAGE, "status": 200},
    "SavedSearchesDeleteFunction": {"status": 404},
    "BlockCapabilitiesReadFunction": {"status": 200},
    "UiAdminSettingsFunction": {"status": 200},
    "UiSchemasValidateFunction": {"body": {"schema": {"type": "object", "properties": {"n": {"type": "integer"}}},
                                           "values": {"n": "x"}}, "status": 200},
    "FlowRunNotificationPoliciesCreateFunction": {"body": {
        "state_names": ["Failed"], "tags": [], "block_document_id": SAMPLE_ID}, "status": 409},
    "FlowRunNotificationPoliciesReadFunction": {"status": 404},
    "FlowRunNotificationPoliciesUpdateFunction": {"body": {"is_active": False}, "status": 404},
    "FlowRunNotificationPoliciesDeleteFunction": {"status": 404},
    "FlowRunNotificationPoliciesFilterFunction": {"body": _PAGE, "status": 200},
    # flows
    "FlowsCreateFunction": {"body": {"name": "my-flow", "tags": ["etl"]}, "status": 201},
    "FlowsReadFunction": {"status": 404},
    "FlowsReadByNameFunction": {"status": 404},
    "FlowsUpdateFunction": {"body": {"tags": ["etl", "nightly"]}, "status": 404},
    "FlowsDeleteFunction": {"status": 404},
    "FlowsFilterFunction": {"body": {"flows": {"name": {"any_": ["my-flow"]}}, **_PAGE}, "status": 200},
    "FlowsCountFunction": {"body": {}, "status": 200},
    # deployments
    "DeploymentsCreateFunction": {"body": {
        "name": "my-deployment", "flow_id": _FLOW_ID, "paused": False, "schedules": [_INTERVAL],
        "enforce_parameter_schema": False, "parameter_openapi_schema": {"title": "Parameters", "type": "object",
                                                                        "properties": {}},
        "parameters": {}, "tags": ["etl"], "pull_steps": [], "work_queue_name": None, "work_pool_name": None,
        "path": ".", "entrypoint": "flows.py:my_flow", "job_variables": {},
    }, "status": 409},  # the flow does not exist: the reference's foreign-key 409
    "DeploymentsReadFunction": {"status": 404},
    "DeploymentsReadByNameFunction": {"status": 404},
    "DeploymentsUpdateFunction": {"body": {"description": "nightly ETL", "paused": False}, "status": 404},
    "DeploymentsDeleteFunction": {"status": 404},
    "DeploymentsFilterFunction": {"body": {"deployments": {"name": {"any_": ["my-deployment"]}}, **_PAGE,
                                           "sort": "NAME_ASC"}, "status": 200},
    "DeploymentsCountFunction": {"body": {}, "status": 200},
    "DeploymentsGetScheduledFlowRunsFunction": {
        "body": {"deployment_ids": [SAMPLE_ID], "scheduled_before": "2025-01-02T00:00:00+00:00", "limit": 10},
        "status": 200},
    "DeploymentsCreateFlowRunFunction": {"body": {"parameters": {}, "tags": [], "state": {"type": "SCHEDULED"}},
                                         "status": 404},
    "DeploymentsPauseDeploymentFunction": {"body": None, "status": 404},
    "DeploymentsResumeDeploymentFunction": {"body": None, "status": 404},
    "DeploymentsSetScheduleActiveFunction": {"body": None, "status": 404},
    "DeploymentsSetScheduleInactiveFunction": {"body": None, "status": 404},
    "DeploymentsScheduleFunction": {"body": {"end_time": "2025-01-08T00:00:00+00:00"}, "status": 200},
    "DeploymentsSchedulesReadFunction": {"status": 404},
    "DeploymentsSchedulesCreateFunction": {"body": [_INTERVAL], "status": 404},
    "DeploymentsSchedulesUpdateFunction": {"body": {"active": False}, "status": 404},
    "DeploymentsSchedulesDeleteFunction": {"status": 404},
    "DeploymentsWorkQueueCheckFunction": {"status": 404},
    # flow runs
    "FlowRunsReadFunction": {"status": 404},
    "FlowRunsUpdateFunction": {"body": {"name": "renamed-run"}, "status": 404},
    "FlowRunsDeleteFunction": {"status": 404},
    "FlowRunsSetStateFunction": {"body": {"state": {"type": "RUNNING", "name": "Running"}, "force": False},
                                 "status": 404},
    "FlowRunsFilterFunction": {"body": {"flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}, **_PAGE,
                                        "sort": "EXPECTED_START_TIME_ASC"}, "status": 200},
    "FlowRunsCountFunction": {"body": {}, "status": 200},
    "FlowRunsCreateFunction": {"body": {"flow_id": SAMPLE_ID, "state": {"type": "PENDING", "name": "Pending"},
                                        "parameters": {}, "tags": [], "idempotency_key": None}, "status": 409},
    "FlowRunsResumeFunction": {"body": {"run_input": None}, "status": 404},
    "FlowRunsInputCreateFunction": {"body": {"key": "paused-1-schema", "value": "{}", "sender": None},
                                    "status": 404},
    "FlowRunsInputFilterFunction": {"body": {"prefix": "paused-1", "limit": 1, "exclude_keys": []}, "status": 200},
    "FlowRunsInputReadFunction": {"path": {"key": "paused-1-response"}, "status": 404},
    "FlowRunsInputDeleteFunction": {"path": {"key": "paused-1-response"}, "status": 404},
    "FlowRunStatesReadFunction": {"status": 404},
    "FlowRunStatesByFlowRunFunction": {"query": {"flow_run_id": SAMPLE_ID}, "status": 200},
    # task runs
    "TaskRunsCreateFunction": {"body": {"name": "say_hello-0", "task_key": "say_hello-1a2b3c", "dynamic_key": "0",
                                        "flow_run_id": None, "tags": [], "task_inputs": {}},
                               "status": 201},
    "TaskRunsReadFunction": {"status": 404},
    "TaskRunsUpdateFunction": {"body": {"name": "renamed"}, "status": 404},
    "TaskRunsDeleteFunction": {"status": 404},
    "TaskRunsSetStateFunction": {"body": {"state": {"type": "RUNNING", "name": "Running"}, "force": False},
                                 "status": 404},
    "TaskRunStatesReadFunction": {"status": 404},
    "TaskRunStatesByTaskRunFunction": {"query": {"task_run_id": SAMPLE_ID}, "status": 200},
    "TaskRunsFilterFunction": {"body": _PAGE, "status": 200},
    "TaskRunsCountFunction": {"body": {}, "status": 200},
    # work pools and queues
    "WorkPoolsCreateFunction": {"body": {"name": "my-pool", "type": "process", "description": "local processes",
                                         "base_job_template": {}, "is_paused": False, "concurrency_limit": None},
                                "status": 201},
    "WorkPoolsReadFunction": {"status": 404},
    "WorkPoolsUpdateFunction": {"body": {"description": "nightly", "is_paused": False}, "status": 404},
    "WorkPoolsDeleteFunction": {"status": 404},
    "WorkPoolsFilterFunction": {"body": {"work_pools": {"name": {"any_": ["my-pool"]}}, **_PAGE}, "status": 200},
    "WorkPoolsCountFunction": {"body": {}, "status": 200},
    "WorkPoolsQueueCreateFunction": {"body": {"name": "my-queue", "description": "", "is_paused": False,
                                              "priority": 2}, "status": 404},
    "WorkPoolsQueueReadFunction": {"path": {"name": "my-queue"}, "status": 404},
    "WorkPoolsQueueUpdateFunction": {"path": {"name": "my-queue"}, "body": {"priority": 1}, "status": 404},
    "WorkPoolsQueueDeleteFunction": {"path": {"name": "my-queue"}, "status": 404},
    "WorkPoolsQueueFilterFunction": {"body": _PAGE, "status": 404},
    "WorkPoolsWorkerHeartbeatFunction": {"body": {"name": "ProcessWorker 1a2b3c", "heartbeat_interval_seconds": 30},
                                         "status": 404},
    "WorkPoolsWorkersFilterFunction": {"body": {"workers": {"status": {"any_": ["ONLINE"]}}, **_PAGE},
                                       "status": 404},
    "WorkPoolsWorkersDeleteFunction": {"path": {"name": "ProcessWorker 1a2b3c"}, "status": 404},
    "WorkPoolsGetScheduledFlowRunsFunction": {"path": {"name": "my-pool"},
                                              "body": {"work_queue_names": [], "scheduled_before": TIME_ISO},
                                              "status": 404},
    "WorkQueuesCreateFunction": {"body": {"name": "my-queue", "description": "", "is_paused": False,
                                          "priority": 1}, "status": 201},
    "WorkQueuesReadFunction": {"status": 404},
    "WorkQueuesReadByNameFunction": {"path": {"name": "my-queue"}, "status": 404},
    "WorkQueuesUpdateFunction": {"body": {"priority": 2, "is_paused": False}, "status": 404},
    "WorkQueuesDeleteFunction": {"status": 404},
    "WorkQueuesStatusFunction": {"status": 404},
    "WorkQueuesGetRunsFunction": {"body": {"limit": 10, "scheduled_before": TIME_ISO}, "status": 404},
    "WorkQueuesFilterFunction": {"body": _PAGE, "status": 200},
    # variables
    "VariablesCreateFunction": {"body": {"name": "my_var", "value": "hello", "tags": ["etl"]}, "status": 201},
    "VariablesReadFunction": {"status": 404},
    "VariablesReadByNameFunction": {"path": {"name": "my_var"}, "status": 404},
    "VariablesUpdateFunction": {"body": {"value": "world"}, "status": 404},
    "VariablesUpdateByNameFunction": {"path": {"name": "my_var"}, "body": {"value": "world"}, "status": 404},
    "VariablesDeleteFunction": {"status": 404},
    "VariablesDeleteByNameFunction": {"path": {"name": "my_var"}, "status": 404},
    "VariablesFilterFunction": {"body": {"variables": {"name": {"like_": "my_"}}, **_PAGE, "sort": "NAME_ASC"},
                                "status": 200},
    "VariablesCountFunction": {"body": {}, "status": 200},
    # blocks
    "BlockTypesCreateFunction": {"body": {
        "name": "Local File System", "slug": "local-file-system", "logo_url": None, "documentation_url": None,
        "description": "Store data as a file on a local file system.", "code_example": None,
    }, "status": 201},
    "BlockTypesReadFunction": {"status": 404},
    "BlockTypesReadBySlugFunction": {"status": 404},
    "BlockTypesUpdateFunction": {"body": {"description": "Files on this machine."}, "status": 404},
    "BlockTypesDeleteFunction": {"status": 404},
    "BlockTypesFilterFunction": {"body": _PAGE, "status": 200},
    "BlockTypesReadDocumentsFunction": {"status": 404},
    "BlockTypesReadDocumentByNameFunction": {"path": {"block_document_name": "my-storage"}, "status": 404},
    "BlockSchemasCreateFunction": {"body": {
        "block_type_id": SAMPLE_ID, "capabilities": ["get-directory", "read-path", "put-directory", "write-path"],
        "version": "2.20.26", "fields": {"title": "LocalFileSystem", "type": "object",
                                         "properties": {"basepath": {"title": "Basepath", "type": "string"}},
                                         "block_type_slug": "local-file-system", "secret_fields": [],
                                         "block_schema_references": {}},
    }, "status": 404},  # its block type does not exist
    "BlockSchemasReadFunction": {"status": 404},
    "BlockSchemasReadByChecksumFunction": {"status": 404},
    "BlockSchemasDeleteFunction": {"status": 404},
    "BlockSchemasFilterFunction": {"body": _PAGE, "status": 200},
    "BlockDocumentsCreateFunction": {"body": {
        "name": "my-storage", "data": {"basepath": "/srv/flows"}, "block_schema_id": SAMPLE_ID,
        "block_type_id": PARAM_SAMPLES["schedule_id"], "is_anonymous": False,
    }, "status": 409},
    "BlockDocumentsReadFunction": {"status": 404},
    "BlockDocumentsUpdateFunction": {"body": {"data": {"basepath": "/tmp/flows"}, "merge_existing_data": True},
                                     "status": 404},
    "BlockDocumentsDeleteFunction": {"status": 404},
    "BlockDocumentsFilterFunction": {"body": _PAGE, "status": 200},
    "BlockDocumentsCountFunction": {"body": {}, "status": 200},
    # logs, artifacts, tag concurrency limits, collections
    "LogsCreateFunction": {"body": [{
        "name": "prefect.flow_runs", "level": 20, "message": "Finished in state Completed()",
        "timestamp": "2025-01-01T12:00:00.123456+00:00", "flow_run_id": SAMPLE_ID, "task_run_id": None,
    }], "status": 201},
    "LogsFilterFunction": {"body": {"logs": {"flow_run_id": {"any_": [SAMPLE_ID]}, "level": {"ge_": 0}},
                                    "sort": "TIMESTAMP_ASC", **_PAGE}, "status": 200},
    "ArtifactsCreateFunction": {"body": {"key": "my-report", "type": "markdown", "description": None,
                                         "data": "# hi", "flow_run_id": SAMPLE_ID, "task_run_id": None},
                                "status": 201},
    "ArtifactsReadFunction": {"status": 404},
    "ArtifactsReadLatestFunction": {"path": {"key": "my-report"}, "status": 404},
    "ArtifactsUpdateFunction": {"body": {"description": "Monthly report"}, "status": 404},
    "ArtifactsDeleteFunction": {"status": 404},
    "ArtifactsFilterFunction": {"body": {"artifacts": {"key": {"any_": ["my-report"]}}, "sort": "ID_DESC", **_PAGE},
                                "status": 200},
    "ArtifactsCountFunction": {"body": {}, "status": 200},
    "ArtifactsLatestFilterFunction": {"body": {"sort": "KEY_ASC", **_PAGE}, "status": 200},
    "ArtifactsLatestCountFunction": {"body": {}, "status": 200},
    "ConcurrencyLimitsCreateFunction": {"body": {"tag": "database", "concurrency_limit": 2}, "status": 200},
    "ConcurrencyLimitsReadFunction": {"status": 404},
    "ConcurrencyLimitsReadByTagFunction": {"path": {"tag": "database"}, "status": 404},
    "ConcurrencyLimitsFilterFunction": {"body": _PAGE, "status": 200},
    "ConcurrencyLimitsResetByTagFunction": {"path": {"tag": "database"}, "body": {"slot_override": None},
                                            "status": 404},
    "ConcurrencyLimitsDeleteFunction": {"status": 404},
    "ConcurrencyLimitsDeleteByTagFunction": {"path": {"tag": "database"}, "status": 404},
    "CollectionsReadViewFunction": {"path": {"view": "aggregate-worker-metadata"}, "status": 200},
    "ConcurrencyLimitsV2CreateFunction": {"body": {"name": "api-calls", "limit": 10}, "status": 201},
    "ConcurrencyLimitsV2ReadFunction": {"path": {"id_or_name": "api-calls"}, "status": 404},
    "ConcurrencyLimitsV2UpdateFunction": {"path": {"id_or_name": "api-calls"}, "body": {"limit": 20},
                                          "status": 404},
    "ConcurrencyLimitsV2DeleteFunction": {"path": {"id_or_name": "api-calls"}, "status": 404},
    "ConcurrencyLimitsV2FilterFunction": {"body": _PAGE, "status": 200},
    "ConcurrencyLimitsV2IncrementFunction": {"body": {"names": ["api-calls"], "slots": 1, "mode": "concurrency"},
                                             "status": 200},  # creates the limit inactive
    "ConcurrencyLimitsV2DecrementFunction": {"body": {"names": ["api-calls"], "slots": 1, "occupancy_seconds": 1.5},
                                             "status": 200},
}

_WRITE_METHODS = {"POST", "PUT", "PATCH"}


def _request_id(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:16]


def _trace_id(seed: str) -> str:
    h = hashlib.sha256(("trace" + seed).encode()).hexdigest()
    return f"Root=1-{h[:8]}-{h[8:32]}"


def _fill(path: str, params: dict[str, str]) -> str:
    def repl(m: re.Match) -> str:
        name = m.group(1).rstrip("+").split(":")[0]
        value = params[name]
        return quote(value, safe="/" if m.group(1).endswith(("+", ":path")) else "")

    return re.sub(r"\{([^}]+)\}", repl, path)


def _param_names(path: str) -> list[str]:
    return [n.rstrip("+").split(":")[0] for n in re.findall(r"\{([^}]+)\}", path)]


def _headers(seed: str, body: str | None) -> dict[str, str]:
    headers = {
        "accept": "*/*",
        "accept-encoding": "gzip, deflate",
        "authorization": f"Bearer {SAMPLE_API_KEY}",
        "host": DOMAIN,
        "user-agent": USER_AGENT,
        "x-amzn-trace-id": _trace_id(seed),
        "x-forwarded-for": SOURCE_IP,
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
        "x-prefect-api-version": SERVER_API_VERSION,
    }
    if body is not None:
        headers["content-length"] = str(len(body.encode()))
        headers["content-type"] = "application/json"
    return dict(sorted(headers.items()))


def _request_context(seed: str, method: str, raw_path: str, route_key: str, *, authorizer: bool) -> dict:
    ctx: dict[str, Any] = {
        "accountId": ACCOUNT,
        "apiId": API_ID,
    }
    if authorizer:
        ctx["authorizer"] = {"lambda": {"keyId": SAMPLE_KEY_ID, "keyName": "sample"}}
    ctx.update({
        "domainName": DOMAIN,
        "domainPrefix": API_ID,
        "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1", "sourceIp": SOURCE_IP,
                 "userAgent": USER_AGENT},
        "requestId": _request_id(seed),
        "routeKey": route_key,
        "stage": "$default",
        "time": TIME_CLF,
        "timeEpoch": TIME_EPOCH_MS,
    })
    return ctx


def http_event(function_id: str, method: str, route_path: str, fastapi_path: str,
               sample: dict | None = None) -> dict:
    """An HTTP API v2 event for ``method route_path`` (the API route), sent to ``fastapi_path``."""
    sample = sample or {}
    names = _param_names(route_path)
    params = {n: str(sample.get("path", {}).get(n, PARAM_SAMPLES.get(n, "sample"))) for n in names}
    raw_path = _fill("/api" + fastapi_path, params)
    route_key = f"{method} {route_path}"
    query = sample.get("query") or {}
    body_obj = sample.get("body", {} if method in _WRITE_METHODS else None)
    body = json.dumps(body_obj, separators=(",", ":")) if body_obj is not None else None
    seed = function_id + route_key
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": urlencode(query),
        "headers": _headers(seed, body),
    }
    if query:
        event["queryStringParameters"] = {k: str(v) for k, v in query.items()}
    event["requestContext"] = _request_context(seed, method, raw_path, route_key, authorizer=True)
    if params:
        event["pathParameters"] = params
    if body is not None:
        event["body"] = body
    event["isBase64Encoded"] = False
    return event


def authorizer_event() -> dict:
    route_key = "GET /api/flows/{id}"
    raw_path = f"/api/flows/{SAMPLE_ID}"
    seed = "AuthorizerFunction"
    return {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/$default/GET/api/flows/{SAMPLE_ID}",
        "identitySource": [f"Bearer {SAMPLE_API_KEY}"],
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": "",
        "headers": _headers(seed, None),
        "requestContext": _request_context(seed, "GET", raw_path, route_key, authorizer=False),
        "pathParameters": {"id": SAMPLE_ID},
    }


def scheduled_event(rule_name: str = "flowplane-scheduler-tick") -> dict:
    return {
        "version": "0",
        "id": "8f5b4a3c-2d1e-4f6a-9b8c-7d6e5f4a3b2c",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": TIME_ISO,
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule_name}"],
        "detail": {},
    }


def deployments_stream_event() -> dict:
    stream = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/flowplane-DeploymentsTable-1A2B3C4D5E6F/stream/2025-01-01T00:00:00.000"
    records = []
    for i, (name, dep_id) in enumerate([("INSERT", SAMPLE_ID), ("MODIFY", "c3d2e1f0-1a2b-4c3d-8e9f-0a1b2c3d4e5f")]):
        records.append({
            "eventID": hashlib.sha256(f"{name}{i}".encode()).hexdigest()[:32],
            "eventName": name,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": REGION,
            "dynamodb": {
                "ApproximateCreationDateTime": TIME_EPOCH_MS // 1000,
                "Keys": {"id": {"S": dep_id}},
                "SequenceNumber": f"{100000000000000000000 + i}",
                "SizeBytes": 45,
                "StreamViewType": "KEYS_ONLY",
            },
            "eventSourceARN": stream,
        })
    return {"Records": records}


def expected_status(function_id: str) -> int | None:
    return (SAMPLES.get(function_id) or {}).get("status")


def render(template: dict | None = None) -> dict[str, dict]:
    """File name -> event, for every function of the template."""
    from handlers.routes import routes
    from infra.sam import api_path
    from infra.template import load

    template = template or load()
    by_function: dict[str, list] = {}
    for r in routes():
        by_function.setdefault(r.function_id, []).append(r)
    out: dict[str, dict] = {}
    for fid, res in template["Resources"].items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        props = res.get("Properties") or {}
        api_events = [e["Properties"] for e in (props.get("Events") or {}).values() if e.get("Type") == "HttpApi"]
        if api_events:
            ev = api_events[0]
            fastapi_path = next((r.path for r in by_function.get(fid, [])
                                 if r.method == ev["Method"] and api_path(r.path) == ev["Path"]), None)
            if fastapi_path is None:
                raise SystemExit(f"{fid}: {ev['Method']} {ev['Path']} is in template.yaml but not in the route table")
            out[f"{fid}.json"] = http_event(fid, ev["Method"], ev["Path"], fastapi_path, SAMPLES.get(fid))
        elif fid == "AuthorizerFunction":
            out[f"{fid}.json"] = authorizer_event()
        elif fid == "SchedulerFunction":
            out[f"{fid}.json"] = scheduled_event()
            out[f"{fid}.stream.json"] = deployments_stream_event()
        else:
            raise SystemExit(f"{fid}: no event generator for a function without an HttpApi event")
    return out


def dumps(event: dict) -> str:
    return json.dumps(event, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--check", action="store_true", help="fail when events/ differs from what would be generated")
    p.add_argument("--dir", type=pathlib.Path, default=EVENTS)
    args = p.parse_args(argv)
    files = {name: dumps(ev) for name, ev in render().items()}
    existing = {f.name for f in args.dir.glob("*.json")} if args.dir.exists() else set()
    if args.check:
        stale = sorted(n for n, text in files.items()
                       if not (args.dir / n).exists() or (args.dir / n).read_text(encoding="utf-8") != text)
        extra = sorted(existing - set(files))
        if stale or extra:
            print(f"events/ out of date (stale: {stale}, unknown: {extra}): run `python -m infra.local.events`",
                  file=sys.stderr)
            return 1
        print(f"events/ is up to date ({len(files)} files)")
        return 0
    args.dir.mkdir(parents=True, exist_ok=True)
    for name in sorted(existing - set(files)):
        (args.dir / name).unlink()
        print(f"removed {args.dir / name}")
    for name, text in files.items():
        (args.dir / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(files)} events to {args.dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
