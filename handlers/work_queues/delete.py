"""DELETE /work_queues/{id} (204); deployments on it lose their queue."""

from uuid import UUID

from fastapi import APIRouter

from domain.services import work_queues
from handlers._app import lambda_handler, no_content
from handlers._deps import context

TABLES = ("WorkPools", "WorkQueues", "Deployments")
router = APIRouter()


@router.delete("/work_queues/{id}")
def delete_work_queue(id: UUID):
    work_queues.delete_legacy(context(), str(id))
    return no_content()


handler = lambda_handler(router)
