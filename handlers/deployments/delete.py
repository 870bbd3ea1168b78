"""DELETE /deployments/{id} — its SCHEDULED runs, then the deployment (204)."""

from uuid import UUID

from fastapi import APIRouter

from domain.services import deployments
from handlers._app import lambda_handler, no_content
from handlers._deps import context

TABLES = ("Deployments", "FlowRuns", "Guards", "TagIndex", "TaskRuns", "TaskRunStates")
router = APIRouter()


@router.delete("/deployments/{id}")
def delete_deployment(id: UUID):
    deployments.delete(context(), str(id))
    return no_content()


handler = lambda_handler(router)
