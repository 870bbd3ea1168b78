"""``domain.name_guards`` on every adapter (see conftest.py): the conditions it relies on — a
write conditioned on an object's projected ``name`` and guard transactions — hold everywhere."""

from __future__ import annotations

import uuid

import pytest

from domain import name_guards
from domain.context import Ctx
from domain.errors import ConditionFailed
from domain.ports import Cond


@pytest.fixture
def ctx(stores):
    return Ctx(stores=stores)


def variable(name: str) -> dict:
    return {"id": str(uuid.uuid4()), "name": name, "value": "x", "tags": []}


class TestNameGuards:
    def test_insert_then_lookup_by_name(self, ctx):
        doc = variable("a")
        name_guards.insert(ctx, ctx.stores.variables, doc, name_guards.variable("a"))
        assert name_guards.lookup(ctx, ctx.stores.variables, name_guards.variable("a")) == doc

    def test_a_second_insert_of_one_name_writes_nothing(self, ctx):
        name_guards.insert(ctx, ctx.stores.variables, variable("a"), name_guards.variable("a"))
        other = variable("a")
        with pytest.raises(ConditionFailed):
            name_guards.insert(ctx, ctx.stores.variables, other, name_guards.variable("a"))
        assert ctx.stores.variables.get(other["id"]) is None

    def test_write_conditioned_on_the_projected_name(self, ctx):
        doc = variable("a")
        name_guards.insert(ctx, ctx.stores.variables, doc, name_guards.variable("a"))
        ctx.stores.variables.put({**doc, "value": "y"}, cond=Cond.eq("name", "a"))
        with pytest.raises(ConditionFailed):
            ctx.stores.variables.put({**doc, "value": "z"}, cond=Cond.eq("name", "b"))
        assert ctx.stores.variables.get(doc["id"])["value"] == "y"

    def test_rename_moves_the_guard_and_a_stale_rename_fails(self, ctx):
        doc = variable("a")
        name_guards.insert(ctx, ctx.stores.variables, doc, name_guards.variable("a"))
        assert name_guards.save(ctx, ctx.stores.variables, {**doc, "name": "b"}, "a", name_guards.variable) == "ok"
        assert name_guards.owner(ctx, name_guards.variable("a")) is None
        assert name_guards.owner(ctx, name_guards.variable("b")) == doc["id"]
        assert name_guards.save(ctx, ctx.stores.variables, {**doc, "name": "c"}, "a", name_guards.variable) == "gone"
        assert ctx.stores.variables.get(doc["id"])["name"] == "b"

    def test_rename_to_a_taken_name_is_taken(self, ctx):
        a, b = variable("a"), variable("b")
        for d in (a, b):
            name_guards.insert(ctx, ctx.stores.variables, d, name_guards.variable(d["name"]))
        assert name_guards.save(ctx, ctx.stores.variables, {**a, "name": "b"}, "a", name_guards.variable) == "taken"
        assert ctx.stores.variables.get(a["id"])["name"] == "a"

    def test_remove_frees_the_name(self, ctx):
        doc = variable("a")
        name_guards.insert(ctx, ctx.stores.variables, doc, name_guards.variable("a"))
        name_guards.remove(ctx, ctx.stores.variables, doc["id"], name_guards.variable("a"))
        assert ctx.stores.variables.get(doc["id"]) is None
        assert name_guards.owner(ctx, name_guards.variable("a")) is None

    def test_remove_many_deletes_each_pair(self, ctx):
        docs = [variable(f"v{i}") for i in range(120)]
        for d in docs:
            name_guards.insert(ctx, ctx.stores.variables, d, name_guards.variable(d["name"]))
        name_guards.remove_many(ctx, ctx.stores.variables, [(d["id"], name_guards.variable(d["name"])) for d in docs])
        assert ctx.stores.variables.get_many([d["id"] for d in docs]) == []
        assert name_guards.owners(ctx, [name_guards.variable(d["name"]) for d in docs]) == set()

    def test_very_long_names_get_a_hashed_key(self):
        key = name_guards.flow("x" * 5000)
        assert key.startswith("flow#sha256:") and len(key) < 100
        assert name_guards.flow("x" * 5000) == key != name_guards.flow("x" * 4999)


class TestBackfill:
    def test_objects_stored_without_guards_get_them_and_duplicates_are_counted(self, ctx):
        old_flow = {"id": str(uuid.uuid4()), "name": "f", "tags": []}
        ctx.stores.flows.put(old_flow)  # as stored before names had guards
        dep = {"id": str(uuid.uuid4()), "name": "d", "flow_id": old_flow["id"]}
        ctx.stores.deployments.put(dep)
        twin = variable("v")
        ctx.stores.variables.put(variable("v"))
        name_guards.insert(ctx, ctx.stores.variables, twin, name_guards.variable("v"))
        assert name_guards.backfill(ctx) == {"written": 2, "duplicates": 1}
        assert name_guards.owner(ctx, name_guards.flow("f")) == old_flow["id"]
        assert name_guards.owner(ctx, name_guards.deployment(old_flow["id"], "d")) == dep["id"]
        assert name_guards.owner(ctx, name_guards.variable("v")) == twin["id"]
        assert name_guards.backfill(ctx) == {"written": 0, "duplicates": 1}
