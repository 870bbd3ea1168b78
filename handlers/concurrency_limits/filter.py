"""POST /concurrency_limits/filter — every limit ordered by tag, offset/limit."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import concurrency_limits
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("ConcurrencyLimits", "Guards")
READ_ONLY = True
router = APIRouter()


@router.post("/concurrency_limits/filter")
def filter_concurrency_limits(body: Body):
    q = parse_model(concurrency_limits.ConcurrencyLimitQuery, body)
    return json_response(concurrency_limits.filter_limits(context(), q))


handler = lambda_handler(router)
