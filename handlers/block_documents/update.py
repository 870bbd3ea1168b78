"""PATCH /block_documents/{id} (204)."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import blocks
from handlers._app import Body, lambda_handler, no_content
from handlers._deps import context

TABLES = ("BlockDocuments", "BlockSchemas", "BlockTypes")
router = APIRouter()


@router.patch("/block_documents/{id}")
def update_block_document(id: str, body: Body):
    blocks.update_block_document(context(), id, parse_model(blocks.BlockDocumentUpdate, body))
    return no_content()


handler = lambda_handler(router)
