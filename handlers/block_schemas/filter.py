"""POST /block_schemas/filter — newest first, offset/limit."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import blocks
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("BlockSchemas", "BlockTypes")
READ_ONLY = True
router = APIRouter()


@router.post("/block_schemas/filter")
def filter_block_schemas(body: Body):
    return json_response(blocks.filter_block_schemas(context(), parse_model(blocks.BlockSchemaQuery, body)))


handler = lambda_handler(router)
