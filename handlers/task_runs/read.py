"""GET /task_runs/{id}."""

from uuid import UUID

from fastapi import APIRouter

from domain.services import task_runs
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("TaskRuns",)
READ_ONLY = True
router = APIRouter()


@router.get("/task_runs/{id}")
def read_task_run(id: UUID):
    return json_response(task_runs.read(context(), str(id)))


handler = lambda_handler(router)
