"""POST /work_pools/count — a bare integer."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import work_pools
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("WorkPools",)
READ_ONLY = True
router = APIRouter()


@router.post("/work_pools/count")
def count_work_pools(body: Body):
    return json_response(work_pools.count_pools(context(), parse_model(work_pools.WorkPoolCount, body)))


handler = lambda_handler(router)
