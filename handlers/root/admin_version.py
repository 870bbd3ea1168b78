"""GET /admin/version -> the Prefect version this server is compatible with."""

from fastapi import APIRouter

from domain.settings import PREFECT_VERSION
from handlers._app import json_response, lambda_handler

TABLES = ()  # logical tables this function touches (its IAM policy in template.yaml)
READ_ONLY = True

router = APIRouter()


@router.get("/admin/version")
def admin_version():
    return json_response(PREFECT_VERSION)


handler = lambda_handler(router)
