"""POST /flow_runs/{id}/input — store a key/value input for a run (201, body null)."""

from uuid import UUID

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import flow_run_inputs
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("FlowRuns", "FlowRunInputs")
router = APIRouter()


@router.post("/flow_runs/{id}/input")
def create_flow_run_input(id: UUID, body: Body):
    flow_run_inputs.create(context(), str(id), parse_model(flow_run_inputs.FlowRunInputCreate, body if body is not None else {}))
    return json_response(None, 201)


handler = lambda_handler(router)
