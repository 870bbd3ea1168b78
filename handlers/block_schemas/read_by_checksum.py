"""GET /block_schemas/checksum/{checksum}?version= — without a version, the newest."""

from fastapi import APIRouter

from domain.services import blocks
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("BlockSchemas", "BlockTypes")
READ_ONLY = True
router = APIRouter()


@router.get("/block_schemas/checksum/{checksum}")
def read_block_schema_by_checksum(checksum: str, version: str | None = None):
    return json_response(blocks.read_block_schema_by_checksum(context(), checksum, version))


handler = lambda_handler(router)
