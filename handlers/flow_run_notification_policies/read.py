"""GET /flow_run_notification_policies/{id} — 404 ``flow run notification policy not found``."""

from fastapi import APIRouter

from domain.services import notification_policies
from handlers._app import json_response, lambda_handler
from handlers._deps import context

TABLES = ("FlowRunNotificationPolicies",)
READ_ONLY = True
router = APIRouter()


@router.get("/flow_run_notification_policies/{id}")
def read_flow_run_notification_policy(id: str):
    return json_response(notification_policies.read(context(), id))


handler = lambda_handler(router)
