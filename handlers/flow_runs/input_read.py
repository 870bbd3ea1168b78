"""GET /flow_runs/{id}/input/{key} — the stored value as text/plain."""

from uuid import UUID

from fastapi import APIRouter
from starlette.responses import PlainTextResponse

from domain.services import flow_run_inputs
from handlers._app import lambda_handler
from handlers._deps import context

TABLES = ("FlowRunInputs",)
READ_ONLY = True
router = APIRouter()


@router.get("/flow_runs/{id}/input/{key}")
def read_flow_run_input(id: UUID, key: str):
    return PlainTextResponse(flow_run_inputs.read(context(), str(id), key))


handler = lambda_handler(router)
