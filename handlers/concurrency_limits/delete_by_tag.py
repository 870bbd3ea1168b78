"""DELETE /concurrency_limits/tag/{tag} — 200 ``null`` (reference quirk Q4), the guard with it."""

from fastapi import APIRouter

from domain.services import concurrency_limits
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("ConcurrencyLimits", "Guards")
router = APIRouter()


@router.delete("/concurrency_limits/tag/{tag}")
def delete_concurrency_limit_by_tag(tag: str):
    concurrency_limits.delete_by_tag(context(), tag)
    return json_response(None)


handler = lambda_handler(router)
