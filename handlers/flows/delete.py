"""DELETE /flows/{id} — cascades to the flow's deployments and runs (204)."""

from uuid import UUID

from fastapi import APIRouter

from domain.services import flows
from handlers._app import lambda_handler, no_content
from handlers._deps import context

TABLES = ("Flows", "Deployments", "FlowRuns", "TaskRuns", "TaskRunStates", "Guards", "TagIndex")  # logical tables this function touches (its IAM policy in template.yaml)

router = APIRouter()


@router.delete("/flows/{id}")
def delete_flow(id: UUID):
    flows.delete(context(), str(id))
    return no_content()


handler = lambda_handler(router)
