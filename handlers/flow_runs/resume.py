"""POST /flow_runs/{id}/resume — resume a paused (or suspended) run, with optional run input."""

from uuid import UUID

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import run_orchestration
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("FlowRunInputs", "Variables", "FlowRuns", "FlowRunStates", "Artifacts", "TaskRuns", "TaskRunStates",
          "ConcurrencyLimits")
router = APIRouter()
BODY = run_orchestration.ResumeBody  # its body model: validated too when the path id is bad (handlers/_app.py)


@router.post("/flow_runs/{id}/resume")
def resume_flow_run(id: UUID, body: Body):
    parsed = parse_model(run_orchestration.ResumeBody, body)
    result, status = run_orchestration.resume_flow_run(context(), str(id), parsed.run_input)
    return json_response(result, status)


handler = lambda_handler(router)
