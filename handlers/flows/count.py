"""POST /flows/count."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import queries
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("Flows", "Deployments", "FlowRuns", "TaskRuns", "WorkPools", "WorkQueues")
READ_ONLY = True
router = APIRouter()


@router.post("/flows/count")
def count_flows(body: Body):
    q = parse_model(queries.FlowQuery, body, ignore=queries.PAGING)  # the reference's count takes no page or sort
    return json_response(queries.count_flows(context(), q))


handler = lambda_handler(router)
