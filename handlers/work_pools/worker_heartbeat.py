"""POST /work_pools/{work_pool_name}/workers/heartbeat — a worker is alive (204); a NOT_READY
pool becomes READY."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import work_pools
from handlers._app import Body, lambda_handler, no_content
from handlers._deps import context

TABLES = ("WorkPools",)
router = APIRouter()


@router.post("/work_pools/{work_pool_name}/workers/heartbeat")
def worker_heartbeat(work_pool_name: str, body: Body):
    work_pools.worker_heartbeat(context(), work_pool_name, parse_model(work_pools.WorkerHeartbeat, body))
    return no_content()


handler = lambda_handler(router)
