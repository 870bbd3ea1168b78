"""GET /work_queues/{id}."""

from uuid import UUID

from fastapi import APIRouter

from domain.services import work_queues
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("WorkPools", "WorkQueues")
READ_ONLY = True
router = APIRouter()


@router.get("/work_queues/{id}")
def read_work_queue(id: UUID):
    return json_response(work_queues.read_legacy(context(), str(id)))


handler = lambda_handler(router)
