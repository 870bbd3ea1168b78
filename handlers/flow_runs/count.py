"""POST /flow_runs/count — a bare integer."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import queries
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("FlowRuns", "Flows", "Deployments", "TaskRuns", "WorkPools", "WorkQueues", "Counters", "Guards", "TagIndex")
READ_ONLY = True
router = APIRouter()


@router.post("/flow_runs/count")
def count_flow_runs(body: Body):
    q = parse_model(queries.FlowRunQuery, body, ignore=queries.PAGING)  # the reference's count takes no page or sort
    return json_response(queries.count_flow_runs(context(), q))


handler = lambda_handler(router)
