"""POST /work_pools/{name}/get_scheduled_flow_runs — what `prefect worker start` polls; the
queues' and deployments' poll bookkeeping runs after the answer."""

from fastapi import APIRouter, BackgroundTasks

from domain.parsing import parse_model
from domain.services import polling
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("WorkPools", "WorkQueues", "FlowRuns", "Deployments", "Guards")
router = APIRouter()


@router.post("/work_pools/{name}/get_scheduled_flow_runs")
def get_scheduled_flow_runs(name: str, body: Body, background: BackgroundTasks):
    ctx = context()
    runs, poll = polling.get_scheduled_flow_runs(ctx, name, parse_model(polling.WorkerPoll, body))
    background.add_task(polling.record, ctx, poll)
    return json_response(runs)


handler = lambda_handler(router)
