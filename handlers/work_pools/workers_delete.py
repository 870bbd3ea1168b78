"""DELETE /work_pools/{work_pool_name}/workers/{name} — 204, or 404 `Worker not found.`"""

from fastapi import APIRouter

from domain.services import workers
from handlers._app import lambda_handler, no_content
from handlers._deps import context

TABLES = ("WorkPools", "Workers", "Guards")
router = APIRouter()


@router.delete("/work_pools/{work_pool_name}/workers/{name}")
def delete_worker(work_pool_name: str, name: str):
    workers.delete(context(), work_pool_name, name)
    return no_content()


handler = lambda_handler(router)
