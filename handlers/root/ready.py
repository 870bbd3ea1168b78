"""GET /ready — 200 when the store answers, 503 otherwise."""

from fastapi import APIRouter

from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("Flows",)  # logical tables this function touches (its IAM policy in template.yaml)
READ_ONLY = True

router = APIRouter()


@router.get("/ready")
def ready():
    try:
        context().stores.flows.get("00000000-0000-0000-0000-000000000000")
    except Exception:  # noqa: BLE001 - any store failure means "not ready"
        return json_response({"message": "Database is not available"}, 503)
    return json_response({"message": "OK"})


handler = lambda_handler(router)
