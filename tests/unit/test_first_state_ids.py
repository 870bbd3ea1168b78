"""domain.first_state_ids: a scheduler run's first state id and back."""

import uuid

import pytest

from domain import ids
from domain.first_state_ids import MASK, first_state_id, scheduled_run_id


class TestFirstStateId:
    def test_is_pinned_for_a_known_run_id(self):
        # stored runs carry ids made with MASK: a change of the derivation must fail here
        assert first_state_id("6d54de25-e693-533e-bad2-4b848846561f") == "500f4022-2432-4c5a-a65c-11175f06e470"

    def test_is_a_version_4_rfc_4122_uuid_unlike_its_run_id(self):
        run_id = ids.flow_run_id(str(uuid.uuid4()), "scheduled x 2024-01-01T00:00:00+00:00")
        state_id = uuid.UUID(first_state_id(run_id))
        assert (state_id.version, state_id.variant) == (4, uuid.RFC_4122)
        assert str(state_id) != run_id

    def test_mask_leaves_the_version_and_variant_bits_alone(self):
        assert MASK & ((0xF << 76) | (0x3 << 62)) == 0

    def test_scheduled_run_id_inverts_it_for_many_runs(self):
        run_ids = [ids.flow_run_id(str(uuid.uuid4()), f"key {i}") for i in range(500)]
        state_ids = [first_state_id(r) for r in run_ids]
        assert len(set(state_ids)) == 500
        assert [scheduled_run_id(s) for s in state_ids] == run_ids

    # fixed ids: parameters must be the same in every pytest-xdist worker
    @pytest.mark.parametrize("run_id", ["d499306c-0dcf-4c90-bfb5-68fee4ebf5c6", "097dff38-eddd-11f1-ac00-02fc00000001",
                                        "not-a-uuid"])
    def test_refuses_ids_the_scheduler_does_not_make(self, run_id):
        with pytest.raises(ValueError, match="not a scheduler run id"):
            first_state_id(run_id)


class TestScheduledRunId:
    @pytest.mark.parametrize("state_id", ["097e023a-eddd-11f1-ac00-02fc00000001", str(uuid.uuid5(uuid.NAMESPACE_DNS, "x")),
                                          "nope", None])
    def test_is_none_for_anything_but_a_version_4_uuid(self, state_id):
        assert scheduled_run_id(state_id) is None

    def test_any_version_4_uuid_names_a_version_5_run_id(self):
        run_id = uuid.UUID(scheduled_run_id(str(uuid.uuid4())))
        assert (run_id.version, run_id.variant) == (5, uuid.RFC_4122)
