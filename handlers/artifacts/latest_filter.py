"""POST /artifacts/latest/filter — the per-key collection rows (latest artifact of each key)."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import artifacts
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("ArtifactCollections", "FlowRuns", "TaskRuns", "Flows", "Deployments")
READ_ONLY = True
router = APIRouter()


@router.post("/artifacts/latest/filter")
def filter_latest_artifacts(body: Body):
    return json_response(artifacts.filter_latest(context(), parse_model(artifacts.CollectionQuery, body)))


handler = lambda_handler(router)
