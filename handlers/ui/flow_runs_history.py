"""POST /ui/flow_runs/history — the flow-runs page's scatter plot: one point per run."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import run_history
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("FlowRuns", "Flows", "Deployments", "TaskRuns", "WorkPools", "WorkQueues")
READ_ONLY = True
router = APIRouter()


@router.post("/ui/flow_runs/history")
def read_flow_run_history(body: Body):
    return json_response(run_history.flow_run_scatter(context(), parse_model(run_history.ScatterQuery, body if body is not None else {})))


handler = lambda_handler(router)
