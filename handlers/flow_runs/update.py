"""PATCH /flow_runs/{id} — name, tags, parameters, job_variables (only while SCHEDULED) … (204)."""

from uuid import UUID

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import flow_runs
from domain.services.run_job_variables import validator_for
from handlers._app import Body, lambda_handler, no_content
from handlers._deps import context

TABLES = ("FlowRuns", "Deployments", "WorkPools", "BlockDocuments")
router = APIRouter()
BODY = flow_runs.FlowRunUpdate  # its body model: validated too when the path id is bad (handlers/_app.py)


@router.patch("/flow_runs/{id}")
def update_flow_run(id: UUID, body: Body):
    ctx = context()
    update = parse_model(flow_runs.FlowRunUpdate, body)
    flow_runs.update(ctx, str(id), update, validate_job_variables=validator_for(ctx))
    return no_content()


handler = lambda_handler(router)
