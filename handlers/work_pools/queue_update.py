"""PATCH /work_pools/{work_pool_name}/queues/{name} (204); a priority change re-ranks the pool's queues."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import work_queues
from handlers._app import Body, lambda_handler, no_content
from handlers._deps import context

TABLES = ("WorkPools", "WorkQueues", "Deployments")
router = APIRouter()


@router.patch("/work_pools/{work_pool_name}/queues/{name}")
def update_work_pool_queue(work_pool_name: str, name: str, body: Body):
    work_queues.update_in_pool(context(), work_pool_name, name, parse_model(work_queues.WorkQueueUpdate, body))
    return no_content()


handler = lambda_handler(router)
