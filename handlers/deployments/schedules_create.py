"""POST /deployments/{id}/schedules — append schedules (201, in input order)."""

from uuid import UUID

from fastapi import APIRouter
from pydantic import TypeAdapter

from domain.parsing import parse_list
from domain.services import deployments
from domain.services.deployment_models import DeploymentScheduleCreate
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("Deployments",)
router = APIRouter()
_items = TypeAdapter(list[DeploymentScheduleCreate])


@router.post("/deployments/{id}/schedules")
def create_deployment_schedules(id: UUID, body: Body):
    items = parse_list(_items, body)
    return json_response(deployments.create_schedules(context(), str(id), items), 201)


handler = lambda_handler(router)
