"""GET /block_documents/{id}?include_secrets= — a non-UUID id is 404 ``Not Found``."""

from fastapi import APIRouter

from domain.services import blocks
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("BlockDocuments", "BlockSchemas", "BlockTypes")
READ_ONLY = True
router = APIRouter()


@router.get("/block_documents/{id}")
def read_block_document(id: str, include_secrets: bool = False):
    return json_response(blocks.read_block_document(context(), id, include_secrets))


handler = lambda_handler(router)
