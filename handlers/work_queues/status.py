"""GET /work_queues/{id}/status — health: late runs and last poll."""

from uuid import UUID

from fastapi import APIRouter

from domain.services import work_queues
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("WorkQueues", "FlowRuns")
READ_ONLY = True
router = APIRouter()


@router.get("/work_queues/{id}/status")
def read_work_queue_status(id: UUID):
    return json_response(work_queues.read_status(context(), str(id)))


handler = lambda_handler(router)
