"""POST /artifacts/filter — artifacts (sort ID_DESC default), offset/limit."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import artifact_queries
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("Artifacts", "FlowRuns", "TaskRuns", "Flows", "Deployments")
READ_ONLY = True
router = APIRouter()


@router.post("/artifacts/filter")
def filter_artifacts(body: Body):
    q = parse_model(artifact_queries.ArtifactQuery, body)
    return json_response(artifact_queries.filter_artifacts(context(), q))


handler = lambda_handler(router)
