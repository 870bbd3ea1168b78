"""PATCH /variables/{id} (204)."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import variables
from handlers._app import Body, lambda_handler, no_content
from handlers._deps import context

TABLES = ("Variables",)
router = APIRouter()


@router.patch("/variables/{id}")
def update_variable(id: str, body: Body):
    variables.update(context(), id, parse_model(variables.VariableUpdate, body))
    return no_content()


handler = lambda_handler(router)
