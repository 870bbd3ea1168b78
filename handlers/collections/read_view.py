"""GET /collections/views/{view} — the bundled collection-registry view, or 404."""

from fastapi import APIRouter

from domain.services import collections
from handlers._app import json_response, lambda_handler

TABLES = ()
READ_ONLY = True
router = APIRouter()


@router.get("/collections/views/{view}")
def read_view_content(view: str):
    return json_response(collections.read_view(view))


handler = lambda_handler(router)
