"""POST /block_schemas/ — 201 new, 200 when the (checksum, version) exists."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import blocks
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("BlockSchemas", "BlockTypes")
router = APIRouter()


@router.post("/block_schemas/")
def create_block_schema(body: Body):
    schema, created = blocks.create_block_schema(context(), parse_model(blocks.BlockSchemaCreate, body))
    return json_response(schema, 201 if created else 200)


handler = lambda_handler(router)
