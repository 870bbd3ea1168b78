"""POST /work_pools/{work_pool_name}/workers/filter — the pool's workers, newest heartbeat first."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import workers
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("WorkPools", "Workers", "Guards")
READ_ONLY = True
router = APIRouter()


@router.post("/work_pools/{work_pool_name}/workers/filter")
def read_workers(work_pool_name: str, body: Body):
    return json_response(workers.filter_workers(context(), work_pool_name, parse_model(workers.WorkerQuery, body)))


handler = lambda_handler(router)
