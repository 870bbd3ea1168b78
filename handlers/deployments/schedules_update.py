"""PATCH /deployments/{id}/schedules/{schedule_id} — 204; deletes auto-scheduled runs."""

from uuid import UUID

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import deployments
from domain.services.deployment_models import DeploymentScheduleUpdate
from handlers._app import Body, lambda_handler, no_content
from handlers._deps import context

TABLES = ("Deployments", "FlowRuns", "TaskRuns", "TaskRunStates", "Guards")
router = APIRouter()
BODY = DeploymentScheduleUpdate  # its body model: validated too when the path id is bad (handlers/_app.py)


@router.patch("/deployments/{id}/schedules/{schedule_id}")
def update_deployment_schedule(id: UUID, schedule_id: UUID, body: Body):
    update = parse_model(DeploymentScheduleUpdate, body)
    deployments.update_schedule(context(), str(id), str(schedule_id), update)
    return no_content()


handler = lambda_handler(router)
