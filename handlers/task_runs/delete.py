"""DELETE /task_runs/{id} — delete a task run and its state history (204)."""

from uuid import UUID

from fastapi import APIRouter

from domain.services import task_runs
from handlers._app import lambda_handler, no_content
from handlers._deps import context

TABLES = ("TaskRuns", "Guards", "TaskRunStates", "FlowRuns")  # its subflow runs lose their parent
router = APIRouter()


@router.delete("/task_runs/{id}")
def delete_task_run(id: UUID):
    task_runs.delete(context(), str(id))
    return no_content()


handler = lambda_handler(router)
