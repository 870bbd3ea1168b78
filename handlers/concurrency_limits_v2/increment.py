"""POST /v2/concurrency_limits/increment — take slots on every named limit (200), or 423 with
``Retry-After`` when one is full."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import global_concurrency_limits as limits
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("GlobalConcurrencyLimits", "Guards")
router = APIRouter()


@router.post("/v2/concurrency_limits/increment")
def bulk_increment_active_slots(body: Body):
    taken = limits.increment(context(), parse_model(limits.IncrementBody, body))
    if taken.retry_after is not None:
        return json_response({"detail": "Locked"}, 423, headers={"Retry-After": str(taken.retry_after)})
    return json_response(taken.limits)


handler = lambda_handler(router)
