"""POST /work_queues/{id}/get_runs — what `prefect agent start` polls. `X-Prefect-Ui: true`
(the UI peeking at a queue) records no poll."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, BackgroundTasks, Header

from domain.parsing import parse_model
from domain.services import polling
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("WorkQueues", "FlowRuns", "Deployments")
router = APIRouter()
BODY = polling.AgentPoll  # its body model: validated too when the path id is bad (handlers/_app.py)


@router.post("/work_queues/{id}/get_runs")
def read_work_queue_runs(id: UUID, body: Body, background: BackgroundTasks,
                         x_prefect_ui: Annotated[bool | None, Header()] = False):
    ctx = context()
    runs, poll = polling.get_runs(ctx, str(id), parse_model(polling.AgentPoll, body))
    if not x_prefect_ui:
        background.add_task(polling.record, ctx, poll)
    return json_response(runs)


handler = lambda_handler(router)
