"""POST /work_pools/{work_pool_name}/queues — a new queue in the pool (201)."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import work_queues
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("WorkPools", "WorkQueues")
router = APIRouter()


@router.post("/work_pools/{work_pool_name}/queues")
def create_work_pool_queue(work_pool_name: str, body: Body):
    return json_response(work_queues.create_in_pool(context(), work_pool_name, parse_model(work_queues.WorkQueueCreate, body)), 201)


handler = lambda_handler(router)
