"""PATCH /work_pools/{name} (204)."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import work_pools
from handlers._app import Body, lambda_handler, no_content
from handlers._deps import context

TABLES = ("WorkPools",)
router = APIRouter()


@router.patch("/work_pools/{work_pool_name}")
def update_work_pool(work_pool_name: str, body: Body):
    work_pools.update(context(), work_pool_name, parse_model(work_pools.WorkPoolUpdate, body))
    return no_content()


handler = lambda_handler(router)
