"""GET /block_capabilities/ — every capability of the registered block schemas."""

from fastapi import APIRouter

from domain.services import ui
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("BlockTypes", "BlockSchemas")
READ_ONLY = True
router = APIRouter()


@router.get("/block_capabilities/")
def read_available_block_capabilities():
    return json_response(ui.block_capabilities(context()))


handler = lambda_handler(router)
