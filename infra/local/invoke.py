"""``flowplane invoke``: what ``sam local invoke`` does, without Docker.

The function's handler, environment (``Globals`` merged with the function's own variables, template
references resolved to local values), memory size and timeout come from ``template.yaml``. The handler
runs in this process with a Lambda context object and the standard ``AWS_LAMBDA_*`` variables, its
logs go to stderr, the JSON result goes to stdout, and failures are reported the way Lambda reports
them (``{"errorMessage", "errorType", "requestId", "stackTrace"}``, exit code 1). A ``REPORT`` line
with the durations goes to stderr, as in CloudWatch.

Tables are the ones ``flowplane serve`` uses (``flowplane-local-<Logical>``), on an embedded moto
server by default or on ``--dynamodb-endpoint`` (DynamoDB Local, LocalStack, or the same endpoint a
``flowplane serve --dynamodb-endpoint`` is using — then both see the same data).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import json
import os
import queue
import re
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any

from domain.settings import Settings
from infra.template import ROOT, load

LOCAL_TABLE_PREFIX = "flowplane-local-"
REGION = "us-east-1"
ACCOUNT = "123456789012"
PSEUDO = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "flowplane-local",
}


class UnknownFunction(LookupError):
    pass


@dataclass
class FunctionSpec:
    function_id: str
    function_name: str
    handler: str
    runtime: str
    memory_mb: int
    timeout_s: float
    env: dict[str, str] = field(default_factory=dict)


class LambdaContext:
    """The context object the Python runtime passes to a handler (``awslambdaric``'s attributes)."""

    def __init__(self, spec: FunctionSpec, request_id: str | None = None):
        self.function_name = spec.function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{spec.function_name}"
        self.memory_limit_in_mb = spec.memory_mb
        self.aws_request_id = request_id or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec.function_name}"
        today = dt.datetime.now(dt.timezone.utc).strftime("%Y/%m/%d")
        self.log_stream_name = f"{today}/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline = time.monotonic() + spec.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    def __repr__(self) -> str:
        return f"LambdaContext(function_name={self.function_name!r}, aws_request_id={self.aws_request_id!r})"


# --------------------------------------------------------------------------------------------
# template.yaml -> FunctionSpec


def _parameter_defaults(template: dict) -> dict[str, str]:
    return {k: str(v.get("Default", "")) for k, v in (template.get("Parameters") or {}).items()}


def _resolver(template: dict, settings: Settings):
    params = _parameter_defaults(template)
    resources = template.get("Resources") or {}

    def ref(name: str) -> str:
        if name in params:
            return params[name]
        if name in PSEUDO:
            return PSEUDO[name]
        res = resources.get(name)
        if res is not None and res.get("Type") == "AWS::DynamoDB::Table" and name.endswith("Table"):
            return settings.table(name[: -len("Table")])
        if res is not None and res.get("Type") == "AWS::SQS::Queue":
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"
        return name

    def resolve(value: Any) -> Any:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float | str):
            return str(value)
        if isinstance(value, dict) and len(value) == 1:
            (fn, arg), = value.items()
            if fn == "Ref":
                return ref(arg)
            if fn == "Fn::Sub":
                text, local = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
                return re.sub(r"\$\{([^}!]+)\}",
                              lambda m: resolve(local[m.group(1)]) if m.group(1) in local else ref(m.group(1)), text)
            if fn == "Fn::GetAtt":
                name, attr = arg if isinstance(arg, list) else arg.split(".", 1)
                return f"arn:aws:local:{REGION}:{ACCOUNT}:{name}/{attr}"
        return json.dumps(value)

    return resolve


def local_settings(endpoint: str | None = None) -> Settings:
    return Settings(table_prefix=LOCAL_TABLE_PREFIX, dynamodb_endpoint=endpoint, region=REGION)


def functions(template: dict | None = None) -> list[str]:
    template = template or load()
    return [rid for rid, r in (template.get("Resources") or {}).items() if r.get("Type") == "AWS::Serverless::Function"]


def resolve_function(function_id: str, template: dict | None = None, settings: Settings | None = None) -> FunctionSpec:
    template = template or load()
    settings = settings or local_settings()
    res = (template.get("Resources") or {}).get(function_id)
    if res is None or res.get("Type") != "AWS::Serverless::Function":
        raise UnknownFunction(f"{function_id} is not a function of template.yaml; functions: {', '.join(functions(template))}")
    glob = (template.get("Globals") or {}).get("Function") or {}
    props = res.get("Properties") or {}
    resolve = _resolver(template, settings)
    env_raw = {**((glob.get("Environment") or {}).get("Variables") or {}),
               **((props.get("Environment") or {}).get("Variables") or {})}
    name = props.get("FunctionName")
    return FunctionSpec(
        function_id=function_id,
        function_name=resolve(name) if name is not None else function_id,
        handler=props.get("Handler", glob.get("Handler")),
        runtime=props.get("Runtime", glob.get("Runtime", "python3.12")),
        memory_mb=int(resolve(props.get("MemorySize", glob.get("MemorySize", 128)))),
        timeout_s=float(resolve(props.get("Timeout", glob.get("Timeout", 3)))),
        env={k: resolve(v) for k, v in env_raw.items()},
    )


# --------------------------------------------------------------------------------------------
# Running a handler


def lambda_error(exc: BaseException, request_id: str, error_type: str | None = None, message: str | None = None) -> dict:
    return {
        "errorMessage": message if message is not None else str(exc),
        "errorType": error_type or type(exc).__name__,
        "requestId": request_id,
        # the handler's frames, as the runtime shows them (not this runner's)
        "stackTrace": traceback.format_list([f for f in traceback.extract_tb(exc.__traceback__)
                                             if f.filename != __file__]) if exc.__traceback__ else [],
    }


def runtime_env(spec: FunctionSpec, settings: Settings) -> dict[str, str]:
    """The variables Lambda sets for every function, then the template's, then the store's endpoint."""
    env = {
        "AWS_REGION": settings.region,
        "AWS_DEFAULT_REGION": settings.region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.function_name}",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "LAMBDA_TASK_ROOT": str(ROOT),
        "_HANDLER": spec.handler,
        **spec.env,
    }
    if settings.dynamodb_endpoint:
        env["FLOWPLANE_DYNAMODB_ENDPOINT"] = settings.dynamodb_endpoint
    return env


@dataclass
class Invocation:
    ok: bool
    result: Any
    request_id: str
    init_ms: float
    duration_ms: float

    def report(self, spec: FunctionSpec) -> str:
        import resource

        max_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        billed = int(self.duration_ms) + 1
        init = f"\tInit Duration: {self.init_ms:.2f} ms" if self.init_ms else ""
        return (f"REPORT RequestId: {self.request_id}\tDuration: {self.duration_ms:.2f} ms\t"
                f"Billed Duration: {billed} ms\tMemory Size: {spec.memory_mb} MB\tMax Memory Used: {max_mb} MB{init}")


def invoke(spec: FunctionSpec, event: Any, settings: Settings, *, request_id: str | None = None) -> Invocation:
    """Run ``spec``'s handler on ``event`` in this process, with its environment, context and timeout."""
    request_id = request_id or str(uuid.uuid4())
    saved = dict(os.environ)
    os.environ.update(runtime_env(spec, settings))
    try:
        return _invoke(spec, event, request_id)
    finally:  # the process outlives the "sandbox": leave the environment as it was
        os.environ.clear()
        os.environ.update(saved)


class _Runtime:
    """One long-lived thread that runs handlers, as Lambda's runtime runs them on one thread: state a
    handler keeps between invocations (Mangum's event loop, cached clients) stays valid."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._loop, name="lambda-runtime", daemon=True).start()

    def _loop(self) -> None:
        import asyncio

        asyncio.set_event_loop(asyncio.new_event_loop())
        while True:
            fn, event, context, outcome, done = self._jobs.get()
            try:
                outcome["result"] = fn(event, context)
            except BaseException as exc:  # noqa: BLE001 - a handler failure is the result
                outcome["error"] = exc
            done.set()

    def run(self, fn, event, context, timeout_s: float) -> dict | None:
        """The outcome (``result`` or ``error``), or None when the handler is still running at the timeout."""
        outcome: dict[str, Any] = {}
        done = threading.Event()
        self._jobs.put((fn, event, context, outcome, done))
        return outcome if done.wait(timeout_s) else None


_RUNTIME: _Runtime | None = None
_RUNTIME_LOCK = threading.Lock()


def _runtime() -> _Runtime:
    global _RUNTIME
    with _RUNTIME_LOCK:
        if _RUNTIME is None:
            _RUNTIME = _Runtime()
        return _RUNTIME


def _reset_runtime() -> None:
    """Abandon a runtime whose handler timed out (its daemon thread dies with the process)."""
    global _RUNTIME
    with _RUNTIME_LOCK:
        _RUNTIME = None


def _invoke(spec: FunctionSpec, event: Any, request_id: str) -> Invocation:
    from handlers import _deps

    _deps.use_context(None)  # the composition root rebuilds from this function's environment
    module_name, _, attr = spec.handler.rpartition(".")
    t0 = time.perf_counter()
    init_ms = 0.0
    try:
        fresh = module_name not in sys.modules
        module = importlib.import_module(module_name)
        if fresh:
            init_ms = (time.perf_counter() - t0) * 1000
    except Exception as exc:  # noqa: BLE001 - reported as the runtime does
        return Invocation(False, lambda_error(exc, request_id, "Runtime.ImportModuleError",
                                              f"Unable to import module '{module_name}': {exc}"), request_id, 0, 0)
    fn = getattr(module, attr, None)
    if not callable(fn):
        err = {"errorMessage": f"Handler '{attr}' missing on module '{module_name}'",
               "errorType": "Runtime.HandlerNotFound", "requestId": request_id, "stackTrace": []}
        return Invocation(False, err, request_id, init_ms, 0)

    context = LambdaContext(spec, request_id)
    t1 = time.perf_counter()
    outcome = _runtime().run(fn, event, context, spec.timeout_s)
    duration = (time.perf_counter() - t1) * 1000
    if outcome is None:
        _reset_runtime()  # like Lambda after a timeout: the next invocation gets a fresh runtime
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        err = {"errorMessage": f"{stamp} {request_id} Task timed out after {spec.timeout_s:.2f} seconds",
               "errorType": "Sandbox.Timedout", "requestId": request_id, "stackTrace": []}
        return Invocation(False, err, request_id, init_ms, duration)
    if "error" in outcome:
        return Invocation(False, lambda_error(outcome["error"], request_id), request_id, init_ms, duration)
    result = outcome.get("result")
    try:
        json.dumps(result)
    except (TypeError, ValueError) as exc:
        return Invocation(False, lambda_error(exc, request_id, "Runtime.MarshalError",
                                              f"Unable to marshal response: {exc}"), request_id, init_ms, duration)
    return Invocation(True, result, request_id, init_ms, duration)


def read_event(path: str | None, function_id: str) -> Any:
    """``-e FILE`` (``-`` is stdin); without it ``events/<FUNCTION>.json`` when present, else ``{}``."""
    from infra.local.events import EVENTS

    if path == "-":
        return json.load(sys.stdin)
    if path is None:
        default = EVENTS / f"{function_id}.json"
        if not default.exists():
            return {}
        path = str(default)
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def main(args) -> int:
    """The ``flowplane invoke`` command (arguments from infra.local.commands)."""
    template = load(args.template) if args.template else load()
    try:
        spec = resolve_function(args.function, template)
        event = read_event(args.event, args.function)
    except UnknownFunction as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print(f"cannot read the event: {exc}", file=sys.stderr)
        return 2

    import logging

    from infra.local import store as local_store

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the embedded moto server's access log
    with contextlib.redirect_stdout(sys.stderr):  # only the result goes to stdout
        store = local_store.start(local_settings(), args.dynamodb_endpoint)
        try:
            request_id = str(uuid.uuid4())
            print(f"START RequestId: {request_id} Version: $LATEST ({spec.function_id}: {spec.handler}, "
                  f"DynamoDB {store.endpoint})")
            inv = invoke(spec, event, store.settings, request_id=request_id)
            print(inv.report(spec))
        finally:
            store.stop()
    sys.stdout.write(json.dumps(inv.result) + "\n")
    sys.stdout.flush()
    return 0 if inv.ok else 1
