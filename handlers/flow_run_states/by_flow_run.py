"""GET /flow_run_states/?flow_run_id= — a run's states by timestamp."""

from uuid import UUID

from fastapi import APIRouter

from domain.services import run_orchestration
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("FlowRuns", "FlowRunStates")
READ_ONLY = True
router = APIRouter()


@router.get("/flow_run_states/")
def read_flow_run_states(flow_run_id: UUID):
    return json_response(run_orchestration.flow_run_history(context(), str(flow_run_id)))


handler = lambda_handler(router)
