"""GET /block_types/slug/{slug}/block_documents/name/{block_document_name} — what ``Block.load`` calls."""

from fastapi import APIRouter

from domain.services import blocks
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("BlockDocuments", "BlockSchemas", "BlockTypes")
READ_ONLY = True
router = APIRouter()


@router.get("/block_types/slug/{slug}/block_documents/name/{block_document_name}")
def read_block_document_by_name_for_block_type(slug: str, block_document_name: str, include_secrets: bool = False):
    return json_response(blocks.read_block_document_by_name(context(), slug, block_document_name, include_secrets))


handler = lambda_handler(router)
