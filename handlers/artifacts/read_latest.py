"""GET /artifacts/{key}/latest — the key's collection row in the Artifact shape (reference)."""

from fastapi import APIRouter

from domain.services import artifacts
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("ArtifactCollections",)
READ_ONLY = True
router = APIRouter()


@router.get("/artifacts/{key}/latest")
def read_latest_artifact(key: str):
    return json_response(artifacts.read_latest(context(), key))


handler = lambda_handler(router)
