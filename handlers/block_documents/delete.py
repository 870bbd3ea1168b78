"""DELETE /block_documents/{id} (204)."""

from fastapi import APIRouter

from domain.services import blocks
from handlers._app import lambda_handler, no_content
from handlers._deps import context

TABLES = ("BlockDocuments",)
router = APIRouter()


@router.delete("/block_documents/{id}")
def delete_block_document(id: str):
    blocks.delete_block_document(context(), id)
    return no_content()


handler = lambda_handler(router)
