"""A function that writes runs also writes their companions (domain/run_companions.py: counters,
tag items) in the same transaction, so its IAM policy must cover those tables too — else every run
write on AWS fails with AccessDenied while moto, SQLite and the memory store never notice."""

from __future__ import annotations

import pathlib

import yaml

from domain import run_companions
from handlers.routes import routes
from infra import sam

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _template() -> dict:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    return yaml.load((ROOT / "template.yaml").read_text(), Loader=Loader)


def _policy_tables(fn: dict) -> dict[str, str]:
    out = {}
    for policy in fn["Properties"].get("Policies", []):
        for kind, body in policy.items():
            ref = (body or {}).get("TableName", {})
            if isinstance(ref, dict) and "Ref" in ref:
                out[ref["Ref"].removesuffix("Table")] = kind
    return out


class TestRunWritersMayWriteTheCompanionTables:
    def test_every_function_that_writes_runs_has_crud_on_each_companion_table(self):
        resources = _template()["Resources"]
        writers = []
        for route in {r.module: r for r in routes()}.values():
            tables, read_only = sam.declared_tables(route.module)
            if read_only or not {"FlowRuns", "TaskRuns"} & set(tables):
                continue
            writers.append(route.function_id)
            granted = _policy_tables(resources[route.function_id])
            for table in run_companions.TABLES:
                assert granted.get(table) == "DynamoDBCrudPolicy", (route.function_id, table)
        assert "FlowRunsSetStateFunction" in writers and "TaskRunsCreateFunction" in writers
        scheduler = _policy_tables(resources[next(k for k in resources if k.endswith("SchedulerFunction"))])
        assert all(scheduler.get(t) == "DynamoDBCrudPolicy" for t in run_companions.TABLES)

    def test_read_only_functions_get_no_write_policy_from_it(self):
        tables, read_only = sam.declared_tables("handlers.flow_runs.filter")
        assert read_only and "Counters" not in tables
