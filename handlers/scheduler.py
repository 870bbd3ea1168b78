"""SchedulerFunction: materialises scheduled flow runs (spec §6, DESIGN.md "Scheduling").

Two triggers, one handler:

* EventBridge ``rate(1 minute)`` (``source: aws.events``, ``detail-type: Scheduled Event``) -> one
  ``tick`` over the deployments that are due — the safety net; with nothing due it is one Query —
  then the run services (``run_services.tick``: late runs, expired pauses; one Query each when
  there is nothing to do).
* The Deployments table's DynamoDB stream (KEYS_ONLY) -> the fast path: just the deployments in the
  batch, those that are due (a new or changed deployment gets its runs within seconds).

The local server calls ``handler(sample_event(), None)`` every few seconds. Imports stay light:
the domain is imported on the first call, and a tick with nothing due never loads the schedules.
"""

from __future__ import annotations

import logging
import time
from typing import Any

# the run services propose states: the run, its state history, a subflow's parent task run
TABLES = ("Deployments", "FlowRuns", "FlowRunStates", "TaskRuns", "TaskRunStates", "Artifacts")

log = logging.getLogger("flowplane.scheduler")

# Stop taking new pages this long before Lambda's timeout; what is left stays due.
SAFETY_MARGIN_MS = 10_000


def sample_event() -> dict[str, Any]:
    """The EventBridge scheduled event exactly as the rule delivers it (``events/SchedulerFunction.json``)."""
    return {
        "version": "0",
        "id": "8f5b4a3c-2d1e-4f6a-9b8c-7d6e5f4a3b2c",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2025-01-01T12:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/flowplane-scheduler-tick"],
        "detail": {},
    }


def event_kind(event: Any) -> str:
    """``tick`` (EventBridge scheduled event) or ``stream`` (DynamoDB stream batch)."""
    if isinstance(event, dict):
        if (event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event"
                and "version" in event):
            return "tick"
        records = event.get("Records")
        if isinstance(records, list) and all(
                isinstance(r, dict) and r.get("eventSource") == "aws:dynamodb" for r in records):
            return "stream"
    raise ValueError("SchedulerFunction expects an EventBridge scheduled event or a DynamoDB stream batch")


def stream_deployment_ids(event: dict[str, Any]) -> list[str]:
    """Deployment ids of the stream batch's INSERT/MODIFY records, in order, once each."""
    ids: list[str] = []
    for record in event.get("Records") or []:
        if record.get("eventName") == "REMOVE":
            continue
        key = ((record.get("dynamodb") or {}).get("Keys") or {}).get("id") or {}
        if isinstance(key.get("S"), str):
            ids.append(key["S"])
    return list(dict.fromkeys(ids))


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from handlers._deps import context as build_context

    kind = event_kind(event)
    started = time.monotonic()
    ctx = build_context()
    deadline = None
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if callable(remaining):
        deadline = started + max(0, remaining() - SAFETY_MARGIN_MS) / 1000
    services: dict[str, Any] = {}
    if kind == "tick":
        from domain.services import run_services

        services = run_services.tick(ctx, deadline=deadline).summary()
    if not ctx.settings.scheduler_enabled:
        return {"scheduled": 0, "deployments": 0, "source": kind, "enabled": False, **services}

    from domain.services import scheduler

    if kind == "tick":
        result = scheduler.tick(ctx, deadline=deadline)
    else:
        result = scheduler.process_deployments(ctx, stream_deployment_ids(event))
    summary = result.summary()
    summary.update(services)
    summary.update(source=kind, ms=round((time.monotonic() - started) * 1000, 1))
    if result.scheduled or result.failed:
        log.info("scheduler %s: %s", kind, summary)
    return summary
