"""POST /work_pools/ — a new pool with its default queue (201); a taken name is a 409."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import work_pools
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("WorkPools", "WorkQueues", "BlockDocuments", "BlockSchemas", "BlockTypes")
router = APIRouter()


@router.post("/work_pools/")
def create_work_pool(body: Body):
    return json_response(work_pools.create(context(), parse_model(work_pools.WorkPoolCreate, body)), 201)


handler = lambda_handler(router)
