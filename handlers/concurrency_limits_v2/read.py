"""GET /v2/concurrency_limits/{id_or_name} — by id (a UUID) or by name, or 404."""

from fastapi import APIRouter

from domain.services import global_concurrency_limits as limits
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("GlobalConcurrencyLimits", "Guards")
READ_ONLY = True
router = APIRouter()


@router.get("/v2/concurrency_limits/{id_or_name}")
def read_concurrency_limit_v2(id_or_name: str):
    return json_response(limits.read(context(), id_or_name))


handler = lambda_handler(router)
