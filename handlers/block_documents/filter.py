"""POST /block_documents/filter — sorted (default NAME_ASC), offset/limit."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import blocks
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("BlockDocuments", "BlockSchemas", "BlockTypes")
READ_ONLY = True
router = APIRouter()


@router.post("/block_documents/filter")
def filter_block_documents(body: Body):
    return json_response(blocks.filter_block_documents(context(), parse_model(blocks.BlockDocumentQuery, body)))


handler = lambda_handler(router)
