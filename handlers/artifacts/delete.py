"""DELETE /artifacts/{id} — 204; the key's collection moves to its next newest artifact."""

from uuid import UUID

from fastapi import APIRouter

from domain.services import artifacts
from handlers._app import lambda_handler, no_content
from handlers._deps import context

TABLES = ("Artifacts", "ArtifactCollections")
router = APIRouter()


@router.delete("/artifacts/{id}")
def delete_artifact(id: UUID):
    artifacts.delete(context(), id)
    return no_content()


handler = lambda_handler(router)
