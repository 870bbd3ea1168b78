"""POST /deployments/{id:uuid}/set_schedule_inactive — pause: paused=true, its one schedule inactive, auto-scheduled runs deleted (200 null)."""

from uuid import UUID

from fastapi import APIRouter

from domain.services import deployments
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("Deployments", "FlowRuns", "TaskRuns", "TaskRunStates", "Guards")
router = APIRouter()


@router.post("/deployments/{id:uuid}/set_schedule_inactive")
def set_schedule_inactive(id: UUID):
    deployments.set_paused(context(), str(id), paused=True)
    return json_response(None)


handler = lambda_handler(router)
