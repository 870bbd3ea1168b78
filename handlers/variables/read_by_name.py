"""GET /variables/name/{name}."""

from fastapi import APIRouter

from domain.services import variables
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("Variables",)
READ_ONLY = True
router = APIRouter()


@router.get("/variables/name/{name}")
def read_variable_by_name(name: str):
    return json_response(variables.read_name(context(), name))


handler = lambda_handler(router)
