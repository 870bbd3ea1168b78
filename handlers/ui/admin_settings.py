"""GET /admin/settings — the UI's Settings page: the server's settings by their reference names."""

from fastapi import APIRouter

from domain.services import ui
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ()
READ_ONLY = True
router = APIRouter()


@router.get("/admin/settings")
def read_settings():
    return json_response(ui.server_settings(context().settings))


handler = lambda_handler(router)
