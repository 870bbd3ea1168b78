"""Filter models (spec §4.8) and their in-memory evaluation; conformance items §8.55–76."""

from __future__ import annotations

import datetime as dt
import json
import pathlib
import uuid

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from domain import filters as f
from domain.filters import (
    BlockDocumentFilter,
    BlockSchemaFilter,
    BlockTypeFilter,
    DeploymentFilter,
    DeploymentSort,
    FilterContextRequired,
    FlowFilter,
    FlowRunFilter,
    FlowRunSort,
    FlowSort,
    Operator,
    StateType,
    TaskRunFilter,
    VariableFilter,
    VariableSort,
    WorkPoolFilter,
    WorkQueueFilter,
    sort_documents,
    sort_key_for,
)

UTC = dt.timezone.utc
# shared/ sits beside the checkout (also in CI, which lays a copy of it next to its fresh clone)
# the reference's document, as copied into the project (tests/fuzz checks the copy)
OPENAPI = pathlib.Path(__file__).resolve().parents[1] / "fuzz" / "openapi-2.20.json"


def uid() -> str:
    return str(uuid.uuid4())


def deployment(name: str, **kw) -> dict:
    doc = {
        "id": uid(), "created": "2026-11-24T00:00:00+00:00", "updated": "2026-11-24T00:00:00+00:00",
        "name": name, "flow_id": uid(), "paused": False, "is_schedule_active": True, "tags": [],
        "work_queue_name": None, "status": "NOT_READY",
    }
    doc.update(kw)
    return doc


def flow_run(**kw) -> dict:
    doc = {
        "id": uid(), "created": "2026-11-24T00:00:00+00:00", "updated": "2026-11-24T00:00:00+00:00",
        "name": "sad-marvin", "flow_id": uid(), "deployment_id": None, "work_queue_name": None,
        "flow_version": None, "idempotency_key": None, "tags": [], "parent_task_run_id": None,
        "state_type": "SCHEDULED", "state_name": "Scheduled", "expected_start_time": None,
        "next_scheduled_start_time": None, "start_time": None, "end_time": None,
    }
    doc.update(kw)
    return doc


def task_run(**kw) -> dict:
    doc = {"id": uid(), "name": "t-1", "tags": [], "state_type": "COMPLETED", "state_name": "Completed",
           "start_time": None, "flow_run_id": uid()}
    doc.update(kw)
    return doc


class FakeContext:
    """A FilterContext over in-memory relationships, recording the calls it answers."""

    def __init__(self, flows_with_deployments=(), task_run_owner=None, task_runs_with_subflows=()):
        self.flows_with_deployments = set(flows_with_deployments)
        self.task_run_owner = dict(task_run_owner or {})
        self.task_runs_with_subflows = set(task_runs_with_subflows)
        self.calls: list[tuple[str, str]] = []

    def flow_has_deployments(self, flow_id: str) -> bool:
        self.calls.append(("flow_has_deployments", flow_id))
        return flow_id in self.flows_with_deployments

    def task_run_flow_run_id(self, task_run_id: str) -> str | None:
        self.calls.append(("task_run_flow_run_id", task_run_id))
        return self.task_run_owner.get(task_run_id)

    def task_run_has_subflow(self, task_run_id: str) -> bool:
        self.calls.append(("task_run_has_subflow", task_run_id))
        return task_run_id in self.task_runs_with_subflows


def select(flt, docs, ctx=None) -> list[str]:
    return [d["name"] for d in docs if flt.matches(d, ctx)]


# --------------------------------------------------------------------------------------------


class TestValidation:
    def test_unknown_top_level_key_is_rejected(self):
        with pytest.raises(ValidationError) as e:
            DeploymentFilter.model_validate({"nmae": {"any_": ["x"]}})
        assert e.value.errors()[0]["type"] == "extra_forbidden"

    def test_unknown_nested_criteria_key_is_rejected(self):
        with pytest.raises(ValidationError):
            DeploymentFilter.model_validate({"name": {"any_": ["x"], "eq_": "x"}})
        with pytest.raises(ValidationError):
            FlowRunFilter.model_validate({"state": {"type": {"any_": ["RUNNING"], "not_any_": []}}})

    def test_operator_xor_is_rejected(self):
        with pytest.raises(ValidationError):
            DeploymentFilter.model_validate({"operator": "xor_"})
        with pytest.raises(ValidationError):
            DeploymentFilter.model_validate({"tags": {"operator": "xor_"}})

    def test_operator_null_means_and(self):
        assert DeploymentFilter.model_validate({"operator": None}).operator is Operator.and_
        assert DeploymentFilter.model_validate({"operator": "or_"}).operator is Operator.or_

    def test_block_type_filter_has_no_operator(self):
        with pytest.raises(ValidationError):
            BlockTypeFilter.model_validate({"operator": "and_"})

    def test_explicit_null_criteria_are_absent(self):
        body = {"id": None, "name": {"any_": None, "like_": None}, "is_schedule_active": None, "tags": None,
                "work_queue_name": None, "paused": None}
        flt = DeploymentFilter.model_validate(body)
        assert flt.id is None and flt.name.any_ is None
        assert flt.matches(deployment("anything"))

    def test_bad_uuid_in_any_is_rejected(self):
        with pytest.raises(ValidationError):
            DeploymentFilter.model_validate({"id": {"any_": ["not-a-uuid"]}})

    def test_bad_state_type_is_rejected(self):
        with pytest.raises(ValidationError):
            FlowRunFilter.model_validate({"state": {"type": {"any_": ["scheduled"]}}})

    @pytest.mark.parametrize("enum", [DeploymentSort, FlowSort, FlowRunSort, VariableSort])
    def test_bad_sort_is_rejected(self, enum):
        with pytest.raises(ValidationError):
            TypeAdapter(enum).validate_python("BOGUS")

    def test_sort_inside_a_body_model_is_validated(self):
        class Body(BaseModel):
            sort: DeploymentSort = DeploymentSort.NAME_ASC

        assert Body.model_validate({"sort": "NAME_DESC"}).sort is DeploymentSort.NAME_DESC
        with pytest.raises(ValidationError):
            Body.model_validate({"sort": "BOGUS"})

    def test_sort_enum_values_are_exact(self):
        assert [s.value for s in DeploymentSort] == ["CREATED_DESC", "UPDATED_DESC", "NAME_ASC", "NAME_DESC"]
        assert [s.value for s in VariableSort] == ["CREATED_DESC", "UPDATED_DESC", "NAME_DESC", "NAME_ASC"]
        assert FlowRunSort.START_TIME_ASC == "START_TIME_ASC"

    @pytest.mark.parametrize(
        "text, expected",
        [
            ("2030-01-01T00:00:00Z", dt.datetime(2030, 1, 1, tzinfo=UTC)),
            ("2030-01-01 00:00:00+00:00", dt.datetime(2030, 1, 1, tzinfo=UTC)),
            ("2030-01-01T00:00:00", dt.datetime(2030, 1, 1, tzinfo=UTC)),
            ("2030-01-01T00:00:00.250000-05:00", dt.datetime(2030, 1, 1, 5, 0, 0, 250000, tzinfo=UTC)),
        ],
    )
    def test_datetime_inputs_become_aware_utc(self, text, expected):
        value = FlowRunFilter.model_validate({"start_time": {"before_": text}}).start_time.before_
        assert value == expected
        assert value.utcoffset() == dt.timedelta(0)

    def test_bad_datetime_is_rejected(self):
        with pytest.raises(ValidationError):
            FlowRunFilter.model_validate({"expected_start_time": {"after_": "next tuesday"}})

    def test_captured_client_read_deployments_body_validates(self):
        body = {"flows": {"id": None, "name": {"any_": None, "like_": "client"}, "tags": None},
                "deployments": {"id": None, "name": {"any_": ["client-dep"], "like_": None},
                                "is_schedule_active": None, "tags": None, "work_queue_name": None}}
        flows = FlowFilter.model_validate(body["flows"])
        deps = DeploymentFilter.model_validate(body["deployments"])
        assert flows.matches({"id": uid(), "name": "my-CLIENT-flow", "tags": []})
        assert deps.matches(deployment("client-dep"))
        assert not deps.matches(deployment("client-dep-2"))

    def test_models_and_enums_match_the_openapi_document(self):
        schemas = json.loads(OPENAPI.read_text())["components"]["schemas"]
        checked = 0
        for name in f.__all__:
            obj = getattr(f, name)
            if name not in schemas:
                continue
            if isinstance(obj, type) and issubclass(obj, BaseModel):
                assert set(obj.model_fields) == set(schemas[name]["properties"]), name
            else:
                assert [e.value for e in obj] == schemas[name]["enum"], name
            checked += 1
        assert checked >= 70


class TestModelBehaviour:
    def test_equality_ignores_evaluation_state(self):
        a = DeploymentFilter.model_validate({"name": {"any_": ["x"]}})
        b = DeploymentFilter.model_validate({"name": {"any_": ["x"]}})
        assert a.matches(deployment("x"))
        assert a == b
        assert a != DeploymentFilter.model_validate({"name": {"any_": ["y"]}})

    def test_model_copy_with_new_values_is_reevaluated(self):
        name = DeploymentFilter.model_validate({"name": {"any_": ["x"]}}).name
        assert DeploymentFilter(name=name).matches(deployment("x"))
        other = name.model_copy(update={"any_": ["y"]})
        assert DeploymentFilter(name=other).matches(deployment("y")) is True
        assert DeploymentFilter(name=other).matches(deployment("x")) is False


class TestLikePattern:
    def test_substring_case_insensitive(self):
        flt = DeploymentFilter.model_validate({"name": {"like_": "MARV"}})
        assert flt.matches(deployment("Marvin")) is True
        assert flt.matches(deployment("sad-marvin")) is True
        assert flt.matches(deployment("marv")) is True
        assert flt.matches(deployment("mar-v")) is False

    def test_percent_and_underscore_are_wildcards(self):
        assert f.like_pattern("%my_var%").fullmatch("xx-MYXVAR-yy")
        assert f.like_pattern("%a%c%").fullmatch("abbbc")
        assert not f.like_pattern("%my_var%").fullmatch("my_va")

    def test_regex_metacharacters_are_literal(self):
        assert f.like_pattern("%a.b%").fullmatch("a.b")
        assert not f.like_pattern("%a.b%").fullmatch("axb")
        assert f.like_pattern("%(x)+%").fullmatch("(X)+")

    def test_empty_like_matches_everything(self):
        flt = DeploymentFilter.model_validate({"name": {"like_": ""}})
        assert flt.matches(deployment("")) and flt.matches(deployment("x\ny"))


class TestDeploymentFilter:
    """§8 items 55–76 at the matching level."""

    @pytest.fixture
    def three(self):
        return [
            deployment("My Deployment"),
            deployment("Another Deployment", tags=["tb12"]),
            deployment("Yet Another Deployment", tags=["tb12", "goat"], paused=True, is_schedule_active=False),
        ]

    def test_no_criteria_matches_everything(self, three):
        assert select(DeploymentFilter(), three) == [d["name"] for d in three]
        assert DeploymentFilter().matches_everything()

    def test_name_any_exact_membership(self):
        docs = [deployment("My Deployment X"), deployment("My Deployment Y", paused=True)]
        assert select(DeploymentFilter.model_validate({"name": {"any_": ["My Deployment X"]}}), docs) == [
            "My Deployment X"]
        assert select(DeploymentFilter.model_validate({"name": {"any_": ["My Deployment 123"]}}), docs) == []
        assert select(DeploymentFilter.model_validate({"name": {"any_": ["my deployment x"]}}), docs) == []

    def test_empty_any_matches_nothing(self, three):
        assert select(DeploymentFilter.model_validate({"name": {"any_": []}}), three) == []
        assert select(DeploymentFilter.model_validate({"id": {"any_": []}}), three) == []

    def test_id_any(self, three):
        flt = DeploymentFilter.model_validate({"id": {"any_": [three[1]["id"].upper()]}})
        assert select(flt, three) == ["Another Deployment"]

    def test_paused_eq(self, three):
        assert select(DeploymentFilter.model_validate({"paused": {"eq_": True}}), three) == [
            "Yet Another Deployment"]
        assert select(DeploymentFilter.model_validate({"paused": {"eq_": False}}), three) == [
            "My Deployment", "Another Deployment"]

    def test_is_schedule_active_is_not_paused(self, three):
        assert select(DeploymentFilter.model_validate({"is_schedule_active": {"eq_": False}}), three) == [
            "Yet Another Deployment"]
        # It reads `paused`, not the stored legacy column.
        doc = deployment("legacy", paused=True, is_schedule_active=True)
        assert DeploymentFilter.model_validate({"is_schedule_active": {"eq_": True}}).matches(doc) is False

    def test_tags_all(self, three):
        assert select(DeploymentFilter.model_validate({"tags": {"all_": ["goat"]}}), three) == [
            "Yet Another Deployment"]
        assert select(DeploymentFilter.model_validate({"tags": {"all_": ["goat", "tb12"]}}), three) == [
            "Yet Another Deployment"]
        assert select(DeploymentFilter.model_validate({"tags": {"all_": ["tb12"]}}), three) == [
            "Another Deployment", "Yet Another Deployment"]

    def test_tags_all_empty_matches_everything(self, three):
        assert len(select(DeploymentFilter.model_validate({"tags": {"all_": []}}), three)) == 3

    def test_tags_is_null(self, three):
        assert select(DeploymentFilter.model_validate({"tags": {"is_null_": True}}), three) == ["My Deployment"]
        assert select(DeploymentFilter.model_validate({"tags": {"is_null_": False}}), three) == [
            "Another Deployment", "Yet Another Deployment"]

    def test_tags_operator_or(self, three):
        flt = DeploymentFilter.model_validate({"tags": {"operator": "or_", "all_": ["goat"], "is_null_": True}})
        assert select(flt, three) == ["My Deployment", "Yet Another Deployment"]

    def test_criteria_and_together_by_default(self, three):
        flt = DeploymentFilter.model_validate({"tags": {"all_": ["tb12"]}, "paused": {"eq_": False}})
        assert select(flt, three) == ["Another Deployment"]

    def test_operator_or_is_the_union(self):
        docs = [deployment("zeta"), deployment("alpha", tags=["x"]), deployment("beta")]
        flt = DeploymentFilter.model_validate(
            {"operator": "or_", "name": {"any_": ["zeta"]}, "tags": {"all_": ["x"]}})
        assert select(flt, docs) == ["zeta", "alpha"]

    def test_or_with_an_empty_criterion_matches_everything(self):
        # An empty object is TRUE, and TRUE OR anything is TRUE (as in the reference's SQL).
        flt = DeploymentFilter.model_validate({"operator": "or_", "name": {"any_": ["zeta"]}, "tags": {}})
        assert flt.matches(deployment("other")) is True

    def test_work_queue_name_uses_the_stored_column(self):
        flt = DeploymentFilter.model_validate({"work_queue_name": {"any_": ["q1"]}})
        assert flt.matches(deployment("a", work_queue_name="q1")) is True
        assert flt.matches(deployment("b", work_queue_name=None)) is False
        assert flt.matches(deployment("c", work_queue_name="Q1")) is False


class TestFlowFilter:
    def test_name_any_and_like(self):
        doc = {"id": uid(), "name": "my-flow", "tags": []}
        assert FlowFilter.model_validate({"name": {"any_": ["my-flow"]}}).matches(doc) is True
        assert FlowFilter.model_validate({"name": {"any_": ["not a flow name"]}}).matches(doc) is False
        assert FlowFilter.model_validate({"name": {"like_": "FLOW"}}).matches(doc) is True

    def test_id_any(self):
        doc = {"id": uid(), "name": "f", "tags": []}
        assert FlowFilter.model_validate({"id": {"any_": [doc["id"]]}}).matches(doc) is True
        assert FlowFilter.model_validate({"id": {"any_": [uid()]}}).matches(doc) is False

    def test_tags(self):
        doc = {"id": uid(), "name": "f", "tags": ["a", "b"]}
        assert FlowFilter.model_validate({"tags": {"all_": ["b"]}}).matches(doc) is True
        assert FlowFilter.model_validate({"tags": {"is_null_": True}}).matches(doc) is False

    def test_deployment_is_null_asks_the_context(self):
        with_deps = {"id": uid(), "name": "a", "tags": []}
        without = {"id": uid(), "name": "b", "tags": []}
        ctx = FakeContext(flows_with_deployments=[with_deps["id"]])
        no_deps = FlowFilter.model_validate({"deployment": {"is_null_": True}})
        has_deps = FlowFilter.model_validate({"deployment": {"is_null_": False}})
        assert no_deps.matches(with_deps, ctx) is False
        assert no_deps.matches(without, ctx) is True
        assert has_deps.matches(with_deps, ctx) is True
        assert has_deps.matches(without, ctx) is False
        assert no_deps.uses_context() and not FlowFilter().uses_context()

    def test_context_is_not_consulted_when_other_criteria_decide(self):
        ctx = FakeContext()
        flt = FlowFilter.model_validate({"name": {"any_": ["x"]}, "deployment": {"is_null_": True}})
        assert flt.matches({"id": uid(), "name": "y", "tags": []}, ctx) is False
        assert ctx.calls == []

    def test_missing_context_raises(self):
        flt = FlowFilter.model_validate({"deployment": {"is_null_": True}})
        with pytest.raises(FilterContextRequired):
            flt.matches({"id": uid(), "name": "x", "tags": []})


class TestFlowRunFilter:
    def test_id_any_and_not_any(self):
        run = flow_run()
        assert FlowRunFilter.model_validate({"id": {"any_": [run["id"]]}}).matches(run) is True
        assert FlowRunFilter.model_validate({"id": {"any_": [uid()]}}).matches(run) is False
        assert FlowRunFilter.model_validate({"id": {"not_any_": [run["id"]]}}).matches(run) is False
        assert FlowRunFilter.model_validate({"id": {"not_any_": [uid()]}}).matches(run) is True
        assert FlowRunFilter.model_validate({"id": {"not_any_": []}}).matches(run) is True

    def test_empty_object_matches_any_run(self):
        assert FlowRunFilter.model_validate({}).matches(flow_run()) is True

    def test_name(self):
        run = flow_run(name="sad-marvin")
        assert FlowRunFilter.model_validate({"name": {"like_": "MARV"}}).matches(run) is True
        assert FlowRunFilter.model_validate({"name": {"any_": ["sad-marvin"]}}).matches(run) is True

    def test_state_type_and_name(self):
        late = flow_run(state_type="SCHEDULED", state_name="Late")
        running = flow_run(state_type="RUNNING", state_name="Running")
        by_type = FlowRunFilter.model_validate({"state": {"type": {"any_": ["SCHEDULED", "PENDING"]}}})
        assert by_type.matches(late) is True and by_type.matches(running) is False
        by_name = FlowRunFilter.model_validate({"state": {"name": {"any_": ["Late"]}}})
        assert by_name.matches(late) is True and by_name.matches(running) is False
        both = FlowRunFilter.model_validate({"state": {"type": {"any_": ["SCHEDULED"]}, "name": {"any_": ["Running"]}}})
        assert both.matches(late) is False and both.matches(running) is False
        either = FlowRunFilter.model_validate(
            {"state": {"operator": "or_", "type": {"any_": ["SCHEDULED"]}, "name": {"any_": ["Running"]}}})
        assert either.matches(late) is True and either.matches(running) is True
        assert either.matches(flow_run(state_type="FAILED", state_name="Failed")) is False

    def test_state_with_empty_nested_objects_matches_everything(self):
        flt = FlowRunFilter.model_validate({"state": {"type": {}, "name": {}}})
        assert flt.matches(flow_run()) is True

    def test_deployment_id(self):
        dep = uid()
        run, orphan = flow_run(deployment_id=dep), flow_run()
        flt = FlowRunFilter.model_validate({"deployment_id": {"any_": [dep]}})
        assert flt.matches(run) is True and flt.matches(orphan) is False
        null = FlowRunFilter.model_validate({"deployment_id": {"is_null_": True}})
        assert null.matches(orphan) is True and null.matches(run) is False
        not_null = FlowRunFilter.model_validate({"deployment_id": {"is_null_": False}})
        assert not_null.matches(run) is True and not_null.matches(orphan) is False
        either = FlowRunFilter.model_validate({"deployment_id": {"operator": "or_", "any_": [dep], "is_null_": True}})
        assert either.matches(run) and either.matches(orphan)
        assert either.matches(flow_run(deployment_id=uid())) is False

    def test_work_queue_name(self):
        run = flow_run(work_queue_name="wq")
        assert FlowRunFilter.model_validate({"work_queue_name": {"any_": ["wq"]}}).matches(run) is True
        assert FlowRunFilter.model_validate({"work_queue_name": {"any_": ["wq"]}}).matches(flow_run()) is False
        assert FlowRunFilter.model_validate({"work_queue_name": {"is_null_": True}}).matches(flow_run()) is True

    def test_flow_version(self):
        assert FlowRunFilter.model_validate({"flow_version": {"any_": ["1.0"]}}).matches(
            flow_run(flow_version="1.0")) is True
        assert FlowRunFilter.model_validate({"flow_version": {"any_": ["1.0"]}}).matches(flow_run()) is False

    def test_tags(self):
        run = flow_run(tags=["auto-scheduled", "a"])
        assert FlowRunFilter.model_validate({"tags": {"all_": ["a", "auto-scheduled"]}}).matches(run) is True
        assert FlowRunFilter.model_validate({"tags": {"all_": ["b"]}}).matches(run) is False

    def test_start_time_bounds_are_inclusive(self):
        run = flow_run(start_time="2026-11-24T19:00:00+00:00")
        assert FlowRunFilter.model_validate({"start_time": {"before_": "2026-11-24T19:00:00Z"}}).matches(run)
        assert FlowRunFilter.model_validate({"start_time": {"after_": "2026-11-24 19:00:00"}}).matches(run)
        assert not FlowRunFilter.model_validate({"start_time": {"before_": "2026-11-24T18:59:59Z"}}).matches(run)
        assert not FlowRunFilter.model_validate({"start_time": {"after_": "2026-11-24T19:00:00.000001Z"}}).matches(run)

    def test_time_comparison_is_by_instant_not_text(self):
        run = flow_run(expected_start_time="2026-11-24T19:00:00+00:00")
        # 14:00 at -05:00 is 19:00 UTC.
        assert FlowRunFilter.model_validate(
            {"expected_start_time": {"before_": "2026-11-24T14:00:00-05:00",
                                     "after_": "2026-11-24T14:00:00-05:00"}}).matches(run) is True
        assert FlowRunFilter.model_validate(
            {"next_scheduled_start_time": {"before_": "2030-01-01T00:00:00Z"}}).matches(run) is False

    def test_null_start_time(self):
        unstarted = flow_run()
        assert FlowRunFilter.model_validate({"start_time": {"is_null_": True}}).matches(unstarted) is True
        assert FlowRunFilter.model_validate({"start_time": {"is_null_": False}}).matches(unstarted) is False
        assert FlowRunFilter.model_validate({"start_time": {"before_": "2100-01-01T00:00:00Z"}}).matches(
            unstarted) is False

    def test_parent_task_run_id(self):
        parent = uid()
        sub, top = flow_run(parent_task_run_id=parent), flow_run()
        assert FlowRunFilter.model_validate({"parent_task_run_id": {"any_": [parent]}}).matches(sub) is True
        assert FlowRunFilter.model_validate({"parent_task_run_id": {"any_": [parent]}}).matches(top) is False
        assert FlowRunFilter.model_validate({"parent_task_run_id": {"is_null_": True}}).matches(top) is True
        assert FlowRunFilter.model_validate({"parent_task_run_id": {"is_null_": True}}).matches(sub) is False

    def test_parent_flow_run_id_means_subflows_of(self):
        parent_run, task = uid(), uid()
        sub, top, other_sub = flow_run(parent_task_run_id=task), flow_run(), flow_run(parent_task_run_id=uid())
        ctx = FakeContext(task_run_owner={task: parent_run})
        flt = FlowRunFilter.model_validate({"parent_flow_run_id": {"any_": [parent_run]}})
        assert flt.matches(sub, ctx) is True
        assert flt.matches(other_sub, ctx) is False
        assert flt.matches(top, ctx) is False
        assert ("task_run_flow_run_id", task) in ctx.calls
        assert flt.uses_context()

    def test_parent_flow_run_id_empty_list_needs_no_context(self):
        flt = FlowRunFilter.model_validate({"parent_flow_run_id": {"any_": []}})
        assert flt.matches(flow_run(parent_task_run_id=uid())) is False
        assert not flt.uses_context()

    def test_idempotency_key(self):
        keyed, unkeyed = flow_run(idempotency_key="k1"), flow_run()
        assert FlowRunFilter.model_validate({"idempotency_key": {"any_": ["k1"]}}).matches(keyed) is True
        assert FlowRunFilter.model_validate({"idempotency_key": {"not_any_": ["k1"]}}).matches(keyed) is False
        assert FlowRunFilter.model_validate({"idempotency_key": {"not_any_": ["k2"]}}).matches(keyed) is True
        # SQL: NULL NOT IN ('k2') is not true; NOT IN () is.
        assert FlowRunFilter.model_validate({"idempotency_key": {"not_any_": ["k2"]}}).matches(unkeyed) is False
        assert FlowRunFilter.model_validate({"idempotency_key": {"not_any_": []}}).matches(unkeyed) is True

    def test_top_level_or(self):
        dep = uid()
        flt = FlowRunFilter.model_validate(
            {"operator": "or_", "deployment_id": {"any_": [dep]}, "state": {"type": {"any_": ["FAILED"]}}})
        assert flt.matches(flow_run(deployment_id=dep)) is True
        assert flt.matches(flow_run(state_type="FAILED")) is True
        assert flt.matches(flow_run()) is False


class TestTaskRunFilter:
    def test_id_any(self):
        tr = task_run()
        assert TaskRunFilter.model_validate({"id": {"any_": [tr["id"]]}}).matches(tr) is True
        assert TaskRunFilter.model_validate({"id": {"any_": [uid()]}}).matches(tr) is False

    def test_name_tags_state_start_time(self):
        tr = task_run(name="Marvin-task", tags=["t"], start_time="2026-01-01T00:00:00+00:00")
        assert TaskRunFilter.model_validate({"name": {"like_": "marvin"}}).matches(tr) is True
        assert TaskRunFilter.model_validate({"tags": {"all_": ["t"]}}).matches(tr) is True
        assert TaskRunFilter.model_validate({"state": {"type": {"any_": ["COMPLETED"]}}}).matches(tr) is True
        assert TaskRunFilter.model_validate({"state": {"name": {"any_": ["Failed"]}}}).matches(tr) is False
        assert TaskRunFilter.model_validate({"start_time": {"after_": "2026-01-01T00:00:01Z"}}).matches(tr) is False
        assert TaskRunFilter.model_validate({"start_time": {"is_null_": False}}).matches(tr) is True

    def test_flow_run_id_any(self):
        tr = task_run()
        assert TaskRunFilter.model_validate({"flow_run_id": {"any_": [tr["flow_run_id"]]}}).matches(tr) is True
        assert TaskRunFilter.model_validate({"flow_run_id": {"any_": [uid()]}}).matches(tr) is False

    def test_flow_run_id_is_null_true_ignores_any(self):
        orphan, owned = task_run(flow_run_id=None), task_run()
        flt = TaskRunFilter.model_validate({"flow_run_id": {"is_null_": True, "any_": [owned["flow_run_id"]]}})
        assert flt.matches(orphan) is True
        assert flt.matches(owned) is False

    def test_flow_run_id_is_null_false_adds_no_condition(self):
        orphan = task_run(flow_run_id=None)
        assert TaskRunFilter.model_validate({"flow_run_id": {"is_null_": False}}).matches(orphan) is True
        assert TaskRunFilter.model_validate({"flow_run_id": {"is_null_": None}}).flow_run_id.is_null_ is False

    def test_subflow_runs_exists(self):
        parent, plain = task_run(), task_run()
        ctx = FakeContext(task_runs_with_subflows=[parent["id"]])
        yes = TaskRunFilter.model_validate({"subflow_runs": {"exists_": True}})
        no = TaskRunFilter.model_validate({"subflow_runs": {"exists_": False}})
        assert yes.matches(parent, ctx) is True and yes.matches(plain, ctx) is False
        assert no.matches(parent, ctx) is False and no.matches(plain, ctx) is True
        assert yes.uses_context()
        assert TaskRunFilter.model_validate({"subflow_runs": {}}).matches(plain) is True


class TestWorkPoolFilter:
    def test_name_type_id(self):
        pool = {"id": uid(), "name": "pool", "type": "prefect-agent"}
        assert WorkPoolFilter.model_validate({"name": {"any_": ["pool"]}}).matches(pool) is True
        assert WorkPoolFilter.model_validate({"type": {"any_": ["prefect-agent"]}}).matches(pool) is True
        assert WorkPoolFilter.model_validate({"type": {"any_": ["process"]}}).matches(pool) is False
        assert WorkPoolFilter.model_validate({"id": {"any_": [pool["id"]]}}).matches(pool) is True
        assert WorkPoolFilter.model_validate(
            {"operator": "or_", "name": {"any_": ["x"]}, "type": {"any_": ["prefect-agent"]}}).matches(pool)


class TestWorkQueueFilter:
    def test_startswith_is_case_insensitive_prefix(self):
        q1 = {"id": uid(), "name": "q1"}
        assert WorkQueueFilter.model_validate({"name": {"startswith_": ["Q"]}}).matches(q1) is True
        assert WorkQueueFilter.model_validate({"name": {"startswith_": ["x", "Q1"]}}).matches(q1) is True
        assert WorkQueueFilter.model_validate({"name": {"startswith_": ["1"]}}).matches(q1) is False
        assert WorkQueueFilter.model_validate({"name": {"startswith_": ["Marvin"]}}).matches(
            {"id": uid(), "name": "sad-marvin"}) is False

    def test_startswith_empty_list_adds_no_condition(self):
        q = {"id": uid(), "name": "q1"}
        assert WorkQueueFilter.model_validate({"name": {"startswith_": []}}).matches(q) is True
        # The empty clause is dropped from an OR rather than making it TRUE.
        flt = WorkQueueFilter.model_validate({"operator": "or_", "id": {"any_": [uid()]}, "name": {"startswith_": []}})
        assert flt.matches(q) is False

    def test_any(self):
        q = {"id": uid(), "name": "default"}
        assert WorkQueueFilter.model_validate({"name": {"any_": ["default"]}}).matches(q) is True
        assert WorkQueueFilter.model_validate({"id": {"any_": [uid()]}}).matches(q) is False


class TestVariableFilter:
    def test_name_value_tags(self):
        var = {"id": uid(), "name": "my_variable", "value": "my_value", "tags": ["env"]}
        assert VariableFilter.model_validate({"name": {"any_": ["my_variable"]}}).matches(var) is True
        assert VariableFilter.model_validate({"name": {"like_": "my_var%"}}).matches(var) is True
        assert VariableFilter.model_validate({"name": {"like_": "MY_VARIABLE_"}}).matches(var) is False
        assert VariableFilter.model_validate({"value": {"like_": "VALUE"}}).matches(var) is True
        assert VariableFilter.model_validate({"value": {"any_": ["other"]}}).matches(var) is False
        assert VariableFilter.model_validate({"tags": {"all_": ["env"]}}).matches(var) is True
        assert VariableFilter.model_validate({"id": {"any_": [var["id"]]}}).matches(var) is True


class TestBlockFilters:
    def test_block_documents_exclude_anonymous_by_default(self):
        anon = {"id": uid(), "name": "anonymous-x", "is_anonymous": True, "block_type_id": uid()}
        named = {"id": uid(), "name": "my-block", "is_anonymous": False, "block_type_id": uid()}
        assert BlockDocumentFilter().matches(anon) is False
        assert BlockDocumentFilter().matches(named) is True
        assert BlockDocumentFilter.model_validate({"is_anonymous": {"eq_": True}}).matches(anon) is True
        assert BlockDocumentFilter.model_validate({"is_anonymous": {}}).matches(anon) is True
        assert BlockDocumentFilter.model_validate({"is_anonymous": None}).matches(anon) is True

    def test_block_document_criteria(self):
        bt = uid()
        doc = {"id": uid(), "name": "my-block", "is_anonymous": False, "block_type_id": bt}
        assert BlockDocumentFilter.model_validate({"block_type_id": {"any_": [bt]}}).matches(doc) is True
        assert BlockDocumentFilter.model_validate({"name": {"like_": "my-%"}}).matches(doc) is True
        assert BlockDocumentFilter.model_validate({"name": {"any_": ["x"]}}).matches(doc) is False
        assert BlockDocumentFilter.model_validate({"id": {"any_": [doc["id"]]}}).matches(doc) is True

    def test_block_types(self):
        doc = {"id": uid(), "name": "Local File System", "slug": "local-file-system"}
        assert BlockTypeFilter.model_validate({"name": {"like_": "file"}}).matches(doc) is True
        assert BlockTypeFilter.model_validate({"slug": {"any_": ["local-file-system"]}}).matches(doc) is True
        assert BlockTypeFilter.model_validate({"name": {"like_": "file"}, "slug": {"any_": ["s3"]}}).matches(
            doc) is False

    def test_block_schemas(self):
        bt = uid()
        doc = {"id": uid(), "block_type_id": bt, "capabilities": ["get-directory", "put-directory"],
               "version": "2.20.0"}
        assert BlockSchemaFilter.model_validate({"block_capabilities": {"all_": ["put-directory"]}}).matches(doc)
        assert not BlockSchemaFilter.model_validate({"block_capabilities": {"all_": ["write-path"]}}).matches(doc)
        assert BlockSchemaFilter.model_validate({"block_type_id": {"any_": [bt]}}).matches(doc)
        assert BlockSchemaFilter.model_validate({"version": {"any_": ["2.20.0"]}}).matches(doc)
        assert not BlockSchemaFilter.model_validate({"id": {"any_": [uid()]}}).matches(doc)


class TestPlanningHints:
    def test_exact_ids_and_names_when_anded(self):
        a = uid()
        flt = DeploymentFilter.model_validate(
            {"id": {"any_": [a.upper()]}, "name": {"any_": ["x", "y"]}, "tags": {"all_": ["t"]}})
        assert flt.exact_ids() == {a}
        assert flt.exact_names() == {"x", "y"}

    def test_no_hint_without_any(self):
        flt = DeploymentFilter.model_validate({"name": {"like_": "x"}})
        assert flt.exact_names() is None and flt.exact_ids() is None

    def test_empty_any_is_an_empty_hint(self):
        assert FlowFilter.model_validate({"id": {"any_": []}}).exact_ids() == set()

    def test_or_with_other_criteria_gives_no_hint(self):
        flt = DeploymentFilter.model_validate({"operator": "or_", "name": {"any_": ["x"]}, "tags": {"all_": ["t"]}})
        assert flt.exact_names() is None
        flt = DeploymentFilter.model_validate({"operator": "or_", "name": {"any_": ["x"]}, "tags": {}})
        assert flt.exact_names() is None

    def test_or_with_a_single_criterion_keeps_the_hint(self):
        flt = FlowFilter.model_validate({"operator": "or_", "name": {"any_": ["x"]}})
        assert flt.exact_names() == {"x"}

    def test_other_top_level_filters(self):
        w = uid()
        assert WorkPoolFilter.model_validate({"name": {"any_": ["p"]}}).exact_names() == {"p"}
        assert WorkQueueFilter.model_validate({"id": {"any_": [w]}}).exact_ids() == {w}
        assert VariableFilter.model_validate({"name": {"any_": ["v"]}}).exact_names() == {"v"}
        assert FlowRunFilter.model_validate({"id": {"any_": [w]}}).exact_ids() == {w}
        assert FlowRunFilter.model_validate({"name": {"any_": ["r"]}}).exact_names() == {"r"}

    def test_exact_deployment_ids(self):
        d = uid()
        assert FlowRunFilter.model_validate({"deployment_id": {"any_": [d]}}).exact_deployment_ids() == {d}
        assert FlowRunFilter.model_validate(
            {"deployment_id": {"any_": [d]}, "state": {"type": {"any_": ["SCHEDULED"]}}}).exact_deployment_ids() == {d}
        assert FlowRunFilter.model_validate(
            {"deployment_id": {"operator": "or_", "any_": [d], "is_null_": True}}).exact_deployment_ids() is None
        assert FlowRunFilter.model_validate(
            {"deployment_id": {"operator": "or_", "any_": [d]}}).exact_deployment_ids() == {d}
        assert FlowRunFilter.model_validate(
            {"operator": "or_", "deployment_id": {"any_": [d]}, "name": {"any_": ["x"]}}).exact_deployment_ids() is None
        assert FlowRunFilter.model_validate({"deployment_id": {"is_null_": True}}).exact_deployment_ids() is None

    def test_exact_state_types(self):
        flt = FlowRunFilter.model_validate({"state": {"type": {"any_": ["SCHEDULED", "PENDING"]}}})
        assert flt.exact_state_types() == {"SCHEDULED", "PENDING"}
        assert FlowRunFilter.model_validate(
            {"state": {"operator": "or_", "type": {"any_": ["SCHEDULED"]}, "name": {"any_": ["Running"]}}}
        ).exact_state_types() is None
        assert FlowRunFilter.model_validate(
            {"state": {"type": {"any_": ["SCHEDULED"]}, "name": {"any_": ["Late"]}}}).exact_state_types() == {
            "SCHEDULED"}
        assert FlowRunFilter.model_validate({"state": {"name": {"any_": ["Late"]}}}).exact_state_types() is None

    def test_hints_are_supersets_of_the_matches(self):
        d = uid()
        flt = FlowRunFilter.model_validate({"deployment_id": {"any_": [d]}, "state": {"type": {"any_": ["FAILED"]}}})
        runs = [flow_run(deployment_id=d, state_type="FAILED"), flow_run(deployment_id=d), flow_run()]
        for run in runs:
            if flt.matches(run):
                assert run["deployment_id"] in flt.exact_deployment_ids()
                assert run["state_type"] in flt.exact_state_types()

    def test_matches_everything(self):
        assert FlowRunFilter.model_validate({"state": {"type": {}}, "tags": {}}).matches_everything()
        assert not FlowRunFilter.model_validate({"tags": {"all_": ["x"]}}).matches_everything()
        assert not BlockDocumentFilter().matches_everything()


class TestSorting:
    def test_name_order_is_code_point_order(self):
        docs = [deployment(n) for n in ("zeta", "sad-marvin", "Marvin", "apple")]
        key, reverse = sort_key_for(DeploymentSort.NAME_ASC)
        assert reverse is False
        assert [d["name"] for d in sorted(docs, key=key, reverse=reverse)] == ["Marvin", "apple", "sad-marvin", "zeta"]
        assert [d["name"] for d in sort_documents(docs, "NAME_DESC")] == ["zeta", "sad-marvin", "apple", "Marvin"]

    def test_created_desc_orders_by_instant(self):
        docs = [
            deployment("utc-midnight", created="2026-01-01T00:00:00+00:00"),
            deployment("earlier", created="2026-01-01T01:00:00+02:00"),  # 2025-12-31T23:00Z
            deployment("later", created="2026-01-01T00:00:00.500000+00:00"),
        ]
        assert [d["name"] for d in sort_documents(docs, DeploymentSort.CREATED_DESC)] == [
            "later", "utc-midnight", "earlier"]

    def test_updated_desc(self):
        docs = [deployment("a", updated="2026-01-01T00:00:00+00:00"), deployment("b", updated="2026-02-01T00:00:00+00:00")]
        assert [d["name"] for d in sort_documents(docs, FlowSort.UPDATED_DESC)] == ["b", "a"]

    def test_variable_sort(self):
        docs = [{"id": uid(), "name": "b", "created": "2026-01-01T00:00:00+00:00"},
                {"id": uid(), "name": "a", "created": "2026-01-02T00:00:00+00:00"}]
        assert [d["name"] for d in sort_documents(docs, VariableSort.NAME_ASC)] == ["a", "b"]
        assert [d["name"] for d in sort_documents(docs, VariableSort.CREATED_DESC)] == ["a", "b"]

    def test_flow_run_start_time_falls_back_to_expected_start_time(self):
        runs = [
            flow_run(name="started-late", start_time="2026-01-03T00:00:00+00:00",
                     expected_start_time="2026-01-01T00:00:00+00:00"),
            flow_run(name="scheduled", expected_start_time="2026-01-02T00:00:00+00:00"),
            flow_run(name="nothing"),
        ]
        assert [r["name"] for r in sort_documents(runs, FlowRunSort.START_TIME_ASC)] == [
            "nothing", "scheduled", "started-late"]
        assert [r["name"] for r in sort_documents(runs, FlowRunSort.START_TIME_DESC)] == [
            "started-late", "scheduled", "nothing"]

    def test_nulls_sort_first_ascending_last_descending(self):
        runs = [flow_run(name="ended", end_time="2026-01-01T00:00:00+00:00"), flow_run(name="running")]
        assert [r["name"] for r in sort_documents(runs, FlowRunSort.END_TIME_DESC)] == ["ended", "running"]
        runs = [flow_run(name="b", next_scheduled_start_time="2026-01-01T00:00:00+00:00"), flow_run(name="a")]
        assert [r["name"] for r in sort_documents(runs, "NEXT_SCHEDULED_START_TIME_ASC")] == ["a", "b"]

    def test_id_desc(self):
        runs = [flow_run(id="00000000-0000-0000-0000-000000000001"), flow_run(id="f0000000-0000-0000-0000-000000000000")]
        assert [r["id"][0] for r in sort_documents(runs, FlowRunSort.ID_DESC)] == ["f", "0"]

    def test_ties_are_broken_by_id(self):
        docs = [deployment("same", id="b" + uid()[1:]), deployment("same", id="a" + uid()[1:])]
        assert [d["id"][0] for d in sort_documents(docs, "NAME_ASC")] == ["a", "b"]

    def test_unknown_sort_raises(self):
        with pytest.raises(ValueError):
            sort_key_for("BOGUS")

    def test_every_enum_value_has_a_key(self):
        for enum in (DeploymentSort, FlowSort, FlowRunSort, f.TaskRunSort, VariableSort, f.BlockDocumentSort):
            for member in enum:
                key, reverse = sort_key_for(member)
                key({"id": uid(), "name": "x"})
                assert isinstance(reverse, bool)


def test_state_type_values():
    assert [s.value for s in StateType] == [
        "SCHEDULED", "PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "CRASHED", "PAUSED", "CANCELLING"]


def test_fake_context_satisfies_the_protocol():
    assert isinstance(FakeContext(), f.FilterContext)
