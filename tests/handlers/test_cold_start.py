"""Cold start: handler modules import only what a route needs, and handlers/_coldstart.py's FastAPI
savings hold without changing behaviour. Each check runs in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from infra.local import invoke
from infra.template import ROOT, load


def _fresh(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


HANDLER_MODULES = sorted({invoke.resolve_function(f).handler.rpartition(".")[0] for f in invoke.functions(load())})


class TestHandlerImports:
    def test_no_handler_module_imports_jsonschema_jinja_or_croniter(self):
        got = _fresh(f"""
            import importlib, json, sys
            for name in {HANDLER_MODULES!r}:
                importlib.import_module(name)
            print(json.dumps(sorted(m for m in ("jsonschema", "jinja2", "croniter", "yaml", "moto", "uvicorn")
                                    if m in sys.modules)))
        """)

        assert got == []

    def test_the_authorizer_and_the_scheduler_import_no_web_framework(self):
        got = _fresh("""
            import json, sys
            import handlers.authorizer, handlers.scheduler
            print(json.dumps(sorted(m for m in ("fastapi", "starlette", "mangum", "pydantic") if m in sys.modules)))
        """)

        assert got == []


class TestFastApiSavings:
    def test_openapi_models_are_deferred_and_pydantic_v1_is_not_imported(self):
        got = _fresh("""
            import json, sys
            import handlers.flows.read
            import fastapi.openapi.models as m
            from pydantic import BaseModel
            print(json.dumps({"complete": m.OpenAPI.__pydantic_complete__, "v1": "pydantic.v1" in sys.modules,
                              "base_config": dict(BaseModel.model_config)}))
        """)

        assert got == {"complete": False, "v1": False, "base_config": {}}

    def test_deferred_openapi_models_still_validate_and_generate_a_document(self):
        got = _fresh("""
            import json
            from fastapi import FastAPI
            import handlers.flows.read
            from fastapi.openapi.models import OpenAPI
            doc = OpenAPI.model_validate({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}})
            app = FastAPI()
            app.include_router(handlers.flows.read.router)
            print(json.dumps({"title": doc.info.title, "paths": sorted(app.openapi()["paths"])}))
        """)

        assert got == {"title": "t", "paths": ["/flows/{id}"]}

    def test_fastapi_still_refuses_a_pydantic_v1_model_once_v1_is_in_use(self):
        got = _fresh("""
            import json, warnings
            warnings.simplefilter("ignore")
            import handlers
            from fastapi import APIRouter
            from pydantic import v1

            class Old(v1.BaseModel):
                x: int

            router = APIRouter()
            try:
                @router.post("/old")
                def old(body: Old):
                    return body
                print(json.dumps("accepted"))
            except Exception as exc:
                print(json.dumps(type(exc).__name__))
        """)

        assert got == "PydanticV1NotSupportedError"

    def test_the_hook_only_touches_the_two_fastapi_modules(self):
        from handlers import _coldstart

        finder = _coldstart._Finder()

        assert finder.find_spec("fastapi.routing", None) is None
        assert finder.find_spec("domain.filters", None) is None
