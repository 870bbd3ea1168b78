"""POST /ui/task_runs/count — matching task runs counted per state type (every type present)."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import ui
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("TaskRuns", "FlowRuns", "Flows", "Deployments", "WorkPools", "WorkQueues")
READ_ONLY = True
router = APIRouter()


@router.post("/ui/task_runs/count")
def read_task_run_counts_by_state(body: Body):
    return json_response(ui.task_run_counts_by_state(context(), parse_model(ui.TaskRunCountQuery, body)))


handler = lambda_handler(router)
