"""GET /deployments/{id}/work_queue_check (deprecated) — queues whose legacy filter matches."""

from uuid import UUID

from fastapi import APIRouter

from domain.services import deployment_runs
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("Deployments", "WorkQueues")
READ_ONLY = True
router = APIRouter()


@router.get("/deployments/{id}/work_queue_check")
def work_queue_check(id: UUID):
    return json_response(deployment_runs.work_queue_check(context(), str(id)))


handler = lambda_handler(router)
