"""POST /flow_runs/history — flow runs bucketed by expected start time and state (the reference's
run_history)."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import run_history
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("FlowRuns", "Flows", "Deployments", "TaskRuns", "WorkPools", "WorkQueues")
READ_ONLY = True
router = APIRouter()


@router.post("/flow_runs/history")
def flow_run_history(body: Body):
    return json_response(run_history.flow_run_history(context(), parse_model(run_history.HistoryQuery, body if body is not None else {})))


handler = lambda_handler(router)
