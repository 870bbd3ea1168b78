"""GET /work_pools/{work_pool_name}/queues/{name}."""

from fastapi import APIRouter

from domain.services import work_queues
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("WorkPools", "WorkQueues")
READ_ONLY = True
router = APIRouter()


@router.get("/work_pools/{work_pool_name}/queues/{name}")
def read_work_pool_queue(work_pool_name: str, name: str):
    return json_response(work_queues.read_in_pool(context(), work_pool_name, name))


handler = lambda_handler(router)
