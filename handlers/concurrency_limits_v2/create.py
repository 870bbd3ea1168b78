"""POST /v2/concurrency_limits/ — a global concurrency limit (201); a taken name is a 409."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import global_concurrency_limits as limits
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("GlobalConcurrencyLimits", "Guards")
router = APIRouter()


@router.post("/v2/concurrency_limits/")
def create_concurrency_limit_v2(body: Body):
    return json_response(limits.create(context(), parse_model(limits.LimitCreate, body)), 201)


handler = lambda_handler(router)
