"""POST /concurrency_limits/tag/{tag}/reset — active slots := ``slot_override`` or none; 200 ``null``."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import concurrency_limits
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("ConcurrencyLimits", "Guards")
router = APIRouter()


@router.post("/concurrency_limits/tag/{tag}/reset")
def reset_concurrency_limit_by_tag(tag: str, body: Body):
    concurrency_limits.reset(context(), tag, parse_model(concurrency_limits.ResetBody, body))
    return json_response(None)


handler = lambda_handler(router)
