"""GET /artifacts/{id} — or 404 ``Artifact not found.``"""

from uuid import UUID

from fastapi import APIRouter

from domain.services import artifacts
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("Artifacts",)
READ_ONLY = True
router = APIRouter()


@router.get("/artifacts/{id}")
def read_artifact(id: UUID):
    return json_response(artifacts.read(context(), id))


handler = lambda_handler(router)
