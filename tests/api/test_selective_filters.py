"""Filters answered from selective indexes (issue 12 item 4): tags through the ``TagIndex`` table
(domain/tag_index.py), state type by deployment / flow / work queue through the FlowRuns
``by_*_state`` indexes. Each answer must be exactly the general path's — the same objects in the
same order, offset and limit applied — so every test asks both: once as routed, once with the
selective paths switched off (``general``), on the same data."""

from __future__ import annotations

import contextlib

import pytest

from tests.api.flow_run_support import (
    create_run,
    deployment_run,
    make_deployment,
    make_flow,
    propose,
    same_answer,
)
from tests.api.task_run_support import create_task


@contextlib.contextmanager
def general_path(monkeypatch):
    """Plan as before the selective indexes: no tag index, no (dimension, state type) partitions."""
    from domain import filters
    from domain.services import queries

    with monkeypatch.context() as m:
        m.setattr(filters._TopLevelFilter, "required_tags", lambda self: None)
        m.setattr(queries, "_run_dimension", _no_state_dimension(queries._run_dimension))
        yield


def _no_state_dimension(original):
    def dimension(ctx, q):
        fr = getattr(q, "flow_runs", None)
        if fr is not None and fr.exact_state_types() is not None:
            return None  # by_state_type_sharded / by_created, every criterion applied in memory
        return original(ctx, q)
    return dimension


def ask(client, monkeypatch, path: str, body: dict):
    """The answer of ``path`` as routed, asserted equal to the general path's answer."""
    return same_answer(client, path, body, lambda: general_path(monkeypatch))


@pytest.fixture
def indexes_read(monkeypatch):
    """``Table.index`` of every Query a request issues (the DynamoDB adapter's), cleared on demand."""
    from infra.dynamo.store import DynamoStore

    seen: list[str] = []
    original = DynamoStore.query

    def query(self, index, pk, **kw):
        seen.append(f"{self.spec.name}.{index}")
        return original(self, index, pk, **kw)

    monkeypatch.setattr(DynamoStore, "query", query)
    return seen


def ids(rows):
    return [r["id"] for r in rows]


def tag_items(ctx, partition: str) -> list[str]:
    return [i["object_id"] for i in ctx.stores.tag_index.query("by_tag", partition)]


# ------------------------------------------------------------------------------------ deployments


@pytest.fixture
def tagged_deployments(client):
    """Deployment names with ties across flows and names that prefix each other."""
    f1, f2 = make_flow(client, "f1"), make_flow(client, "f2")
    made = {}
    for flow, name, tags in [(f1, "prod", ["etl", "nightly"]), (f2, "prod", ["etl"]), (f1, "a", ["etl"]),
                             (f1, "a!", ["etl", "nightly"]), (f1, "a-b", ["etl"]), (f2, "b", ["other"]),
                             (f2, "z", ["nightly", "etl"]), (f2, "untagged", [])]:
        made[(flow, name)] = make_deployment(client, flow, name, tags=tags)
    return made


def _by_name(client, want_tags, *, reverse=False):
    rows = client.post("deployments/filter", json={}).json()
    rows = [d for d in rows if set(want_tags) <= set(d["tags"])]
    return ids(sorted(rows, key=lambda d: (d["name"], d["id"]), reverse=reverse))


class TestFilterDeploymentsByTag:
    @pytest.mark.parametrize("sort, reverse", [("NAME_ASC", False), ("NAME_DESC", True)])
    def test_pages_in_name_order_with_id_tiebreak_as_the_general_path(self, client, monkeypatch,
                                                                      tagged_deployments, sort, reverse):
        want = _by_name(client, ["etl"], reverse=reverse)
        assert len(want) == 6
        body = {"deployments": {"tags": {"all_": ["etl"]}}, "sort": sort}
        assert ids(ask(client, monkeypatch, "deployments/filter", body)) == want
        for offset, limit in [(0, 2), (1, 2), (2, 3), (5, 5), (6, 1)]:
            got = ask(client, monkeypatch, "deployments/filter", {**body, "offset": offset, "limit": limit})
            assert ids(got) == want[offset:offset + limit]

    def test_reads_the_tag_index_not_the_name_index(self, client, tagged_deployments, indexes_read):
        indexes_read.clear()
        r = client.post("deployments/filter", json={"deployments": {"tags": {"all_": ["nightly"]}}, "limit": 2})
        assert r.status_code == 200
        assert set(indexes_read) == {"TagIndex.by_tag"}  # the tag's partition and the overflow one

    def test_every_tag_of_all_is_required(self, client, monkeypatch, tagged_deployments):
        body = {"deployments": {"tags": {"all_": ["nightly", "etl"]}}, "limit": 2}
        assert ids(ask(client, monkeypatch, "deployments/filter", body)) == _by_name(client, ["etl", "nightly"])[:2]

    def test_other_criteria_apply_before_the_page_is_cut(self, client, monkeypatch, tagged_deployments):
        body = {"deployments": {"tags": {"all_": ["etl"]}, "name": {"like_": "a"}}, "limit": 2}
        got = ask(client, monkeypatch, "deployments/filter", body)
        assert [d["name"] for d in got] == ["a", "a!"]

    def test_other_sorts_read_the_tag_and_sort_it(self, client, monkeypatch, tagged_deployments):
        body = {"deployments": {"tags": {"all_": ["nightly"]}}, "sort": "CREATED_DESC", "limit": 2}
        got = ask(client, monkeypatch, "deployments/filter", body)
        assert [d["name"] for d in got] == ["z", "a!"]

    def test_an_unknown_tag_or_an_empty_all_behave_as_the_general_path(self, client, monkeypatch, tagged_deployments):
        assert ask(client, monkeypatch, "deployments/filter", {"deployments": {"tags": {"all_": ["nope"]}}}) == []
        got = ask(client, monkeypatch, "deployments/filter", {"deployments": {"tags": {"all_": []}}})
        assert len(got) == 8

    def test_or_with_another_criterion_is_not_narrowed_to_the_tag(self, client, monkeypatch, tagged_deployments):
        body = {"deployments": {"operator": "or_", "tags": {"all_": ["other"]}, "name": {"any_": ["untagged"]}}}
        assert sorted(d["name"] for d in ask(client, monkeypatch, "deployments/filter", body)) == ["b", "untagged"]

    def test_patch_moves_the_deployment_between_tags(self, client, monkeypatch, dynamo_ctx, tagged_deployments):
        dep = tagged_deployments[next(k for k in tagged_deployments if k[1] == "b")]
        assert client.patch(f"deployments/{dep}", json={"tags": ["etl", "fresh"]}).status_code == 204
        got = ask(client, monkeypatch, "deployments/filter", {"deployments": {"tags": {"all_": ["fresh"]}}})
        assert ids(got) == [dep]
        assert ask(client, monkeypatch, "deployments/filter", {"deployments": {"tags": {"all_": ["other"]}}}) == []
        assert tag_items(dynamo_ctx, "deployment#other") == []

    def test_an_upsert_with_other_tags_moves_it_too(self, client, monkeypatch, tagged_deployments):
        flow = next(k[0] for k in tagged_deployments if k[1] == "z")
        assert make_deployment(client, flow, "z", tags=["moved"]) == tagged_deployments[(flow, "z")]
        assert ids(ask(client, monkeypatch, "deployments/filter",
                       {"deployments": {"tags": {"all_": ["moved"]}}})) == [tagged_deployments[(flow, "z")]]
        assert tagged_deployments[(flow, "z")] not in _by_name(client, ["nightly"])
        assert ids(ask(client, monkeypatch, "deployments/filter", {"deployments": {"tags": {"all_": ["nightly"]}}})) \
            == _by_name(client, ["nightly"])

    def test_delete_removes_its_tag_items(self, client, monkeypatch, dynamo_ctx, tagged_deployments):
        dep = tagged_deployments[next(k for k in tagged_deployments if k[1] == "a!")]
        assert client.delete(f"deployments/{dep}").status_code == 204
        assert dep not in tag_items(dynamo_ctx, "deployment#etl")
        assert dep not in tag_items(dynamo_ctx, "deployment#nightly")
        assert dep not in ids(ask(client, monkeypatch, "deployments/filter", {"deployments": {"tags": {"all_": ["etl"]}}}))


class TestDeleteFlowRemovesItsDeploymentsTagItems:
    def test_the_cascade_deletes_the_deployments_tag_items(self, client, dynamo_ctx, tagged_deployments):
        f1 = next(k[0] for k in tagged_deployments if k[1] == "a")
        assert client.delete(f"flows/{f1}").status_code == 204
        left = tag_items(dynamo_ctx, "deployment#etl")
        assert sorted(left) == sorted(v for k, v in tagged_deployments.items() if k[0] != f1 and k[1] in ("prod", "z"))


class TestObjectsWithManyTags:
    def test_more_tags_than_one_transaction_holds_are_written_and_found(self, client, monkeypatch, dynamo_ctx):
        many = [f"t{i}" for i in range(120)]
        flow = make_flow(client, "many")
        dep = make_deployment(client, flow, "many-tags", tags=many)
        few = make_deployment(client, flow, "few-tags", tags=["t7"])
        run = create_run(client, flow, tags=many)
        body = {"deployments": {"tags": {"all_": ["t7", "t99"]}}}
        assert ids(ask(client, monkeypatch, "deployments/filter", body)) == [dep]
        assert ids(ask(client, monkeypatch, "deployments/filter", {"deployments": {"tags": {"all_": ["t7"]}}})) \
            == [d for _, d in sorted([("few-tags", few), ("many-tags", dep)])]
        assert ids(ask(client, monkeypatch, "flow_runs/filter", {"flow_runs": {"tags": {"all_": ["t119"]}}})) \
            == [run["id"]]
        assert len(list(dynamo_ctx.stores.tag_index.query("by_tag", "deployment:overflow"))) == 1
        assert client.patch(f"flow_runs/{run['id']}", json={"tags": ["t1"]}).status_code == 204
        assert list(dynamo_ctx.stores.tag_index.query("by_tag", "flow_run:overflow")) == []
        assert ids(ask(client, monkeypatch, "flow_runs/filter", {"flow_runs": {"tags": {"all_": ["t1"]}}})) \
            == [run["id"]]


class TestCountDeploymentsByTag:
    def test_counts_the_tagged_deployments(self, client, monkeypatch, tagged_deployments):
        assert ask(client, monkeypatch, "deployments/count", {"deployments": {"tags": {"all_": ["etl"]}}}) == 6
        assert ask(client, monkeypatch, "deployments/count", {"deployments": {"tags": {"all_": ["nightly", "etl"]}}}) == 3


# -------------------------------------------------------------------------------------- flow runs


@pytest.fixture
def runs(client):
    """Two deployments on two flows (one on a work pool), runs in several states and tags; three
    runs share each expected start time, so ties are broken by id."""
    assert client.post("work_pools/", json={"name": "P", "type": "process"}).status_code == 201
    f1, f2 = make_flow(client, "rf1"), make_flow(client, "rf2")
    d1 = make_deployment(client, f1, "d1", work_pool_name="P")
    d2 = make_deployment(client, f2, "d2")
    made = []
    for i in range(18):
        dep = (d1, d2)[i % 2]
        at = f"2031-05-01T10:00:{i // 3:02d}+00:00"
        tags = [["etl"], ["etl", "nightly"], ["other"]][i % 3]
        made.append(deployment_run(client, dep, {"type": "SCHEDULED", "state_details": {"scheduled_time": at}},
                                   tags=tags))
    for i, to in [(0, "RUNNING"), (1, "RUNNING"), (4, "RUNNING"), (6, "CANCELLED"), (9, "CANCELLED")]:
        r = propose(client, made[i]["id"], to, force=True)
        assert r.status_code == 201, r.text
    made.append(create_run(client, f1, tags=["etl"], state={"type": "RUNNING"}))  # no deployment
    return {"flows": (f1, f2), "deployments": (d1, d2), "runs": made}


RUN_SORTS = ["ID_DESC", "EXPECTED_START_TIME_DESC", "EXPECTED_START_TIME_ASC", "NAME_ASC", "START_TIME_DESC"]


class TestFilterFlowRunsByTag:
    @pytest.mark.parametrize("sort", RUN_SORTS)
    def test_pages_match_the_general_path(self, client, monkeypatch, runs, sort):
        everything = ask(client, monkeypatch, "flow_runs/filter", {"flow_runs": {"tags": {"all_": ["etl"]}}, "sort": sort})
        assert len(everything) == 13
        assert all("etl" in r["tags"] for r in everything)
        for offset, limit in [(0, 5), (3, 4), (12, 5)]:
            body = {"flow_runs": {"tags": {"all_": ["etl"]}}, "sort": sort, "offset": offset, "limit": limit}
            assert ids(ask(client, monkeypatch, "flow_runs/filter", body)) == ids(everything)[offset:offset + limit]

    def test_reads_the_tag_index_not_every_run(self, client, runs, indexes_read):
        indexes_read.clear()
        r = client.post("flow_runs/filter", json={"flow_runs": {"tags": {"all_": ["nightly"]}}, "limit": 3})
        assert r.status_code == 200 and len(r.json()) == 3
        assert set(indexes_read) == {"TagIndex.by_tag"}  # the tag's partition and the overflow one

    def test_the_default_sort_is_newest_id_first(self, client, monkeypatch, runs):
        got = ask(client, monkeypatch, "flow_runs/filter", {"flow_runs": {"tags": {"all_": ["nightly"]}}, "limit": 3})
        want = sorted((r["id"] for r in runs["runs"] if "nightly" in r["tags"]), reverse=True)[:3]
        assert ids(got) == want

    def test_other_criteria_apply_before_the_page_is_cut(self, client, monkeypatch, runs):
        body = {"flow_runs": {"tags": {"all_": ["etl"]}, "state": {"type": {"any_": ["SCHEDULED"]}}}, "limit": 4}
        got = ask(client, monkeypatch, "flow_runs/filter", body)
        assert [r["state_type"] for r in got] == ["SCHEDULED"] * 4

    def test_count_by_tag(self, client, monkeypatch, runs):
        assert ask(client, monkeypatch, "flow_runs/count", {"flow_runs": {"tags": {"all_": ["etl", "nightly"]}}}) == 6

    def test_patched_tags_and_deleted_runs_move_their_tag_items(self, client, monkeypatch, dynamo_ctx, runs):
        run = runs["runs"][2]  # tagged "other"
        assert client.patch(f"flow_runs/{run['id']}", json={"tags": ["fresh"]}).status_code == 204
        assert ids(ask(client, monkeypatch, "flow_runs/filter", {"flow_runs": {"tags": {"all_": ["fresh"]}}})) \
            == [run["id"]]
        assert run["id"] not in tag_items(dynamo_ctx, "flow_run#other")
        assert client.delete(f"flow_runs/{run['id']}").status_code == 204
        assert tag_items(dynamo_ctx, "flow_run#fresh") == []
        assert ask(client, monkeypatch, "flow_runs/filter", {"flow_runs": {"tags": {"all_": ["fresh"]}}}) == []


def _state(types):
    return {"state": {"type": {"any_": types}}}


class TestFilterFlowRunsByStateAndDimension:
    @pytest.mark.parametrize("sort", RUN_SORTS)
    @pytest.mark.parametrize("types", [["SCHEDULED"], ["RUNNING", "CANCELLED"]])
    def test_deployment_and_state_type_match_the_general_path(self, client, monkeypatch, runs, sort, types):
        d1, d2 = runs["deployments"]
        for fr in ({"deployment_id": {"any_": [d1]}}, {"deployment_id": {"any_": [d1, d2]}}):
            body = {"flow_runs": {**fr, **_state(types)}, "sort": sort}
            everything = ask(client, monkeypatch, "flow_runs/filter", body)
            assert everything and all(r["state_type"] in types for r in everything)
            for offset, limit in [(0, 2), (1, 3)]:
                got = ask(client, monkeypatch, "flow_runs/filter", {**body, "offset": offset, "limit": limit})
                assert ids(got) == ids(everything)[offset:offset + limit]

    @pytest.mark.parametrize("dimension, index", [
        ({"flow_runs": {"deployment_id": {"any_": ["{d1}"]}}}, "FlowRuns.by_deployment_state"),
        ({"flows": {"id": {"any_": ["{f1}"]}}}, "FlowRuns.by_flow_state"),
        ({"work_pool_queues": {"name": {"any_": ["default"]}}, "work_pools": {"name": {"any_": ["P"]}}},
         "FlowRuns.by_work_queue_state"),
    ])
    def test_reads_only_the_dimension_and_state_partition(self, client, runs, indexes_read, dimension, index):
        import json

        text = json.dumps(dimension).replace("{d1}", runs["deployments"][0]).replace("{f1}", runs["flows"][0])
        body = json.loads(text)
        body["flow_runs"] = {**body.get("flow_runs", {}), **_state(["RUNNING"])}
        indexes_read.clear()
        r = client.post("flow_runs/filter", json={**body, "sort": "EXPECTED_START_TIME_DESC", "limit": 1})
        assert r.status_code == 200 and len(r.json()) == 1
        assert [i for i in indexes_read if i.startswith("FlowRuns.")] == [index]

    def test_deployments_filter_with_state_types(self, client, monkeypatch, runs):
        d1, _ = runs["deployments"]
        body = {"deployments": {"id": {"any_": [d1]}}, "flow_runs": _state(["SCHEDULED"]),
                "sort": "EXPECTED_START_TIME_DESC", "limit": 3}
        got = ask(client, monkeypatch, "flow_runs/filter", body)
        assert [(r["deployment_id"], r["state_type"]) for r in got] == [(d1, "SCHEDULED")] * 3

    @pytest.mark.parametrize("sort", ["EXPECTED_START_TIME_ASC", "ID_DESC"])
    def test_flow_and_state_type(self, client, monkeypatch, runs, sort):
        f1, _ = runs["flows"]
        body = {"flows": {"name": {"any_": ["rf1"]}}, "flow_runs": _state(["RUNNING"]), "sort": sort, "limit": 5}
        got = ask(client, monkeypatch, "flow_runs/filter", body)
        assert len(got) == 3 and {r["flow_id"] for r in got} == {f1}
        assert ask(client, monkeypatch, "flow_runs/count", {k: v for k, v in body.items()
                                                             if k in ("flows", "flow_runs")}) == 3

    def test_work_pool_and_state_type_the_workers_cancellation_check(self, client, monkeypatch, runs):
        body = {"work_pools": {"name": {"any_": ["P"]}}, "flow_runs": _state(["CANCELLED", "RUNNING"])}
        got = ask(client, monkeypatch, "flow_runs/filter", body)
        d1 = runs["deployments"][0]
        assert {(r["deployment_id"], r["state_type"]) for r in got} == {(d1, "RUNNING"), (d1, "CANCELLED")}
        assert ask(client, monkeypatch, "flow_runs/count", body) == len(got) == 3

    def test_a_state_change_moves_the_run_between_partitions(self, client, monkeypatch, runs):
        d1, _ = runs["deployments"]
        body = {"flow_runs": {"deployment_id": {"any_": [d1]}, **_state(["COMPLETED"])}}
        assert ask(client, monkeypatch, "flow_runs/filter", body) == []
        assert propose(client, runs["runs"][0]["id"], "COMPLETED", force=True).status_code == 201
        assert ids(ask(client, monkeypatch, "flow_runs/filter", body)) == [runs["runs"][0]["id"]]


# -------------------------------------------------------------------------------------- task runs


class TestFilterTaskRunsByTag:
    @pytest.mark.parametrize("sort", ["ID_DESC", "NAME_ASC", "EXPECTED_START_TIME_DESC"])
    def test_tagged_task_runs_match_the_general_path(self, client, monkeypatch, sort):
        run = create_run(client, make_flow(client, "tf"))
        made = [create_task(client, run["id"], dynamic_key=str(i), name=f"t{i}", tags=[["db"], ["db", "io"], []][i % 3])
                for i in range(9)]
        everything = ask(client, monkeypatch, "task_runs/filter", {"task_runs": {"tags": {"all_": ["db"]}}, "sort": sort})
        assert sorted(ids(everything)) == sorted(t["id"] for t in made if "db" in t["tags"])
        for offset, limit in [(0, 2), (1, 3), (5, 2)]:
            body = {"task_runs": {"tags": {"all_": ["db"]}}, "sort": sort, "offset": offset, "limit": limit}
            assert ids(ask(client, monkeypatch, "task_runs/filter", body)) == ids(everything)[offset:offset + limit]
        if sort == "ID_DESC":
            assert ids(everything) == sorted(ids(everything), reverse=True)
        assert ask(client, monkeypatch, "task_runs/count", {"task_runs": {"tags": {"all_": ["io", "db"]}}}) == 3

    def test_reads_the_tag_index_in_order(self, client, indexes_read):
        run = create_run(client, make_flow(client, "tf"))
        for i in range(4):
            create_task(client, run["id"], dynamic_key=str(i), tags=["db"])
        indexes_read.clear()
        r = client.post("task_runs/filter", json={"task_runs": {"tags": {"all_": ["db"]}}, "limit": 2})
        assert r.status_code == 200 and len(r.json()) == 2
        assert set(indexes_read) == {"TagIndex.by_tag"}  # the tag's partition and the overflow one
