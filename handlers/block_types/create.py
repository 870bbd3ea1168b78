"""POST /block_types/ (201); a taken slug is a 409."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import blocks
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("BlockTypes",)
router = APIRouter()


@router.post("/block_types/")
def create_block_type(body: Body):
    return json_response(blocks.create_block_type(context(), parse_model(blocks.BlockTypeCreate, body)), 201)


handler = lambda_handler(router)
