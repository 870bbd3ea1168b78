"""``flowplane serve --api-key K``: the local server's bearer-key check.

The same contract as the deployed API's authorizer, with one accepted key: a request without
``Authorization: Bearer K`` gets ``401 {"detail": "Unauthorized"}`` before any route runs, so nothing
is read or written. (On AWS, API Gateway answers a *missing* header with 401 and a wrong key with 403.)
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from domain.services.api_keys import bearer_token

_BODY = b'{"detail":"Unauthorized"}'


class BearerKeyMiddleware:
    """A pure ASGI middleware (it runs before routing, exception handlers and dependencies)."""

    def __init__(self, app, api_key: str):
        if not api_key:
            raise ValueError("an empty API key would accept nothing")
        self.app = app
        self._key = api_key.encode("utf-8")

    def _allowed(self, scope) -> bool:
        for name, value in scope.get("headers") or ():
            if name.lower() == b"authorization":
                token = bearer_token(value.decode("latin-1"))
                return token is not None and hmac.compare_digest(token.encode("utf-8"), self._key)
        return False

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        await send({
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(_BODY)).encode()),
                (b"www-authenticate", b"Bearer"),
            ],
        })
        await send({"type": "http.response.body", "body": _BODY})


def bearer_key_middleware(api_key: str) -> Callable[[object], None]:
    """``build_app(..., middleware=[bearer_key_middleware(key)])`` installs the check on the app."""
    if not api_key:
        raise ValueError("an empty API key would accept nothing")

    def install(app) -> None:
        app.add_middleware(BearerKeyMiddleware, api_key=api_key)

    return install
