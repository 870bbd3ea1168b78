"""POST /variables/count — a bare integer."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import variables
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("Variables",)
READ_ONLY = True
router = APIRouter()


@router.post("/variables/count")
def count_variables(body: Body):
    return json_response(variables.count_variables(context(), parse_model(variables.VariableCount, body)))


handler = lambda_handler(router)
