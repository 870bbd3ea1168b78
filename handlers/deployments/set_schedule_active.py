"""POST /deployments/{id:uuid}/set_schedule_active — resume: paused=false, its one schedule active (200 null)."""

from uuid import UUID

from fastapi import APIRouter

from domain.services import deployments
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("Deployments",)
router = APIRouter()


@router.post("/deployments/{id:uuid}/set_schedule_active")
def set_schedule_active(id: UUID):
    deployments.set_paused(context(), str(id), paused=False)
    return json_response(None)


handler = lambda_handler(router)
