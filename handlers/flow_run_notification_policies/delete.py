"""DELETE /flow_run_notification_policies/{id} — 204; 404 ``flow run notification policy not found``."""

from fastapi import APIRouter

from domain.services import notification_policies
from handlers._app import lambda_handler, no_content
from handlers._deps import context

TABLES = ("FlowRunNotificationPolicies",)
router = APIRouter()


@router.delete("/flow_run_notification_policies/{id}")
def delete_flow_run_notification_policy(id: str):
    notification_policies.delete(context(), id)
    return no_content()


handler = lambda_handler(router)
