"""GET /concurrency_limits/{id} — or 404 ``Concurrency limit not found``."""

from uuid import UUID

from fastapi import APIRouter

from domain.services import concurrency_limits
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("ConcurrencyLimits",)
READ_ONLY = True
router = APIRouter()


@router.get("/concurrency_limits/{id}")
def read_concurrency_limit(id: UUID):
    return json_response(concurrency_limits.read(context(), id))


handler = lambda_handler(router)
