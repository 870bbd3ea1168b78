"""GET /flows/name/{name} — one GetItem (flow ids derive from names)."""

from fastapi import APIRouter

from domain.services import flows
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("Flows",)  # logical tables this function touches (its IAM policy in template.yaml)
READ_ONLY = True

router = APIRouter()


@router.get("/flows/name/{name}")
def read_flow_by_name(name: str):
    return json_response(flows.read_by_name(context(), name))


handler = lambda_handler(router)
