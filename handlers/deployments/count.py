"""POST /deployments/count — a bare integer."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import queries
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("Deployments", "Flows", "FlowRuns", "TaskRuns", "WorkPools", "WorkQueues", "TagIndex")
READ_ONLY = True
router = APIRouter()


@router.post("/deployments/count")
def count_deployments(body: Body):
    q = parse_model(queries.DeploymentQuery, body, ignore=queries.PAGING)  # the reference's count takes no page or sort
    return json_response(queries.count_deployments(context(), q))


handler = lambda_handler(router)
