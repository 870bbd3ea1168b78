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
    # the reference's task-run history takes no work pool or queue filter (it ignores them)
    q = parse_model(run_history.HistoryQuery, body, ignore=("work_pools", "work_queues"))
    return json_response(run_history.task_run_history(context(), q))


handler = lambda_handler(router)
