"""GET /flows/{id}."""

from uuid import UUID

from fastapi import APIRouter

from domain.services import flows
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("Flows",)  # logical tables this function touches (its IAM policy in template.yaml)
READ_ONLY = True

router = APIRouter()


@router.get("/flows/{id}")
def read_flow(id: UUID):
    return json_response(flows.read(context(), str(id)))


handler = lambda_handler(router)
