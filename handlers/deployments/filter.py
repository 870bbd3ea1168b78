"""POST /deployments/filter — planned on indexes, sorted, offset/limit."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import deployments, queries
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("Deployments", "Flows", "FlowRuns", "TaskRuns", "WorkPools", "WorkQueues", "PollRecords", "TagIndex")
READ_ONLY = True
router = APIRouter()


@router.post("/deployments/filter")
def filter_deployments(body: Body):
    q = parse_model(queries.DeploymentQuery, body)
    ctx = context()
    return json_response(deployments.to_wire_many(queries.filter_deployments(ctx, q), ctx))


handler = lambda_handler(router)
