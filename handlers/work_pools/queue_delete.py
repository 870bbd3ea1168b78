"""DELETE /work_pools/{work_pool_name}/queues/{name} (204); never the pool's default queue."""

from fastapi import APIRouter

from domain.services import work_queues
from handlers._app import lambda_handler, no_content
from handlers._deps import context

TABLES = ("WorkPools", "WorkQueues", "Deployments")
router = APIRouter()


@router.delete("/work_pools/{work_pool_name}/queues/{name}")
def delete_work_pool_queue(work_pool_name: str, name: str):
    work_queues.delete_in_pool(context(), work_pool_name, name)
    return no_content()


handler = lambda_handler(router)
