"""POST /flows/filter."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import flows, queries
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("Flows", "Deployments", "FlowRuns", "TaskRuns", "WorkPools", "WorkQueues")
READ_ONLY = True
router = APIRouter()


@router.post("/flows/filter")
def filter_flows(body: Body):
    rows = queries.filter_flows(context(), parse_model(queries.FlowQuery, body))
    return json_response([flows.to_wire(r) for r in rows])


handler = lambda_handler(router)
