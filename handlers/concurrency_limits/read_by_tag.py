"""GET /concurrency_limits/tag/{tag} — or 404 ``Concurrency limit not found``."""

from fastapi import APIRouter

from domain.services import concurrency_limits
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("ConcurrencyLimits", "Guards")
READ_ONLY = True
router = APIRouter()


@router.get("/concurrency_limits/tag/{tag}")
def read_concurrency_limit_by_tag(tag: str):
    return json_response(concurrency_limits.read_tag(context(), tag))


handler = lambda_handler(router)
