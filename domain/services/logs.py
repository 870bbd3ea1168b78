"""Logs: the batch insert of ``POST /logs/`` (orchestration spec §1.8); reads are in
``domain/services/log_queries.py`` (kept apart so the hottest write route imports no filter models).

Storage. Each log is one item with a fresh uuid4 ``id`` and a private sort key ``_ts_sk`` =
fixed-width UTC timestamp, then the time it was received and its position in its request, then
the id: logs with equal timestamps stay distinct and come back in the order they were sent, as
from the reference (SQLite breaks the tie by insertion order, reversed for TIMESTAMP_DESC).
``_expires_at`` (epoch seconds, now + ``history_retention``) lets DynamoDB TTL delete old logs.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, TypeAdapter

from domain import ids
from domain.context import Ctx
from domain.errors import TooLarge
from domain.parsing import V1Int, V1Str, body_datetime, parse_list
from domain.ports import Doc
from domain.timeutil import UTC, ensure_aware, iso_utc, sort_key

WIRE_KEYS = ("id", "created", "updated", "name", "level", "message", "timestamp", "flow_run_id", "task_run_id")

# A log item must fit a DynamoDB item (400 KB) with its projected attributes, measured as the
# stores serialise it (ASCII JSON: escapes count); the reference accepts messages of up to
# 1 000 000 characters (the client drops longer ones).
MAX_LOG_ITEM_BYTES = 380 * 1024


Text = V1Str
Level = V1Int
Timestamp = Annotated[dt.datetime, BeforeValidator(body_datetime),
                      AfterValidator(lambda v: ensure_aware(v).astimezone(UTC))]


class LogCreate(BaseModel):
    """One element of the ``POST /logs/`` array (unknown keys are refused)."""

    model_config = ConfigDict(extra="forbid")
    name: Text
    level: Level
    message: Text
    timestamp: Timestamp
    flow_run_id: UUID | None = None
    task_run_id: UUID | None = None


LOG_LIST = TypeAdapter(list[LogCreate])


def to_wire(doc: Doc) -> dict[str, Any]:
    return {k: doc.get(k) for k in WIRE_KEYS}


def parse_logs(body: Any) -> list[LogCreate]:
    return parse_list(LOG_LIST, body)


# ------------------------------------------------------------------------------------ writes


def _doc(log: LogCreate, now: str, now_sk: str, position: int, expires_at: int) -> Doc:
    log_id = ids.new_id()
    timestamp = iso_utc(log.timestamp)
    return {
        "id": log_id,
        "created": now,
        "updated": now,
        "name": log.name,
        "level": log.level,
        "message": log.message,
        "timestamp": timestamp,
        "flow_run_id": str(log.flow_run_id) if log.flow_run_id else None,
        "task_run_id": str(log.task_run_id) if log.task_run_id else None,
        "_ts_sk": f"{sort_key(log.timestamp)}#{now_sk}#{position:06d}#{log_id}",
        "_expires_at": expires_at,
    }


def create_logs(ctx: Ctx, logs: list[LogCreate]) -> None:
    """POST /logs/ -> 201 ``null``. Every item is checked against the item-size limit before any
    is written, so a refused batch (422) writes nothing; the batch is written with BatchWriteItem
    (25 items a request, unprocessed items retried by the adapter)."""
    now_dt = ctx.now()
    now = iso_utc(now_dt)
    expires_at = int((now_dt + ctx.settings.history_retention).timestamp())
    now_sk = sort_key(now_dt)
    docs = [_doc(log, now, now_sk, i, expires_at) for i, log in enumerate(logs)]
    for index, doc in enumerate(docs):
        if len(json.dumps(doc, separators=(",", ":"))) > MAX_LOG_ITEM_BYTES:  # as stores serialise it
            raise TooLarge(f"Log {index} is too large to store (DynamoDB items are limited to 400 KB).")
    if docs:
        ctx.stores.logs.put_many(docs)
