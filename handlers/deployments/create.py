"""POST /deployments/ — create or upsert on (flow_id, name): 201 new, 200 updated."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import deployments
from domain.services.deployment_models import DeploymentCreate
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("Deployments", "Flows", "FlowRuns", "WorkPools", "WorkQueues",
          "BlockDocuments", "PollRecords", "TagIndex", "TaskRuns", "TaskRunStates", "Guards")
router = APIRouter()


@router.post("/deployments/")
def create_deployment(body: Body):
    dep, created = deployments.create(context(), parse_model(DeploymentCreate, body))
    return json_response(dep, 201 if created else 200)


handler = lambda_handler(router)
