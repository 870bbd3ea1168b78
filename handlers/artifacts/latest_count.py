"""POST /artifacts/latest/count — how many keys' collection rows match."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import artifacts
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("ArtifactCollections", "FlowRuns", "TaskRuns", "Flows", "Deployments")
READ_ONLY = True
router = APIRouter()


@router.post("/artifacts/latest/count")
def count_latest_artifacts(body: Body):
    return json_response(artifacts.count_latest(context(), parse_model(artifacts.CollectionCount, body)))


handler = lambda_handler(router)
