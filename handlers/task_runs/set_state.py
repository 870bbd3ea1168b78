"""POST /task_runs/{id}/set_state — orchestrate a proposed task-run state; answers an
OrchestrationResult (201 when a state was written, else 200)."""

from uuid import UUID

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import task_runs
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("TaskRuns", "FlowRuns", "TaskRunStates", "ConcurrencyLimits", "Artifacts", "ArtifactCollections")
router = APIRouter()
BODY = task_runs.SetTaskRunStateBody  # its body model: validated too when the path id is bad (handlers/_app.py)


@router.post("/task_runs/{id}/set_state")
def set_task_run_state(id: UUID, body: Body):
    result, status = task_runs.set_state(context(), str(id), parse_model(task_runs.SetTaskRunStateBody, body))
    return json_response(result, status)


handler = lambda_handler(router)
