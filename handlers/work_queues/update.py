"""PATCH /work_queues/{id} (204)."""

from uuid import UUID

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import work_queues
from handlers._app import Body, lambda_handler, no_content
from handlers._deps import context

TABLES = ("WorkPools", "WorkQueues", "Deployments")
router = APIRouter()
BODY = work_queues.WorkQueueUpdate  # its body model: validated too when the path id is bad (handlers/_app.py)


@router.patch("/work_queues/{id}")
def update_work_queue(id: UUID, body: Body):
    work_queues.update_legacy(context(), str(id), parse_model(work_queues.WorkQueueUpdate, body))
    return no_content()


handler = lambda_handler(router)
