"""POST /flow_runs/{id}/input/filter — a run's inputs by key prefix, oldest first."""

from uuid import UUID

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import flow_run_inputs
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("FlowRunInputs",)
READ_ONLY = True
router = APIRouter()


@router.post("/flow_runs/{id}/input/filter")
def filter_flow_run_input(id: UUID, body: Body):
    query = parse_model(flow_run_inputs.FlowRunInputFilter, body)
    return json_response(flow_run_inputs.filter_inputs(context(), str(id), query))


handler = lambda_handler(router)
