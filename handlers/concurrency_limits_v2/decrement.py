"""POST /v2/concurrency_limits/decrement — release slots on every named limit (200)."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import global_concurrency_limits as limits
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("GlobalConcurrencyLimits", "Guards")
router = APIRouter()


@router.post("/v2/concurrency_limits/decrement")
def bulk_decrement_active_slots(body: Body):
    return json_response(limits.decrement(context(), parse_model(limits.DecrementBody, body)))


handler = lambda_handler(router)
