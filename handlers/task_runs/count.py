"""POST /task_runs/count."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import queries
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("TaskRuns", "FlowRuns", "Flows", "Deployments", "Counters", "TagIndex")
READ_ONLY = True
router = APIRouter()


@router.post("/task_runs/count")
def count_task_runs(body: Body):
    q = parse_model(queries.TaskRunQuery, body, ignore=queries.PAGING)  # the reference's count takes no page or sort
    return json_response(queries.count_task_runs(context(), q))


handler = lambda_handler(router)
