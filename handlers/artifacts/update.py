"""PATCH /artifacts/{id} — 204; 404 unless the artifact is its key's latest (reference quirk)."""

from uuid import UUID

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import artifacts
from handlers._app import Body, lambda_handler, no_content
from handlers._deps import context

TABLES = ("Artifacts", "ArtifactCollections")
router = APIRouter()
BODY = artifacts.ArtifactUpdate  # its body model: validated too when the path id is bad (handlers/_app.py)


@router.patch("/artifacts/{id}")
def update_artifact(id: UUID, body: Body):
    artifacts.update(context(), id, parse_model(artifacts.ArtifactUpdate, body))
    return no_content()


handler = lambda_handler(router)
