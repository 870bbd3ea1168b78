"""POST /concurrency_limits/ — upsert by tag; 200 even for a new limit (reference quirk Q4)."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import concurrency_limits
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("ConcurrencyLimits", "Guards")
router = APIRouter()


@router.post("/concurrency_limits/")
def create_concurrency_limit(body: Body):
    limit = parse_model(concurrency_limits.ConcurrencyLimitCreate, body)
    return json_response(concurrency_limits.upsert(context(), limit))


handler = lambda_handler(router)
