"""PATCH /block_types/{id} (204)."""

from uuid import UUID

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import blocks
from handlers._app import Body, lambda_handler, no_content
from handlers._deps import context

TABLES = ("BlockTypes",)
router = APIRouter()
BODY = blocks.BlockTypeUpdate  # its body model: validated too when the path id is bad (handlers/_app.py)


@router.patch("/block_types/{id}")
def update_block_type(id: UUID, body: Body):
    blocks.update_block_type(context(), str(id), parse_model(blocks.BlockTypeUpdate, body))
    return no_content()


handler = lambda_handler(router)
