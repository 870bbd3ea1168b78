"""PATCH /task_runs/{id} — rename a task run (204)."""

from uuid import UUID

from fastapi import APIRouter

from domain.parsing import invalid, parse_model
from domain.services import task_runs
from handlers._app import Body, lambda_handler, no_content
from handlers._deps import context

TABLES = ("TaskRuns",)
router = APIRouter()
BODY = task_runs.TaskRunUpdate  # its body model: validated too when the path id is bad (handlers/_app.py)


@router.patch("/task_runs/{id}")
def update_task_run(id: UUID, body: Body):
    if body is None:
        raise invalid(["body"], "field required", "value_error.missing")
    task_runs.update(context(), str(id), parse_model(task_runs.TaskRunUpdate, body))
    return no_content()


handler = lambda_handler(router)
