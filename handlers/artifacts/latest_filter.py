"""POST /artifacts/latest/filter — the per-key collection rows (latest artifact of each key)."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import artifact_queries
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("ArtifactCollections", "FlowRuns", "TaskRuns", "Flows", "Deployments")
READ_ONLY = True
router = APIRouter()


@router.post("/artifacts/latest/filter")
def filter_latest_artifacts(body: Body):
    q = parse_model(artifact_queries.CollectionQuery, body)
    return json_response(artifact_queries.filter_latest(context(), q))


handler = lambda_handler(router)
