"""Services that change flow runs without a client (orchestration spec §4.1, §4.2), run by the
scheduler tick (``handlers/scheduler.py``) instead of loops of their own.

* Late runs (MarkLateRuns): SCHEDULED runs named exactly ``Scheduled`` whose
  ``next_scheduled_start_time`` is at least ``PREFECT_API_SERVICES_LATE_RUNS_AFTER_SECONDS``
  (15 s, quirk Q19) in the past get ``Late`` — a SCHEDULED state named Late, message null,
  ``scheduled_time`` = the run's ``next_scheduled_start_time`` — proposed through
  MarkLateRunsPolicy (not forced, so the global bookkeeping applies).
* Pause expiry (FailExpiredPauses): PAUSED runs whose state's ``pause_timeout`` has passed are
  forced to Failed ``The flow was paused and never resumed.``; runs without a timeout are skipped
  (quirk Q11 — the reference's loop stops on them).

Cost follows the runs concerned: each service is one Query of a sparse, time-ordered FlowRuns
index bounded by the cutoff (``late_candidates``, ``paused_by_timeout``), so a tick with nothing
late and nothing expired costs exactly those two Queries, however many runs are stored. Each run
found is read again (GetItem, strongly consistent — the index may lag a transition) and
re-checked before its proposal, which itself re-reads the run and commits on its revision.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass

from domain.context import Ctx
from domain.errors import NotFound
from domain.ports import Doc
from domain.sharded_index import query_all
from domain.timeutil import iso_utc, parse, sort_key

log = logging.getLogger("flowplane.run_services")

LATE_STATE_NAME = "Late"
PAUSE_EXPIRED_MESSAGE = "The flow was paused and never resumed."
EPSILON = dt.timedelta(microseconds=1)  # sort keys have microsecond resolution


@dataclass
class ServicesResult:
    late: int = 0  # runs marked Late
    expired_pauses: int = 0  # paused runs failed
    failed: int = 0  # runs whose proposal raised (logged; retried next tick)
    incomplete: bool = False  # stopped at the deadline; the rest is found again next tick

    def summary(self) -> dict[str, int | bool]:
        return {"late": self.late, "expired_pauses": self.expired_pauses, "service_failures": self.failed,
                "services_incomplete": self.incomplete}


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() > deadline


def _is_late(run: Doc | None, cutoff: dt.datetime) -> bool:
    return (run is not None and run.get("state_type") == "SCHEDULED" and run.get("state_name") == "Scheduled"
            and bool(run.get("next_scheduled_start_time")) and parse(run["next_scheduled_start_time"]) <= cutoff)


def mark_late_runs(ctx: Ctx, result: ServicesResult | None = None, *, deadline: float | None = None) -> ServicesResult:
    """§4.1: one Query of ``late_candidates`` up to now − late_runs_after."""
    result = result or ServicesResult()
    cutoff = ctx.now() - ctx.settings.late_runs_after
    for candidate in query_all(ctx.stores.flow_runs, "late_candidates", sk_lte=sort_key(cutoff)):
        if _past(deadline):
            result.incomplete = True
            break
        run = ctx.stores.flow_runs.get(candidate["id"])
        if not _is_late(run, cutoff):
            continue  # moved on (or deleted) since the index saw it
        from domain.services.run_orchestration import propose_flow_run_state  # only when there is work
        from domain.states import StateCreate, StateDetails, StateType

        late = StateCreate(type=StateType.SCHEDULED, name=LATE_STATE_NAME, message=None,
                           state_details=StateDetails(scheduled_time=parse(run["next_scheduled_start_time"])))
        try:
            answer, _ = propose_flow_run_state(ctx, run["id"], late, policy="late")
        except NotFound:
            continue  # deleted meanwhile
        except Exception as exc:  # noqa: BLE001 - one run must not stop the service
            log.error("late runs: run %s failed: %r", run["id"], exc, exc_info=exc)
            result.failed += 1
            continue
        if answer["status"] == "ACCEPT":
            result.late += 1
    return result


def fail_expired_pauses(ctx: Ctx, result: ServicesResult | None = None, *,
                        deadline: float | None = None) -> ServicesResult:
    """§4.2: one Query of ``paused_by_timeout`` for timeouts before now."""
    result = result or ServicesResult()
    now = ctx.now()
    for candidate in query_all(ctx.stores.flow_runs, "paused_by_timeout", sk_lte=sort_key(now - EPSILON)):
        if _past(deadline):
            result.incomplete = True
            break
        run = ctx.stores.flow_runs.get(candidate["id"])
        timeout = ((run or {}).get("state") or {}).get("state_details", {}).get("pause_timeout")
        if run is None or run.get("state_type") != "PAUSED" or not timeout or not parse(timeout) < now:
            continue  # resumed, deleted, or paused again since the index saw it
        from domain.services.run_orchestration import propose_flow_run_state
        from domain.states import StateCreate, StateType

        failed = StateCreate(type=StateType.FAILED, message=PAUSE_EXPIRED_MESSAGE)
        try:
            propose_flow_run_state(ctx, run["id"], failed, force=True)
        except NotFound:
            continue
        except Exception as exc:  # noqa: BLE001
            log.error("pause expiry: run %s failed: %r", run["id"], exc, exc_info=exc)
            result.failed += 1
            continue
        result.expired_pauses += 1
    return result


def tick(ctx: Ctx, *, deadline: float | None = None) -> ServicesResult:
    """Both services, each when enabled (``PREFECT_API_SERVICES_LATE_RUNS_ENABLED``,
    ``PREFECT_API_SERVICES_PAUSE_EXPIRATIONS_ENABLED``)."""
    result = ServicesResult()
    if ctx.settings.late_runs_enabled:
        mark_late_runs(ctx, result, deadline=deadline)
    if ctx.settings.pause_expirations_enabled:
        fail_expired_pauses(ctx, result, deadline=deadline)
    if result.late or result.expired_pauses or result.failed:
        log.info("run services at %s: %s", iso_utc(ctx.now()), result.summary())
    return result
