"""DELETE /v2/concurrency_limits/{id_or_name} — 204, or 404."""

from fastapi import APIRouter

from domain.services import global_concurrency_limits as limits
from handlers._app import lambda_handler, no_content
from handlers._deps import context

TABLES = ("GlobalConcurrencyLimits", "Guards")
router = APIRouter()


@router.delete("/v2/concurrency_limits/{id_or_name}")
def delete_concurrency_limit_v2(id_or_name: str):
    limits.delete(context(), id_or_name)
    return no_content()


handler = lambda_handler(router)
