"""POST /task_runs/history — task runs bucketed by expected start time and state (dashboard)."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import run_history
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("TaskRuns", "FlowRuns", "Flows", "Deployments", "WorkPools", "WorkQueues")
READ_ONLY = True
router = APIRouter()


@router.post("/task_runs/history")
def task_run_history(body: Body):
    return json_response(run_history.task_run_history(context(), parse_model(run_history.HistoryQuery, body if body is not None else {})))


handler = lambda_handler(router)
