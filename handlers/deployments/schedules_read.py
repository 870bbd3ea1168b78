"""GET /deployments/{id}/schedules — most recently updated first."""

from uuid import UUID

from fastapi import APIRouter

from domain.services import deployments
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("Deployments",)
READ_ONLY = True
router = APIRouter()


@router.get("/deployments/{id}/schedules")
def read_deployment_schedules(id: UUID):
    return json_response(deployments.read_schedules(context(), str(id)))


handler = lambda_handler(router)
