"""GET /task_run_states/{id} — one task-run state."""

from uuid import UUID

from fastapi import APIRouter

from domain.services import task_runs
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("TaskRunStates",)
READ_ONLY = True
router = APIRouter()


@router.get("/task_run_states/{id}")
def read_task_run_state(id: UUID):
    return json_response(task_runs.read_state(context(), str(id)))


handler = lambda_handler(router)
