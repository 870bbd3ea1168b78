"""POST /deployments/{id}/create_flow_run — 201 new, 200 on an idempotency-key hit."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header

from domain.parsing import parse_model
from domain.services import deployment_runs
from domain.services.deployment_models import DeploymentFlowRunCreate
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("Deployments", "FlowRuns", "FlowRunStates", "Artifacts", "TaskRuns", "TaskRunStates", "ConcurrencyLimits", "Guards",
          "WorkPools", "WorkQueues", "Variables", "BlockDocuments")
router = APIRouter()
BODY = DeploymentFlowRunCreate  # its body model: validated too when the path id is bad (handlers/_app.py)


@router.post("/deployments/{id}/create_flow_run")
def create_flow_run(
    id: UUID,
    body: Body,
    prefect_automation_id: Annotated[str | None, Header()] = None,
    prefect_automation_name: Annotated[str | None, Header()] = None,
):
    created_by = deployment_runs.created_by_from_headers(prefect_automation_id, prefect_automation_name)
    run, created = deployment_runs.create_flow_run(
        context(), str(id), parse_model(DeploymentFlowRunCreate, body),
        created_by=created_by,
    )
    return json_response(run, 201 if created else 200)


handler = lambda_handler(router)
