"""POST /deployments/get_scheduled_flow_runs — what flow.serve()'s runner polls."""

from fastapi import APIRouter, BackgroundTasks

from domain.parsing import parse_model
from domain.services import deployment_runs
from domain.services.deployment_models import GetScheduledFlowRuns
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("Deployments", "FlowRuns", "PollRecords")
router = APIRouter()


@router.post("/deployments/get_scheduled_flow_runs")
def get_scheduled_flow_runs(body: Body, background: BackgroundTasks):
    ctx = context()
    runs, dep_ids = deployment_runs.get_scheduled_flow_runs(ctx, parse_model(GetScheduledFlowRuns, body))
    background.add_task(deployment_runs.mark_polled, ctx, dep_ids)
    return json_response(runs)


handler = lambda_handler(router)
