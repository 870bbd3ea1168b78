"""POST /logs/filter — logs in timestamp order (TIMESTAMP_ASC default), offset/limit."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import log_queries
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("Logs",)
READ_ONLY = True
router = APIRouter()


@router.post("/logs/filter")
def filter_logs(body: Body):
    return json_response(log_queries.filter_logs(context(), parse_model(log_queries.LogQuery, body)))


handler = lambda_handler(router)
