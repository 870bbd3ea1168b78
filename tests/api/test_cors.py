"""CORS on the local app, header for header as the 2.20 reference answers (observed with
``prefect server start``: its vendored Starlette CORS middleware and PREFECT_SERVER_CORS_ALLOWED_*)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from domain.context import Ctx
from infra.local.server import build_local_app

ORIGIN = "http://ui.example"
PREFLIGHT = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "content-type,x-prefect-ui"}


def _client(ctx: Ctx, **cors) -> TestClient:
    settings = replace(ctx.settings, **cors)
    app = build_local_app(Ctx(stores=ctx.stores, settings=settings, clock=ctx.clock))
    return TestClient(app, base_url="http://testserver", raise_server_exceptions=False)


def _cors_headers(response) -> dict:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-") or k == "vary"}


@pytest.fixture
def local(dynamo_ctx):
    from handlers import _deps

    yield lambda **cors: _client(dynamo_ctx, **cors)
    _deps.use_context(None)


class TestPreflight:
    def test_default_settings_allow_any_origin_and_echo_requested_headers(self, local):
        r = local().options("/api/flows/filter", headers=PREFLIGHT)
        assert r.status_code == 200
        assert r.text == "OK"
        assert r.headers["content-type"] == "text/plain; charset=utf-8"
        assert _cors_headers(r) == {
            "access-control-allow-origin": "*",
            "access-control-allow-methods": "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT",
            "access-control-max-age": "600",
            "access-control-allow-headers": "content-type,x-prefect-ui",
        }

    def test_listed_origin_is_mirrored_with_vary(self, local):
        r = local(cors_allowed_origins="http://a.example,http://ui.example").options(
            "/api/flows/filter", headers=PREFLIGHT)
        assert r.status_code == 200
        assert _cors_headers(r) == {
            "vary": "Origin",
            "access-control-allow-origin": ORIGIN,
            "access-control-allow-methods": "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT",
            "access-control-max-age": "600",
            "access-control-allow-headers": "content-type,x-prefect-ui",
        }

    def test_unlisted_origin_method_and_header_are_a_400_naming_each(self, local):
        r = local(cors_allowed_origins="http://a.example", cors_allowed_methods="GET",
                  cors_allowed_headers="x-other").options("/api/flows/filter", headers=PREFLIGHT)
        assert r.status_code == 400
        assert r.text == "Disallowed CORS origin, method, headers"
        assert _cors_headers(r) == {
            "vary": "Origin",
            "access-control-allow-methods": "GET",
            "access-control-max-age": "600",
            "access-control-allow-headers": "Accept, Accept-Language, Content-Language, Content-Type, x-other",
        }

    def test_options_without_request_method_is_not_a_preflight(self, local):
        r = local().options("/api/flows/filter", headers={"Origin": ORIGIN})
        assert r.status_code == 405
        assert _cors_headers(r) == {"access-control-allow-origin": "*"}


class TestSimpleRequests:
    def test_any_origin_gets_star_on_the_answer(self, local):
        r = local().post("/api/flows/filter", json={}, headers={"Origin": ORIGIN})
        assert r.status_code == 200
        assert r.json() == []
        assert _cors_headers(r) == {"access-control-allow-origin": "*"}

    def test_no_origin_no_cors_headers(self, local):
        r = local().post("/api/flows/filter", json={})
        assert r.status_code == 200
        assert _cors_headers(r) == {}

    def test_cookie_under_star_gets_the_origin_itself(self, local):
        c = local()
        r = c.post("/api/flows/filter", json={}, headers={"Origin": ORIGIN, "Cookie": "a=b"})
        assert _cors_headers(r) == {"access-control-allow-origin": ORIGIN, "vary": "Origin"}

    def test_unlisted_origin_gets_no_allow_origin(self, local):
        r = local(cors_allowed_origins="http://a.example").post("/api/flows/filter", json={}, headers={"Origin": ORIGIN})
        assert r.status_code == 200
        assert _cors_headers(r) == {}

    def test_errors_carry_the_header_too(self, local):
        r = local().get("/api/flows/00000000-0000-0000-0000-000000000000", headers={"Origin": ORIGIN})
        assert r.status_code == 404
        assert _cors_headers(r) == {"access-control-allow-origin": "*"}


class TestSettings:
    def test_read_from_the_reference_variables(self):
        from domain.settings import Settings

        s = Settings.from_env({"PREFECT_SERVER_CORS_ALLOWED_ORIGINS": "http://a,http://b",
                               "PREFECT_SERVER_CORS_ALLOWED_METHODS": "GET,POST",
                               "PREFECT_SERVER_CORS_ALLOWED_HEADERS": "x-a"})
        assert (s.cors_allowed_origins, s.cors_allowed_methods, s.cors_allowed_headers) == (
            "http://a,http://b", "GET,POST", "x-a")
        assert (Settings().cors_allowed_origins, Settings().cors_allowed_methods,
                Settings().cors_allowed_headers) == ("*", "*", "*")


class TestTemplate:
    def test_http_api_answers_cors_from_the_allowed_origins_parameter(self):
        from infra.sam import build

        tpl = build()
        assert tpl["Parameters"]["AllowedOrigins"]["Default"] == "*"
        assert tpl["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"] == {
            "AllowOrigins": {"Fn::Split": [",", {"Ref": "AllowedOrigins"}]},
            "AllowMethods": ["*"], "AllowHeaders": ["*"], "MaxAge": 600,
        }
