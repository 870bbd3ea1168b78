"""POST /ui/schemas/validate — the run/edit forms' parameter check: nested errors and ``valid``."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import ui
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("Variables",)
READ_ONLY = True
router = APIRouter()


@router.post("/ui/schemas/validate")
def validate_obj(body: Body):
    return json_response(ui.validate_form_values(context(), parse_model(ui.SchemaValidateBody, body if body is not None else {})))


handler = lambda_handler(router)
