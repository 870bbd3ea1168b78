"""The first state of a scheduler-inserted flow run has an id derived from the run's id.

The scheduler inserts a SCHEDULED run with one conditional put and no ``FlowRunStates`` item (its
first state is stored by its first transition), so ``GET /flow_run_states/{id}`` cannot find that
state by key while the run has not moved. The reference answers it (its scheduler writes the state
row), so the state id is made to name its run: ``first_state_id`` is a fixed bijection from
scheduler run ids (``uuid5``, ``domain.ids.flow_run_id``) to version-4 UUIDs, and
``scheduled_run_id`` is its inverse. A reader that misses in ``FlowRunStates`` computes the run id,
reads the run (one GetItem) and answers its current state if that state's id is the one asked for.

The bijection: XOR the 122 bits a UUID does not fix (all but the 4 version bits and the 2
variant bits) with ``MASK``, and swap the version nibble (5 → 4 one way, 4 → 5 the other). The
variant bits (RFC 4122, ``10``) stay, so the state id is a valid random-looking version-4 UUID
like every other state id, and no two runs share one. ``MASK`` must never change: stored runs
carry ids made with it.
"""

from __future__ import annotations

import uuid

# 128 random bits with the version nibble (bits 76-79) and the variant bits (62-63) cleared.
MASK = 0x3D5B_9E07_C2A1_0F64_1C8E_5A93_D740_B26F
_VERSION = 0xF << 76


def _swap(value: str, source: int, target: int) -> str | None:
    try:
        u = uuid.UUID(str(value))
    except (ValueError, AttributeError, TypeError):
        return None
    if u.version != source or u.variant != uuid.RFC_4122:
        return None
    bits = (u.int ^ MASK) & ~_VERSION | (target << 76)
    return str(uuid.UUID(int=bits))


def first_state_id(run_id: str) -> str:
    """The id of the first state of the scheduler-inserted run ``run_id`` (a version-5 UUID)."""
    derived = _swap(run_id, 5, 4)
    if derived is None:
        raise ValueError(f"not a scheduler run id (version-5 UUID): {run_id!r}")
    return derived


def scheduled_run_id(state_id: str) -> str | None:
    """The run whose first state could be ``state_id``, or None when ``state_id`` is not a
    version-4 UUID (no scheduler-inserted run's first state has that id)."""
    return _swap(state_id, 4, 5)
