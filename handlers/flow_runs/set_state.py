"""POST /flow_runs/{id}/set_state — propose (or force) a state; returns an OrchestrationResult
(201 when a state was written, 200 otherwise)."""

from uuid import UUID

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import flow_runs
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("FlowRuns", "FlowRunStates", "Artifacts", "TaskRuns", "TaskRunStates", "ConcurrencyLimits")
router = APIRouter()
BODY = flow_runs.SetStateBody  # its body model: validated too when the path id is bad (handlers/_app.py)


@router.post("/flow_runs/{id}/set_state")
def set_flow_run_state(id: UUID, body: Body):
    result, status = flow_runs.set_state(context(), str(id), parse_model(flow_runs.SetStateBody, body))
    return json_response(result, status)


handler = lambda_handler(router)
