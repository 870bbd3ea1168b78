"""template.yaml: valid SAM (transformed with aws-sam-translator, then linted with cfn-lint), the
validation rejects broken copies, and routes, template functions, handlers and events/ agree."""

from __future__ import annotations

import copy
import importlib
import json
import sys
import types

import pytest

from domain import run_companions
from domain.ports import ALL_TABLES
from handlers.routes import routes
from infra import sam
from infra.local import events as event_files
from infra.template import TEMPLATE, load

TPL = load()
RESOURCES = TPL["Resources"]
FUNCTIONS = {rid: r["Properties"] for rid, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"}


def _http_events(props: dict) -> list[dict]:
    return [e["Properties"] for e in (props.get("Events") or {}).values() if e["Type"] == "HttpApi"]


@pytest.fixture(scope="module")
def transformed() -> dict:
    return sam.sam_transform(TPL)


@pytest.fixture(scope="module")
def full_validation() -> list[str]:
    """The whole template through every layer (~30 s on a busy 2-core machine: computed once)."""
    return sam.validate(TPL)


class TestTemplateIsValid:
    def test_committed_template_passes_flowplane_rules_sam_transform_and_cfn_lint(self, full_validation):
        assert full_validation == []

    def test_committed_template_and_requirements_are_what_the_generator_renders(self):
        assert TEMPLATE.read_text(encoding="utf-8") == sam.render(), "run `python -m infra.sam`"
        assert sam.REQUIREMENTS.read_text(encoding="utf-8") == sam.render_requirements()

    def test_the_template_uses_no_yaml_aliases_which_cloudformation_rejects(self):
        import yaml

        events = yaml.parse(TEMPLATE.read_text(encoding="utf-8"))

        assert not any(isinstance(e, yaml.AliasEvent) or getattr(e, "anchor", None) for e in events)

    def test_the_transform_expands_every_sam_function_into_a_lambda_function(self, transformed):
        lambdas = {rid for rid, r in transformed["Resources"].items() if r["Type"] == "AWS::Lambda::Function"}

        assert lambdas == set(FUNCTIONS)
        assert not any(r["Type"].startswith("AWS::Serverless::") for r in transformed["Resources"].values())


def _small() -> dict:
    """The committed template cut down to the API, the authorizer, two routes and the tables: the same
    document, small enough that each broken copy below lints in a couple of seconds."""
    tpl = copy.deepcopy(TPL)
    keep = {"HttpApi", "AuthorizerFunction", "FlowsReadFunction", "FlowsCreateFunction"}
    tpl["Resources"] = {rid: r for rid, r in tpl["Resources"].items()
                        if rid in keep or r["Type"] == "AWS::DynamoDB::Table"}
    tpl["Outputs"] = {k: tpl["Outputs"][k] for k in ("PrefectApiUrl", "ApiKeysTableName", "CorsAllowedOrigins")}
    # the UI's parameters and condition go with the UI resources (infra/sam_ui.py)
    tpl.pop("Conditions", None)
    for name in ("UiEnabled", "UiBasicAuth", "UiApiKey"):
        tpl["Parameters"].pop(name, None)
    return tpl


def _broken(mutate) -> dict:
    tpl = _small()
    mutate(tpl)
    return tpl


class TestValidationRejectsBrokenCopies:
    def test_the_small_copy_itself_is_valid(self):
        assert sam.validate(_small()) == []

    def test_a_bad_runtime_is_rejected_by_cfn_lint_on_the_transformed_template(self):
        tpl = _broken(lambda t: t["Globals"]["Function"].update(Runtime="python3.99"))

        lint = sam.cfn_lint(sam.sam_transform(tpl))

        assert any("E3030" in m and "python3.99" in m for m in lint)
        assert sam.validate(tpl)

    def test_a_deprecated_runtime_is_rejected(self):
        tpl = _broken(lambda t: t["Globals"]["Function"].update(Runtime="python3.11"))

        problems = sam.validate(tpl)

        assert any("python3.12 or later" in m for m in problems)

    def test_an_http_event_without_a_path_is_rejected(self):
        tpl = _broken(lambda t: t["Resources"]["FlowsReadFunction"]["Properties"]["Events"]["Api"]["Properties"]
                      .pop("Path"))

        problems = sam.validate(tpl)

        assert any("FlowsReadFunction" in m and "Path" in m for m in problems)

    def test_a_policy_on_a_table_that_does_not_exist_is_rejected_by_both_layers(self):
        def mutate(t):
            t["Resources"]["FlowsReadFunction"]["Properties"]["Policies"] = [
                {"DynamoDBReadPolicy": {"TableName": {"Ref": "NoSuchTable"}}}]
        tpl = _broken(mutate)

        assert any("NoSuchTable" in m for m in sam.flowplane_rules(tpl))
        assert any("E1020" in m and "NoSuchTable" in m for m in sam.cfn_lint(sam.sam_transform(tpl)))

    def test_a_bare_managed_policy_is_rejected(self):
        tpl = _broken(lambda t: t["Resources"]["FlowsReadFunction"]["Properties"].update(
            Policies=["AmazonDynamoDBFullAccess"]))

        assert any("not a SAM policy template" in m for m in sam.validate(tpl))

    def test_an_event_path_outside_api_is_rejected(self):
        tpl = _broken(lambda t: t["Resources"]["FlowsReadFunction"]["Properties"]["Events"]["Api"]["Properties"]
                      .update(Path="/flows/{id}"))

        assert any("must be under /api/" in m for m in sam.validate(tpl))

    def test_a_broken_cloudformation_resource_is_rejected(self):
        tpl = _broken(lambda t: t["Resources"]["FlowsTable"]["Properties"].update(BillingMode="FREE"))

        assert any("BillingMode" in m or "FREE" in m for m in sam.validate(tpl))

    def test_an_invalid_sam_document_is_reported_not_raised(self):
        tpl = _broken(lambda t: t["Resources"]["FlowsReadFunction"]["Properties"]["Events"]["Api"].update(
            Type="NoSuchEventType"))

        assert any(m.startswith("sam-translator:") for m in sam.validate(tpl))

    def test_the_lint_command_exits_1_on_a_broken_file(self, tmp_path, capsys):
        import yaml

        bad = _broken(lambda t: t["Globals"]["Function"].update(Runtime="python3.99"))
        path = tmp_path / "broken.yaml"
        path.write_text(yaml.safe_dump(bad), encoding="utf-8")

        assert sam.main(["--lint", str(path)]) == 1
        assert "INVALID" in capsys.readouterr().out


class TestDeployableShape:
    def test_the_api_uses_the_default_stage_so_paths_arrive_as_api(self):
        assert RESOURCES["HttpApi"]["Properties"]["StageName"] == "$default"

    def test_every_route_requires_the_bearer_key_authorizer(self, transformed):
        auth = RESOURCES["HttpApi"]["Properties"]["Auth"]
        authorizer = auth["Authorizers"][auth["DefaultAuthorizer"]]

        assert authorizer["FunctionArn"] == {"Fn::GetAtt": ["AuthorizerFunction", "Arn"]}
        assert authorizer["AuthorizerPayloadFormatVersion"] == "2.0"
        assert authorizer["EnableSimpleResponses"] is True
        assert authorizer["Identity"]["Headers"] == ["Authorization"]
        body = transformed["Resources"]["HttpApi"]["Properties"]["Body"]
        for path, methods in body["paths"].items():
            for method, op in methods.items():
                assert op.get("security") == [{auth["DefaultAuthorizer"]: []}], f"{method} {path} is open"

    def test_globals_use_a_supported_python_on_arm64_with_settings_in_the_environment(self):
        glob = TPL["Globals"]["Function"]
        env = glob["Environment"]["Variables"]

        assert glob["Runtime"] == "python3.12" and glob["Architectures"] == ["arm64"]
        for var in ("PREFECT_API_SERVICES_SCHEDULER_MIN_RUNS", "PREFECT_API_SERVICES_SCHEDULER_MAX_RUNS",
                    "PREFECT_API_SERVICES_SCHEDULER_MAX_SCHEDULED_TIME", "FLOWS_TABLE", "API_KEYS_TABLE"):
            assert var in env

    def test_every_environment_variable_is_one_settings_reads(self):
        from domain.settings import Settings

        env = {k: "1" for k in TPL["Globals"]["Function"]["Environment"]["Variables"]}
        env["PREFECT_API_SERVICES_SCHEDULER_ENABLED"] = "false"
        s = Settings.from_env(env)

        assert s.scheduler_min_runs == 1 and s.scheduler_enabled is False
        assert set(s.table_names) == {spec.name for spec in ALL_TABLES}

    def test_tables_retain_data_with_point_in_time_recovery(self):
        for spec in ALL_TABLES:
            table = RESOURCES[f"{spec.name}Table"]
            assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
            assert table["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}

    def test_the_output_is_the_prefect_api_url(self):
        value = TPL["Outputs"]["PrefectApiUrl"]["Value"]["Fn::Sub"]

        assert value.startswith("https://${HttpApi}.execute-api.") and value.endswith("/api")

    def test_parameters_carry_a_name_prefix_and_settings_defaults(self):
        from domain.settings import Settings

        params = TPL["Parameters"]
        assert params["NamePrefix"]["Default"] == "flowplane"
        assert params["SchedulerMinRuns"]["Default"] == Settings().scheduler_min_runs


class TestLeastPrivilege:
    @pytest.mark.parametrize("function_id", sorted(FUNCTIONS))
    def test_policies_are_exactly_the_tables_the_module_declares(self, function_id):
        props = FUNCTIONS[function_id]
        module = importlib.import_module(props["Handler"].rpartition(".")[0])
        declared = set(getattr(module, "TABLES", sam.SCHEDULER_DEFAULT_TABLES))
        read_only = getattr(module, "READ_ONLY", False)
        policy = "DynamoDBReadPolicy" if read_only else "DynamoDBCrudPolicy"
        if not read_only and declared & {"FlowRuns", "TaskRuns"}:
            declared |= set(run_companions.TABLES)  # a run write carries its companions' writes

        granted = {(name, args["TableName"]["Ref"]) for p in props.get("Policies", []) for name, args in p.items()}

        assert granted == {(policy, f"{t}Table") for t in declared}

    def test_a_module_without_tables_cannot_be_generated(self, monkeypatch):
        monkeypatch.setitem(sys.modules, "handlers.fake_undeclared", types.ModuleType("handlers.fake_undeclared"))

        with pytest.raises(SystemExit, match="must declare TABLES"):
            sam.declared_tables("handlers.fake_undeclared")

    def test_a_module_naming_an_unknown_table_cannot_be_generated(self, monkeypatch):
        mod = types.ModuleType("handlers.fake_unknown")
        mod.TABLES = ("Flows", "Nope")
        monkeypatch.setitem(sys.modules, "handlers.fake_unknown", mod)

        with pytest.raises(SystemExit, match="unknown tables"):
            sam.declared_tables("handlers.fake_unknown")


class TestRoutesTemplateAndEventsAgree:
    def test_every_route_has_a_function_with_its_method_and_path(self):
        for r in routes():
            props = FUNCTIONS.get(r.function_id)
            assert props is not None, f"{r.module} has no {r.function_id} in template.yaml"
            assert props["Handler"] == r.handler
            assert {"Method": r.method, "Path": sam.api_path(r.path)} in [
                {"Method": e["Method"], "Path": e["Path"]} for e in _http_events(props)]

    def test_every_http_function_serves_a_route(self):
        keys = {(r.function_id, r.method, sam.api_path(r.path)) for r in routes()}
        for fid, props in FUNCTIONS.items():
            for e in _http_events(props):
                assert (fid, e["Method"], e["Path"]) in keys, f"{fid}: {e['Method']} {e['Path']} is not a route"

    @pytest.mark.parametrize("function_id", sorted(FUNCTIONS))
    def test_every_function_handler_imports_and_is_callable(self, function_id):
        module_name, _, attr = FUNCTIONS[function_id]["Handler"].rpartition(".")

        assert callable(getattr(importlib.import_module(module_name), attr))

    @pytest.mark.parametrize("function_id", sorted(FUNCTIONS))
    def test_every_function_has_an_event_file(self, function_id):
        assert (event_files.EVENTS / f"{function_id}.json").is_file()

    def test_events_are_what_the_generator_renders(self):
        files = {p.name for p in event_files.EVENTS.glob("*.json")}
        rendered = event_files.render(TPL)

        assert files == set(rendered), "run `python -m infra.local.events`"
        for name, event in rendered.items():
            assert json.loads((event_files.EVENTS / name).read_text(encoding="utf-8")) == event, name

    @pytest.mark.parametrize("function_id", sorted(f for f, p in FUNCTIONS.items() if _http_events(p)))
    def test_http_events_are_payload_2_0_for_their_route(self, function_id):
        event = json.loads((event_files.EVENTS / f"{function_id}.json").read_text(encoding="utf-8"))
        route = _http_events(FUNCTIONS[function_id])[0]

        assert event["version"] == "2.0"
        assert event["routeKey"] == event["requestContext"]["routeKey"] == f"{route['Method']} {route['Path']}"
        assert event["rawPath"].rstrip("/") == event["requestContext"]["http"]["path"].rstrip("/")
        assert event["rawPath"].startswith("/api/")
        assert event["requestContext"]["stage"] == "$default"
        assert event["requestContext"]["http"]["method"] == route["Method"]
        assert event["headers"]["x-prefect-api-version"] == "0.8.4"
        assert event["headers"]["authorization"].startswith("Bearer ")
        assert event["isBase64Encoded"] is False
        if "body" in event:
            json.loads(event["body"])
        for name in [p.strip("{}+") for p in route["Path"].split("/") if p.startswith("{")]:
            assert name in event["pathParameters"]

    def test_the_authorizer_event_is_a_request_authorizer_payload_2_0(self):
        event = json.loads((event_files.EVENTS / "AuthorizerFunction.json").read_text(encoding="utf-8"))

        assert event["version"] == "2.0" and event["type"] == "REQUEST"
        assert event["identitySource"] == [event["headers"]["authorization"]]


class TestScheduler:
    """Generated only when handlers/scheduler.py exists; checked here with a stand-in too."""

    def test_the_scheduler_function_exists_exactly_when_its_module_does(self):
        assert ("SchedulerFunction" in FUNCTIONS) == sam.scheduler_available()

    @pytest.fixture
    def with_scheduler(self, monkeypatch):
        if not sam.scheduler_available():
            mod = types.ModuleType("handlers.scheduler")
            mod.handler = lambda event, context: None
            mod.TABLES = ("Deployments", "FlowRuns")
            monkeypatch.setitem(sys.modules, "handlers.scheduler", mod)
            monkeypatch.setattr(sam, "scheduler_available", lambda: True)
        return sam.build()

    def test_the_scheduler_ticks_every_minute_with_retries_and_a_dead_letter_queue(self, with_scheduler):
        props = with_scheduler["Resources"]["SchedulerFunction"]["Properties"]
        tick = props["Events"]["Tick"]["Properties"]

        assert tick["Schedule"] == "rate(1 minute)"
        assert tick["RetryPolicy"]["MaximumRetryAttempts"] >= 1
        assert tick["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["SchedulerDeadLetterQueue", "Arn"]}
        assert props["DeadLetterQueue"]["Type"] == "SQS"
        assert props["ReservedConcurrentExecutions"] == 1
        assert with_scheduler["Resources"]["SchedulerDeadLetterQueue"]["Type"] == "AWS::SQS::Queue"

    def test_deployment_changes_trigger_the_scheduler_through_the_table_stream(self, with_scheduler):
        stream = with_scheduler["Resources"]["SchedulerFunction"]["Properties"]["Events"]["DeploymentChanges"]

        assert stream["Type"] == "DynamoDB"
        assert stream["Properties"]["Stream"] == {"Fn::GetAtt": ["DeploymentsTable", "StreamArn"]}
        assert with_scheduler["Resources"]["DeploymentsTable"]["Properties"]["StreamSpecification"]

    def test_the_template_with_the_scheduler_is_valid(self, with_scheduler, full_validation):
        if with_scheduler == TPL:  # the committed template has it: already validated as a whole
            assert full_validation == []
            return
        tpl = copy.deepcopy(with_scheduler)
        keep = {"HttpApi", "AuthorizerFunction", "SchedulerFunction", "SchedulerDeadLetterQueue",
                "SchedulerDeadLetterQueuePolicy"}
        tpl["Resources"] = {rid: r for rid, r in tpl["Resources"].items()
                            if rid in keep or r["Type"] == "AWS::DynamoDB::Table"}
        assert sam.validate(tpl) == []
