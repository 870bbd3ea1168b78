"""PATCH /v2/concurrency_limits/{id_or_name} — 204, or 404; renaming onto a taken name is a 409."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import global_concurrency_limits as limits
from handlers._app import Body, lambda_handler, no_content
from handlers._deps import context

TABLES = ("GlobalConcurrencyLimits", "Guards")
router = APIRouter()


@router.patch("/v2/concurrency_limits/{id_or_name}")
def update_concurrency_limit_v2(id_or_name: str, body: Body):
    limits.update(context(), id_or_name, parse_model(limits.LimitUpdate, body))
    return no_content()


handler = lambda_handler(router)
