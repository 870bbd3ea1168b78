"""GET /flow_runs/{id}."""

from uuid import UUID

from fastapi import APIRouter

from domain.services import flow_runs
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("FlowRuns",)
READ_ONLY = True
router = APIRouter()


@router.get("/flow_runs/{id}")
def read_flow_run(id: UUID):
    return json_response(flow_runs.read(context(), str(id)))


handler = lambda_handler(router)
