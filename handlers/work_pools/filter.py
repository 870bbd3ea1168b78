"""POST /work_pools/filter — by name, offset/limit."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import work_pools
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("WorkPools", "Workers")
READ_ONLY = True
router = APIRouter()


@router.post("/work_pools/filter")
def filter_work_pools(body: Body):
    return json_response(work_pools.filter_pools(context(), parse_model(work_pools.WorkPoolQuery, body)))


handler = lambda_handler(router)
