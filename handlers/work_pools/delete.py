"""DELETE /work_pools/{name} — its queues go, deployments on them lose their queue (204)."""

from fastapi import APIRouter

from domain.services import work_pools
from handlers._app import lambda_handler, no_content
from handlers._deps import context

TABLES = ("WorkPools", "WorkQueues", "Deployments", "Workers")
router = APIRouter()


@router.delete("/work_pools/{work_pool_name}")
def delete_work_pool(work_pool_name: str):
    work_pools.delete(context(), work_pool_name)
    return no_content()


handler = lambda_handler(router)
