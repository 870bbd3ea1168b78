"""GET /block_types/slug/{slug} — one GetItem (type ids derive from slugs)."""

from fastapi import APIRouter

from domain.services import blocks
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("BlockTypes",)
READ_ONLY = True
router = APIRouter()


@router.get("/block_types/slug/{slug}")
def read_block_type_by_slug(slug: str):
    return json_response(blocks.read_block_type_by_slug(context(), slug))


handler = lambda_handler(router)
