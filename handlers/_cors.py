"""CORS for the local app, answering exactly as the 2.20 reference does.

The reference installs its (vendored) Starlette CORS middleware with the comma-separated settings
``PREFECT_SERVER_CORS_ALLOWED_ORIGINS`` / ``_METHODS`` / ``_HEADERS`` (``*`` each by default). The
Starlette in this project adds ``Vary`` to every answer and a ``QUERY`` method, so the headers are
produced here from the observed behaviour instead:

- no ``Origin`` header: the request passes untouched;
- preflight (``OPTIONS`` with ``Access-Control-Request-Method``): ``200 OK`` (``text/plain``) or
  ``400 Disallowed CORS origin, method, headers`` with ``access-control-allow-origin`` (``*``, or
  the origin itself plus ``vary: Origin`` when origins are listed), ``access-control-allow-methods``
  (``*`` = ``DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT``), ``access-control-max-age: 600`` and
  ``access-control-allow-headers`` (the requested headers echoed when ``*``, else the allowed ones
  plus the CORS-safelisted ones, sorted);
- any other request: the route's answer plus ``access-control-allow-origin`` (``*``; the origin
  itself and ``vary: Origin`` when origins are listed, or when a cookie is sent under ``*``).
"""

from __future__ import annotations

ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
SAFELISTED_HEADERS = ("Accept", "Accept-Language", "Content-Language", "Content-Type")
MAX_AGE = 600


def _split(value: str) -> list[str]:
    return value.split(",")


class CorsMiddleware:
    """A pure ASGI middleware; install it outermost so a preflight never meets an auth check."""

    def __init__(self, app, origins: str = "*", methods: str = "*", headers: str = "*"):
        self.app = app
        self.origins = _split(origins)
        self.any_origin = "*" in self.origins
        self.methods = ALL_METHODS if "*" in _split(methods) else tuple(_split(methods))
        header_list = _split(headers)
        self.any_header = "*" in header_list
        allowed = sorted(set(SAFELISTED_HEADERS) | set(header_list))
        self.allowed_headers_text = ", ".join(allowed)
        self.allowed_headers = {h.lower() for h in allowed}

    def _origin_allowed(self, origin: str) -> bool:
        return self.any_origin or origin in self.origins

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        req = {}
        for name, value in scope.get("headers") or ():
            key = name.decode("latin-1").lower()
            req[key] = f"{req[key]},{value.decode('latin-1')}" if key in req else value.decode("latin-1")
        origin = req.get("origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and "access-control-request-method" in req:
            await self._preflight(req, send)
            return
        await self.app(scope, receive, self._simple_sender(send, origin, "cookie" in req))

    async def _preflight(self, req: dict, send) -> None:
        origin = req["origin"]
        out: list[tuple[str, str]] = []
        failures = []
        if self.any_origin:
            out.append(("access-control-allow-origin", "*"))
        else:
            out.append(("vary", "Origin"))
            if self._origin_allowed(origin):
                out.append(("access-control-allow-origin", origin))
            else:
                failures.append("origin")
        out.append(("access-control-allow-methods", ", ".join(self.methods)))
        out.append(("access-control-max-age", str(MAX_AGE)))
        if req["access-control-request-method"] not in self.methods:
            failures.append("method")
        requested = req.get("access-control-request-headers")
        if self.any_header:
            if requested is not None:
                out.append(("access-control-allow-headers", requested))
        else:
            out.append(("access-control-allow-headers", self.allowed_headers_text))
            if requested is not None and any(
                h.strip().lower() not in self.allowed_headers for h in requested.split(",")
            ):
                failures.append("headers")
        body = ("Disallowed CORS " + ", ".join(failures) if failures else "OK").encode()
        out += [("content-length", str(len(body))), ("content-type", "text/plain; charset=utf-8")]
        await send({
            "type": "http.response.start",
            "status": 400 if failures else 200,
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in out],
        })
        await send({"type": "http.response.body", "body": body})

    def _simple_sender(self, send, origin: str, has_cookie: bool):
        explicit = (self.any_origin and has_cookie) or (not self.any_origin and self._origin_allowed(origin))

        async def sender(message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() != b"access-control-allow-origin"]
                if explicit:
                    headers.append((b"access-control-allow-origin", origin.encode("latin-1")))
                    vary = [v for k, v in headers if k.lower() == b"vary"]
                    if vary:
                        headers = [(k, v) for k, v in headers if k.lower() != b"vary"]
                        headers.append((b"vary", vary[0] + b", Origin"))
                    else:
                        headers.append((b"vary", b"Origin"))
                elif self.any_origin:
                    headers.append((b"access-control-allow-origin", b"*"))
                message = {**message, "headers": headers}
            await send(message)

        return sender
