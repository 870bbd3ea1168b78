"""Global concurrency limits, ``/v2/concurrency_limits`` (used by ``prefect.concurrency``'s
``concurrency()`` / ``rate_limit()`` and ``prefect gcl``).

A limit: ``{"id", "created", "updated", "active", "name", "limit", "active_slots",
"denied_slots", "slot_decay_per_second", "avg_slot_occupancy_seconds", "_rev"}`` with a fresh
uuid4 id; its name is claimed by a guard item ``concurrency_limit_v2:<name>`` written in the same
transaction (create, rename, delete), so names are unique and reads by name are strongly consistent.

Slots. ``increment`` takes ``slots`` on every *active* limit named, all or none: the limits are
read, the decayed counts computed (``active_slots - floor(slot_decay_per_second x seconds since
updated)``, never below 0; denied slots decay the same way, or by ``1 / avg_slot_occupancy_seconds``
without a decay rate) and every limit is rewritten in one transaction, each conditioned on the
revision it was read at — a concurrent taker makes the transaction fail and the whole decision is
taken again on fresh counts, so a limit never holds more than ``limit`` slots. Names without a
limit get an inactive one (limit 1, as in the reference) in the same transaction, so a denied
attempt creates nothing. When a limit is full the attempt is recorded as denied slots and the
answer is 423 with ``Retry-After`` computed as the reference does.

One deliberate difference: recording a denial also stores the decayed ``active_slots`` (the
reference moves ``updated`` without decaying them, so repeated denials of a rate limit can keep
its slots from ever decaying).
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from domain import ids
from domain.context import Ctx
from domain.errors import ConditionFailed, IntegrityConflict, NotFound, ServiceUnavailable, Unprocessable
from domain.parsing import Embedded, Offset
from domain.ports import Cond, Doc, TxDelete, TxOp, TxPut
from domain.sharded_index import query_all
from domain.timeutil import iso_utc, parse

NOT_FOUND = "Concurrency Limit not found"
BANNED_CHARACTERS = ["/", "%", "&", ">", "<"]
FULL_KEYS = ("id", "created", "updated", "active", "name", "limit", "active_slots", "denied_slots",
             "slot_decay_per_second", "avg_slot_occupancy_seconds")
WIRE_KEYS = ("id", "created", "updated", "active", "name", "limit", "active_slots", "slot_decay_per_second")
OCCUPANCY_SAMPLES_MULTIPLIER = 2
MINIMUM_OCCUPANCY_SECONDS_PER_SLOT = 0.1
DEFAULT_AVG_SLOT_OCCUPANCY_SECONDS = 2.0
_ATTEMPTS = 40
_MAX_GUARD_KEY_BYTES = 1024


def _check_name(value: str | None) -> str | None:
    if value is not None and any(c in value for c in BANNED_CHARACTERS):
        raise ValueError(f"Name {value!r} contains an invalid character. Must not contain any of: "
                         f"{BANNED_CHARACTERS}.")
    return value


Name = Annotated[str, AfterValidator(_check_name)]
NonNegativeInt = Annotated[int, Field(ge=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]


class LimitCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    active: bool = True
    name: Name
    limit: NonNegativeInt
    active_slots: NonNegativeInt = 0
    denied_slots: NonNegativeInt = 0
    slot_decay_per_second: NonNegativeFloat = 0.0


class LimitUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    active: bool | None = None
    name: Name | None = None
    limit: NonNegativeInt | None = None
    active_slots: NonNegativeInt | None = None
    denied_slots: NonNegativeInt | None = None
    slot_decay_per_second: NonNegativeFloat | None = None


class LimitQuery(Embedded):
    """``{"offset", "limit"}`` (the shape of ``queries.Page``, which this module does not import:
    it would bring the filter models into every cold start of the write routes)."""

    offset: Offset = 0  # clamped: a huge offset is an empty page, not an islice error
    limit: int | None = None


class IncrementBody(Embedded):
    slots: int = Field(gt=0)
    names: list[str] = Field(min_length=1)
    mode: Literal["concurrency", "rate_limit"] = "concurrency"


class DecrementBody(Embedded):
    slots: int = Field(gt=0)
    names: list[str] = Field(min_length=1)
    occupancy_seconds: float | None = Field(default=None, gt=0.0)


@dataclass
class Acquisition:
    """What ``increment`` decided: the limits (minimal shape), or a wait (``retry_after`` seconds)."""

    limits: list[dict[str, Any]]
    retry_after: float | None = None


def to_wire(doc: Doc) -> dict[str, Any]:
    return {k: doc.get(k) for k in WIRE_KEYS}


def _minimal(doc: Doc) -> dict[str, Any]:
    return {"id": doc["id"], "name": doc["name"], "limit": doc["limit"]}


def guard_id(name: str) -> str:
    key = f"concurrency_limit_v2:{name}"
    if len(key.encode("utf-8", "surrogatepass")) > _MAX_GUARD_KEY_BYTES:
        key = f"concurrency_limit_v2#sha256:{hashlib.sha256(name.encode('utf-8', 'surrogatepass')).hexdigest()}"
    return key


def _attempts() -> Iterator[int]:
    yield from range(_ATTEMPTS)
    raise ServiceUnavailable("Service Unavailable")


# -------------------------------------------------------------------------------------- reads


def read_by_name(ctx: Ctx, name: str) -> Doc | None:
    guard = ctx.stores.guards.get(guard_id(name))
    if guard is None:
        return None
    doc = ctx.stores.global_concurrency_limits.get(guard["owner_id"])
    return doc if doc is not None and doc.get("name") == name else None


def _lookup(ctx: Ctx, id_or_name: str) -> Doc | None:
    """The reference's ``Union[UUID, str]`` path parameter: a UUID is an id, anything else a name."""
    try:
        limit_id = str(UUID(id_or_name))
    except ValueError:
        return read_by_name(ctx, id_or_name)
    return ctx.stores.global_concurrency_limits.get(limit_id)


def _get(ctx: Ctx, id_or_name: str) -> Doc:
    doc = _lookup(ctx, id_or_name)
    if doc is None:
        raise NotFound(NOT_FOUND)
    return doc


def read(ctx: Ctx, id_or_name: str) -> dict[str, Any]:
    return to_wire(_get(ctx, id_or_name))


def filter_limits(ctx: Ctx, q: LimitQuery) -> list[dict[str, Any]]:
    """Every limit ordered by name, offset/limit (the index read stops after offset + limit)."""
    from domain.services.queries import check_limit

    limit = check_limit(ctx, q.limit)
    rows = query_all(ctx.stores.global_concurrency_limits, "by_name")
    empty = read_by_name(ctx, "")
    if empty is not None:
        rows = itertools.chain([empty], rows)
    return [to_wire(d) for d in itertools.islice(rows, q.offset, q.offset + limit)]


# ------------------------------------------------------------------------------------- writes


def _new(ctx: Ctx, name: str, **fields: Any) -> Doc:
    now = iso_utc(ctx.now())
    return {"id": ids.new_id(), "created": now, "updated": now, "active": True, "name": name, "limit": 1,
            "active_slots": 0, "denied_slots": 0, "slot_decay_per_second": 0.0,
            "avg_slot_occupancy_seconds": DEFAULT_AVG_SLOT_OCCUPANCY_SECONDS, **fields, "_rev": 1}


def _insert_ops(ctx: Ctx, doc: Doc) -> list[TxOp]:
    return [TxPut(ctx.stores.guards, {"id": guard_id(doc["name"]), "owner_id": doc["id"]}, Cond.absent()),
            TxPut(ctx.stores.global_concurrency_limits, doc, Cond.absent())]


def create(ctx: Ctx, body: LimitCreate) -> dict[str, Any]:
    """POST /v2/concurrency_limits/ -> 201 (full shape); a taken name is the integrity 409."""
    doc = _new(ctx, body.name, **body.model_dump(exclude={"name"}))
    try:
        ctx.stores.transact(_insert_ops(ctx, doc))
    except ConditionFailed:
        raise IntegrityConflict() from None
    return {k: doc[k] for k in FULL_KEYS}


def _rewrite(ctx: Ctx, current: Doc, **changes: Any) -> TxPut:
    rev = current.get("_rev", 0)
    return TxPut(ctx.stores.global_concurrency_limits, {**current, **changes, "_rev": rev + 1}, Cond.eq("rev", rev))


def update(ctx: Ctx, id_or_name: str, body: LimitUpdate) -> None:
    """PATCH /v2/concurrency_limits/{id_or_name} -> 204; renaming onto a taken name is a 409."""
    fields = body.model_dump(include=body.model_fields_set)
    if any(fields.get(k) is None for k in ("active", "name", "limit", "active_slots", "denied_slots",
                                            "slot_decay_per_second") if k in fields):
        raise IntegrityConflict()  # NOT NULL columns in the reference
    for _ in _attempts():
        current = _get(ctx, id_or_name)
        ops: list[TxOp] = [_rewrite(ctx, current, **fields, updated=iso_utc(ctx.now()))]
        renamed = "name" in fields and fields["name"] != current["name"]
        if renamed:
            ops += [TxDelete(ctx.stores.guards, guard_id(current["name"])),
                    TxPut(ctx.stores.guards, {"id": guard_id(fields["name"]), "owner_id": current["id"]},
                          Cond.absent())]
        try:
            ctx.stores.transact(ops)
            return
        except ConditionFailed:
            if renamed and ctx.stores.guards.get(guard_id(fields["name"])) is not None:
                raise IntegrityConflict() from None
            continue


def delete(ctx: Ctx, id_or_name: str) -> None:
    """DELETE /v2/concurrency_limits/{id_or_name} -> 204, the name's guard with it."""
    for _ in _attempts():
        current = _get(ctx, id_or_name)
        try:
            ctx.stores.transact([
                TxDelete(ctx.stores.global_concurrency_limits, current["id"], Cond.eq("rev", current.get("_rev", 0))),
                TxDelete(ctx.stores.guards, guard_id(current["name"])),
            ])
            return
        except ConditionFailed:
            continue


# -------------------------------------------------------------------------------------- slots


def _seconds_since_update(doc: Doc, now: Any) -> float:
    return max(0.0, (now - parse(doc["updated"])).total_seconds())


def _decayed_active(doc: Doc, now: Any) -> int:
    decay = doc.get("slot_decay_per_second") or 0.0
    return max(0, doc["active_slots"] - math.floor(decay * _seconds_since_update(doc, now)))


def _decayed_denied(doc: Doc, now: Any) -> int:
    decay = doc.get("slot_decay_per_second") or 0.0
    rate = decay if decay > 0 else 1.0 / (doc.get("avg_slot_occupancy_seconds") or DEFAULT_AVG_SLOT_OCCUPANCY_SECONDS)
    return max(0, doc.get("denied_slots", 0) - math.floor(rate * _seconds_since_update(doc, now)))


def _named(ctx: Ctx, names: list[str]) -> tuple[list[Doc], list[TxOp]]:
    """The limits named, in the order named, and the writes that create the missing ones inactive
    (limit 1, as the reference does), to commit in the same transaction as the slot changes."""
    limits, inserts = [], []
    for name in dict.fromkeys(names):
        doc = read_by_name(ctx, name)
        if doc is None:
            doc = _new(ctx, name, active=False)
            inserts += _insert_ops(ctx, doc)
        limits.append(doc)
    return limits, inserts


def _retry_after(active: list[Doc], slots: int) -> float:
    def blocking(limit: Doc) -> float:
        denied = limit.get("denied_slots", 0)
        if limit["slot_decay_per_second"] > 0.0:
            return slots + denied
        return (slots + denied) / limit["limit"] if limit["limit"] else math.inf

    worst = max(active, key=blocking)
    per_slot = (worst["avg_slot_occupancy_seconds"] if worst["slot_decay_per_second"] == 0.0
                else 1.0 / worst["slot_decay_per_second"])
    return per_slot * blocking(worst)


def increment(ctx: Ctx, body: IncrementBody) -> Acquisition:
    """POST /v2/concurrency_limits/increment: all slots or none (see the module docstring)."""
    for _ in _attempts():
        limits, inserts = _named(ctx, body.names)
        active = [d for d in limits if d.get("active")]
        if any(d["limit"] < body.slots for d in active):
            raise Unprocessable("Slots requested is greater than the limit")
        non_decaying = [d["name"] for d in active if d["slot_decay_per_second"] == 0.0]
        if body.mode == "rate_limit" and non_decaying:
            raise Unprocessable(
                "Only concurrency limits with slot decay can be used for rate limiting. The following limits do "
                f"not have a decay configured: {','.join(non_decaying)!r}")
        now = ctx.now()
        stamp = iso_utc(now)
        counts = {d["id"]: (_decayed_active(d, now), _decayed_denied(d, now)) for d in active}
        acquired = all(counts[d["id"]][0] + body.slots <= d["limit"] for d in active)
        if acquired:
            ops = [_rewrite(ctx, d, active_slots=counts[d["id"]][0] + body.slots, denied_slots=counts[d["id"]][1],
                            updated=stamp) for d in active] + inserts
        else:  # nothing is created when the attempt is denied (the reference rolls back)
            ops = [_rewrite(ctx, d, active_slots=counts[d["id"]][0], denied_slots=counts[d["id"]][1] + body.slots,
                            updated=stamp) for d in active]
        try:
            if ops:
                ctx.stores.transact(ops)
        except ConditionFailed:
            continue
        if acquired:
            return Acquisition([_minimal(d) for d in limits])
        return Acquisition([], _retry_after(active, body.slots))
    raise AssertionError("unreachable")


def decrement(ctx: Ctx, body: DecrementBody) -> list[dict[str, Any]]:
    """POST /v2/concurrency_limits/decrement: releases ``slots`` on every active limit named (never
    below 0) and folds ``occupancy_seconds`` into the average slot occupancy."""
    for _ in _attempts():
        limits, inserts = _named(ctx, body.names)
        now = ctx.now()
        stamp = iso_utc(now)
        ops = list(inserts)
        for d in limits:
            if not d.get("active"):
                continue
            changes: dict[str, Any] = {"active_slots": max(0, _decayed_active(d, now) - body.slots),
                                       "denied_slots": _decayed_denied(d, now), "updated": stamp}
            if body.occupancy_seconds and d["limit"] > 0:
                per_slot = max(body.occupancy_seconds / body.slots, MINIMUM_OCCUPANCY_SECONDS_PER_SLOT)
                samples = d["limit"] * OCCUPANCY_SAMPLES_MULTIPLIER
                avg = d["avg_slot_occupancy_seconds"]
                changes["avg_slot_occupancy_seconds"] = avg + per_slot / samples - avg / samples
            ops.append(_rewrite(ctx, d, **changes))
        try:
            if ops:
                ctx.stores.transact(ops)
        except ConditionFailed:
            continue
        return [_minimal(d) for d in limits]
    raise AssertionError("unreachable")
