"""POST /deployments/{id}/schedule — materialise runs now (backfill); 200 null, unknown id included."""

from uuid import UUID

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import scheduling
from domain.services.deployment_models import ScheduleRunsBody
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("Deployments", "FlowRuns")
router = APIRouter()
BODY = ScheduleRunsBody  # its body model: validated too when the path id is bad (handlers/_app.py)


@router.post("/deployments/{id}/schedule")
def schedule_deployment(id: UUID, body: Body):
    ctx = context()
    b = parse_model(ScheduleRunsBody, body if body is not None else {})
    window = scheduling.default_window(ctx, start=b.start_time, end=b.end_time, min_time=b.min_time,
                                       min_runs=b.min_runs, max_runs=b.max_runs)
    scheduling.schedule_deployment(ctx, str(id), window)
    return json_response(None)


handler = lambda_handler(router)
