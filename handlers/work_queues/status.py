"""GET /work_queues/{id}/status — health: late runs and last poll."""

from uuid import UUID

from fastapi import APIRouter

from domain.services import polling
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("WorkQueues", "FlowRuns")
READ_ONLY = True
router = APIRouter()


@router.get("/work_queues/{id}/status")
def read_work_queue_status(id: UUID):
    return json_response(polling.queue_health(context(), str(id)))


handler = lambda_handler(router)
