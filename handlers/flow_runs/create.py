"""POST /flow_runs/ — an ad-hoc run or a subflow: 201 new, 200 on an idempotency-key hit."""

from typing import Annotated

from fastapi import APIRouter, Header

from domain.parsing import parse_model
from domain.services import flow_runs
from domain.services.deployment_runs import created_by_from_headers
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("Flows", "Guards", "BlockDocuments", "FlowRuns", "FlowRunStates", "Artifacts", "TaskRuns", "TaskRunStates",
          "ConcurrencyLimits")
router = APIRouter()


@router.post("/flow_runs/")
def create_flow_run(
    body: Body,
    prefect_automation_id: Annotated[str | None, Header()] = None,
    prefect_automation_name: Annotated[str | None, Header()] = None,
):
    created_by = created_by_from_headers(prefect_automation_id, prefect_automation_name)
    run, created = flow_runs.create(context(), parse_model(flow_runs.FlowRunCreate, body), created_by=created_by)
    return json_response(run, 201 if created else 200)


handler = lambda_handler(router)
