"""PATCH /flows/{id} — tags only (204)."""

from uuid import UUID

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import flows
from handlers._app import Body, lambda_handler, no_content
from handlers._deps import context

TABLES = ("Flows",)  # logical tables this function touches (its IAM policy in template.yaml)

router = APIRouter()
BODY = flows.FlowUpdate  # its body model: validated too when the path id is bad (handlers/_app.py)


@router.patch("/flows/{id}")
def update_flow(id: UUID, body: Body):
    flows.update(context(), str(id), parse_model(flows.FlowUpdate, body))
    return no_content()


handler = lambda_handler(router)
