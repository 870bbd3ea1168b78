"""GET /work_pools/{name} — one GetItem (pool ids derive from names)."""

from fastapi import APIRouter

from domain.services import work_pools
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("WorkPools", "Workers")
READ_ONLY = True
router = APIRouter()


@router.get("/work_pools/{work_pool_name}")
def read_work_pool(work_pool_name: str):
    return json_response(work_pools.read(context(), work_pool_name))


handler = lambda_handler(router)
