"""GET /deployments/name/{flow_name}/{deployment_name} — one GetItem (ids derive from names)."""

from fastapi import APIRouter

from domain.services import deployments
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("Deployments", "WorkQueues", "PollRecords")  # status from the poll records
READ_ONLY = True
router = APIRouter()


@router.get("/deployments/name/{flow_name}/{deployment_name}")
def read_deployment_by_name(flow_name: str, deployment_name: str):
    return json_response(deployments.read_by_name(context(), flow_name, deployment_name))


handler = lambda_handler(router)
