"""GET /block_types/slug/{slug}/block_documents."""

from fastapi import APIRouter

from domain.services import blocks
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("BlockDocuments", "BlockSchemas", "BlockTypes")
READ_ONLY = True
router = APIRouter()


@router.get("/block_types/slug/{slug}/block_documents")
def read_block_documents_for_block_type(slug: str, include_secrets: bool = False):
    return json_response(blocks.read_documents_for_type(context(), slug, include_secrets))


handler = lambda_handler(router)
