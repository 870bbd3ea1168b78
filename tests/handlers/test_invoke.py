"""`flowplane invoke`: every function of template.yaml answers its event from events/, the way
`sam local invoke` would run it (handler, environment and timeout from the template)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from infra.local import events as event_files
from infra.local import invoke
from infra.template import ROOT, load

TEMPLATE = load()
FUNCTIONS = invoke.functions(TEMPLATE)
FLOWPLANE = [sys.executable, "-m", "infra.local.cli"]


def _event(function_id: str, variant: str = "") -> dict:
    name = f"{function_id}.{variant}.json" if variant else f"{function_id}.json"
    return json.loads((event_files.EVENTS / name).read_text(encoding="utf-8"))


@pytest.fixture
def local_store(fresh_tables):
    """An empty embedded store with the template's tables, named as `flowplane serve` names them."""
    settings = invoke.local_settings()
    fresh_tables(settings, TEMPLATE)
    return settings


def _cli(*args: str, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*FLOWPLANE, *args], cwd=ROOT, capture_output=True, text=True, input=stdin, timeout=120,
                          env={**os.environ, **(env or {})})


class TestEveryFunctionAnswersItsEvent:
    @pytest.mark.parametrize("function_id", FUNCTIONS)
    def test_function_answers_its_event_with_the_expected_status(self, function_id, local_store, dynamo_calls):
        spec = invoke.resolve_function(function_id, TEMPLATE, local_store)

        inv = invoke.invoke(spec, _event(function_id), local_store)

        assert inv.ok, inv.result
        result = inv.result
        if function_id == "AuthorizerFunction":
            assert result == {"isAuthorized": False}  # the sample key is stored nowhere
            return
        if "statusCode" not in result:  # non-HTTP functions (the scheduler)
            return
        assert set(result) >= {"statusCode", "headers", "body", "isBase64Encoded"}
        expected = event_files.expected_status(function_id)
        if expected is None:
            assert result["statusCode"] < 500, result
        else:
            assert result["statusCode"] == expected, result["body"]

    def test_every_http_function_has_an_expected_status_in_the_samples(self):
        http = [f for f in FUNCTIONS if any(e.get("Type") == "HttpApi" for e in
                                            (TEMPLATE["Resources"][f]["Properties"].get("Events") or {}).values())]
        missing = [f for f in http if event_files.expected_status(f) is None]

        assert not missing, (f"add these to SAMPLES in infra/local/events.py (body, path, status on an empty "
                             f"store), then run `python -m infra.local.events`: {missing}")

    @pytest.mark.skipif("SchedulerFunction" not in FUNCTIONS, reason="no scheduler in this tree yet")
    def test_scheduler_answers_the_deployments_stream_event(self, local_store):
        spec = invoke.resolve_function("SchedulerFunction", TEMPLATE, local_store)

        inv = invoke.invoke(spec, _event("SchedulerFunction", "stream"), local_store)

        assert inv.ok, inv.result

    def test_a_created_flow_is_read_back_by_the_next_invocation(self, local_store):
        create = invoke.resolve_function("FlowsCreateFunction", TEMPLATE, local_store)
        read = invoke.resolve_function("FlowsReadByNameFunction", TEMPLATE, local_store)

        created = invoke.invoke(create, _event("FlowsCreateFunction"), local_store).result
        got = invoke.invoke(read, _event("FlowsReadByNameFunction"), local_store).result

        assert created.get("statusCode") == 201, created
        assert got["statusCode"] == 200
        assert json.loads(got["body"])["id"] == json.loads(created["body"])["id"]


class TestResolveFunction:
    def test_handler_memory_and_timeout_come_from_the_template(self):
        spec = invoke.resolve_function("FlowsReadFunction", TEMPLATE)

        assert spec.handler == "handlers.flows.read.handler"
        assert spec.timeout_s == float(TEMPLATE["Globals"]["Function"]["Timeout"])
        assert spec.memory_mb == TEMPLATE["Parameters"]["FunctionMemorySize"]["Default"]
        assert spec.function_name == "flowplane-FlowsRead"
        assert spec.runtime == "python3.12"

    def test_table_references_resolve_to_the_local_tables(self):
        spec = invoke.resolve_function("FlowsReadFunction", TEMPLATE)

        assert spec.env["FLOWS_TABLE"] == "flowplane-local-Flows"
        assert spec.env["API_KEYS_TABLE"] == "flowplane-local-ApiKeys"

    def test_settings_parameters_resolve_to_their_defaults(self):
        spec = invoke.resolve_function("FlowsReadFunction", TEMPLATE)

        assert spec.env["PREFECT_API_SERVICES_SCHEDULER_MIN_RUNS"] == "3"
        assert spec.env["PREFECT_API_SERVICES_SCHEDULER_MAX_SCHEDULED_TIME"] == str(100 * 86400)

    def test_function_environment_overrides_globals_and_function_timeout_wins(self):
        tpl = json.loads(json.dumps(TEMPLATE))
        props = tpl["Resources"]["FlowsReadFunction"]["Properties"]
        props["Environment"] = {"Variables": {"FLOWS_TABLE": "custom", "EXTRA": {"Fn::Sub": "${NamePrefix}-x"}}}
        props["Timeout"] = 7

        spec = invoke.resolve_function("FlowsReadFunction", tpl)

        assert spec.env["FLOWS_TABLE"] == "custom"
        assert spec.env["EXTRA"] == "flowplane-x"
        assert spec.timeout_s == 7.0

    def test_an_unknown_function_is_refused_with_the_list_of_functions(self):
        with pytest.raises(invoke.UnknownFunction, match="FlowsReadFunction"):
            invoke.resolve_function("NoSuchFunction", TEMPLATE)


@pytest.fixture
def fake_module(tmp_path, monkeypatch):
    """A handler module on sys.path and a template whose one function uses it."""
    def make(source: str, timeout: int = 3) -> dict:
        (tmp_path / "fake_handler_mod.py").write_text(textwrap.dedent(source), encoding="utf-8")
        monkeypatch.syspath_prepend(str(tmp_path))
        sys.modules.pop("fake_handler_mod", None)
        return {
            "Globals": {"Function": {"Runtime": "python3.12", "MemorySize": 256, "Timeout": timeout,
                                     "Environment": {"Variables": {"GREETING": "hi"}}}},
            "Resources": {"FakeFunction": {"Type": "AWS::Serverless::Function",
                                           "Properties": {"Handler": "fake_handler_mod.handler"}}},
        }

    yield make
    sys.modules.pop("fake_handler_mod", None)


class TestLambdaSemantics:
    def test_the_handler_gets_the_environment_and_a_lambda_context(self, fake_module):
        tpl = fake_module("""
            import os
            def handler(event, context):
                return {"greeting": os.environ["GREETING"], "name": context.function_name,
                        "memory": context.memory_limit_in_mb, "arn": context.invoked_function_arn,
                        "group": context.log_group_name, "request": context.aws_request_id,
                        "remaining": context.get_remaining_time_in_millis(), "event": event,
                        "fn_env": os.environ["AWS_LAMBDA_FUNCTION_NAME"]}
        """)
        spec = invoke.resolve_function("FakeFunction", tpl)

        inv = invoke.invoke(spec, {"x": 1}, invoke.local_settings(), request_id="req-1")

        assert inv.ok
        r = inv.result
        assert r["greeting"] == "hi" and r["event"] == {"x": 1}
        assert r["name"] == r["fn_env"] == "FakeFunction"
        assert r["memory"] == 256
        assert r["arn"] == "arn:aws:lambda:us-east-1:123456789012:function:FakeFunction"
        assert r["group"] == "/aws/lambda/FakeFunction"
        assert r["request"] == "req-1"
        assert 0 < r["remaining"] <= 3000

    def test_the_environment_is_restored_after_the_invocation(self, fake_module):
        tpl = fake_module("def handler(event, context):\n    return None\n")
        os.environ.pop("GREETING", None)

        invoke.invoke(invoke.resolve_function("FakeFunction", tpl), {}, invoke.local_settings())

        assert "GREETING" not in os.environ

    def test_an_exception_is_reported_as_lambda_reports_it(self, fake_module):
        tpl = fake_module("""
            def handler(event, context):
                raise ValueError("bad things")
        """)

        inv = invoke.invoke(invoke.resolve_function("FakeFunction", tpl), {}, invoke.local_settings(),
                            request_id="req-2")

        assert not inv.ok
        assert set(inv.result) == {"errorMessage", "errorType", "requestId", "stackTrace"}
        assert inv.result["errorMessage"] == "bad things"
        assert inv.result["errorType"] == "ValueError"
        assert inv.result["requestId"] == "req-2"
        assert "fake_handler_mod.py" in inv.result["stackTrace"][0]
        assert not any("infra/local/invoke.py" in line for line in inv.result["stackTrace"])

    def test_a_handler_running_past_its_timeout_is_stopped_with_sandbox_timedout(self, fake_module):
        tpl = fake_module("""
            import time
            def handler(event, context):
                time.sleep(5)
        """, timeout=1)

        inv = invoke.invoke(invoke.resolve_function("FakeFunction", tpl), {}, invoke.local_settings())

        assert not inv.ok
        assert inv.result["errorType"] == "Sandbox.Timedout"
        assert inv.result["errorMessage"].endswith("Task timed out after 1.00 seconds")
        assert inv.duration_ms < 2500

    def test_a_module_that_does_not_import_is_a_runtime_import_module_error(self):
        tpl = {"Resources": {"F": {"Type": "AWS::Serverless::Function", "Properties": {"Handler": "nope_mod.handler"}}}}

        inv = invoke.invoke(invoke.resolve_function("F", tpl), {}, invoke.local_settings())

        assert inv.result["errorType"] == "Runtime.ImportModuleError"
        assert inv.result["errorMessage"].startswith("Unable to import module 'nope_mod'")

    def test_a_missing_handler_attribute_is_runtime_handler_not_found(self, fake_module):
        tpl = fake_module("x = 1\n")

        inv = invoke.invoke(invoke.resolve_function("FakeFunction", tpl), {}, invoke.local_settings())

        assert inv.result["errorType"] == "Runtime.HandlerNotFound"

    def test_a_result_that_is_not_json_is_a_marshal_error(self, fake_module):
        tpl = fake_module("def handler(event, context):\n    return {'x': object()}\n")

        inv = invoke.invoke(invoke.resolve_function("FakeFunction", tpl), {}, invoke.local_settings())

        assert inv.result["errorType"] == "Runtime.MarshalError"


class TestInvokeCommand:
    def test_prints_the_json_result_on_stdout_and_exits_0(self):
        out = _cli("invoke", "RootHealthFunction", "-e", "events/RootHealthFunction.json")

        assert out.returncode == 0, out.stderr
        result = json.loads(out.stdout)
        assert result["statusCode"] == 200 and result["body"] == "true"
        assert "REPORT RequestId:" in out.stderr

    def test_a_failing_handler_prints_lambdas_error_shape_and_exits_1(self):
        out = _cli("invoke", "FlowsReadFunction", "-e", "-", stdin='{"not": "an api gateway event"}')

        assert out.returncode == 1
        error = json.loads(out.stdout)
        assert set(error) == {"errorMessage", "errorType", "requestId", "stackTrace"}
        assert error["errorType"] == "RuntimeError"

    def test_an_unknown_function_exits_2_naming_the_functions(self):
        out = _cli("invoke", "NoSuchFunction")

        assert out.returncode == 2
        assert "FlowsReadFunction" in out.stderr and out.stdout == ""

    def test_against_a_dynamodb_endpoint_the_data_outlives_the_invocation(self, local_store):
        # an in-process moto server shares the session mock's backend: local_store empties it
        from infra.local.store import EmbeddedMotoServer

        server = EmbeddedMotoServer().start()
        try:
            endpoint = server.endpoint
            created = _cli("invoke", "FlowsCreateFunction", "--dynamodb-endpoint", endpoint)
            read = _cli("invoke", "FlowsReadByNameFunction", "--dynamodb-endpoint", endpoint)
        finally:
            server.stop()

        assert json.loads(created.stdout)["statusCode"] == 201, created.stderr
        assert json.loads(read.stdout)["statusCode"] == 200, read.stderr
        assert json.loads(json.loads(read.stdout)["body"])["name"] == "my-flow"
