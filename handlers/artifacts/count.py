"""POST /artifacts/count — how many artifacts match."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import artifact_queries
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("Artifacts", "FlowRuns", "TaskRuns", "Flows", "Deployments")
READ_ONLY = True
router = APIRouter()


@router.post("/artifacts/count")
def count_artifacts(body: Body):
    q = parse_model(artifact_queries.ArtifactCount, body)
    return json_response(artifact_queries.count_artifacts(context(), q))


handler = lambda_handler(router)
