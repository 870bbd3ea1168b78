"""Table specs as earlier flowplane versions stored their items, for the upgrade tests (the SQLite
store's re-projection when opened, ``reshard`` on the memory store and on DynamoDB)."""

from __future__ import annotations

import dataclasses

from domain.ports import FLOW_RUNS, Index, TableSpec


def _before_state_type_shards(spec: TableSpec) -> TableSpec:
    """``by_state_type`` keyed by the ``state_type`` attribute itself (one partition per state type)
    in place of ``by_state_type_sharded``; ``state_type`` projected as that index's key."""
    new = spec.index("by_state_type_sharded")
    old = Index("by_state_type", "state_type", new.pk, new.sk_attr, new.sk)
    return dataclasses.replace(spec, indexes=tuple(old if ix is new else ix for ix in spec.indexes), text_attrs=())


# FlowRuns as stored by the release before the state-type index was sharded (the constant-partition
# indexes already sharded)
FLOW_RUNS_BEFORE_STATE_TYPE_SHARDS = _before_state_type_shards(FLOW_RUNS)

# FlowRuns as stored before any index was sharded: every index one partition (``all`` in ``all_pk``)
FLOW_RUNS_BEFORE_SHARDING = dataclasses.replace(
    FLOW_RUNS_BEFORE_STATE_TYPE_SHARDS,
    indexes=tuple(dataclasses.replace(ix, shards=1) for ix in FLOW_RUNS_BEFORE_STATE_TYPE_SHARDS.indexes))
