"""DELETE /flow_runs/{id}/input/{key} (204)."""

from uuid import UUID

from fastapi import APIRouter

from domain.services import flow_run_inputs
from handlers._app import lambda_handler, no_content
from handlers._deps import context

TABLES = ("FlowRunInputs",)
router = APIRouter()


@router.delete("/flow_runs/{id}/input/{key}")
def delete_flow_run_input(id: UUID, key: str):
    flow_run_inputs.delete(context(), str(id), key)
    return no_content()


handler = lambda_handler(router)
