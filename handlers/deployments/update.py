"""PATCH /deployments/{id} — partial update, legacy schedule path, 204."""

from uuid import UUID

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import deployments
from domain.services.deployment_models import DeploymentUpdate
from handlers._app import Body, lambda_handler, no_content
from handlers._deps import context

TABLES = ("Deployments", "FlowRuns", "WorkPools", "WorkQueues", "Variables",
          "TagIndex", "TaskRuns", "TaskRunStates", "Guards")
router = APIRouter()
BODY = DeploymentUpdate  # its body model: validated too when the path id is bad (handlers/_app.py)


@router.patch("/deployments/{id}")
def update_deployment(id: UUID, body: Body):
    deployments.update(context(), str(id), parse_model(DeploymentUpdate, body))
    return no_content()


handler = lambda_handler(router)
