"""GET /version -> the server API version string."""

from fastapi import APIRouter

from domain.settings import SERVER_API_VERSION
from handlers._app import json_response, lambda_handler

TABLES = ()  # logical tables this function touches (its IAM policy in template.yaml)
READ_ONLY = True

router = APIRouter()


@router.get("/version")
def version():
    return json_response(SERVER_API_VERSION)


handler = lambda_handler(router)
