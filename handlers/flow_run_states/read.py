"""GET /flow_run_states/{id} — one state of a run's history."""

from uuid import UUID

from fastapi import APIRouter

from domain.services import run_orchestration
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("FlowRunStates", "FlowRuns")
READ_ONLY = True
router = APIRouter()


@router.get("/flow_run_states/{id}")
def read_flow_run_state(id: UUID):
    return json_response(run_orchestration.read_flow_run_state(context(), str(id)))


handler = lambda_handler(router)
