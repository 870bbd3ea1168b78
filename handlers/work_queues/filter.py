"""POST /work_queues/filter — queues of every pool by name, offset/limit."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import work_queues
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("WorkPools", "WorkQueues")
READ_ONLY = True
router = APIRouter()


@router.post("/work_queues/filter")
def filter_work_queues(body: Body):
    return json_response(work_queues.filter_legacy(context(), parse_model(work_queues.WorkQueueQuery, body)))


handler = lambda_handler(router)
