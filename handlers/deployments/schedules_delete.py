"""DELETE /deployments/{id}/schedules/{schedule_id} — 204; deletes auto-scheduled runs."""

from uuid import UUID

from fastapi import APIRouter

from domain.services import deployments
from handlers._app import lambda_handler, no_content
from handlers._deps import context

TABLES = ("Deployments", "FlowRuns", "TaskRuns", "TaskRunStates", "Guards")
router = APIRouter()


@router.delete("/deployments/{id}/schedules/{schedule_id}")
def delete_deployment_schedule(id: UUID, schedule_id: UUID):
    deployments.delete_schedule(context(), str(id), str(schedule_id))
    return no_content()


handler = lambda_handler(router)
