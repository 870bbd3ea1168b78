"""POST /logs/ — a JSON array of logs; 201 with body ``null``."""

from fastapi import APIRouter

from domain.services import logs
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("Logs",)
router = APIRouter()


@router.post("/logs/")
def create_logs(body: Body):
    logs.create_logs(context(), logs.parse_logs(body))
    return json_response(None, 201)


handler = lambda_handler(router)
