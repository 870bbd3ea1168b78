"""POST /artifacts/ — a new artifact (201); a keyed one becomes its key's latest."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import artifacts
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("Artifacts", "ArtifactCollections")
router = APIRouter()


@router.post("/artifacts/")
def create_artifact(body: Body):
    return json_response(artifacts.create(context(), parse_model(artifacts.ArtifactCreate, body)), 201)


handler = lambda_handler(router)
