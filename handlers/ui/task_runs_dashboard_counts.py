"""POST /ui/task_runs/dashboard/counts — 20 buckets of completed/failed terminal task runs over
``task_runs.start_time`` (``after_`` required)."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import ui
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("TaskRuns", "FlowRuns", "Flows", "Deployments", "WorkPools", "WorkQueues")
READ_ONLY = True
router = APIRouter()


@router.post("/ui/task_runs/dashboard/counts")
def read_dashboard_task_run_counts(body: Body):
    q = parse_model(ui.DashboardCountsQuery, body)
    return json_response(ui.dashboard_task_run_counts(context(), q))


handler = lambda_handler(router)
