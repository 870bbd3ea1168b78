"""GET /hello."""

from fastapi import APIRouter

from handlers._app import json_response, lambda_handler

TABLES = ()  # logical tables this function touches (its IAM policy in template.yaml)
READ_ONLY = True

router = APIRouter()


@router.get("/hello")
def hello():
    return json_response("\N{WAVING HAND SIGN}")


handler = lambda_handler(router)
