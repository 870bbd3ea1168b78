"""POST /work_queues/ — a queue in default-agent-pool (created if missing) (201)."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import work_queues
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("WorkPools", "WorkQueues")
router = APIRouter()


@router.post("/work_queues/")
def create_work_queue(body: Body):
    return json_response(work_queues.create_legacy(context(), parse_model(work_queues.WorkQueueCreate, body)), 201)


handler = lambda_handler(router)
