"""GET /block_types/{id}."""

from uuid import UUID

from fastapi import APIRouter

from domain.services import blocks
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("BlockTypes",)
READ_ONLY = True
router = APIRouter()


@router.get("/block_types/{id}")
def read_block_type(id: UUID):
    return json_response(blocks.read_block_type(context(), str(id)))


handler = lambda_handler(router)
