"""GET /task_run_states/?task_run_id= — a task run's states in time order."""

from uuid import UUID

from fastapi import APIRouter

from domain.services import task_runs
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("TaskRunStates", "TaskRuns")
READ_ONLY = True
router = APIRouter()


@router.get("/task_run_states/")
def read_task_run_states(task_run_id: UUID):
    return json_response(task_runs.read_states(context(), str(task_run_id)))


handler = lambda_handler(router)
