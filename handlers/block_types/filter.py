"""POST /block_types/filter — by name, offset/limit."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import blocks
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("BlockTypes", "BlockSchemas")
READ_ONLY = True
router = APIRouter()


@router.post("/block_types/filter")
def filter_block_types(body: Body):
    return json_response(blocks.filter_block_types(context(), parse_model(blocks.BlockTypeQuery, body)))


handler = lambda_handler(router)
