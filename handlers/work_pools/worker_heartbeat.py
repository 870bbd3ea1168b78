"""POST /work_pools/{work_pool_name}/workers/heartbeat — a worker is alive: its record is
upserted (204). The pool's READY/NOT_READY follows from its workers when read."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import workers
from handlers._app import Body, lambda_handler, no_content
from handlers._deps import context

TABLES = ("WorkPools", "Workers", "Guards")
router = APIRouter()


@router.post("/work_pools/{work_pool_name}/workers/heartbeat")
def worker_heartbeat(work_pool_name: str, body: Body):
    workers.heartbeat(context(), work_pool_name, parse_model(workers.WorkerHeartbeat, body))
    return no_content()


handler = lambda_handler(router)
