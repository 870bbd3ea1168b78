"""PATCH /flow_run_notification_policies/{id} — 204 (the UI's active toggle and edit form)."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import notification_policies
from handlers._app import Body, lambda_handler, no_content
from handlers._deps import context

TABLES = ("FlowRunNotificationPolicies", "BlockDocuments")
router = APIRouter()


@router.patch("/flow_run_notification_policies/{id}")
def update_flow_run_notification_policy(id: str, body: Body):
    notification_policies.update(context(), id, parse_model(notification_policies.PolicyUpdate, body))
    return no_content()


handler = lambda_handler(router)
