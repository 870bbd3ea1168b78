"""``flowplane export`` / ``flowplane import`` (issue 9 item 5): a local server's data taken out as
JSON lines and put into another store — a fresh SQLite data directory or DynamoDB tables (moto over
HTTP, as a deployed stack) — answers the same through the API: objects, runs, names (guards),
counts (counters rebuilt) and tag filters (tag items rebuilt). An import never merges two datasets
and never half-writes a broken export."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from domain.context import Ctx
from domain.settings import Settings
from infra.local import cli


@contextmanager
def api_on(stores, _full_app):
    from handlers import _deps

    _deps.use_context(Ctx(stores=stores, settings=Settings()))
    try:
        with TestClient(_full_app, base_url="http://testserver/api/") as c:
            yield c
    finally:
        _deps.use_context(None)


@contextmanager
def sqlite_api(data_dir: Path, _full_app):
    from infra.sqlite.store import SqliteDb, sqlite_stores

    data_dir.mkdir(parents=True, exist_ok=True)
    db = SqliteDb(data_dir / "flowplane.db")
    try:
        with api_on(sqlite_stores(db), _full_app) as c:
            yield c
    finally:
        db.close()


def populate(c: TestClient) -> None:
    flow = c.post("flows/", json={"name": "moved-flow"}).json()
    dep = c.post("deployments/", json={
        "name": "moved-dep", "flow_id": flow["id"], "tags": ["blue"], "parameters": {"x": 1},
        "schedules": [{"schedule": {"interval": 3600, "anchor_date": "2030-01-01T00:00:00+00:00"}}]})
    assert dep.status_code == 201, dep.text
    for i in range(3):
        run = c.post(f"deployments/{dep.json()['id']}/create_flow_run", json={"tags": ["moved"], "parameters": {"x": i}})
        assert run.status_code == 201, run.text
    done = c.post(f"flow_runs/{run.json()['id']}/set_state", json={"state": {"type": "COMPLETED"}, "force": True})
    assert done.status_code in (200, 201), done.text
    assert c.post("variables/", json={"name": "moved_var", "value": "kept"}).status_code == 201
    assert c.post("work_pools/", json={"name": "moved-pool", "type": "process"}).status_code == 201


def answers(c: TestClient) -> dict:
    """What a user sees: every object, and the answers served by counters, tag items and guards."""
    def post(path, body=None):
        r = c.post(path, json=body or {})
        assert r.status_code == 200, (path, r.text)
        return r.json()

    def without_deltas(runs):
        return sorted(({k: v for k, v in r.items() if k != "estimated_start_time_delta"} for r in runs),
                      key=lambda r: r["id"])

    return {
        "flows": post("flows/filter"),
        "deployments": [{k: v for k, v in d.items() if k not in ("status", "last_polled")}
                        for d in post("deployments/filter")],
        "runs": without_deltas(post("flow_runs/filter")),
        "variables": post("variables/filter"),
        "pools": post("work_pools/filter"),
        "queues": post("work_queues/filter"),
        "completed": post("flow_runs/count", {"flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}}),
        "scheduled": post("flow_runs/count", {"flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}}),
        "tagged_runs": sorted(r["id"] for r in post("flow_runs/filter", {"flow_runs": {"tags": {"all_": ["moved"]}}})),
        "tagged_deps": [d["name"] for d in post("deployments/filter", {"deployments": {"tags": {"all_": ["blue"]}}})],
        "by_name": c.get("deployments/name/moved-flow/moved-dep").json().get("id"),
    }


@pytest.fixture
def exported(tmp_path, _full_app, capsys):
    with sqlite_api(tmp_path / "source", _full_app) as c:
        populate(c)
        before = answers(c)
    assert cli.main(["export", str(tmp_path / "export"), "--data-dir", str(tmp_path / "source")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["tables"]["FlowRuns"] == 3 and out["tables"]["Guards"] >= 4
    return tmp_path / "export", before


class TestExport:
    def test_writes_a_manifest_and_one_json_lines_file_per_document_table(self, exported):
        from domain.transfer import TABLES

        where, before = exported
        manifest = json.loads((where / "manifest.json").read_text())
        assert (manifest["format"], manifest["version"], list(manifest["tables"])) == ("flowplane-export", 1, list(TABLES))
        assert "Counters" not in manifest["tables"] and "TagIndex" not in manifest["tables"]
        assert sorted(p.name for p in where.iterdir()) == sorted(["manifest.json", *(f"{t}.jsonl" for t in TABLES)])
        runs = [json.loads(line) for line in (where / "FlowRuns.jsonl").read_text().splitlines()]
        assert sorted(r["id"] for r in runs) == sorted(r["id"] for r in before["runs"])
        assert manifest["tables"]["FlowRuns"] == 3

    def test_refuses_a_directory_that_holds_something(self, exported, tmp_path, capsys):
        where, _ = exported
        assert cli.main(["export", str(where), "--data-dir", str(tmp_path / "source")]) == 2
        assert "exists and is not an empty directory" in capsys.readouterr().err

    def test_refuses_while_a_server_holds_the_data_directory(self, tmp_path, capsys):
        from infra.local.store import lock_data_dir

        held = lock_data_dir(tmp_path / "busy")
        try:
            assert cli.main(["export", str(tmp_path / "out"), "--data-dir", str(tmp_path / "busy")]) == 3
        finally:
            held.release()
        assert "is in use by another flowplane server" in capsys.readouterr().err
        assert not (tmp_path / "out").exists()


class TestImport:
    def test_into_a_fresh_data_directory_answers_as_the_source_did(self, exported, tmp_path, _full_app, capsys):
        where, before = exported
        assert cli.main(["import", str(where), "--data-dir", str(tmp_path / "target")]) == 0
        result = json.loads(capsys.readouterr().out)
        assert result["written"]["FlowRuns"] == 3 and result["already_there"] == {}
        assert result["counters"]["flow_runs"] == 3
        with sqlite_api(tmp_path / "target", _full_app) as c:
            assert answers(c) == before
            again = c.post("deployments/", json={"name": "moved-dep", "flow_id": before["flows"][0]["id"]})
            assert again.json()["id"] == before["by_name"]  # the name guard came along: an upsert, not a second one

    def test_into_dynamodb_tables_answers_as_the_source_did(self, exported, tmp_path, _full_app, capsys):
        from infra.dynamo.store import dynamo_stores
        from infra.local.store import EmbeddedMotoServer, ensure_fake_credentials

        where, before = exported
        ensure_fake_credentials()
        server = EmbeddedMotoServer().start()
        try:
            prefix = "flowplane-import-"
            assert cli.main(["import", str(where), "--dynamodb-endpoint", server.endpoint,
                             "--table-prefix", prefix]) == 0
            assert json.loads(capsys.readouterr().out)["written"]["Deployments"] == 1
            settings = Settings(dynamodb_endpoint=server.endpoint, table_prefix=prefix)
            with api_on(dynamo_stores(settings), _full_app) as c:
                assert answers(c) == before
        finally:
            server.stop()

    def test_run_again_it_finishes_an_interrupted_import_and_writes_nothing_twice(self, exported, tmp_path, capsys):
        from infra.sqlite.store import SqliteDb, sqlite_stores

        where, _ = exported
        part = (where / "FlowRuns.jsonl").read_text().splitlines()[:1]
        db = SqliteDb((tmp_path / "target").mkdir() or tmp_path / "target" / "flowplane.db")
        sqlite_stores(db).flow_runs.put(json.loads(part[0]))  # as if the first import stopped there
        db.close()
        assert cli.main(["import", str(where), "--data-dir", str(tmp_path / "target")]) == 0
        result = json.loads(capsys.readouterr().out)
        assert (result["written"]["FlowRuns"], result["already_there"]) == (2, {"FlowRuns": 1})

    def test_into_a_store_with_other_data_is_refused_and_writes_nothing(self, exported, tmp_path, _full_app, capsys):
        where, _ = exported
        with sqlite_api(tmp_path / "target", _full_app) as c:
            assert c.post("flows/", json={"name": "already-here"}).status_code == 201
            mine = answers(c)
        assert cli.main(["import", str(where), "--data-dir", str(tmp_path / "target")]) == 2
        err = capsys.readouterr().err
        assert "already holds data that is not this export's" in err and "Flows " in err
        assert "Nothing was written." in err
        with sqlite_api(tmp_path / "target", _full_app) as c:
            assert answers(c) == mine

    @pytest.mark.parametrize(("damage", "message"), [
        (lambda w: (w / "FlowRuns.jsonl").write_text("\n".join((w / "FlowRuns.jsonl").read_text().splitlines()[:2]) + "\n"),
         "FlowRuns: 2 documents where the manifest says 3"),
        (lambda w: (w / "Variables.jsonl").write_text("{not json\n"), "Variables, line 1: not JSON"),
        (lambda w: (w / "Variables.jsonl").write_text("[1, 2]\n"), "Variables, line 1: not a document"),
        (lambda w: (w / "Flows.jsonl").write_text((w / "Flows.jsonl").read_text() * 2), "appears twice"),
        (lambda w: (w / "manifest.json").write_text('{"format": "other"}'), "Not a flowplane export"),
        (lambda w: (w / "manifest.json").write_text(
            (w / "manifest.json").read_text().replace('"version": 1', '"version": 9')), "version 9 is not supported"),
        (lambda w: (w / "Logs.jsonl").unlink(), "The export lacks Logs.jsonl"),
    ], ids=["truncated", "not-json", "not-an-object", "duplicate-id", "foreign-format", "newer-version", "missing-file"])
    def test_a_damaged_export_is_refused_before_anything_is_written(self, exported, tmp_path, _full_app, capsys,
                                                                     damage, message):
        where, _ = exported
        damage(where)
        assert cli.main(["import", str(where), "--data-dir", str(tmp_path / "target")]) == 2
        assert message in capsys.readouterr().err
        from infra.sqlite.store import SqliteDb, sqlite_stores

        (tmp_path / "target").mkdir(exist_ok=True)
        db = SqliteDb(tmp_path / "target" / "flowplane.db")
        try:
            stores = sqlite_stores(db)
            assert [list(s.scan()) for s in (stores.flows, stores.flow_runs, stores.guards, stores.variables)] == [[]] * 4
        finally:
            db.close()
