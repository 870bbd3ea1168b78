"""The HTTP API's Lambda authorizer: ``Authorization: Bearer <key>`` against stored key hashes.

A REQUEST authorizer with payload format 2.0 and *simple responses*: the answer is
``{"isAuthorized": bool}`` (plus a ``context`` the routes can read when allowed). API Gateway itself
answers 401 when the ``Authorization`` header is missing (it is the identity source) and 403 when
this function says no; results are cached per header value for ``AuthorizerCacheSeconds``.

Deliberately free of FastAPI/Mangum: it runs in front of every uncached request, so its cold start
is only the domain service and the DynamoDB adapter. A store failure raises (API Gateway answers
500, which clients retry) instead of being reported as a wrong key.
"""

from __future__ import annotations

from typing import Any

from domain.services import api_keys
from handlers._deps import context

TABLES = ("ApiKeys",)  # logical tables this function touches (its IAM policy in template.yaml)
READ_ONLY = True


def _authorization(event: dict) -> str | None:
    headers = event.get("headers") or {}
    for name, value in headers.items():  # HTTP API lowercases header names; be lenient anyway
        if name.lower() == "authorization":
            return value
    identity = event.get("identitySource") or []
    return identity[0] if identity else None


def handler(event: dict, lambda_context: Any = None) -> dict:
    token = api_keys.bearer_token(_authorization(event))
    record = api_keys.verify(context(), token) if token else None
    if record is None:
        return {"isAuthorized": False}
    return {"isAuthorized": True, "context": {"keyId": record["id"], "keyName": record["name"] or ""}}
