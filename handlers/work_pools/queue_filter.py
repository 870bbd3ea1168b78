"""POST /work_pools/{work_pool_name}/queues/filter — by priority, offset/limit."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import work_queues
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("WorkPools", "WorkQueues")
READ_ONLY = True
router = APIRouter()


@router.post("/work_pools/{work_pool_name}/queues/filter")
def filter_work_pool_queues(work_pool_name: str, body: Body):
    return json_response(work_queues.filter_in_pool(context(), work_pool_name, parse_model(work_queues.WorkQueueQuery, body)))


handler = lambda_handler(router)
