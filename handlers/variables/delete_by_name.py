"""DELETE /variables/name/{name} (204)."""

from fastapi import APIRouter

from domain.services import variables
from handlers._app import lambda_handler, no_content
from handlers._deps import context

TABLES = ("Variables",)
router = APIRouter()


@router.delete("/variables/name/{name}")
def delete_variable_by_name(name: str):
    variables.delete_by_name(context(), name)
    return no_content()


handler = lambda_handler(router)
