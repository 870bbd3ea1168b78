"""POST /flow_runs/filter — planned on indexes, sorted, offset/limit."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import flow_runs, queries
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("FlowRuns", "Flows", "Deployments", "TaskRuns", "WorkPools", "WorkQueues", "TagIndex")
READ_ONLY = True
router = APIRouter()


@router.post("/flow_runs/filter")
def filter_flow_runs(body: Body):
    ctx = context()
    rows = queries.filter_flow_runs(ctx, parse_model(queries.FlowRunQuery, body))
    now = ctx.now()
    return json_response([flow_runs.to_wire(r, now) for r in rows])


handler = lambda_handler(router)
