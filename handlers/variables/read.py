"""GET /variables/{id} — a non-UUID id is 404 ``Not Found`` (the reference's ``{id:uuid}`` route)."""

from fastapi import APIRouter

from domain.services import variables
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("Variables",)
READ_ONLY = True
router = APIRouter()


@router.get("/variables/{id}")
def read_variable(id: str):
    return json_response(variables.read(context(), id))


handler = lambda_handler(router)
