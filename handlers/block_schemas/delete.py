"""DELETE /block_schemas/{id} — with the documents using it (204)."""

from uuid import UUID

from fastapi import APIRouter

from domain.services import blocks
from handlers._app import lambda_handler, no_content
from handlers._deps import context

TABLES = ("BlockDocuments", "BlockSchemas", "BlockTypes")
router = APIRouter()


@router.delete("/block_schemas/{id}")
def delete_block_schema(id: UUID):
    blocks.delete_block_schema(context(), str(id))
    return no_content()


handler = lambda_handler(router)
