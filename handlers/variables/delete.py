"""DELETE /variables/{id} (204)."""

from fastapi import APIRouter

from domain.services import variables
from handlers._app import lambda_handler, no_content
from handlers._deps import context

TABLES = ("Variables",)
router = APIRouter()


@router.delete("/variables/{id}")
def delete_variable(id: str):
    variables.delete(context(), id)
    return no_content()


handler = lambda_handler(router)
