"""POST /flows/ — upsert a flow by name (201 new, 200 existing)."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import flows
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("Flows",)  # logical tables this function touches (its IAM policy in template.yaml)

router = APIRouter()


@router.post("/flows/")
def create_flow(body: Body):
    flow, created = flows.create(context(), parse_model(flows.FlowCreate, body))
    return json_response(flow, 201 if created else 200)


handler = lambda_handler(router)
