"""GET /work_queues/name/{name} — the queue of that name in default-agent-pool."""

from fastapi import APIRouter

from domain.services import work_queues
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("WorkPools", "WorkQueues")
READ_ONLY = True
router = APIRouter()


@router.get("/work_queues/name/{name}")
def read_work_queue_by_name(name: str):
    return json_response(work_queues.read_legacy_by_name(context(), name))


handler = lambda_handler(router)
