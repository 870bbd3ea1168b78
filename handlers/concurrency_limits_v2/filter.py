"""POST /v2/concurrency_limits/filter — every global limit ordered by name, offset/limit."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import global_concurrency_limits as limits
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("GlobalConcurrencyLimits", "Guards")
READ_ONLY = True
router = APIRouter()


@router.post("/v2/concurrency_limits/filter")
def read_all_concurrency_limits_v2(body: Body):
    return json_response(limits.filter_limits(context(), parse_model(limits.LimitQuery, body)))


handler = lambda_handler(router)
