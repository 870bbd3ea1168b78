"""GET /csrf-token?client=… — CSRF protection is off, so the answer the 2.20 client expects."""

from fastapi import APIRouter

from domain.errors import Unprocessable
from handlers._app import lambda_handler

TABLES = ()  # logical tables this function touches (its IAM policy in template.yaml)
READ_ONLY = True

router = APIRouter()


@router.get("/csrf-token")
def csrf_token(client: str):
    raise Unprocessable("CSRF protection is disabled.")


handler = lambda_handler(router)
