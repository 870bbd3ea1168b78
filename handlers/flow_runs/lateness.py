"""POST /flow_runs/lateness — the matching runs' average lateness in seconds, or null."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import run_history
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("FlowRuns", "Flows", "Deployments", "TaskRuns", "WorkPools", "WorkQueues")
READ_ONLY = True
router = APIRouter()


@router.post("/flow_runs/lateness")
def average_flow_run_lateness(body: Body):
    return json_response(run_history.average_lateness(context(), parse_model(run_history.LatenessQuery, body if body is not None else {})))


handler = lambda_handler(router)
