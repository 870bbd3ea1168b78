"""PATCH /variables/name/{name} (204)."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import variables
from handlers._app import Body, lambda_handler, no_content
from handlers._deps import context

TABLES = ("Variables",)
router = APIRouter()


@router.patch("/variables/name/{name}")
def update_variable_by_name(name: str, body: Body):
    variables.update_by_name(context(), name, parse_model(variables.VariableUpdate, body))
    return no_content()


handler = lambda_handler(router)
