"""The shared Lambda/HTTP plumbing every route module uses.

``handler = lambda_handler(router)`` builds, once per cold start and on first use, a small FastAPI
app holding just that module's route under ``/api`` with flowplane's error mapping, wrapped in
Mangum (``lifespan="off"``). The local server mounts every route module's router into one app with
the same mapping (``build_app``).

Errors are mapped to HTTP here, in one place, by type (never by message text).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import Response

from domain import errors

_VERSION_RE = re.compile(r"^\d+\.\d+\.\d+$")
_MIN_VERSION = (0, 8, 0)

# by type, most specific first
_STATUS: tuple[tuple[type[errors.DomainError], int], ...] = (
    (errors.NotFound, 404),
    (errors.IntegrityConflict, 409),
    (errors.Conflict, 409),
    (errors.Forbidden, 403),
    (errors.BadRequest, 400),
    (errors.Unprocessable, 422),
    (errors.ServiceUnavailable, 503),
)


OUT_OF_RANGE = "A date or number in the request is out of range."


def json_response(content: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(
        json.dumps(content, separators=(",", ":"), ensure_ascii=False),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def no_content() -> Response:
    return Response(status_code=204)


def check_api_version(x_prefect_api_version: Annotated[str | None, Header()] = None) -> None:
    """Spec §2.2: absent is fine; malformed or too old is a 400."""
    if x_prefect_api_version is None:
        return
    if not _VERSION_RE.match(x_prefect_api_version):
        raise errors.BadRequest(
            "Invalid X-PREFECT-API-VERSION header format.Expected header in format 'x.y.z' but received "
            f"{x_prefect_api_version}"
        )
    if tuple(int(p) for p in x_prefect_api_version.split(".")) < _MIN_VERSION:
        raise errors.BadRequest(
            f"The request specified API version {x_prefect_api_version} but this server requires version "
            f"{'.'.join(map(str, _MIN_VERSION))} or higher."
        )


async def json_body(request: Request) -> Any:
    """The request's JSON body (``None`` when there is none) — the one place every body is checked
    before it can reach a store: bad JSON is a 422 envelope; bytes that are not UTF-8 and nesting
    deeper than ``MAX_BODY_DEPTH`` are the reference's 400 (its own parser stops near 1000 levels);
    a lone UTF-16 surrogate (``"\\ud800"``, valid JSON but not Unicode, so it could be stored but
    never read back) is a 422 at its place."""
    from domain.parsing import LONE_SURROGATE, deeper_than, find_lone_surrogate, replace_lone_surrogates

    raw = await request.body()
    if not raw or not raw.strip():
        request.state.body = None
        return None
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, RecursionError):
        request.state.body = None
        raise errors.BadRequest("There was an error parsing the body") from None
    except ValueError as exc:
        request.state.body = raw.decode("utf-8", "replace")
        pos = getattr(exc, "pos", 0)
        raise errors.InvalidInput(
            [{"loc": ["body", pos], "msg": f"{getattr(exc, 'msg', 'Invalid JSON')}", "type": "value_error.jsondecode"}]
        ) from None
    if deeper_than(body):
        request.state.body = None
        raise errors.BadRequest("There was an error parsing the body")
    bad = find_lone_surrogate(body)
    if bad is not None:
        request.state.body = replace_lone_surrogates(body)  # echoed as valid UTF-8
        raise errors.InvalidInput([{"loc": ["body", *bad], "msg": LONE_SURROGATE, "type": "value_error.unicode"}])
    request.state.body = body
    return body


Body = Annotated[Any, Depends(json_body)]


def _envelope(request: Request, detail: list) -> Response:
    return json_response(
        {
            "exception_message": "Invalid request received.",
            "exception_detail": detail,
            "request_body": getattr(request.state, "body", None),
        },
        422,
    )


def _out_of_range_limit(request: Request) -> str | None:
    """The reference's ``LimitBody`` error for a ``…/filter`` body whose ``limit`` is an integer out
    of range, else None. There the limit is checked by a dependency that runs before the body
    model is validated, so it wins over every other error of the body (issue #10 item 4); a body
    that is otherwise valid gets the same text from the service (``queries.check_limit``)."""
    if not request.url.path.endswith("/filter"):
        return None
    body = getattr(request.state, "body", None)
    limit = body.get("limit") if isinstance(body, dict) else None
    if isinstance(limit, bool) or not isinstance(limit, (int, float, str)):
        return None
    try:
        limit = int(limit)  # pydantic v1 ``int``: 201.7 and "201" are 201
    except (TypeError, ValueError, OverflowError):
        return None
    from handlers._deps import context

    maximum = context().settings.api_default_limit
    if limit < 0:
        return "Invalid limit: must be greater than or equal to 0."
    if limit > maximum:
        return f"Invalid limit: must be less than or equal to {maximum}."
    return None


def _body_errors(request: Request) -> list:
    """The body's own errors when a path parameter failed first: the reference validated every
    parameter and listed all errors in one 422 (``[["path","id"], ["body","state","type"]]``). A
    route module with a path id names its body model as ``BODY``."""
    import sys

    from domain.parsing import parse_model

    endpoint = getattr(request.scope.get("route"), "endpoint", None)
    model = getattr(sys.modules.get(getattr(endpoint, "__module__", "")), "BODY", None)
    if model is None:
        return []
    try:
        parse_model(model, getattr(request.state, "body", None))
    except errors.InvalidInput as exc:
        return list(exc.errors)
    return []


def install_error_handlers(app: FastAPI) -> None:
    from domain.parsing import _v1  # translation of pydantic errors to the reference's wording

    async def on_domain_error(request: Request, exc: errors.DomainError) -> Response:
        if isinstance(exc, errors.ServiceUnavailable):
            return json_response({"exception_message": "Service Unavailable"}, 503)
        if isinstance(exc, errors.ObjectNotFound):
            return json_response({"exception_message": exc.detail}, 404)
        for cls, status in _STATUS:
            if isinstance(exc, cls):
                return json_response({"detail": exc.detail}, status)
        return json_response({"detail": exc.detail}, 400)

    async def on_invalid(request: Request, exc: errors.InvalidInput) -> Response:
        limit_error = _out_of_range_limit(request)
        if limit_error is not None:
            return json_response({"detail": limit_error}, 422)
        return _envelope(request, exc.errors)

    async def on_request_validation(request: Request, exc: RequestValidationError) -> Response:
        detail = []
        for err in exc.errors():
            loc = tuple(err.get("loc", ()))
            item = _v1({**err, "loc": loc[1:]}, loc[:1])
            detail.append(item)
        if detail and all(item["loc"][:1] == ["path"] for item in detail):
            detail += _body_errors(request)
        return _envelope(request, detail)

    async def on_overflow(request: Request, exc: OverflowError) -> Response:
        # a date or number from the request pushed a computation past its type's range (a time
        # whose UTC instant is before year 1, an interval of 10**15 days…): the reference answers
        # 500; a clear 422 in its ``HTTPException`` envelope here
        return json_response({"detail": OUT_OF_RANGE}, 422)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        import logging

        logging.getLogger("flowplane").exception("unhandled error on %s %s", request.method, request.url.path)
        return json_response({"exception_message": "Internal Server Error"}, 500)

    app.add_exception_handler(errors.DomainError, on_domain_error)
    app.add_exception_handler(errors.InvalidInput, on_invalid)
    app.add_exception_handler(RequestValidationError, on_request_validation)
    app.add_exception_handler(OverflowError, on_overflow)
    app.add_exception_handler(Exception, on_unexpected)


def build_app(routers: Iterable[APIRouter], *, middleware: Iterable[Callable] = ()) -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None, title="flowplane")
    api = APIRouter(prefix="/api", dependencies=[Depends(check_api_version)])
    for router in routers:
        api.include_router(router)
    app.include_router(api)
    install_error_handlers(app)
    for mw in middleware:
        mw(app)
    return app


def cors_middleware(settings: Any) -> Callable[[FastAPI], None]:
    """CORS as the reference answers it (``handlers/_cors.py``), for the local app. Install it
    last so it is the outermost middleware: a preflight is answered before any auth check. On AWS
    the HttpApi's ``CorsConfiguration`` answers instead (``infra/sam.py``)."""

    def install(app: FastAPI) -> None:
        from handlers._cors import CorsMiddleware

        app.add_middleware(CorsMiddleware, origins=settings.cors_allowed_origins,
                           methods=settings.cors_allowed_methods, headers=settings.cors_allowed_headers)

    return install


def lambda_handler(router: APIRouter) -> Callable[[dict, Any], dict]:
    """The Lambda entry point for one route module; the app is built on first use."""
    state: dict[str, Any] = {}

    def handler(event: dict, context: Any) -> dict:
        adapter = state.get("mangum")
        if adapter is None:
            from mangum import Mangum

            adapter = state["mangum"] = Mangum(build_app([router]), lifespan="off", api_gateway_base_path="/")
        return adapter(event, context)

    handler.router = router  # type: ignore[attr-defined]
    return handler
