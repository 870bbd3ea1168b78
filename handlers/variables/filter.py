"""POST /variables/filter — sorted (default NAME_ASC), offset/limit."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import variables
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("Variables",)
READ_ONLY = True
router = APIRouter()


@router.post("/variables/filter")
def filter_variables(body: Body):
    return json_response(variables.filter_variables(context(), parse_model(variables.VariableQuery, body)))


handler = lambda_handler(router)
