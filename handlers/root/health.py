"""GET /health -> true."""

from fastapi import APIRouter

from handlers._app import json_response, lambda_handler

TABLES = ()  # logical tables this function touches (its IAM policy in template.yaml)
READ_ONLY = True

router = APIRouter()


@router.get("/health")
def health():
    return json_response(True)


handler = lambda_handler(router)
