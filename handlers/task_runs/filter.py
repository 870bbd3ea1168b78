"""POST /task_runs/filter."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import queries, task_runs
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("TaskRuns", "FlowRuns", "Flows", "Deployments", "TagIndex")
READ_ONLY = True
router = APIRouter()


@router.post("/task_runs/filter")
def filter_task_runs(body: Body):
    ctx = context()
    rows = queries.filter_task_runs(ctx, parse_model(queries.TaskRunQuery, body))
    return json_response([task_runs.to_wire(r, ctx.now()) for r in rows])


handler = lambda_handler(router)
