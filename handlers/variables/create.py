"""POST /variables/ (201); a taken name is a 409."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import variables
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("Variables",)
router = APIRouter()


@router.post("/variables/")
def create_variable(body: Body):
    return json_response(variables.create(context(), parse_model(variables.VariableCreate, body)), 201)


handler = lambda_handler(router)
