"""GET /deployments/{id} — one GetItem, and the poll records its status derives from (when polled)."""

from uuid import UUID

from fastapi import APIRouter

from domain.services import deployments
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("Deployments", "WorkQueues", "PollRecords")  # status from the poll records
READ_ONLY = True
router = APIRouter()


@router.get("/deployments/{id}")
def read_deployment(id: UUID):
    return json_response(deployments.read(context(), str(id)))


handler = lambda_handler(router)
