"""DELETE /flow_runs/{id} (204)."""

from uuid import UUID

from fastapi import APIRouter

from domain.services import flow_runs
from handlers._app import lambda_handler, no_content
from handlers._deps import context

TABLES = ("FlowRuns", "TaskRuns", "TaskRunStates", "Guards")  # its task runs go with it (cascade)
router = APIRouter()


@router.delete("/flow_runs/{id}")
def delete_flow_run(id: UUID):
    flow_runs.delete(context(), str(id))
    return no_content()


handler = lambda_handler(router)
