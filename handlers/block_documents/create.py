"""POST /block_documents/ (201); a taken (type, name) is a 409."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import blocks
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("BlockDocuments", "BlockSchemas", "BlockTypes")
router = APIRouter()


@router.post("/block_documents/")
def create_block_document(body: Body):
    return json_response(blocks.create_block_document(context(), parse_model(blocks.BlockDocumentCreate, body)), 201)


handler = lambda_handler(router)
