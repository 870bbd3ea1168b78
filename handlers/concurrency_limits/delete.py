"""DELETE /concurrency_limits/{id} — 200 ``null`` (reference quirk Q4), the tag's guard with it."""

from uuid import UUID

from fastapi import APIRouter

from domain.services import concurrency_limits
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("ConcurrencyLimits", "Guards")
router = APIRouter()


@router.delete("/concurrency_limits/{id}")
def delete_concurrency_limit(id: UUID):
    concurrency_limits.delete(context(), id)
    return json_response(None)


handler = lambda_handler(router)
