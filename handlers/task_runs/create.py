"""POST /task_runs/ — create a task run (201), or return the existing one for its
(flow run, task_key, dynamic_key) unchanged (200)."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import task_runs
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("TaskRuns", "FlowRuns", "Guards", "TaskRunStates", "ConcurrencyLimits", "Artifacts",
          "ArtifactCollections")
router = APIRouter()


@router.post("/task_runs/")
def create_task_run(body: Body):
    run, created = task_runs.create(context(), parse_model(task_runs.TaskRunCreate, body))
    return json_response(run, 201 if created else 200)


handler = lambda_handler(router)
